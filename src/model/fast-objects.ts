// Services and EndpointSlices read straight from their plain JS values, for the objects that are
// plainly valid: every field kube-proxy reads is absent or of its type and in range, every address
// parses canonically. Such an object gives no diagnostic, and these readers give exactly what
// service.ts and endpointslice.ts give for it, without their path-by-path lookups (a slice of ten
// endpoints is over a hundred of them). Anything else, however small (a warning's worth), returns
// null and the object is read by those readers, which report it: so these readers never decide
// what an object means where the two could differ. test/model/fast-objects.test.ts reads every
// loading input, every golden cluster and thousands of damaged objects both ways.
import { parseIP } from '../net/index.js';
import { SERVICE_NAME_LABEL } from './endpointslice.js';
import type { Endpoint, EndpointPort, EndpointSlice, LoadBalancerIngress, Origin, Service, ServicePort, ServiceProtocol } from './types.js';

type Obj = Record<string, unknown>;

/** A map: an object that is not a list (what ObjectReader walks into by name). */
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Absent as ObjectReader reads it: undefined or null. */
const absent = (v: unknown): v is null | undefined => v === undefined || v === null;
const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Thrown to give the object to the reference readers. */
class NotPlain {}
const NOT_PLAIN = new NotPlain();

/** A map field or an absent one (as {}); anything else is not plain. */
function mapOr(v: unknown): Obj {
  if (absent(v)) return EMPTY;
  if (!isMap(v)) throw NOT_PLAIN;
  return v;
}
const EMPTY: Obj = Object.freeze({});

function strOr<T>(v: unknown, fallback: T): string | T {
  if (absent(v)) return fallback;
  if (typeof v !== 'string') throw NOT_PLAIN;
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], fallback: T): T {
  if (absent(v)) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw NOT_PLAIN;
  return v as T;
}

function intOr<T>(v: unknown, lo: number, hi: number, fallback: T): number | T {
  if (absent(v)) return fallback;
  if (!isInt(v, lo, hi)) throw NOT_PLAIN;
  return v;
}

/** A list of strings (absent: empty); a list with anything else in it is not plain. */
function strings(v: unknown): string[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) throw NOT_PLAIN;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') throw NOT_PLAIN;
  return v.slice() as string[];
}

/** A list of maps (absent: empty). */
function maps(v: unknown): Obj[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) throw NOT_PLAIN;
  for (let i = 0; i < v.length; i++) if (!isMap(v[i])) throw NOT_PLAIN;
  return v as Obj[];
}

/**
 * Whether `text` is a dotted quad exactly as parseIP prints one (octets 0-255 without leading
 * zeros), so parseIP would return it unchanged: the common case, checked without a regex.
 */
export function isCanonicalIPv4(text: string): boolean {
  const n = text.length;
  if (n < 7 || n > 15) return false;
  let octets = 0;
  let i = 0;
  while (i <= n) {
    const start = i;
    let value = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && text.charCodeAt(start) === 0x30)) return false;
    octets++;
    if (i === n) return octets === 4;
    if (text.charCodeAt(i) !== 0x2e || octets === 4) return false;
    i++;
  }
  return false;
}

/** An address checkIP accepts without a word: it parses, and as written. */
function plainIP(text: string): ReturnType<typeof parseIP> {
  const ip = parseIP(text);
  if (!ip || ip.sloppy) throw NOT_PLAIN;
  return ip;
}

const PROTOCOLS: readonly ServiceProtocol[] = ['TCP', 'UDP', 'SCTP'];
const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
const POLICIES = ['Cluster', 'Local'] as const;
const DEFAULT_AFFINITY_TIMEOUT = 10800;

/** `read`'s object, or null when the object is not plain. */
function plainly<T>(read: (obj: Obj, origin: Origin) => T, obj: Obj, origin: Origin): T | null {
  try {
    return read(obj, origin);
  } catch (e) {
    if (e === NOT_PLAIN) return null;
    throw e;
  }
}

/** service.ts readService for a plainly valid Service; null for any other. */
export const fastService = (obj: Obj, origin: Origin): Service | null => plainly(service, obj, origin);

function service(obj: Obj, origin: Origin): Service {
  const meta = mapOr(obj.metadata);
  const name = meta.name;
  if (typeof name !== 'string') throw NOT_PLAIN;
  const namespace = strOr(meta.namespace, 'default');
  const spec = mapOr(obj.spec);
  const type = oneOf(spec.type, SERVICE_TYPES, 'ClusterIP');
  const clusterIP = strOr(spec.clusterIP, null);
  if (clusterIP !== null && clusterIP !== '' && clusterIP !== 'None') plainIP(clusterIP);
  const clusterIPs = strings(spec.clusterIPs);
  for (const ip of clusterIPs) if (ip !== 'None') plainIP(ip);

  const ports: ServicePort[] = [];
  const seen = new Set<string>();
  for (const p of maps(spec.ports)) {
    // Port 0 is a warning (SVC_PORT_ZERO): the reference reader says it.
    const port = p.port;
    if (!isInt(port, 1, 65535)) throw NOT_PLAIN;
    const tp = p.targetPort;
    if (typeof tp === 'number' ? !isInt(tp, 1, 65535) : !absent(tp) && typeof tp !== 'string') throw NOT_PLAIN;
    const nodePort = intOr(p.nodePort, 0, 65535, 0);
    const portName = strOr(p.name, '');
    const protocol = oneOf(p.protocol, PROTOCOLS, 'TCP');
    const key = `${portName}/${protocol}`;
    if (seen.has(key)) throw NOT_PLAIN;
    seen.add(key);
    ports.push({ name: portName, protocol, port, nodePort });
  }

  const externalIPs = strings(spec.externalIPs);
  for (const ip of externalIPs) plainIP(ip);
  const loadBalancerSourceRanges = strings(spec.loadBalancerSourceRanges);
  for (const cidr of loadBalancerSourceRanges) if (cidr !== cidr.trim()) throw NOT_PLAIN;

  const externalTrafficPolicy = oneOf(spec.externalTrafficPolicy, POLICIES, 'Cluster');
  const internalTrafficPolicy = oneOf(spec.internalTrafficPolicy, POLICIES, 'Cluster');
  const healthCheckNodePort = intOr(spec.healthCheckNodePort, 0, 65535, 0);
  const sessionAffinity = oneOf(spec.sessionAffinity, ['None', 'ClientIP'] as const, 'None');
  const clientIP = mapOr(mapOr(spec.sessionAffinityConfig).clientIP);
  const affinityTimeoutSeconds = intOr(clientIP.timeoutSeconds, 1, 86400, DEFAULT_AFFINITY_TIMEOUT);

  const ingress: LoadBalancerIngress[] = [];
  for (const ing of maps(mapOr(mapOr(obj.status).loadBalancer).ingress)) {
    const ipText = strOr(ing.ip, undefined);
    const ip = ipText ? plainIP(ipText) : null;
    const ipMode = absent(ing.ipMode) ? null : oneOf(ing.ipMode, ['VIP', 'Proxy'] as const, 'VIP');
    ingress.push({ ip, hostname: strOr(ing.hostname, null), ipMode });
  }

  return {
    namespace,
    name,
    type,
    clusterIP,
    clusterIPs,
    ports,
    externalIPs,
    loadBalancerSourceRanges,
    externalTrafficPolicy,
    internalTrafficPolicy,
    healthCheckNodePort,
    sessionAffinity,
    affinityTimeoutSeconds,
    ingress,
    origin,
  };
}

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'] as const;

/** endpointslice.ts readEndpointSlice for a plainly valid EndpointSlice; null for any other. */
export const fastEndpointSlice = (obj: Obj, origin: Origin): EndpointSlice | null => plainly(endpointSlice, obj, origin);

function endpointSlice(obj: Obj, origin: Origin): EndpointSlice {
  const meta = mapOr(obj.metadata);
  const name = meta.name;
  if (typeof name !== 'string') throw NOT_PLAIN;
  const namespace = strOr(meta.namespace, 'default');
  const serviceName = mapOr(meta.labels)[SERVICE_NAME_LABEL];
  if (typeof serviceName !== 'string' || serviceName === '') throw NOT_PLAIN;
  // No addressType is a warning (EPS_NO_ADDRESS_TYPE).
  if (absent(obj.addressType)) throw NOT_PLAIN;
  const addressType = oneOf(obj.addressType, ADDRESS_TYPES, 'IPv4');
  const endpoints: Endpoint[] = [];
  for (const ep of maps(obj.endpoints)) {
    const addresses = strings(ep.addresses);
    if (addressType === 'IPv4') {
      for (const a of addresses) if (!isCanonicalIPv4(a)) throw NOT_PLAIN;
    } else if (addressType === 'IPv6') {
      for (const a of addresses) if (plainIP(a)!.family !== 'ipv6') throw NOT_PLAIN;
    }
    const conditions = mapOr(ep.conditions);
    // Hints are rare: the reference reader reads them.
    if (!absent(ep.hints)) throw NOT_PLAIN;
    endpoints.push({
      addresses,
      ready: bool(conditions.ready),
      serving: bool(conditions.serving),
      terminating: bool(conditions.terminating),
      nodeName: strOr(ep.nodeName, null),
      zone: strOr(ep.zone, null),
      hintZones: null,
      hintNodes: null,
    });
  }
  const ports: EndpointPort[] = [];
  for (const p of maps(obj.ports)) {
    const port = intOr(p.port, 0, 65535, null);
    ports.push({ name: strOr(p.name, ''), port, protocol: oneOf(p.protocol, PROTOCOLS, 'TCP') });
  }
  return { namespace, name, serviceName, addressType, endpoints, ports, mirrored: false, origin };
}

function bool(v: unknown): boolean | null {
  if (absent(v)) return null;
  if (typeof v !== 'boolean') throw NOT_PLAIN;
  return v;
}
