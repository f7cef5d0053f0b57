// One service port -> its rules, in kube-proxy's three phases (syncProxyRules): the plan has
// decided the chains and verdicts (plan-traffic.ts); here the entry rules are written (nat
// KUBE-SERVICES / KUBE-NODEPORTS, filter REJECT / DROP / ACCEPT: emit-entry.ts), then the service's
// own chains (KUBE-EXT, KUBE-FW, KUBE-SVC, KUBE-SVL, KUBE-SEP: emit-service-chains.ts).
// Rules are written as template strings: they read like the rules they produce.
import { chainNameOf, endpointChainName, portProtoHash } from '../hash.js';
import type { EndpointInfo, ServicePortPlan } from '../plan.js';
import type { CaptureChain, SourceFirewall, TrafficPlan } from '../plan-traffic.js';
import type { ProxierSettings } from '../settings.js';
import { emitFilterEntry, emitNatEntry } from './emit-entry.js';
import { emitEndpointChains, emitExternalChain, emitFirewallChain, emitPolicyChain } from './emit-service-chains.js';
import type { RestoreTable } from './restore.js';
import type { IptablesWords } from './spell-settings.js';

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

/** What every service port of one sync shares. */
export interface SyncContext {
  readonly settings: ProxierSettings;
  readonly words: IptablesWords;
  /** Above largeClusterEndpointsThreshold: no per-endpoint comments. */
  readonly largeCluster: boolean;
}

/** One service port as the chain emitters spell it. */
export interface PortText {
  readonly p: ServicePortPlan;
  /** The protocol as iptables writes it (`tcp`). */
  readonly proto: string;
  readonly names: ChainNames;
  /** KUBE-SEP names by endpoint key, hashed when first asked for. */
  readonly seps: Map<string, string>;
}

export function portText(p: ServicePortPlan): PortText {
  return { p, proto: p.protocol.toLowerCase(), names: chainNames(p), seps: new Map() };
}

/** The chain of a policy or of external traffic. */
export function chainOf(names: ChainNames, chain: CaptureChain): string {
  return chain === 'cluster' ? names.svc : chain === 'local' ? names.svl : names.ext;
}

/** An endpoint's KUBE-SEP chain (servicePortEndpointChainName). */
export function sepName(pt: PortText, ep: EndpointInfo): string {
  let n = pt.seps.get(ep.key);
  if (n === undefined) pt.seps.set(ep.key, (n = endpointChainName(pt.p.name, pt.proto, ep.key)));
  return n;
}

/** `-m tcp -p tcp -d IP --dport PORT`: the match of a capture, as kube-proxy orders it. */
export function dstMatch(pt: PortText, ip: string): string {
  return `-m ${pt.proto} -p ${pt.proto} -d ${ip} --dport ${pt.p.port.port}`;
}

/**
 * iptables applies loadBalancerSourceRanges in a nat chain between the load-balancer capture and
 * the external chain (loadBalancerTrafficChain in syncProxyRules), so the KUBE-FW chain exists
 * only where that capture does: with endpoints. Without, every source meets the filter's REJECT.
 */
export function natFirewall(t: TrafficPlan): SourceFirewall | null {
  return t.loadBalancerIPs.jump !== null ? t.firewall : null;
}

/** Writes one service port's rules; returns the nat chains it uses. */
export function emitService(p: ServicePortPlan, sync: SyncContext, out: ServiceTargets): string[] {
  const pt = portText(p);
  const t = p.traffic;
  const { names } = pt;
  emitNatEntry(pt, sync, out.natEntry);
  emitFilterEntry(pt, out.filter);

  const nat = out.natChains;
  const chains: string[] = [];
  if (t.externalChain) {
    chains.push(names.ext);
    emitExternalChain(pt, t.externalChain, sync.words, nat);
  }
  const fw = natFirewall(t);
  if (fw) {
    chains.push(names.fw);
    emitFirewallChain(pt, fw, nat);
  }
  if (t.clusterChain) {
    chains.push(names.svc);
    emitPolicyChain(pt, 'cluster', p.clusterEndpoints, sync, nat);
  }
  if (t.localChain) {
    chains.push(names.svl);
    emitPolicyChain(pt, 'local', p.localEndpoints, sync, nat);
  }
  emitEndpointChains(pt, sync, nat, chains);
  return chains;
}
