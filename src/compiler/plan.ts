// Objects -> a mode-neutral plan per service port: which addresses capture it, which endpoints
// serve each traffic policy, and where each kind of traffic goes (plan-traffic.ts: which chains
// exist, which verdicts). Mirrors pkg/proxy/serviceport.go (newBaseServiceInfo),
// endpointslicecache.go, topology.go (CategorizeEndpoints) and the decisions of syncProxyRules;
// the iptables and IPVS emitters read only this.
import type { Family } from '../iptables/ir.js';
import { parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../net/index.js';
import { isCanonicalIPv4 } from '../model/fast-objects.js';
import type { Cluster, EndpointSlice, ServiceProtocol, Service, ServicePort } from '../model/types.js';
import { planTraffic, type TrafficPlan } from './plan-traffic.js';
import type { ProxierSettings } from './settings.js';

export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  /** `ip:port`, `[ip]:port` for IPv6: kube-proxy's endpoint string, also its sort key. */
  readonly key: string;
  readonly isLocal: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly zoneHints: readonly string[];
  readonly nodeHints: readonly string[];
  readonly nodeName: string | null;
}

export interface ServicePortPlan {
  readonly service: Service;
  readonly port: ServicePort;
  /** `ns/name:port` (`ns/name` when the port is unnamed). */
  readonly name: string;
  readonly protocol: ServiceProtocol;
  readonly clusterIP: string;
  readonly externalIPs: readonly string[];
  readonly loadBalancerVIPs: readonly string[];
  readonly sourceRanges: readonly ParsedCIDR[];
  readonly nodePort: number;
  readonly healthCheckNodePort: number;
  readonly affinitySeconds: number | null;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  readonly externallyAccessible: boolean;
  readonly allEndpoints: readonly EndpointInfo[];
  /** The Cluster policy's endpoints, in `ip:port` order. */
  readonly clusterEndpoints: readonly EndpointInfo[];
  /** The Local policy's endpoints (on this node), in `ip:port` order. */
  readonly localEndpoints: readonly EndpointInfo[];
  /** Every endpoint either policy in use can send to: one endpoint chain each (allLocallyReachableEndpoints). */
  readonly reachableEndpoints: readonly EndpointInfo[];
  /** Some endpoint, on any node, can serve the port. */
  readonly hasEndpoints: boolean;
  /** Where each kind of traffic goes: the chains, captures, verdicts and masquerading. */
  readonly traffic: TrafficPlan;
}

export function servicePortName(svc: Service, port: ServicePort): string {
  return port.name ? `${svc.namespace}/${svc.name}:${port.name}` : `${svc.namespace}/${svc.name}`;
}

/** GetClusterIPByFamily: the service's cluster IP of this family, or null. */
function clusterIPFor(svc: Service, family: Family): ParsedIP | null {
  const texts = svc.clusterIPs.length > 0 ? svc.clusterIPs : svc.clusterIP ? [svc.clusterIP] : [];
  for (const t of texts) {
    const ip = parseIP(t);
    if (ip && ip.family === family) return ip;
  }
  return null;
}

function ipsOfFamily(texts: readonly string[], family: Family): string[] {
  const out: string[] = [];
  for (const t of texts) {
    const ip = parseIP(t.trim());
    if (ip && ip.family === family) out.push(ip.text);
  }
  return out;
}

export function planServices(cluster: Cluster, settings: ProxierSettings): ServicePortPlan[] {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const s of cluster.slices) {
    const k = `${s.namespace}/${s.serviceName}`;
    const list = slicesByService.get(k);
    if (list) list.push(s);
    else slicesByService.set(k, [s]);
  }
  const plans: ServicePortPlan[] = [];
  // In name order, so the rules come out in the canonical order without sorting them.
  const byName = cluster.services.map((svc) => ({ key: `${svc.namespace}/${svc.name}`, svc }));
  byName.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { svc } of byName) {
    // ShouldSkipService: headless and ExternalName services have no service ports.
    if (svc.type === 'ExternalName' || !svc.clusterIP || svc.clusterIP === 'None') continue;
    const clusterIP = clusterIPFor(svc, settings.family);
    if (!clusterIP) continue;
    const slices = slicesByService.get(`${svc.namespace}/${svc.name}`) ?? [];
    for (const port of svc.ports) plans.push(planPort(svc, port, clusterIP.text, slices, settings));
  }
  return plans;
}

function planPort(svc: Service, port: ServicePort, clusterIP: string, slices: readonly EndpointSlice[], settings: ProxierSettings): ServicePortPlan {
  const family = settings.family;
  const externalIPs = ipsOfFamily(svc.externalIPs, family);
  // Proxy-mode LB ingress IPs need no rules when the LoadBalancerIPMode gate is on (IsVIPMode).
  const loadBalancerVIPs = svc.ingress
    .filter((ing) => ing.ip && ing.ip.family === family && (!settings.loadBalancerIPMode || ing.ipMode === null || ing.ipMode === 'VIP'))
    .map((ing) => ing.ip!.text);
  const sourceRanges = svc.loadBalancerSourceRanges.map((c) => parseCIDR(c.trim())).filter((c): c is ParsedCIDR => c !== null && c.family === family);
  const nodePort = port.nodePort;
  const externallyAccessible = nodePort !== 0 || loadBalancerVIPs.length > 0 || externalIPs.length > 0;
  // apiservice.ExternalPolicyLocal: a service that can be reached from outside (by its type, or
  // a ClusterIP service with external IPs) and says Local.
  const serviceExternallyAccessible = svc.type === 'NodePort' || svc.type === 'LoadBalancer' || (svc.type === 'ClusterIP' && svc.externalIPs.length > 0);
  const externalPolicyLocal = serviceExternallyAccessible && svc.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = svc.internalTrafficPolicy === 'Local';
  const healthCheckNodePort = svc.type === 'LoadBalancer' && svc.externalTrafficPolicy === 'Local' ? svc.healthCheckNodePort : 0;
  const name = servicePortName(svc, port);
  const allEndpoints = endpointsFor(port, slices, settings);
  const cat = categorize(allEndpoints, { internalPolicyLocal, externalPolicyLocal, externallyAccessible }, settings);
  const traffic = planTraffic(
    {
      nodePort,
      loadBalancerVIPs,
      sourceRanges,
      internalPolicyLocal,
      externalPolicyLocal,
      externallyAccessible,
      clusterEndpoints: cat.clusterEndpoints,
      localEndpoints: cat.localEndpoints,
      hasEndpoints: cat.hasEndpoints,
    },
    settings,
  );
  return {
    service: svc,
    port,
    name,
    protocol: port.protocol,
    clusterIP,
    externalIPs,
    loadBalancerVIPs,
    sourceRanges,
    nodePort,
    healthCheckNodePort,
    affinitySeconds: svc.sessionAffinity === 'ClientIP' ? svc.affinityTimeoutSeconds : null,
    externalPolicyLocal,
    internalPolicyLocal,
    externallyAccessible,
    allEndpoints,
    ...cat,
    traffic,
  };
}

/**
 * The endpoints of one service port across its slices (endpointslicecache.go): slices of this
 * family, ports matched by name and protocol, the first address of each endpoint, one entry per
 * `ip:port` (a local copy wins), sorted by that string.
 */
const NO_HINTS: readonly string[] = Object.freeze([]);

function endpointsFor(port: ServicePort, slices: readonly EndpointSlice[], settings: ProxierSettings): EndpointInfo[] {
  const wantType = settings.family === 'ipv4' ? 'IPv4' : 'IPv6';
  const all: EndpointInfo[] = [];
  for (const slice of slices) {
    if (slice.addressType !== wantType) continue;
    for (const sp of slice.ports) {
      if (sp.name !== port.name || sp.protocol !== port.protocol || !sp.port) continue;
      for (const ep of slice.endpoints) {
        if (ep.addresses.length === 0) continue;
        const ip = endpointIP(ep.addresses[0]);
        if (!ip || ip.family !== settings.family) continue;
        const key = ip.family === 'ipv6' ? `[${ip.text}]:${sp.port}` : `${ip.text}:${sp.port}`;
        key.charCodeAt(0); // flatten: the key lives as long as the plan
        const isLocal = ep.nodeName !== null && ep.nodeName === settings.nodeName;
        const ready = ep.ready ?? true;
        const info: EndpointInfo = {
          ip: ip.text,
          port: sp.port,
          key,
          isLocal,
          ready,
          serving: ep.serving ?? true,
          terminating: ep.terminating ?? false,
          zoneHints: ep.hintZones ?? NO_HINTS,
          nodeHints: ep.hintNodes ?? NO_HINTS,
          nodeName: ep.nodeName,
        };
        all.push(info);
      }
    }
  }
  // A stable sort keeps copies of one `ip:port` in input order, for the pick below.
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return onePerKey(all);
}

/** An endpoint address's family and canonical text: a canonical dotted quad is its own text, unparsed. */
function endpointIP(text: string): { readonly family: Family; readonly text: string } | null {
  return isCanonicalIPv4(text) ? { family: 'ipv4', text } : parseIP(text);
}

/** One endpoint per `ip:port` of a sorted list: the first copy, or the last local one (endpointslicecache.go). */
export function onePerKey(sorted: EndpointInfo[]): EndpointInfo[] {
  let i = 1;
  while (i < sorted.length && sorted[i].key !== sorted[i - 1].key) i++;
  if (i >= sorted.length) return sorted;
  const out = sorted.slice(0, i - 1);
  for (let j = i - 1; j < sorted.length; ) {
    let pick = sorted[j];
    let k = j + 1;
    for (; k < sorted.length && sorted[k].key === pick.key; k++) if (sorted[k].isLocal) pick = sorted[k];
    out.push(pick);
    j = k;
  }
  return out;
}

interface Policies {
  readonly internalPolicyLocal: boolean;
  readonly externalPolicyLocal: boolean;
  readonly externallyAccessible: boolean;
}

type Categorized = Pick<ServicePortPlan, 'clusterEndpoints' | 'localEndpoints' | 'reachableEndpoints' | 'hasEndpoints'>;

/** CategorizeEndpoints (pkg/proxy/topology.go). */
export function categorize(endpoints: readonly EndpointInfo[], p: Policies, settings: ProxierSettings): Categorized {
  const usesCluster = !p.internalPolicyLocal || p.externallyAccessible;
  const usesLocal = p.internalPolicyLocal || (p.externalPolicyLocal && p.externallyAccessible);
  let clusterEndpoints: EndpointInfo[] = [];
  let localEndpoints: EndpointInfo[] = [];
  let hasEndpoints = false;
  if (usesCluster) {
    const topology = topologyFilter(endpoints, settings);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && (!topology || topology(ep)));
    // No ready endpoint anywhere: fall back to serving, terminating ones.
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (clusterEndpoints.length > 0) hasEndpoints = true;
  }
  if (!usesLocal) return { clusterEndpoints, localEndpoints, reachableEndpoints: clusterEndpoints, hasEndpoints };

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasEndpoints = true;
      if (ep.isLocal) localReady = true;
    } else if (ep.serving && ep.terminating) {
      hasEndpoints = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localServingTerminating) localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);

  if (!usesCluster) return { clusterEndpoints, localEndpoints, reachableEndpoints: localEndpoints, hasEndpoints };
  const union = new Map<string, EndpointInfo>();
  for (const ep of clusterEndpoints) union.set(ep.key, ep);
  for (const ep of localEndpoints) union.set(ep.key, ep);
  return { clusterEndpoints, localEndpoints, reachableEndpoints: [...union.values()], hasEndpoints };
}

const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** canUseTopology: hints apply only when every ready endpoint has them and one is for us. */
function topologyFilter(endpoints: readonly EndpointInfo[], settings: ProxierSettings): ((ep: EndpointInfo) => boolean) | null {
  const zone = settings.nodeLabels[ZONE_LABEL] ?? '';
  let allNode = true;
  let forNode = false;
  let allZone = true;
  let forZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints.length === 0) allNode = false;
    else if (ep.nodeHints.includes(settings.nodeName)) forNode = true;
    if (ep.zoneHints.length === 0) allZone = false;
    else if (zone && ep.zoneHints.includes(zone)) forZone = true;
  }
  if (allNode && forNode) return (ep) => ep.nodeHints.includes(settings.nodeName);
  if (zone && allZone && forZone) return (ep) => ep.zoneHints.includes(zone);
  return null;
}
