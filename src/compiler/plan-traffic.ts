// Where each kind of traffic to one service port goes: the decisions the per-service loop of
// syncProxyRules takes before it writes a rule (pkg/proxy/iptables/proxier.go), as data. The
// nftables proxier (pkg/proxy/nftables/proxier.go) takes the same decisions under the same names
// (usesClusterPolicyChain, hasInternalEndpoints, usesExternalTrafficChain, the *TrafficFilter
// verdicts, the EXT chain's short-circuits); only the firewall chain differs (see SourceFirewall).
// Each mode spells the result: iptables as KUBE-SVC/SVL/EXT/FW chains and filter rules, nftables
// as service-/local-/external-/firewall- chains and verdict-map elements; IPVS reads the firewall
// and the cluster-IP masquerade from here.
import { cidrContains, type ParsedCIDR } from '../net/index.js';
import type { ServicePortPlan } from './plan.js';
import type { ProxierSettings } from './settings.js';

/** The two endpoint splits of a service port: Cluster policy (KUBE-SVC) and Local policy (KUBE-SVL). */
export type PolicyChain = 'cluster' | 'local';

/** A chain traffic captured at an entry point is sent to. */
export type CaptureChain = PolicyChain | 'external';

/**
 * What the filter stage does with new connections that were captured but have nowhere to go:
 * `reject` when the service has no endpoints at all (ICMP port unreachable, so clients fail
 * fast), `drop` when it has endpoints but none on this node for a Local traffic policy (the
 * client retries elsewhere).
 */
export type NoEndpointVerdict = 'reject' | 'drop';

/** One kind of entry point (the cluster IP, each external IP, each LB IP, the NodePort). */
export interface Capture {
  /** The chain its traffic is sent to in the nat stage, or null: nothing is captured. */
  readonly jump: CaptureChain | null;
  /** What the filter stage does with its traffic that was not redirected, or null: nothing. */
  readonly verdict: NoEndpointVerdict | null;
}

/** One rule of the external chain, in kube-proxy's order. */
export type ExternalRule =
  /** Cluster policy: the endpoint may be on another node, so everything is masqueraded. */
  | { readonly kind: 'masquerade' }
  /**
   * Local policy: traffic from local pods (the local-traffic detector) goes to the cluster chain,
   * subject to neither policy, as if it had gone out to the load balancer and come back.
   */
  | { readonly kind: 'podsToCluster' }
  /** Local policy: the node itself is masqueraded, since its source would be the (local) external IP... */
  | { readonly kind: 'masqueradeNode' }
  /** ...and goes to the cluster chain. */
  | { readonly kind: 'nodeToCluster' }
  /** Everything else goes to the external policy's chain (only when that policy has endpoints). */
  | { readonly kind: 'policy'; readonly chain: PolicyChain };

/**
 * loadBalancerSourceRanges on a service with LB IPs. The nftables proxier checks it before DNAT
 * whatever the endpoints (usesFWChain there); the iptables proxier checks it in a nat chain on the
 * load-balancer capture's way to the external chain (loadBalancerTrafficChain), which exists only
 * where the capture does, that is with endpoints; IPVS keeps it in ipsets.
 */
export interface SourceFirewall {
  /** The allowed source ranges of this family, in the Service's order. */
  readonly sources: readonly ParsedCIDR[];
  /**
   * The node's primary IP is in a range, so the LB IPs are allowed as sources too: a VIP-like LB
   * IP is often local to the node, and the node's own requests to it loop back with the VIP as
   * their source.
   */
  readonly allowLoadBalancerIPs: boolean;
}

/** How the cluster-IP capture marks traffic for masquerade. */
export type ClusterIPMasquerade =
  /** masqueradeAll: everything. */
  | 'all'
  /** Traffic the local-traffic detector does not recognise as from a local pod. */
  | 'notLocal';

export interface TrafficPlan {
  /** The Cluster-policy split exists (usesClusterPolicyChain), over `clusterEndpoints`. */
  readonly clusterChain: boolean;
  /** The Local-policy split exists (usesLocalPolicyChain), over `localEndpoints`. */
  readonly localChain: boolean;
  /** The external chain's rules (usesExternalTrafficChain), or null: no external chain. */
  readonly externalChain: readonly ExternalRule[] | null;
  readonly firewall: SourceFirewall | null;
  /**
   * The masquerade rule at the head of the internal policy chain (the cluster IP capture's
   * `jump`), or null: none (no internal endpoints, or no detector without masqueradeAll).
   */
  readonly clusterIPMasquerade: ClusterIPMasquerade | null;
  readonly clusterIP: Capture;
  readonly externalIPs: Capture;
  readonly loadBalancerIPs: Capture;
  /** Null when the port has no NodePort. NodePorts are not subject to loadBalancerSourceRanges. */
  readonly nodePort: Capture | null;
}

/** What planTraffic reads of a service port. */
export type PortFacts = Pick<
  ServicePortPlan,
  | 'nodePort'
  | 'loadBalancerVIPs'
  | 'sourceRanges'
  | 'internalPolicyLocal'
  | 'externalPolicyLocal'
  | 'externallyAccessible'
  | 'clusterEndpoints'
  | 'localEndpoints'
  | 'hasEndpoints'
>;

/** The proxier-wide choice of the cluster-IP masquerade rule (syncProxyRules, both modes). */
export function clusterIPMasquerade(s: ProxierSettings): ClusterIPMasquerade | null {
  return s.masqueradeAll ? 'all' : s.localDetector ? 'notLocal' : null;
}

/** The decisions of syncProxyRules for one service port. */
export function planTraffic(p: PortFacts, s: ProxierSettings): TrafficPlan {
  const hasLocal = p.localEndpoints.length > 0;
  const hasInternalEndpoints = p.hasEndpoints && (!p.internalPolicyLocal || hasLocal);
  const hasExternalEndpoints = p.hasEndpoints && (!p.externalPolicyLocal || hasLocal);
  // Built on hasEndpoints, not hasExternalEndpoints: the short-circuit rules for local traffic
  // are needed even when external traffic has no endpoint.
  const usesExternalChain = p.hasEndpoints && p.externallyAccessible;
  // No endpoints at all: REJECT everywhere; else DROP where the policy is Local and none is here.
  const internalVerdict: NoEndpointVerdict | null = !p.hasEndpoints ? 'reject' : hasInternalEndpoints ? null : 'drop';
  const externalVerdict: NoEndpointVerdict | null = !p.hasEndpoints ? 'reject' : hasExternalEndpoints ? null : 'drop';
  const external = p.hasEndpoints ? 'external' : null;
  return {
    clusterChain: p.clusterEndpoints.length > 0 && (!p.internalPolicyLocal || p.externallyAccessible),
    localChain: hasLocal && (p.internalPolicyLocal || (p.externalPolicyLocal && p.externallyAccessible)),
    externalChain: usesExternalChain ? externalRules(p.externalPolicyLocal, s.localDetector !== null, hasExternalEndpoints) : null,
    firewall: sourceFirewall(p, s),
    clusterIPMasquerade: hasInternalEndpoints ? clusterIPMasquerade(s) : null,
    clusterIP: capture(hasInternalEndpoints ? (p.internalPolicyLocal ? 'local' : 'cluster') : null, internalVerdict),
    externalIPs: capture(external, externalVerdict),
    loadBalancerIPs: capture(external, externalVerdict),
    nodePort: p.nodePort !== 0 ? capture(external, externalVerdict) : null,
  };
}

function sourceFirewall(p: PortFacts, s: ProxierSettings): SourceFirewall | null {
  if (p.loadBalancerVIPs.length === 0 || p.sourceRanges.length === 0) return null;
  const node = s.nodeIP;
  return { sources: p.sourceRanges, allowLoadBalancerIPs: node !== null && p.sourceRanges.some((c) => cidrContains(c, node)) };
}

// The few distinct captures and external chains, built once and shared by every service port.
const JUMPS = [null, 'cluster', 'local', 'external'] as const;
const VERDICTS = [null, 'reject', 'drop'] as const;
const CAPTURES: readonly Capture[] = JUMPS.flatMap((jump) => VERDICTS.map((verdict) => Object.freeze({ jump, verdict })));

function capture(jump: CaptureChain | null, verdict: NoEndpointVerdict | null): Capture {
  return CAPTURES[JUMPS.indexOf(jump) * VERDICTS.length + VERDICTS.indexOf(verdict)];
}

const EXTERNAL_RULES: (readonly ExternalRule[])[] = [];

/** The external chain's rules for a policy (syncProxyRules' "Set up external traffic handling"). */
function externalRules(policyLocal: boolean, detector: boolean, hasExternalEndpoints: boolean): readonly ExternalRule[] {
  const key = (policyLocal ? 4 : 0) | (detector ? 2 : 0) | (hasExternalEndpoints ? 1 : 0);
  let rules = EXTERNAL_RULES[key];
  if (!rules) {
    const list: ExternalRule[] = [];
    if (!policyLocal) list.push({ kind: 'masquerade' });
    else {
      if (detector) list.push({ kind: 'podsToCluster' });
      list.push({ kind: 'masqueradeNode' }, { kind: 'nodeToCluster' });
    }
    if (hasExternalEndpoints) list.push({ kind: 'policy', chain: policyLocal ? 'local' : 'cluster' });
    EXTERNAL_RULES[key] = rules = Object.freeze(list);
  }
  return rules;
}
