// How likely an outcome is when some branches rest on matches kpsim does not model. A walk forks
// at an unmodelled match into two walks that each keep the probability they had: which way the
// kernel goes is not a chance event but a fact no input describes. The walks of a packet (and in
// --flows, of the worlds earlier packets left) therefore form a tree of chance splits (statistic,
// IPVS) and such unknown forks. For one way of settling every unknown fork, the probabilities of
// the walks that agree with it sum to 1; an outcome's probability is bounded by the least and the
// most it gets over all those ways: at an unknown fork the smaller (larger) of its two sides, at a
// chance split the sum. Equal bounds mean the outcome does not depend on the unknowns at all.
import { add, compare, ZERO, type Prob } from './fraction.js';
import type { UnknownNode } from './types.js';

/** One finished walk: the unknown branches it rests on, and its probability. */
export interface BoundLeaf {
  readonly unknown: UnknownNode | null;
  readonly prob: Prob;
}

/** The innermost fork a chain rests on (an unmodelled target's note is a stop, not a fork). */
export function innermostFork(n: UnknownNode | null): UnknownNode | null {
  while (n !== null && n.note.fork === undefined) n = n.prev;
  return n;
}

type Side = 'match' | 'no match';

/** The least and the most probability the leaves have together over every way of settling the unknown forks. */
export function bounds(leaves: readonly BoundLeaf[]): { min: Prob; max: Prob } {
  // A bucket is one side of one fork (its node), or the root (null): the leaves whose innermost
  // fork side it is, and the forks made within it.
  const sums = new Map<UnknownNode | null, Prob>();
  const forks = new Map<UnknownNode | null, Map<number, Partial<Record<Side, UnknownNode>>>>();
  for (const leaf of leaves) {
    const inner = innermostFork(leaf.unknown);
    sums.set(inner, add(sums.get(inner) ?? ZERO, leaf.prob));
    for (let n = inner; n !== null; ) {
      const parent = innermostFork(n.prev);
      let inParent = forks.get(parent);
      if (!inParent) forks.set(parent, (inParent = new Map()));
      const sides = inParent.get(n.note.fork!) ?? {};
      const side = n.note.assumed as Side;
      if (sides[side] === n) break;
      sides[side] = n;
      inParent.set(n.note.fork!, sides);
      n = parent;
    }
  }
  const value = (pick: (a: Prob, b: Prob) => Prob) => {
    const memo = new Map<UnknownNode | null, Prob>();
    const of = (bucket: UnknownNode | null): Prob => {
      const known = memo.get(bucket);
      if (known) return known;
      let v = sums.get(bucket) ?? ZERO;
      for (const sides of forks.get(bucket)?.values() ?? []) {
        v = add(v, pick(sides.match ? of(sides.match) : ZERO, sides['no match'] ? of(sides['no match']) : ZERO));
      }
      memo.set(bucket, v);
      return v;
    };
    return of(null);
  };
  return { min: value((a, b) => (compare(a, b) <= 0 ? a : b)), max: value((a, b) => (compare(a, b) >= 0 ? a : b)) };
}
