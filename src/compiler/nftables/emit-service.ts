// One service port's objects in nftables mode: the per-service loop of syncProxyRules
// (pkg/proxy/nftables/proxier.go), spelling the decisions the plan already took
// (plan-traffic.ts: which chains, which verdicts, masquerading, the firewall).
//
// * Captures are verdict-map elements, not rules: the ClusterIP, each external IP and LB IP in
//   `service-ips`, the NodePort in `service-nodeports`; what has no endpoint for its traffic
//   policy goes to `no-endpoint-services` / `no-endpoint-nodeports` with `drop` or
//   `goto reject-chain`, commented with the service port's name.
// * Chains: `service-` (Cluster policy) and `local-` (Local policy) split over the endpoints with
//   one `numgen random mod N vmap` rule; `external-` handles traffic to external destinations;
//   `firewall-` drops sources outside loadBalancerSourceRanges (through `firewall-ips`); one
//   `endpoint-` chain per endpoint marks hairpin traffic and DNATs.
// * Session affinity: one dynamic set per endpoint (`affinity-`), filled by the endpoint chain
//   (`update @set { ip saddr }`) and looked up before the split.
import type { EndpointInfo, ServicePortPlan } from '../plan.js';
import type { Capture, ExternalRule, NoEndpointVerdict, PolicyChain } from '../plan-traffic.js';
import { PREFIXES, servicePortChainNameBase, servicePortEndpointChainNameBase } from './names.js';
import type { Transaction } from './transaction.js';
import type { NftWords } from './words.js';

const MARK_MASQ = 'mark-for-masquerade';

interface Names {
  readonly cluster: string;
  readonly local: string;
  readonly external: string;
  readonly firewall: string;
}

interface EndpointNames {
  readonly chain: string;
  readonly affinity: string;
}

function verdictText(v: NoEndpointVerdict): string {
  return v === 'reject' ? 'goto reject-chain' : 'drop';
}

export function emitServicePort(tx: Transaction, p: ServicePortPlan, w: NftWords): void {
  const protocol = p.protocol.toLowerCase();
  const { namespace, name } = p.service;
  const base = servicePortChainNameBase(namespace, name, protocol, p.port.name);
  const names: Names = { cluster: PREFIXES.cluster + base, local: PREFIXES.local + base, external: PREFIXES.external + base, firewall: PREFIXES.firewall + base };
  const epNames = new Map<string, EndpointNames>();
  const endpoint = (ep: EndpointInfo): EndpointNames => {
    let n = epNames.get(ep.key);
    if (!n) {
      const b = servicePortEndpointChainNameBase(namespace, name, protocol, p.port.name, ep.ip, ep.port);
      epNames.set(ep.key, (n = { chain: PREFIXES.endpoint + b, affinity: PREFIXES.affinity + b }));
    }
    return n;
  };
  const policyChain = (c: PolicyChain) => (c === 'cluster' ? names.cluster : names.local);
  const t = p.traffic;

  // The chains, in the order syncProxyRules ensures them.
  for (const ep of p.reachableEndpoints) tx.chain(endpoint(ep).chain);
  if (t.clusterChain) tx.chain(names.cluster);
  if (t.localChain) tx.chain(names.local);
  if (t.externalChain) tx.chain(names.external);
  if (t.firewall) tx.chain(names.firewall);

  // Captures.
  const port = String(p.port.port);
  const capture = (c: Capture, addr: string) => {
    const key = [addr, protocol, port];
    if (c.jump) tx.element('service-ips', key, `goto ${c.jump === 'external' ? names.external : policyChain(c.jump)}`);
    if (c.verdict) tx.element('no-endpoint-services', key, verdictText(c.verdict), p.name);
  };
  tx.element('cluster-ips', [p.clusterIP]);
  capture(t.clusterIP, p.clusterIP);
  for (const ip of p.externalIPs) capture(t.externalIPs, ip);
  for (const ip of p.loadBalancerVIPs) {
    if (t.loadBalancerIPs.jump) tx.element('service-ips', [ip, protocol, port], `goto ${names.external}`);
    if (t.firewall) tx.element('firewall-ips', [ip, protocol, port], `goto ${names.firewall}`);
  }
  if (t.loadBalancerIPs.verdict) for (const ip of p.loadBalancerVIPs) tx.element('no-endpoint-services', [ip, protocol, port], verdictText(t.loadBalancerIPs.verdict), p.name);
  if (t.nodePort) {
    const key = [protocol, String(p.nodePort)];
    if (t.nodePort.jump) tx.element('service-nodeports', key, `goto ${names.external}`);
    if (t.nodePort.verdict) tx.element('no-endpoint-nodeports', key, verdictText(t.nodePort.verdict), p.name);
  }

  // Internal traffic: masquerade what the ClusterIP receives from outside the cluster.
  if (t.clusterIPMasquerade) {
    const chain = policyChain(t.clusterIP.jump === 'local' ? 'local' : 'cluster');
    const which = t.clusterIPMasquerade === 'all' || !w.ifNotLocal ? '' : ` ${w.ifNotLocal}`;
    tx.rule(chain, `${w.ipX} daddr ${p.clusterIP}${which} jump ${MARK_MASQ}`);
  }
  if (t.externalChain) for (const r of t.externalChain) externalRule(tx, names, r, w, policyChain);
  if (t.firewall) {
    const sources = t.firewall.sources.map((c) => c.text);
    if (t.firewall.allowLoadBalancerIPs) sources.push(...p.loadBalancerVIPs);
    tx.rule(names.firewall, `${w.ipX} saddr != { ${sources.join(' , ')} } drop`);
  }

  const affinity = p.affinitySeconds;
  if (affinity !== null) {
    for (const ep of p.reachableEndpoints) {
      tx.set({ map: false, name: endpoint(ep).affinity, type: w.addrType, flags: ['dynamic', 'timeout'], timeoutSeconds: affinity, comment: null });
    }
  }
  if (t.clusterChain) serviceToEndpoints(tx, names.cluster, p.clusterEndpoints, endpoint, affinity !== null, w);
  if (t.localChain) serviceToEndpoints(tx, names.local, p.localEndpoints, endpoint, affinity !== null, w);

  for (const ep of p.reachableEndpoints) {
    const n = endpoint(ep);
    // Hairpin: an endpoint reaching its own service is masqueraded, or it would answer itself.
    tx.rule(n.chain, `${w.ipX} saddr ${ep.ip} jump ${MARK_MASQ}`);
    if (affinity !== null) tx.rule(n.chain, `update @${n.affinity} { ${w.ipX} saddr }`);
    tx.rule(n.chain, `meta l4proto ${protocol} dnat to ${ep.key}`);
  }
}

/** One rule of the external chain (syncProxyRules' "Set up external traffic handling"). */
function externalRule(tx: Transaction, names: Names, r: ExternalRule, w: NftWords, policyChain: (c: PolicyChain) => string): void {
  switch (r.kind) {
    case 'masquerade':
      tx.rule(names.external, `jump ${MARK_MASQ}`);
      return;
    case 'podsToCluster':
      tx.rule(names.external, `${w.ifLocal} goto ${names.cluster}`, 'short-circuit pod traffic');
      return;
    case 'masqueradeNode':
      tx.rule(names.external, `fib saddr type local jump ${MARK_MASQ}`, 'masquerade local traffic');
      return;
    case 'nodeToCluster':
      tx.rule(names.external, `fib saddr type local goto ${names.cluster}`, 'short-circuit local traffic');
      return;
    case 'policy':
      tx.rule(names.external, `goto ${policyChain(r.chain)}`);
      return;
  }
}

/**
 * writeServiceToEndpointRules: the affinity lookups (a client seen recently goes back to its
 * endpoint), then the split: `numgen random mod N` picks the endpoint, each with probability
 * exactly 1/N (reciprocal_scale of one random u32, up to rounding).
 */
function serviceToEndpoints(tx: Transaction, chain: string, endpoints: readonly EndpointInfo[], endpoint: (ep: EndpointInfo) => EndpointNames, affinity: boolean, w: NftWords): void {
  if (affinity) for (const ep of endpoints) tx.rule(chain, `${w.ipX} saddr @${endpoint(ep).affinity} goto ${endpoint(ep).chain}`);
  const vmap = endpoints.map((ep, i) => `${i} : goto ${endpoint(ep).chain}`).join(' , ');
  tx.rule(chain, `numgen random mod ${endpoints.length} vmap { ${vmap} }`);
}
