// Documented differences between a proxy mode and iptables mode, kube-proxy's reference: each
// mode's row (src/modes.ts) lists its own. Each says how it changes the outcomes of a packet class
// (a normalisation: the outcomes with this difference taken out), so a class difference is
// explained when the documented normalisations, one or two of them, make both sides' outcomes
// equal; and which structural differences it accounts for. Between two modes neither of which is
// iptables, nothing is classified.
import type { EntryKind, ServicePortView } from '../explain/view.js';
import { toDecimal } from '../packetsim/fraction.js';
import type { ClassDifference, DiffSide, OutcomeShare } from './behaviour.js';
import type { StructuralDifference } from './structural.js';

/** A service entry point the destination is, on one side. */
export interface DestinationEntry {
  readonly side: 'left' | 'right';
  readonly kind: EntryKind;
  readonly localhost: boolean;
  readonly port: ServicePortView;
}

export interface KnownContext {
  readonly c: Omit<ClassDifference, 'known'>;
  /** iptables mode's side and the other mode's. */
  readonly ref: DiffSide;
  readonly other: DiffSide;
  /** iptables mode's side is the diff's left (its packet is `c.packet`, the other's `c.rightPacket`). */
  readonly refIsLeft: boolean;
}

export type Outcomes = readonly OutcomeShare[];

export interface KnownDifference {
  readonly id: string;
  /** One line: what differs. */
  readonly title: string;
  /** Why, naming the upstream code. */
  readonly why: string;
  /** iptables mode's and this mode's outcomes with this difference taken out, or null where it does not apply. */
  normalize(k: KnownContext, ref: Outcomes, other: Outcomes): readonly [Outcomes, Outcomes] | null;
  /** Whether a structural difference between the two modes' views is this one (`ref` is iptables mode's side). */
  structural(d: StructuralDifference, refIsLeft: boolean): boolean;
}

/** Same observable outcomes with exactly the same probabilities (behaviour.ts's comparison). */
export type SameDistribution = (a: Outcomes, b: Outcomes) => boolean;

/** The documented differences that explain a class difference: the fewest (one, else two) whose normalisations make both sides equal; empty when none do. */
export function classify(c: Omit<ClassDifference, 'known'>, left: DiffSide, right: DiffSide, same: SameDistribution): readonly KnownDifference[] {
  if (left.mode === right.mode) return [];
  const refIsLeft = left.mode === 'iptables';
  if (!refIsLeft && right.mode !== 'iptables') return [];
  const other = refIsLeft ? right : left;
  const k: KnownContext = { c, ref: refIsLeft ? left : right, other, refIsLeft };
  const start: readonly [Outcomes, Outcomes] = refIsLeft ? [c.left, c.right] : [c.right, c.left];
  const list = other.known;
  const apply = (seq: readonly KnownDifference[]): boolean => {
    let cur: readonly [Outcomes, Outcomes] | null = start;
    for (const d of seq) {
      cur = d.normalize(k, cur[0], cur[1]);
      if (!cur) return false;
    }
    return same(cur[0], cur[1]);
  };
  for (const d of list) if (apply([d])) return [d];
  for (const a of list) for (const b of list) if (a !== b && apply([a, b])) return [a, b];
  return [];
}

/** The documented differences a structural difference is (empty: none). */
export function classifyStructural(d: StructuralDifference, left: DiffSide, right: DiffSide): readonly KnownDifference[] {
  if (left.mode === right.mode) return [];
  const refIsLeft = left.mode === 'iptables';
  if (!refIsLeft && right.mode !== 'iptables') return [];
  const other = refIsLeft ? right : left;
  const hit = other.known.find((k) => k.structural(d, refIsLeft));
  return hit ? [hit] : [];
}

export function every(list: Outcomes, test: (o: OutcomeShare) => boolean): boolean {
  return list.length > 0 && list.every(test);
}

/** `10.0.0.1:80` / `[fd00::1]:80` -> the address. */
export function hostOf(hostPort: string): string {
  return hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.slice(0, hostPort.lastIndexOf(':'));
}

/** The ref side's kind of a structural difference: `missing` when ref is left, `extra` when it is right. */
export function onlyInRef(d: StructuralDifference, refIsLeft: boolean, what: 'port' | 'entry' | 'endpoint'): boolean {
  return d.kind === `${what}-${refIsLeft ? 'missing' : 'extra'}`;
}

/** A NodePort probed on 127.0.0.0/8 (or ::1) that the other mode leaves alone: delivered to the node itself, the destination unchanged. */
export function localhostNodePortLeftAlone(k: KnownContext, other: Outcomes): boolean {
  const loopback = k.c.packet.destIP.startsWith('127.') || k.c.packet.destIP === '::1';
  const np = k.c.entries.some((e) => e.kind === 'nodePort');
  return loopback && np && every(other, (o) => o.verdict === 'ACCEPT' && o.delivery === 'local' && hostOf(o.destination) === k.c.packet.destIP);
}

/**
 * The same outcomes with shares that differ only by the rounding of iptables mode's 31-bit
 * statistic splits (far below 2^-28 for any endpoint count kube-proxy writes): the other side's
 * with iptables mode's shares, or null.
 */
export function sameButRounding(ref: Outcomes, other: Outcomes): readonly [Outcomes, Outcomes] | null {
  const key = (o: OutcomeShare) => `${o.verdict} ${o.delivery} ${o.source} ${o.destination}`;
  const r = new Map(ref.map((o) => [key(o), o]));
  if (ref.length !== other.length || !other.every((o) => r.has(key(o)))) return null;
  const close = other.every((o) => Math.abs(toDecimal(r.get(key(o))!.probability) - toDecimal(o.probability)) < 2 ** -28);
  return close ? [ref, other.map((o) => ({ ...o, probability: r.get(key(o))!.probability }))] : null;
}

/** The packet's source as one side traced it (the node's own packets may have another source on each). */
export function sourceOn(k: KnownContext, side: 'ref' | 'other'): string {
  const p = (side === 'ref') === k.refIsLeft ? k.c.packet : k.c.rightPacket;
  return p.sourceIP.includes(':') ? `[${p.sourceIP}]:${p.sourcePort}` : `${p.sourceIP}:${p.sourcePort}`;
}
