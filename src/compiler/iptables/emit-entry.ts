// A service port's entry rules: where syncProxyRules captures its traffic ("Capture the
// clusterIP", "Capture externalIPs", "Capture load-balancer ingress", "Capture nodeports"), and
// what the filter table does with the traffic that was not captured. The plan's captures say
// which rule exists; this file only spells them.
import type { NoEndpointVerdict } from '../plan-traffic.js';
import { NFACCT_LOCALHOST_NODEPORTS } from './emit-static.js';
import { chainOf, dstMatch, natFirewall, type PortText, type SyncContext } from './emit-service.js';
import { addRule, type RestoreTable } from './restore.js';

/** nat KUBE-SERVICES and KUBE-NODEPORTS: each capture's jump into the service's chains. */
export function emitNatEntry(pt: PortText, sync: SyncContext, nat: RestoreTable): void {
  const { p, names, proto } = pt;
  const t = p.traffic;
  const spn = p.name;
  if (t.clusterIP.jump) {
    addRule(nat, 'KUBE-SERVICES', `-m comment --comment "${spn} cluster IP" ${dstMatch(pt, p.clusterIP)} -j ${chainOf(names, t.clusterIP.jump)}`);
  }
  if (t.externalIPs.jump) {
    const target = chainOf(names, t.externalIPs.jump);
    for (const ip of p.externalIPs) addRule(nat, 'KUBE-SERVICES', `-m comment --comment "${spn} external IP" ${dstMatch(pt, ip)} -j ${target}`);
  }
  if (t.loadBalancerIPs.jump) {
    const target = natFirewall(t) ? names.fw : chainOf(names, t.loadBalancerIPs.jump);
    for (const ip of p.loadBalancerVIPs) addRule(nat, 'KUBE-SERVICES', `-m comment --comment "${spn} loadbalancer IP" ${dstMatch(pt, ip)} -j ${target}`);
  }
  const np = t.nodePort;
  if (np?.jump) {
    const target = chainOf(names, np.jump);
    // route_localnet NodePorts on 127.0.0.0/8, counted (localhostNodePorts, IPv4 only).
    const s = sync.settings;
    if (s.localhostNodePorts && s.family === 'ipv4' && s.nfacct) {
      addRule(nat, 'KUBE-NODEPORTS', `-m comment --comment ${spn} -m ${proto} -p ${proto} -d 127.0.0.0/8 --dport ${p.nodePort} -m nfacct --nfacct-name ${NFACCT_LOCALHOST_NODEPORTS} -j ${target}`);
    }
    addRule(nat, 'KUBE-NODEPORTS', `-m comment --comment ${spn} -m ${proto} -p ${proto} --dport ${p.nodePort} -j ${target}`);
  }
}

/** REJECT when the service has no endpoints, DROP when it has none on this node for a Local policy. */
const VERDICT: Record<NoEndpointVerdict, { readonly why: string; readonly target: string }> = {
  reject: { why: 'has no endpoints', target: 'REJECT' },
  drop: { why: 'has no local endpoints', target: 'DROP' },
};

function addVerdict(filter: RestoreTable, chain: string, spn: string, v: NoEndpointVerdict, match: string): void {
  addRule(filter, chain, `-m comment --comment "${spn} ${VERDICT[v].why}" ${match} -j ${VERDICT[v].target}`);
}

/**
 * filter KUBE-SERVICES (cluster IP), KUBE-EXTERNAL-SERVICES (external IPs, LB IPs, NodePort),
 * KUBE-PROXY-FIREWALL (LB IPs behind source ranges: whatever KUBE-FW did not DNAT) and
 * KUBE-NODEPORTS (the health-check port, accepted whether or not there are local endpoints).
 */
export function emitFilterEntry(pt: PortText, filter: RestoreTable): void {
  const { p, names, proto } = pt;
  const t = p.traffic;
  const spn = p.name;
  if (t.clusterIP.verdict) addVerdict(filter, 'KUBE-SERVICES', spn, t.clusterIP.verdict, dstMatch(pt, p.clusterIP));
  const ext = t.externalIPs.verdict;
  if (ext) for (const ip of p.externalIPs) addVerdict(filter, 'KUBE-EXTERNAL-SERVICES', spn, ext, dstMatch(pt, ip));
  if (natFirewall(t)) {
    for (const ip of p.loadBalancerVIPs) addRule(filter, 'KUBE-PROXY-FIREWALL', `-m comment --comment "${spn} traffic not accepted by ${names.fw}" ${dstMatch(pt, ip)} -j DROP`);
  }
  const lb = t.loadBalancerIPs.verdict;
  if (lb) for (const ip of p.loadBalancerVIPs) addVerdict(filter, 'KUBE-EXTERNAL-SERVICES', spn, lb, dstMatch(pt, ip));
  const np = t.nodePort?.verdict;
  if (np) addVerdict(filter, 'KUBE-EXTERNAL-SERVICES', spn, np, `-m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${p.nodePort}`);
  if (p.healthCheckNodePort !== 0) {
    addRule(filter, 'KUBE-NODEPORTS', `-m comment --comment "${spn} health check node port" -m tcp -p tcp --dport ${p.healthCheckNodePort} -j ACCEPT`);
  }
}
