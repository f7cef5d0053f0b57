// The node's Services as kube-proxy left them, whatever the mode: for each service port, where its
// traffic is captured (entry points), how it is split among endpoints (per traffic policy), and
// the pieces of the node that implement it (chains, virtual servers, set elements). Each mode
// reads its own node into this (iptables-view.ts, ipvs-view.ts; the mode table names which), and
// explain, diff and lint read only this. Names come from kube-proxy's comments, or from the
// objects by recomputing its hashes (names.ts), or are unknown.
import type { Family, Rule, Span } from '../iptables/ir.js';
import type { Prob } from '../packetsim/fraction.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export type NameSource = 'comment' | 'chain' | 'objects';

/** Where something is written: which dump, where in it, and what. */
export interface Where {
  /** The dump it is in. */
  readonly source: 'iptables' | 'ipsets' | 'ipvs' | 'nftables';
  readonly span: Span | null;
  /** `nat KUBE-SERVICES #3`, `virtual server TCP 10.96.0.10:53`, `set KUBE-CLUSTER-IP`, `chain services #1`. */
  readonly what: string;
}

export type EntryKind = 'clusterIP' | 'externalIP' | 'loadBalancerIP' | 'nodePort' | 'healthCheckNodePort' | 'external';

/** What happens to new connections captured at an entry point. */
export type EntryOutcome =
  /** Sent to the endpoints of a traffic policy's split (`via` names the chain or virtual server). */
  | { readonly kind: 'endpoints'; readonly policy: 'Cluster' | 'Local'; readonly via: string }
  /** Through a chain that decides per source (KUBE-EXT, KUBE-FW): see the port's notes. */
  | { readonly kind: 'chain'; readonly chain: string }
  /** No endpoints: REJECT (connection refused) or DROP (no local endpoints for a Local policy). */
  | { readonly kind: 'verdict'; readonly verdict: 'REJECT' | 'DROP'; readonly why: string }
  /** Accepted by the node itself (the health-check NodePort kube-proxy serves). */
  | { readonly kind: 'accept'; readonly why: string };

export interface EntryPoint {
  readonly kind: EntryKind;
  readonly protocol: Protocol | null;
  /** null: every local address of the node (a NodePort). */
  readonly address: string | null;
  readonly port: number | null;
  /** A NodePort rule for 127.0.0.0/8 (localhost NodePorts, route_localnet). */
  readonly localhost?: boolean;
  readonly outcome: EntryOutcome;
  readonly at: Where;
}

export interface EndpointShare {
  readonly address: string;
  readonly port: number | null;
  /** The exact share of new connections (a statistic split's or a scheduler's); null when it depends on the client. */
  readonly share: Prob | null;
  /** The endpoint's chain (KUBE-SEP-...) or real server line. */
  readonly via: string | null;
  readonly at: Where | null;
}

/** One traffic policy's split among endpoints: a KUBE-SVC/KUBE-SVL chain, or an IPVS virtual server. */
export interface Split {
  readonly policy: 'Cluster' | 'Local';
  readonly via: string;
  readonly endpoints: readonly EndpointShare[];
  /** Share of new connections that match no endpoint rule and fall through (a wrong split), null when none. */
  readonly fallThrough: Prob | null;
  /** How the choice is made, when it is not a plain share (IPVS `sh`: by source address hash). */
  readonly scheduler: string | null;
  readonly at: Where | null;
}

/** A chain, virtual server or set element that belongs to a service port, in normal form. */
export interface Piece {
  /** `nat KUBE-SVC-ABC`, `ipvs TCP 10.96.0.10:53`, `set KUBE-CLUSTER-IP 10.96.0.10,tcp:53`, `chain service-ABC-ns/svc/tcp/p80`, `element service-ips 10.96.0.10 . tcp . 80`. */
  readonly id: string;
  readonly kind: 'chain' | 'virtual server' | 'set element';
  /** Its content in normal form, one line per rule or real server (computed when asked: diff compares it). */
  lines(): readonly string[];
  /** A chain's policy and rules, for a quicker comparison than the normal forms (rules written alike are equal). */
  readonly chain?: { readonly policy: string; readonly rules: readonly Rule[]; readonly family: Family };
  /** Nothing on the node reaches it (a per-service chain no rule jumps to: left behind). */
  readonly stale?: boolean;
  readonly at: Where | null;
}

export interface ServicePortView {
  /** `ns/name:port` (`ns/name` for an unnamed port) when known. */
  readonly name: string | null;
  /** Where the name was read: kube-proxy's comments, its readable nftables chain names, or the objects' recomputed hashes. */
  readonly nameFrom: NameSource | null;
  /** The key diff matches ports by: the name, else the hash, else the first entry. */
  readonly key: string;
  readonly protocol: Protocol | null;
  /** iptables: the portProtoHash shared by the port's chain names; nftables: the 8-character hash its chain names start with. */
  readonly hash: string | null;
  readonly entries: readonly EntryPoint[];
  readonly splits: readonly Split[];
  /** sessionAffinity ClientIP: the timeout in seconds. */
  readonly affinitySeconds: number | null;
  /** loadBalancerSourceRanges as the node enforces them. */
  readonly sourceRanges: readonly string[];
  readonly externalPolicy: 'Cluster' | 'Local' | null;
  readonly internalPolicy: 'Cluster' | 'Local' | null;
  /** Who is masqueraded and other per-source decisions, as sentences. */
  readonly notes: readonly string[];
  readonly pieces: readonly Piece[];
}

/** A service port while a mode's reader gathers it (every list still growing). */
export interface PortDraft {
  name: string | null;
  nameFrom: NameSource | null;
  protocol: Protocol | null;
  entries: EntryPoint[];
  splits: Split[];
  affinitySeconds: number | null;
  sourceRanges: string[];
  externalPolicy: 'Cluster' | 'Local' | null;
  internalPolicy: 'Cluster' | 'Local' | null;
  notes: string[];
  pieces: Piece[];
}

export function newDraft(name: string | null, nameFrom: PortDraft['nameFrom']): PortDraft {
  return { name, nameFrom, protocol: null, entries: [], splits: [], affinitySeconds: null, sourceRanges: [], externalPolicy: null, internalPolicy: null, notes: [], pieces: [] };
}

/**
 * What a port's external chain (KUBE-EXT, nftables' external-) says: `to` is the policy its last,
 * unconditional jump goes to (kube-proxy writes it only when that policy has endpoints); without it,
 * only the short-circuits for pods and the node remain: a Local policy with no endpoint here, whose
 * external traffic is dropped. `sentences`: the chain's other rules.
 */
export function externalChainRead(d: PortDraft, to: 'Cluster' | 'Local' | undefined, rules: number, sentences: readonly string[]): void {
  d.externalPolicy = to ?? (rules > 0 ? 'Local' : d.externalPolicy);
  for (const s of sentences) d.notes.push(`external: ${s}`);
  if (to === 'Local') d.notes.push("external: other external traffic goes to this node's endpoints only, keeping the client's address (externalTrafficPolicy: Local)");
  else if (to === undefined) d.notes.push('external: other external traffic has no endpoint on this node (externalTrafficPolicy: Local) and is dropped');
}

/** What a capture's chain does with new connections: a traffic policy's split, or a chain that decides per source (external, firewall). */
export type CaptureRole = 'Cluster' | 'Local' | 'chain';

export function captureOutcome(target: string, role: CaptureRole | undefined): EntryOutcome | null {
  if (role === undefined) return null;
  return role === 'chain' ? { kind: 'chain', chain: target } : { kind: 'endpoints', policy: role, via: target };
}

/** The finished port: `key` is what diff matches ports by, `hash` iptables mode's portProtoHash. */
export function portView(d: PortDraft, key: string, hash: string | null): ServicePortView {
  return { ...d, key, hash, sourceRanges: [...new Set(d.sourceRanges)] };
}

/** The node's service ports, and its pieces that belong to no service port (static chains, other components' rules). */
export interface NodeServices {
  readonly mode: string;
  readonly ports: readonly ServicePortView[];
  readonly other: readonly Piece[];
  /** Per-service pieces whose service port is not known (stale chains with no comment and no object). */
  readonly orphans: readonly Piece[];
}

/** A service port's entry point as one line: `cluster IP 10.96.0.10:53/UDP`. */
export function entryLabel(e: EntryPoint): string {
  const proto = e.protocol ? `/${e.protocol}` : '';
  switch (e.kind) {
    case 'clusterIP':
      return `cluster IP ${hostPort(e.address, e.port)}${proto}`;
    case 'externalIP':
      return `external IP ${hostPort(e.address, e.port)}${proto}`;
    case 'loadBalancerIP':
      return `load-balancer IP ${hostPort(e.address, e.port)}${proto}`;
    case 'external':
      return `external address ${hostPort(e.address, e.port)}${proto}`;
    case 'nodePort':
      return `NodePort ${e.port}${proto} on ${e.localhost ? 'localhost (127.0.0.0/8)' : e.address ? e.address : "the node's addresses"}`;
    case 'healthCheckNodePort':
      return `health-check NodePort ${e.port}/TCP`;
    default: {
      const never: never = e.kind;
      return never;
    }
  }
}

export function hostPort(address: string | null, port: number | null): string {
  const a = address ?? '*';
  const host = a.includes(':') ? `[${a}]` : a;
  return port === null ? host : `${host}:${port}`;
}
