// Service ports -> IPVS virtual servers, their real servers, the kube-ipvs0 addresses and the
// ipset entries: the per-service loop of syncProxyRules in pkg/proxy/ipvs/proxier.go, with
// syncService / syncEndpoint folded into a pure function of the plan.
import type { Family } from '../../iptables/ir.js';
import { hostPort, SERVICE_FLAGS, serviceKey, type IpvsProtocol, type RealServer, type VirtualServer } from '../../ipvs/ir.js';
import { cidrContains, type ParsedIP } from '../../net/index.js';
import type { EndpointInfo, ServicePortPlan } from '../plan.js';
import type { SetKey } from './ipsets.js';

export interface IpvsSettings {
  readonly family: Family;
  readonly scheduler: string;
  /** The node's primary IP of this family (loadBalancerSourceRanges that hold it allow the node). */
  readonly nodeIP: ParsedIP | null;
  /** GetAllLocalAddressesExcept(kube-ipvs0): this family's addresses, no loopback, no IPv6 link-local. */
  readonly nodeAddresses: ReadonlySet<string>;
  /** The addresses NodePort virtual servers are created on. */
  readonly nodePortIPs: readonly string[];
}

/** An LB IP whose source ranges leave the node out: KUBE-IPVS-OUT-FILTER drops its own traffic to it. */
export interface NoNodeAccess {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

export interface ServiceState {
  /** Keyed by VirtualServer.String() (`ip:port/PROTO`); a later service port with the same key updates it. */
  readonly services: Map<string, VirtualServer>;
  readonly bindAddresses: Set<string>;
  readonly entries: Map<SetKey, Set<string>>;
  readonly noNodeAccess: NoNodeAccess[];
}

export function emptyServiceState(): ServiceState {
  return { services: new Map(), bindAddresses: new Set(), entries: new Map(), noNodeAccess: [] };
}

function add(st: ServiceState, key: SetKey, entry: string): void {
  let set = st.entries.get(key);
  if (!set) st.entries.set(key, (set = new Set()));
  set.add(entry);
}

/**
 * syncEndpoint: the destinations of one virtual server. With onlyNodeLocal (internalTrafficPolicy
 * Local for the ClusterIP, externalTrafficPolicy Local for the others) the local endpoints, or
 * when there are none the cluster endpoints (kubernetes PR 97081: pods on this node can still
 * reach the service); otherwise the cluster endpoints. Weight 1, masquerading, sorted by `ip:port`.
 */
export function realServersFor(p: ServicePortPlan, onlyNodeLocal: boolean): RealServer[] {
  const eps: readonly EndpointInfo[] = onlyNodeLocal && p.localEndpoints.length > 0 ? p.localEndpoints : p.clusterEndpoints;
  const byKey = new Map<string, RealServer>();
  for (const ep of eps) {
    if (!ep.ip || !ep.port) continue;
    byKey.set(hostPort(ep.ip, ep.port), { address: ep.ip, port: ep.port, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, span: null });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, rs]) => rs);
}

function virtualServer(s: IpvsSettings, p: ServicePortPlan, address: string, port: number, realServers: RealServer[]): VirtualServer {
  let flags = 0;
  let timeout = 0;
  if (p.affinitySeconds !== null) {
    flags |= SERVICE_FLAGS.persistent;
    timeout = p.affinitySeconds;
  }
  // FlagSourceHash (0x10, ipvsadm's mh-port): kube-proxy always hashes the source port with mh.
  if (s.scheduler === 'mh') flags |= SERVICE_FLAGS.sched2;
  return {
    family: s.family,
    address,
    port,
    protocol: p.protocol as IpvsProtocol,
    scheduler: s.scheduler,
    flags,
    timeout,
    netmaskPrefix: s.family === 'ipv4' ? 32 : 128,
    realServers,
    span: null,
  };
}

function put(st: ServiceState, vs: VirtualServer): void {
  st.services.set(serviceKey(vs), vs);
}

export function emitServicePort(st: ServiceState, s: IpvsSettings, p: ServicePortPlan): void {
  const proto = p.protocol.toLowerCase();
  const port = p.port.port;
  const entry = (ip: string, prt = port) => `${ip},${proto}:${prt}`;

  // Hairpin: a local endpoint reaching itself through the service is masqueraded (KUBE-LOOP-BACK).
  for (const ep of p.allEndpoints) if (ep.isLocal && ep.ip && ep.port) add(st, 'loopBack', `${ep.ip},${proto}:${ep.port},${ep.ip}`);

  add(st, 'clusterIP', entry(p.clusterIP));
  put(st, virtualServer(s, p, p.clusterIP, port, realServersFor(p, p.internalPolicyLocal)));
  st.bindAddresses.add(p.clusterIP);

  const external = realServersFor(p, p.externalPolicyLocal);
  for (const ip of p.externalIPs) {
    add(st, p.externalPolicyLocal ? 'externalIPLocal' : 'externalIP', entry(ip));
    put(st, virtualServer(s, p, ip, port, external));
    // An address already on another interface must not be added to kube-ipvs0.
    if (!s.nodeAddresses.has(ip)) st.bindAddresses.add(ip);
  }

  for (const ip of p.loadBalancerVIPs) {
    add(st, 'loadBalancer', entry(ip));
    if (p.externalPolicyLocal) add(st, 'loadBalancerLocal', entry(ip));
    if (p.sourceRanges.length > 0) {
      add(st, 'loadBalancerFW', entry(ip));
      let allowFromNode = false;
      for (const cidr of p.sourceRanges) {
        add(st, 'loadBalancerSourceCIDR', `${entry(ip)},${cidr.text}`);
        if (s.nodeIP && s.nodeIP.family === cidr.family && cidrContains(cidr, s.nodeIP)) allowFromNode = true;
      }
      // Traffic from the node to its own LB VIP has the VIP as source (kube-ipvs0 holds it).
      if (allowFromNode) add(st, 'loadBalancerSourceIP', `${entry(ip)},${ip}`);
      else st.noNodeAccess.push({ ip, protocol: proto, port });
    }
    put(st, virtualServer(s, p, ip, port, external));
    if (!s.nodeAddresses.has(ip)) st.bindAddresses.add(ip);
  }

  if (p.nodePort !== 0) {
    // No usable node address: NodePort handling is skipped, and with it the health-check port.
    if (s.nodePortIPs.length === 0) return;
    const np = p.nodePort;
    const local = p.externalPolicyLocal;
    switch (p.protocol) {
      case 'TCP':
        add(st, 'nodePortTCP', String(np));
        if (local) add(st, 'nodePortLocalTCP', String(np));
        break;
      case 'UDP':
        add(st, 'nodePortUDP', String(np));
        if (local) add(st, 'nodePortLocalUDP', String(np));
        break;
      case 'SCTP':
        // SCTP has no bitmap:port type: one hash:ip,port entry per node address.
        for (const ip of s.nodePortIPs) {
          add(st, 'nodePortSCTP', entry(ip, np));
          if (local) add(st, 'nodePortLocalSCTP', entry(ip, np));
        }
        break;
    }
    for (const ip of s.nodePortIPs) put(st, virtualServer(s, p, ip, np, external));
  }

  if (p.healthCheckNodePort !== 0) add(st, 'healthCheckNodePort', String(p.healthCheckNodePort));
}
