// One service port -> its rules, in kube-proxy's three phases (syncProxyRules): decide the
// chains, write the entry rules (nat KUBE-SERVICES / KUBE-NODEPORTS, filter REJECT / DROP /
// ACCEPT), write the service's own chains (KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL, KUBE-SEP).
// Rules are written as template strings: they read like the rules they produce.
import { cidrContains } from '../../net/index.js';
import { chainNameOf, endpointChainName, portProtoHash } from '../hash.js';
import type { EndpointInfo, ServicePortPlan } from '../plan.js';
import type { ProxierSettings } from '../settings.js';
import { NFACCT_LOCALHOST_NODEPORTS } from './emit-static.js';
import { addRule, type RestoreTable } from './restore.js';

export interface ChainNames {
  readonly svc: string;
  readonly svl: string;
  readonly ext: string;
  readonly fw: string;
}

export function chainNames(p: ServicePortPlan): ChainNames {
  // The four names share one hash of the service port name and protocol.
  const h = portProtoHash(p.name, p.protocol.toLowerCase());
  return { svc: chainNameOf('SVC', h), svl: chainNameOf('SVL', h), ext: chainNameOf('EXT', h), fw: chainNameOf('FW', h) };
}

export interface ServiceTargets {
  readonly filter: RestoreTable;
  /** nat KUBE-SERVICES and KUBE-NODEPORTS: rewritten on every sync. */
  readonly natEntry: RestoreTable;
  /** The service's own chains: a scratch table when a partial sync skips the service. */
  readonly natChains: RestoreTable;
}

/** Writes one service port's rules; returns the nat chains it uses. */
export function emitService(p: ServicePortPlan, s: ProxierSettings, largeCluster: boolean, out: ServiceTargets): string[] {
  const proto = p.protocol.toLowerCase();
  const names = chainNames(p);
  const spn = p.name;
  const port = p.port.port;
  const match = (dst: string) => `-m ${proto} -p ${proto} -d ${dst} --dport ${port}`;

  const usesClusterPolicyChain = p.clusterEndpoints.length > 0 && (!p.internalPolicyLocal || p.externallyAccessible);
  const usesLocalPolicyChain = p.localEndpoints.length > 0 && (p.internalPolicyLocal || (p.externalPolicyLocal && p.externallyAccessible));
  const internalChain = p.internalPolicyLocal ? names.svl : names.svc;
  const hasInternalEndpoints = p.hasEndpoints && (!p.internalPolicyLocal || p.localEndpoints.length > 0);
  const externalPolicyChain = p.externalPolicyLocal ? names.svl : names.svc;
  const hasExternalEndpoints = p.hasEndpoints && (!p.externalPolicyLocal || p.localEndpoints.length > 0);
  // Built on hasEndpoints, not hasExternalEndpoints: the short-circuit rules for local traffic
  // are needed even when external traffic has no endpoint.
  const usesExternalChain = p.hasEndpoints && p.externallyAccessible;
  const usesFWChain = p.hasEndpoints && p.loadBalancerVIPs.length > 0 && p.sourceRanges.length > 0;
  const lbChain = usesFWChain ? names.fw : names.ext;

  // What the filter table does with traffic that has no endpoint to go to: `-m comment ... -j X`.
  let internalFilter: { comment: string; target: string } | null = null;
  let externalFilter: { comment: string; target: string } | null = null;
  if (!p.hasEndpoints) {
    internalFilter = externalFilter = { comment: `"${spn} has no endpoints"`, target: 'REJECT' };
  } else {
    if (!hasInternalEndpoints) internalFilter = { comment: `"${spn} has no local endpoints"`, target: 'DROP' };
    if (!hasExternalEndpoints) externalFilter = { comment: `"${spn} has no local endpoints"`, target: 'DROP' };
  }
  const { filter, natEntry } = out;

  // Capture the cluster IP.
  if (hasInternalEndpoints) addRule(natEntry, 'KUBE-SERVICES', `-m comment --comment "${spn} cluster IP" ${match(p.clusterIP)} -j ${internalChain}`);
  else if (internalFilter) addRule(filter, 'KUBE-SERVICES', `-m comment --comment ${internalFilter.comment} ${match(p.clusterIP)} -j ${internalFilter.target}`);

  // Capture external IPs.
  for (const ip of p.externalIPs) {
    if (p.hasEndpoints) addRule(natEntry, 'KUBE-SERVICES', `-m comment --comment "${spn} external IP" ${match(ip)} -j ${names.ext}`);
    if (externalFilter) addRule(filter, 'KUBE-EXTERNAL-SERVICES', `-m comment --comment ${externalFilter.comment} ${match(ip)} -j ${externalFilter.target}`);
  }

  // Capture load-balancer ingress IPs.
  for (const ip of p.loadBalancerVIPs) {
    if (p.hasEndpoints) addRule(natEntry, 'KUBE-SERVICES', `-m comment --comment "${spn} loadbalancer IP" ${match(ip)} -j ${lbChain}`);
    if (usesFWChain) addRule(filter, 'KUBE-PROXY-FIREWALL', `-m comment --comment "${spn} traffic not accepted by ${names.fw}" ${match(ip)} -j DROP`);
  }
  if (externalFilter) {
    for (const ip of p.loadBalancerVIPs) addRule(filter, 'KUBE-EXTERNAL-SERVICES', `-m comment --comment ${externalFilter.comment} ${match(ip)} -j ${externalFilter.target}`);
  }

  // Capture node ports. NodePorts are not subject to loadBalancerSourceRanges.
  if (p.nodePort !== 0) {
    if (p.hasEndpoints) {
      if (s.localhostNodePorts && s.family === 'ipv4' && s.nfacct) {
        addRule(natEntry, 'KUBE-NODEPORTS', `-m comment --comment ${spn} -m ${proto} -p ${proto} -d 127.0.0.0/8 --dport ${p.nodePort} -m nfacct --nfacct-name ${NFACCT_LOCALHOST_NODEPORTS} -j ${names.ext}`);
      }
      addRule(natEntry, 'KUBE-NODEPORTS', `-m comment --comment ${spn} -m ${proto} -p ${proto} --dport ${p.nodePort} -j ${names.ext}`);
    }
    if (externalFilter) {
      addRule(filter, 'KUBE-EXTERNAL-SERVICES', `-m comment --comment ${externalFilter.comment} -m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${p.nodePort} -j ${externalFilter.target}`);
    }
  }

  // Health check node ports are accepted whether or not there are local endpoints.
  if (p.healthCheckNodePort !== 0) {
    addRule(filter, 'KUBE-NODEPORTS', `-m comment --comment "${spn} health check node port" -m tcp -p tcp --dport ${p.healthCheckNodePort} -j ACCEPT`);
  }

  const nat = out.natChains;
  const chains: string[] = [];
  const sepNames = new Map<string, string>();
  const sep = (ep: EndpointInfo) => {
    let n = sepNames.get(ep.key);
    if (n === undefined) sepNames.set(ep.key, (n = endpointChainName(spn, proto, ep.key)));
    return n;
  };

  // Internal traffic: masquerade what does not come from a local pod.
  if (hasInternalEndpoints) {
    const head = `-m comment --comment "${spn} cluster IP" ${match(p.clusterIP)}`;
    if (s.masqueradeAll) addRule(nat, internalChain, `${head} -j KUBE-MARK-MASQ`);
    else if (s.localDetector) addRule(nat, internalChain, `${head} ${s.localDetector.ifNotLocal.join(' ')} -j KUBE-MARK-MASQ`);
  }

  if (usesExternalChain) {
    chains.push(names.ext);
    if (!p.externalPolicyLocal) {
      // Non-local endpoints may be on another node: masquerade.
      addRule(nat, names.ext, `-m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`);
    } else {
      // Pod -> external destination traffic is subject to neither policy: it is short-circuited
      // to the cluster chain, as if it went out to the load balancer and came back.
      if (s.localDetector) addRule(nat, names.ext, `-m comment --comment "pod traffic for ${spn} external destinations" ${s.localDetector.ifLocal.join(' ')} -j ${names.svc}`);
      // The node itself needs masquerade: its source would be the (local) external IP.
      addRule(nat, names.ext, `-m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
      addRule(nat, names.ext, `-m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${names.svc}`);
    }
    if (hasExternalEndpoints) addRule(nat, names.ext, `-j ${externalPolicyChain}`);
  }

  if (usesFWChain) {
    chains.push(names.fw);
    const head = `-m comment --comment "${spn} loadbalancer IP"`;
    let allowFromNode = false;
    for (const cidr of p.sourceRanges) {
      addRule(nat, names.fw, `${head} -s ${cidr.text} -j ${names.ext}`);
      if (s.nodeIP && cidrContains(cidr, s.nodeIP)) allowFromNode = true;
    }
    // A VIP-like LB IP is often local to the node: requests from the node to it loop back with
    // the VIP as their source.
    if (allowFromNode) for (const ip of p.loadBalancerVIPs) addRule(nat, names.fw, `${head} -s ${ip} -j ${names.ext}`);
    // Whatever reaches the end was not DNATed and is dropped by KUBE-PROXY-FIREWALL.
    addRule(nat, names.fw, `-m comment --comment "other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL"`);
  }

  if (usesClusterPolicyChain) {
    chains.push(names.svc);
    writeServiceToEndpointRules(nat, p, names.svc, p.clusterEndpoints, largeCluster, sep);
  }
  if (usesLocalPolicyChain) {
    chains.push(names.svl);
    writeServiceToEndpointRules(nat, p, names.svl, p.localEndpoints, largeCluster, sep);
  }

  const comment = largeCluster ? '' : `-m comment --comment ${spn} `;
  const affinity = p.affinitySeconds !== null;
  for (const ep of p.reachableEndpoints) {
    const chain = sep(ep);
    chains.push(chain);
    // Traffic that loops back to its originator must be SNATed (hairpin).
    addRule(nat, chain, `${comment}-s ${ep.ip} -j KUBE-MARK-MASQ`);
    addRule(nat, chain, `${comment}${affinity ? `-m recent --name ${chain} --set ` : ''}-m ${proto} -p ${proto} -j DNAT --to-destination ${ep.key}`);
  }
  return chains;
}

/** kube-proxy's probability for rule i of n: 1/(n-i) printed with %0.10f. */
const probabilities: string[] = [];

export function probability(remaining: number): string {
  return (probabilities[remaining] ??= (1 / remaining).toFixed(10));
}

/** Affinity lookups first, then the probability split (writeServiceToEndpointRules). */
function writeServiceToEndpointRules(
  nat: RestoreTable,
  p: ServicePortPlan,
  chain: string,
  endpoints: readonly EndpointInfo[],
  largeCluster: boolean,
  sep: (ep: EndpointInfo) => string,
): void {
  const comment = (ep: EndpointInfo) => (largeCluster ? '' : `-m comment --comment "${p.name} -> ${ep.key}" `);
  if (p.affinitySeconds !== null) {
    for (const ep of endpoints) {
      const name = sep(ep);
      addRule(nat, chain, `${comment(ep)}-m recent --name ${name} --rcheck --seconds ${p.affinitySeconds} --reap -j ${name}`);
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const stat = i < n - 1 ? `-m statistic --mode random --probability ${probability(n - i)} ` : '';
    addRule(nat, chain, `${comment(ep)}${stat}-j ${sep(ep)}`);
  });
}
