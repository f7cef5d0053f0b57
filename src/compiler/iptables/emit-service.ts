// One service port -> its rules, in kube-proxy's three phases (syncProxyRules): decide the
// chains, write the entry rules (KUBE-SERVICES, KUBE-NODEPORTS, filter REJECT/DROP), write the
// service's own chains (KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL, KUBE-SEP).
import { cidrContains } from '../../model/ip.js';
import { endpointChainName, serviceChainName } from '../hash.js';
import type { EndpointInfo, ServicePortPlan } from '../plan.js';
import type { ProxierSettings } from '../settings.js';
import { NFACCT_LOCALHOST_NODEPORTS } from './emit-static.js';
import type { RestoreRule } from './restore.js';

export interface ServiceRules {
  /** Entry rules in nat KUBE-SERVICES / KUBE-NODEPORTS: rewritten on every sync. */
  readonly natEntry: RestoreRule[];
  readonly filter: RestoreRule[];
  /** The service's own nat chains and their rules: skipped in a partial sync when unchanged. */
  readonly natChains: string[];
  readonly natRules: RestoreRule[];
}

export interface ChainNames {
  readonly svc: string;
  readonly svl: string;
  readonly ext: string;
  readonly fw: string;
}

export function chainNames(p: ServicePortPlan): ChainNames {
  const proto = p.protocol.toLowerCase();
  return {
    svc: serviceChainName('SVC', p.name, proto),
    svl: serviceChainName('SVL', p.name, proto),
    ext: serviceChainName('EXT', p.name, proto),
    fw: serviceChainName('FW', p.name, proto),
  };
}

export function sepChainName(p: ServicePortPlan, ep: EndpointInfo): string {
  return endpointChainName(p.name, p.protocol.toLowerCase(), ep.key);
}

const q = (s: string) => `"${s}"`;

export function emitService(p: ServicePortPlan, s: ProxierSettings, largeCluster: boolean): ServiceRules {
  const out: ServiceRules = { natEntry: [], filter: [], natChains: [], natRules: [] };
  const proto = p.protocol.toLowerCase();
  const names = chainNames(p);
  const spn = p.name;
  const port = String(p.port.port);
  const match = (dst: string, dport: string) => ['-m', proto, '-p', proto, '-d', dst, '--dport', dport];

  const usesClusterPolicyChain = p.clusterEndpoints.length > 0 && (!p.internalPolicyLocal || p.externallyAccessible);
  const usesLocalPolicyChain = p.localEndpoints.length > 0 && (p.internalPolicyLocal || p.externalPolicyLocal);

  const internalChain = p.internalPolicyLocal ? names.svl : names.svc;
  const hasInternalEndpoints = p.hasEndpoints && (!p.internalPolicyLocal || p.localEndpoints.length > 0);
  const externalPolicyChain = p.externalPolicyLocal ? names.svl : names.svc;
  const hasExternalEndpoints = p.hasEndpoints && (!p.externalPolicyLocal || p.localEndpoints.length > 0);
  const usesExternalChain = p.hasEndpoints && p.externallyAccessible;
  const usesFWChain = p.hasEndpoints && p.loadBalancerVIPs.length > 0 && p.sourceRanges.length > 0;
  const lbChain = usesFWChain ? names.fw : names.ext;

  let internalFilter: [string, string] | null = null;
  let externalFilter: [string, string] | null = null;
  if (!p.hasEndpoints) {
    internalFilter = externalFilter = ['REJECT', q(`${spn} has no endpoints`)];
  } else {
    if (!hasInternalEndpoints) internalFilter = ['DROP', q(`${spn} has no local endpoints`)];
    if (!hasExternalEndpoints) externalFilter = ['DROP', q(`${spn} has no local endpoints`)];
  }

  // Capture the cluster IP.
  if (hasInternalEndpoints) {
    out.natEntry.push({ chain: 'KUBE-SERVICES', args: ['-m', 'comment', '--comment', q(`${spn} cluster IP`), ...match(p.clusterIP, port), '-j', internalChain] });
  } else if (internalFilter) {
    out.filter.push({ chain: 'KUBE-SERVICES', args: ['-m', 'comment', '--comment', internalFilter[1], ...match(p.clusterIP, port), '-j', internalFilter[0]] });
  }

  // Capture external IPs.
  for (const ip of p.externalIPs) {
    if (p.hasEndpoints) out.natEntry.push({ chain: 'KUBE-SERVICES', args: ['-m', 'comment', '--comment', q(`${spn} external IP`), ...match(ip, port), '-j', names.ext] });
    if (externalFilter) out.filter.push({ chain: 'KUBE-EXTERNAL-SERVICES', args: ['-m', 'comment', '--comment', externalFilter[1], ...match(ip, port), '-j', externalFilter[0]] });
  }

  // Capture load-balancer ingress IPs.
  for (const ip of p.loadBalancerVIPs) {
    if (p.hasEndpoints) out.natEntry.push({ chain: 'KUBE-SERVICES', args: ['-m', 'comment', '--comment', q(`${spn} loadbalancer IP`), ...match(ip, port), '-j', lbChain] });
    if (usesFWChain) {
      out.filter.push({ chain: 'KUBE-PROXY-FIREWALL', args: ['-m', 'comment', '--comment', q(`${spn} traffic not accepted by ${names.fw}`), ...match(ip, port), '-j', 'DROP'] });
    }
  }
  if (externalFilter) {
    for (const ip of p.loadBalancerVIPs) {
      out.filter.push({ chain: 'KUBE-EXTERNAL-SERVICES', args: ['-m', 'comment', '--comment', externalFilter[1], ...match(ip, port), '-j', externalFilter[0]] });
    }
  }

  // Capture node ports. NodePorts are not subject to loadBalancerSourceRanges.
  if (p.nodePort !== 0) {
    const np = String(p.nodePort);
    if (p.hasEndpoints) {
      if (s.localhostNodePorts && s.family === 'ipv4' && s.nfacct) {
        out.natEntry.push({
          chain: 'KUBE-NODEPORTS',
          args: ['-m', 'comment', '--comment', spn, '-m', proto, '-p', proto, '-d', '127.0.0.0/8', '--dport', np, '-m', 'nfacct', '--nfacct-name', NFACCT_LOCALHOST_NODEPORTS, '-j', names.ext],
        });
      }
      out.natEntry.push({ chain: 'KUBE-NODEPORTS', args: ['-m', 'comment', '--comment', spn, '-m', proto, '-p', proto, '--dport', np, '-j', names.ext] });
    }
    if (externalFilter) {
      out.filter.push({
        chain: 'KUBE-EXTERNAL-SERVICES',
        args: ['-m', 'comment', '--comment', externalFilter[1], '-m', 'addrtype', '--dst-type', 'LOCAL', '-m', proto, '-p', proto, '--dport', np, '-j', externalFilter[0]],
      });
    }
  }

  // Health check node ports are accepted whether or not there are local endpoints.
  if (p.healthCheckNodePort !== 0) {
    out.filter.push({
      chain: 'KUBE-NODEPORTS',
      args: ['-m', 'comment', '--comment', q(`${spn} health check node port`), '-m', 'tcp', '-p', 'tcp', '--dport', String(p.healthCheckNodePort), '-j', 'ACCEPT'],
    });
  }

  const nat = (chain: string, args: string[]) => out.natRules.push({ chain, args });

  // Internal traffic: masquerade what does not come from a local pod.
  if (hasInternalEndpoints) {
    const args = ['-m', 'comment', '--comment', q(`${spn} cluster IP`), ...match(p.clusterIP, port)];
    if (s.masqueradeAll) nat(internalChain, [...args, '-j', 'KUBE-MARK-MASQ']);
    else if (s.localDetector) nat(internalChain, [...args, ...s.localDetector.ifNotLocal, '-j', 'KUBE-MARK-MASQ']);
  }

  if (usesExternalChain) {
    out.natChains.push(names.ext);
    if (!p.externalPolicyLocal) {
      nat(names.ext, ['-m', 'comment', '--comment', q(`masquerade traffic for ${spn} external destinations`), '-j', 'KUBE-MARK-MASQ']);
    } else {
      // Pod -> external destination traffic is subject to neither policy: it is short-circuited
      // to the cluster chain, as if it went out to the load balancer and came back.
      if (s.localDetector) nat(names.ext, ['-m', 'comment', '--comment', q(`pod traffic for ${spn} external destinations`), ...s.localDetector.ifLocal, '-j', names.svc]);
      nat(names.ext, ['-m', 'comment', '--comment', q(`masquerade LOCAL traffic for ${spn} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', 'KUBE-MARK-MASQ']);
      nat(names.ext, ['-m', 'comment', '--comment', q(`route LOCAL traffic for ${spn} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', names.svc]);
    }
    if (hasExternalEndpoints) nat(names.ext, ['-j', externalPolicyChain]);
  }

  if (usesFWChain) {
    out.natChains.push(names.fw);
    const head = ['-m', 'comment', '--comment', q(`${spn} loadbalancer IP`)];
    let allowFromNode = false;
    for (const cidr of p.sourceRanges) {
      nat(names.fw, [...head, '-s', cidr.text, '-j', names.ext]);
      if (s.nodeIP && cidrContains(cidr, s.nodeIP)) allowFromNode = true;
    }
    // A VIP-like LB IP is often local to the node: requests from the node to it loop back with
    // the VIP as their source.
    if (allowFromNode) for (const ip of p.loadBalancerVIPs) nat(names.fw, [...head, '-s', ip, '-j', names.ext]);
    // Whatever reaches the end was not DNATed and is dropped by KUBE-PROXY-FIREWALL.
    nat(names.fw, ['-m', 'comment', '--comment', q(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`)]);
  }

  if (usesClusterPolicyChain) {
    out.natChains.push(names.svc);
    writeServiceToEndpointRules(out.natRules, p, names.svc, p.clusterEndpoints, largeCluster);
  }
  if (usesLocalPolicyChain) {
    out.natChains.push(names.svl);
    writeServiceToEndpointRules(out.natRules, p, names.svl, p.localEndpoints, largeCluster);
  }

  for (const ep of p.reachableEndpoints) {
    const chain = sepChainName(p, ep);
    out.natChains.push(chain);
    const head = largeCluster ? [] : ['-m', 'comment', '--comment', spn];
    // Traffic that loops back to its originator must be SNATed (hairpin).
    nat(chain, [...head, '-s', ep.ip, '-j', 'KUBE-MARK-MASQ']);
    const affinity = p.affinitySeconds !== null ? ['-m', 'recent', '--name', chain, '--set'] : [];
    nat(chain, [...head, ...affinity, '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', ep.key]);
  }
  return out;
}

/** kube-proxy's probability for rule i of n: 1/(n-i) printed with %0.10f. */
export function probability(remaining: number): string {
  return (1 / remaining).toFixed(10);
}

/** Affinity lookups first, then the probability split (writeServiceToEndpointRules). */
function writeServiceToEndpointRules(rules: RestoreRule[], p: ServicePortPlan, chain: string, endpoints: readonly EndpointInfo[], largeCluster: boolean): void {
  const comment = (ep: EndpointInfo) => (largeCluster ? [] : ['-m', 'comment', '--comment', q(`${p.name} -> ${ep.key}`)]);
  if (p.affinitySeconds !== null) {
    for (const ep of endpoints) {
      const sep = sepChainName(p, ep);
      rules.push({ chain, args: [...comment(ep), '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(p.affinitySeconds), '--reap', '-j', sep] });
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const stat = i < n - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(n - i)] : [];
    rules.push({ chain, args: [...comment(ep), ...stat, '-j', sepChainName(p, ep)] });
  });
}
