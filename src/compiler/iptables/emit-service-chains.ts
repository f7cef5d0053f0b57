// A service port's own nat chains, one emitter per chain kind, each spelling what the plan
// decided: KUBE-EXT (external traffic), KUBE-FW (loadBalancerSourceRanges), KUBE-SVC / KUBE-SVL
// (the Cluster and Local policies' endpoint splits, writeServiceToEndpointRules) and KUBE-SEP (one
// per endpoint), as syncProxyRules writes them in pkg/proxy/iptables/proxier.go.
import type { EndpointInfo } from '../plan.js';
import type { ExternalRule, PolicyChain, SourceFirewall } from '../plan-traffic.js';
import { chainOf, dstMatch, sepName, type PortText, type SyncContext } from './emit-service.js';
import { addRule, type RestoreTable } from './restore.js';
import type { IptablesWords } from './spell-settings.js';

/** KUBE-EXT: "Set up external traffic handling". */
export function emitExternalChain(pt: PortText, rules: readonly ExternalRule[], w: IptablesWords, nat: RestoreTable): void {
  const { names } = pt;
  const spn = pt.p.name;
  const chain = names.ext;
  for (const r of rules) {
    switch (r.kind) {
      case 'masquerade':
        addRule(nat, chain, `-m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`);
        break;
      case 'podsToCluster':
        addRule(nat, chain, `-m comment --comment "pod traffic for ${spn} external destinations" ${localMatch(w)} -j ${names.svc}`);
        break;
      case 'masqueradeNode':
        addRule(nat, chain, `-m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
        break;
      case 'nodeToCluster':
        addRule(nat, chain, `-m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${names.svc}`);
        break;
      case 'policy':
        addRule(nat, chain, `-j ${chainOf(names, r.chain)}`);
        break;
      default: {
        const never: never = r;
        throw new Error(`unknown external rule ${JSON.stringify(never)}`);
      }
    }
  }
}

/** The plan writes `podsToCluster` only with a local-traffic detector. */
function localMatch(w: IptablesWords): string {
  if (w.ifLocal === null) throw new Error('podsToCluster planned without a local-traffic detector');
  return w.ifLocal;
}

/** KUBE-FW: allowed sources go on to KUBE-EXT; the rest falls off the end to KUBE-PROXY-FIREWALL's DROP. */
export function emitFirewallChain(pt: PortText, fw: SourceFirewall, nat: RestoreTable): void {
  const { p, names } = pt;
  const head = `-m comment --comment "${p.name} loadbalancer IP"`;
  for (const cidr of fw.sources) addRule(nat, names.fw, `${head} -s ${cidr.text} -j ${names.ext}`);
  if (fw.allowLoadBalancerIPs) for (const ip of p.loadBalancerVIPs) addRule(nat, names.fw, `${head} -s ${ip} -j ${names.ext}`);
  addRule(nat, names.fw, `-m comment --comment "other traffic to ${p.name} will be dropped by KUBE-PROXY-FIREWALL"`);
}

/** kube-proxy's probability for rule i of n: 1/(n-i) printed with %0.10f. */
const probabilities: string[] = [];

export function probability(remaining: number): string {
  return (probabilities[remaining] ??= (1 / remaining).toFixed(10));
}

/**
 * KUBE-SVC / KUBE-SVL: the cluster IP's masquerade rule when this is the internal traffic's chain
 * ("Set up internal traffic handling"), then writeServiceToEndpointRules: the affinity lookups
 * first, then the probability split.
 */
export function emitPolicyChain(pt: PortText, policy: PolicyChain, endpoints: readonly EndpointInfo[], sync: SyncContext, nat: RestoreTable): void {
  const { p } = pt;
  const t = p.traffic;
  const chain = chainOf(pt.names, policy);
  if (t.clusterIPMasquerade && t.clusterIP.jump === policy) {
    const head = `-m comment --comment "${p.name} cluster IP" ${dstMatch(pt, p.clusterIP)}`;
    if (t.clusterIPMasquerade === 'all') addRule(nat, chain, `${head} -j KUBE-MARK-MASQ`);
    else addRule(nat, chain, `${head} ${sync.words.ifNotLocal} -j KUBE-MARK-MASQ`);
  }
  const comment = (ep: EndpointInfo) => (sync.largeCluster ? '' : `-m comment --comment "${p.name} -> ${ep.key}" `);
  if (p.affinitySeconds !== null) {
    for (const ep of endpoints) {
      const name = sepName(pt, ep);
      addRule(nat, chain, `${comment(ep)}-m recent --name ${name} --rcheck --seconds ${p.affinitySeconds} --reap -j ${name}`);
    }
  }
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i];
    const stat = i < n - 1 ? `-m statistic --mode random --probability ${probability(n - i)} ` : '';
    addRule(nat, chain, `${comment(ep)}${stat}-j ${sepName(pt, ep)}`);
  }
}

/** KUBE-SEP, one per reachable endpoint: hairpin masquerade, then the DNAT (recording affinity). */
export function emitEndpointChains(pt: PortText, sync: SyncContext, nat: RestoreTable, chains: string[]): void {
  const { p, proto } = pt;
  const comment = sync.largeCluster ? '' : `-m comment --comment ${p.name} `;
  const affinity = p.affinitySeconds !== null;
  for (const ep of p.reachableEndpoints) {
    const chain = sepName(pt, ep);
    chains.push(chain);
    // Traffic that loops back to its originator must be SNATed (hairpin).
    addRule(nat, chain, `${comment}-s ${ep.ip} -j KUBE-MARK-MASQ`);
    addRule(nat, chain, `${comment}${affinity ? `-m recent --name ${chain} --set ` : ''}-m ${proto} -p ${proto} -j DNAT --to-destination ${ep.key}`);
  }
}
