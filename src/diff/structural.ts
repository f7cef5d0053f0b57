// Structural differences between two nodes, per service port: ports, entry points, endpoints
// (per traffic policy) and their shares, traffic policies, and, when both sides are of the same
// mode, the pieces that implement them (chains in normal form, virtual servers, set elements) and
// the node's own pieces. Ports are matched by name, else by hash, else by their first entry point.
// Missing: on the left (the reference: the objects, or before) but not on the right; extra: the
// other way round (a stale chain is an extra one).
import { equal, fractionText, type Prob } from '../packetsim/fraction.js';
import { normalForm, writtenAlike } from '../explain/rule-facts.js';
import { entryLabel, hostPort, type EntryPoint, type NodeServices, type Piece, type ServicePortView, type Where } from '../explain/view.js';

export type StructuralKind =
  | 'port-missing'
  | 'port-extra'
  | 'entry-missing'
  | 'entry-extra'
  | 'entry-changed'
  | 'endpoint-missing'
  | 'endpoint-extra'
  | 'share-changed'
  | 'policy-changed'
  | 'piece-missing'
  | 'piece-extra'
  | 'piece-changed'
  /** A service port's chain that the other side still has, but that nothing there reaches (stale). */
  | 'piece-stale';

export interface StructuralDifference {
  readonly kind: StructuralKind;
  /** The service port's name or key; null for the node's own pieces. */
  readonly port: string | null;
  /** What differs: `cluster IP 10.96.0.10:53/UDP`, `endpoint 10.244.1.5:53 (Cluster policy)`, `nat KUBE-SVC-X`. */
  readonly what: string;
  readonly left: string | null;
  readonly right: string | null;
  readonly leftAt: Where | null;
  readonly rightAt: Where | null;
  /** share-changed: both shares, exact (left and right hold their fractions as text). */
  readonly shares?: readonly [Prob, Prob];
}

export interface StructuralOptions {
  /** Compare chains, virtual servers and set elements (both sides of one mode). */
  readonly pieces: boolean;
  /** Whether both nodes wrote the chain of a piece id alike (the behavioural diff asks the same, once). */
  readonly sameChain?: (id: string) => boolean;
}

function portLabel(p: ServicePortView): string {
  return p.name ?? p.key;
}

/** Right-hand ports by name, hash and key, taken once each. */
function matcher(right: readonly ServicePortView[]): (p: ServicePortView) => ServicePortView | null {
  const byName = new Map<string, ServicePortView>();
  const byHash = new Map<string, ServicePortView>();
  const byKey = new Map<string, ServicePortView>();
  for (const r of right) {
    if (r.name) byName.set(r.name, r);
    if (r.hash) byHash.set(r.hash, r);
    byKey.set(r.key, r);
  }
  const taken = new Set<ServicePortView>();
  return (p) => {
    const cands = [p.name ? byName.get(p.name) : undefined, p.hash ? byHash.get(p.hash) : undefined, byKey.get(p.key)];
    const hit = cands.find((c) => c !== undefined && !taken.has(c)) ?? null;
    if (hit) taken.add(hit);
    return hit;
  };
}

/** An entry point's identity across modes: NodePorts by port alone (IPVS has one virtual server per node address). */
function entryKey(e: EntryPoint): string {
  const kind = e.kind === 'externalIP' || e.kind === 'loadBalancerIP' ? 'external' : e.kind;
  const addr = e.kind === 'nodePort' || e.kind === 'healthCheckNodePort' ? (e.localhost ? 'localhost' : '*') : (e.address ?? '*');
  return `${kind} ${e.protocol ?? ''} ${addr}:${e.port ?? '*'}`;
}

/** Where new connections at the entry end up, in words both modes share. */
function entryFate(e: EntryPoint, p: ServicePortView): string {
  const o = e.outcome;
  switch (o.kind) {
    case 'endpoints':
      return `endpoints (${o.policy} policy)`;
    case 'chain':
      // KUBE-EXT / KUBE-FW: the external policy's endpoints (the source ranges compare as a policy).
      return `endpoints (${p.externalPolicy ?? 'Cluster'} policy)`;
    case 'verdict':
      return o.verdict;
    case 'accept':
      return 'ACCEPT';
    default: {
      const never: never = o;
      return never;
    }
  }
}

interface EndpointAt {
  readonly label: string;
  readonly share: Prob | null;
  readonly at: Where | null;
}

/** Endpoints per policy: `Cluster 10.244.1.5:8080` -> share (splits of one policy merged, the first share kept). */
function endpoints(p: ServicePortView): Map<string, EndpointAt> {
  const out = new Map<string, EndpointAt>();
  for (const s of p.splits) {
    for (const e of s.endpoints) {
      const k = `${s.policy} ${hostPort(e.address, e.port)}`;
      if (!out.has(k)) out.set(k, { label: `endpoint ${hostPort(e.address, e.port)} (${s.policy} policy)`, share: e.share, at: e.at });
    }
  }
  return out;
}

/** Two chains with the same policy and rules written alike, or in the same normal form; false: compare the lines. */
function sameChain(a: Piece, b: Piece): boolean {
  const x = a.chain;
  const y = b.chain;
  if (!x || !y || x.policy !== y.policy || x.rules.length !== y.rules.length) return false;
  return x.rules.every((r, i) => writtenAlike(r, y.rules[i]) || normalForm(r, x.family) === normalForm(y.rules[i], y.family));
}

/** Ids of the per-service pieces each side has but reaches from no service port (stale chains). */
interface Orphans {
  readonly left: ReadonlyMap<string, Piece>;
  readonly right: ReadonlyMap<string, Piece>;
  /** Orphan ids already reported with their port. */
  readonly reported: Set<string>;
}

/** How a side has a piece, for a stale one: reached, present but reached by nothing, or absent. */
function presence(p: Piece | null): string | null {
  return p ? (p.stale ? 'present, reached by nothing' : 'reached') : null;
}

/** One side's piece is stale (reached by nothing) and the other's is not (or it has none). */
function staleOnOneSide(a: Piece | null, b: Piece | null): boolean {
  return (a?.stale ?? false) !== (b?.stale ?? false);
}

/** Same id on both sides: stale on one, or changed content. */
function comparePair(port: string | null, a: Piece, b: Piece, out: StructuralDifference[], known: StructuralOptions['sameChain']): void {
  if (staleOnOneSide(a, b)) {
    out.push({ kind: 'piece-stale', port, what: `${a.kind} ${a.id}`, left: presence(a), right: presence(b), leftAt: a.at, rightAt: b.at });
    return;
  }
  // An iptables chain piece (`in`: its chain is made when read, its rules built) both nodes wrote alike.
  if ((known?.(a.id) && 'chain' in a) || sameChain(a, b)) return;
  const la = a.lines();
  const lb = b.lines();
  if (la.length === lb.length && la.every((l, i) => l === lb[i])) return;
  const i = la.findIndex((l, k) => l !== lb[k]);
  const at = i < 0 ? la.length : i;
  out.push({ kind: 'piece-changed', port, what: `${a.kind} ${a.id} (line ${at + 1} of ${la.length} vs ${lb.length})`, left: la[at] ?? '(end)', right: lb[at] ?? '(end)', leftAt: a.at, rightAt: b.at });
}

/** A piece only one side has: missing or extra, or stale when that side reaches it by nothing. */
function compareAlone(port: string | null, a: Piece | null, b: Piece | null, out: StructuralDifference[]): void {
  const p = (a ?? b)!;
  const kind: StructuralKind = p.stale ? 'piece-stale' : a ? 'piece-missing' : 'piece-extra';
  const text = (x: Piece | null) => (x === null ? null : p.stale ? presence(x) : x.lines().join('\n'));
  out.push({ kind, port, what: `${p.kind} ${p.id}`, left: text(a), right: text(b), leftAt: a?.at ?? null, rightAt: b?.at ?? null });
}

function comparePieces(port: string | null, left: readonly Piece[], right: readonly Piece[], out: StructuralDifference[], orphans: Orphans | null, known?: StructuralOptions['sameChain']): void {
  const r = new Map(right.map((x) => [x.id, x]));
  const seen = new Set<string>();
  // A piece of this port on one side may be an orphan on the other (a stale chain whose port is unknown there).
  const orphan = (side: 'left' | 'right', id: string): Piece | null => {
    const o = orphans?.[side].get(id) ?? null;
    if (o) orphans!.reported.add(id);
    return o;
  };
  for (const a of left) {
    seen.add(a.id);
    const b = r.get(a.id) ?? orphan('right', a.id);
    if (b) comparePair(port, a, b, out, known);
    else compareAlone(port, a, null, out);
  }
  for (const b of right) {
    if (seen.has(b.id)) continue;
    const a = orphan('left', b.id);
    if (a) comparePair(port, a, b, out, known);
    else compareAlone(port, null, b, out);
  }
}

function comparePorts(a: ServicePortView, b: ServicePortView, opts: StructuralOptions, out: StructuralDifference[], orphans: Orphans): void {
  const port = portLabel(a);
  const ea = new Map(a.entries.map((e) => [entryKey(e), e]));
  const eb = new Map(b.entries.map((e) => [entryKey(e), e]));
  for (const [k, e] of ea) {
    const f = eb.get(k);
    if (!f) out.push({ kind: 'entry-missing', port, what: entryLabel(e), left: entryFate(e, a), right: null, leftAt: e.at, rightAt: null });
    else if (entryFate(e, a) !== entryFate(f, b)) out.push({ kind: 'entry-changed', port, what: entryLabel(e), left: entryFate(e, a), right: entryFate(f, b), leftAt: e.at, rightAt: f.at });
  }
  for (const [k, f] of eb) if (!ea.has(k)) out.push({ kind: 'entry-extra', port, what: entryLabel(f), left: null, right: entryFate(f, b), leftAt: null, rightAt: f.at });
  const pa = endpoints(a);
  const pb = endpoints(b);
  for (const [k, x] of pa) {
    const y = pb.get(k);
    if (!y) out.push({ kind: 'endpoint-missing', port, what: x.label, left: x.share ? fractionText(x.share) : 'present', right: null, leftAt: x.at, rightAt: null });
    else if (x.share && y.share && x.share !== y.share && !equal(x.share, y.share)) out.push({ kind: 'share-changed', port, what: x.label, left: fractionText(x.share), right: fractionText(y.share), leftAt: x.at, rightAt: y.at, shares: [x.share, y.share] });
  }
  for (const [k, y] of pb) if (!pa.has(k)) out.push({ kind: 'endpoint-extra', port, what: y.label, left: null, right: y.share ? fractionText(y.share) : 'present', leftAt: null, rightAt: y.at });
  // A policy one side cannot tell (no chain or virtual server says it) is no difference.
  const policy = (what: string, x: string | null, y: string | null) => {
    if (x !== null && y !== null && x !== y) out.push({ kind: 'policy-changed', port, what, left: x, right: y, leftAt: null, rightAt: null });
  };
  policy('session affinity', a.affinitySeconds === null ? 'None' : `ClientIP ${a.affinitySeconds} s`, b.affinitySeconds === null ? 'None' : `ClientIP ${b.affinitySeconds} s`);
  policy('internal traffic policy', a.internalPolicy, b.internalPolicy);
  policy('external traffic policy', a.externalPolicy, b.externalPolicy);
  const ranges = (p: ServicePortView) => [...new Set(p.sourceRanges.map((r) => (r.includes('/') ? r : `${r}/${r.includes(':') ? 128 : 32}`)))].sort().join(', ') || '-';
  policy('source ranges', ranges(a), ranges(b));
  if (opts.pieces) comparePieces(port, a.pieces, b.pieces, out, orphans, opts.sameChain);
}

/** What is left of a service port that is gone: chains nothing reaches, and no entry point. */
function remnant(p: ServicePortView): boolean {
  return p.entries.length === 0 && p.pieces.length > 0 && p.pieces.every((x) => x.stale);
}

export function structuralDiff(left: NodeServices, right: NodeServices, opts: StructuralOptions): StructuralDifference[] {
  const out: StructuralDifference[] = [];
  const orphans: Orphans = { left: new Map(left.orphans.map((o) => [o.id, o])), right: new Map(right.orphans.map((o) => [o.id, o])), reported: new Set() };
  const match = matcher(right.ports);
  const matched = new Set<ServicePortView>();
  for (const a of left.ports) {
    const b = match(a);
    if (!b) {
      if (remnant(a)) comparePieces(portLabel(a), a.pieces, [], out, orphans);
      else out.push({ kind: 'port-missing', port: portLabel(a), what: `service port ${portLabel(a)}`, left: a.entries.map(entryLabel).join('; '), right: null, leftAt: a.entries[0]?.at ?? null, rightAt: null });
      continue;
    }
    matched.add(b);
    comparePorts(a, b, opts, out, orphans);
  }
  for (const b of right.ports) {
    if (!matched.has(b) && remnant(b)) comparePieces(portLabel(b), [], b.pieces, out, orphans);
    else if (!matched.has(b)) out.push({ kind: 'port-extra', port: portLabel(b), what: `service port ${portLabel(b)}`, left: null, right: b.entries.map(entryLabel).join('; '), leftAt: null, rightAt: b.entries[0]?.at ?? null });
  }
  if (opts.pieces) {
    comparePieces(null, left.other, right.other, out, null, opts.sameChain);
    const unreported = (list: readonly Piece[]) => list.filter((o) => !orphans.reported.has(o.id));
    comparePieces(null, unreported(left.orphans), unreported(right.orphans), out, null);
  }
  return out;
}
