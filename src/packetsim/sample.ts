// --sample N --seed S: concrete packets drawn from the exact outcome distribution, with a small
// seeded PRNG (mulberry32) so runs repeat. Drawing from the outcomes is the same distribution as
// drawing a 31-bit random number at each statistic rule, as the kernel does.
import { mulberry32 } from '../util/rng.js';
import type { Outcome } from './trace.js';

export function sampleOutcomes(outcomes: readonly Outcome[], n: number, seed: number): number[] {
  const exp = Math.max(0, ...outcomes.map((o) => o.prob.exp));
  // Odd denominators (IPVS shares): scale every weight by their product.
  const dens = outcomes.reduce((d, o) => d * o.prob.den, 1n);
  const weights = outcomes.map((o) => ((o.prob.num * dens) / o.prob.den) << BigInt(exp - o.prob.exp));
  const total = weights.reduce((a, b) => a + b, 0n);
  const counts = outcomes.map(() => 0);
  const rnd = mulberry32(seed);
  for (let k = 0; k < n; k++) {
    // 53 random bits scaled onto the total weight.
    const r = (BigInt(Math.floor(rnd() * 2 ** 26)) * 2n ** 27n + BigInt(Math.floor(rnd() * 2 ** 27))) * total >> 53n;
    let acc = 0n;
    for (let i = 0; i < weights.length; i++) {
      acc += weights[i];
      if (r < acc) {
        counts[i]++;
        break;
      }
    }
  }
  return counts;
}
