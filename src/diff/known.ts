// Documented differences between a proxy mode and iptables mode, kube-proxy's reference: each
// mode's row (src/modes.ts) lists its own. Each says how it changes the outcomes of a packet class
// (a normalisation: the outcomes with this difference taken out), so a class difference is
// explained when the documented normalisations, one or two of them, make both sides' outcomes
// equal; and which structural differences it accounts for. Between two modes neither of which is
// iptables, nothing is classified.
import type { EntryKind, ServicePortView } from '../explain/view.js';
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
