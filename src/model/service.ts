// v1 Service -> Service. Mirrors what kube-proxy's service change tracker reads
// (pkg/proxy/serviceport.go newBaseServiceInfo) and validates what an API server would refuse.
import { parseIP } from '../net/index.js';
import type { ObjectReader } from './reader.js';
import type { LoadBalancerIngress, Origin, ServiceProtocol, Service, ServicePort } from './types.js';

const PROTOCOLS: readonly ServiceProtocol[] = ['TCP', 'UDP', 'SCTP'];
const DEFAULT_AFFINITY_TIMEOUT = 10800;

export function readService(r: ObjectReader, origin: Origin): Service | null {
  const name = r.requiredStr(['metadata', 'name']);
  const namespace = r.str(['metadata', 'namespace']) ?? 'default';
  if (name === undefined) return null;
  const type = r.oneOf(['spec', 'type'], ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const, 'ClusterIP');

  const clusterIP = r.str(['spec', 'clusterIP']) ?? null;
  if (clusterIP !== null && clusterIP !== '' && clusterIP !== 'None') checkIP(r, ['spec', 'clusterIP']);
  const clusterIPs = r.strList(['spec', 'clusterIPs']);
  clusterIPs.forEach((ip, i) => ip !== 'None' && checkIP(r, ['spec', 'clusterIPs', i]));

  const ports: ServicePort[] = [];
  const seen = new Map<string, number>();
  r.list(['spec', 'ports']).forEach((_, i) => {
    const p = ['spec', 'ports', i];
    // Port 0: an API server refuses it (1-65535), but kube-proxy programs whatever it is given
    // (its unit tests build such Services), so kpsim warns and keeps the port.
    const port = r.intIn([...p, 'port'], 0, 65535, 'SVC_BAD_PORT');
    if (port === 0) r.warning('SVC_PORT_ZERO', [...p, 'port'], `Service ${namespace}/${name} spec.ports[${i}].port is 0: an API server would reject it (1-65535); kube-proxy programs it as given`);
    if (port === undefined && !r.has([...p, 'port'])) r.error('OBJ_MISSING_FIELD', p, `spec.ports[${i}].port is required`);
    const tp = r.get([...p, 'targetPort']);
    if (typeof tp === 'number') r.intIn([...p, 'targetPort'], 1, 65535, 'SVC_BAD_PORT');
    else if (tp !== undefined && tp !== null && typeof tp !== 'string') r.str([...p, 'targetPort']);
    const nodePort = r.intIn([...p, 'nodePort'], 0, 65535, 'SVC_BAD_PORT') ?? 0;
    const portName = r.str([...p, 'name']) ?? '';
    const protocol = r.oneOf([...p, 'protocol'], PROTOCOLS, 'TCP');
    const key = `${portName}/${protocol}`;
    if (seen.has(key)) r.error('SVC_DUPLICATE_PORT', [...p, 'name'], `spec.ports[${i}] repeats port name '${portName}' (${protocol}) of spec.ports[${seen.get(key)}]`);
    seen.set(key, i);
    if (port !== undefined) ports.push({ name: portName, protocol, port, nodePort });
  });

  const externalIPs = r.strList(['spec', 'externalIPs']);
  externalIPs.forEach((ip, i) => checkIP(r, ['spec', 'externalIPs', i], true));
  const loadBalancerSourceRanges = r.strList(['spec', 'loadBalancerSourceRanges']);
  loadBalancerSourceRanges.forEach((cidr, i) => {
    if (cidr !== cidr.trim()) r.warning('IP_NONCANONICAL', ['spec', 'loadBalancerSourceRanges', i], `'${cidr}' has surrounding spaces; kube-proxy trims them`);
  });

  const externalTrafficPolicy = r.oneOf(['spec', 'externalTrafficPolicy'], ['Cluster', 'Local'] as const, 'Cluster');
  const internalTrafficPolicy = r.oneOf(['spec', 'internalTrafficPolicy'], ['Cluster', 'Local'] as const, 'Cluster');
  const healthCheckNodePort = r.intIn(['spec', 'healthCheckNodePort'], 0, 65535, 'SVC_BAD_PORT') ?? 0;
  const sessionAffinity = r.oneOf(['spec', 'sessionAffinity'], ['None', 'ClientIP'] as const, 'None');
  const affinityTimeoutSeconds =
    r.intIn(['spec', 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds'], 1, 86400, 'OBJ_BAD_VALUE') ?? DEFAULT_AFFINITY_TIMEOUT;

  const ingress: LoadBalancerIngress[] = [];
  r.list(['status', 'loadBalancer', 'ingress']).forEach((_, i) => {
    const p = ['status', 'loadBalancer', 'ingress', i];
    const ipText = r.str([...p, 'ip']);
    const ip = ipText ? checkIP(r, [...p, 'ip']) : null;
    const ipMode = r.has([...p, 'ipMode']) ? r.oneOf([...p, 'ipMode'], ['VIP', 'Proxy'] as const, 'VIP') : null;
    ingress.push({ ip, hostname: r.str([...p, 'hostname']) ?? null, ipMode });
  });

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

/** Parses an IP the way kube-proxy does; warns on what only a sloppy parse accepts. */
export function checkIP(r: ObjectReader, path: (string | number)[], optional = false): ReturnType<typeof parseIP> {
  const text = r.str(path);
  if (text === undefined) return null;
  const ip = parseIP(text);
  if (!ip) {
    if (optional) r.warning('SVC_BAD_IP', path, `'${text}' is not an IP address; kube-proxy ignores it`);
    else r.error('SVC_BAD_IP', path, `'${text}' is not an IPv4 or IPv6 address`);
    return null;
  }
  if (ip.sloppy) r.warning('IP_NONCANONICAL', path, `'${text}' has leading zeros; an API server would refuse it, kube-proxy reads it as ${ip.text}`);
  return ip;
}
