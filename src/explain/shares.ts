// The exact share of new connections each endpoint rule of a KUBE-SVC / KUBE-SVL chain gets. Rules
// are tried in order; `-m statistic --mode random --probability p` matches with probability
// stored/2^31 (libxt_statistic.c stores lround(2^31 p); xt_statistic.c compares a 31-bit random
// number), so rule i is taken with s_i x prod_{j<i} (1 - s_j), a rule without statistic with all
// that is left, and what no rule takes falls through to the caller.
import { probability } from '../compiler/iptables/emit-service-chains.js';
import { ONE, reduce, storedProbability, times31, timesNot31, ZERO, type Prob } from '../packetsim/fraction.js';

export interface SplitShares {
  /** Per rule, in order. */
  readonly shares: readonly Prob[];
  /** What no rule takes; ZERO when the last rule has no statistic. */
  readonly fallThrough: Prob;
}

/** Splits already worked out, by their stored values: kube-proxy writes the same split for every service port with n endpoints. */
const known = new Map<string, SplitShares>();
const KNOWN_MAX = 4096;

/**
 * `stored` per rule: the statistic's 31-bit value, or null for a rule that always matches. The
 * result may be shared with other calls of the same values: treat it as read-only.
 */
export function splitShares(stored: readonly (number | null)[]): SplitShares {
  const key = stored.join(',');
  let s = known.get(key);
  if (!s) {
    s = computeShares(stored);
    if (known.size >= KNOWN_MAX) known.clear();
    known.set(key, s);
  }
  return s;
}

function computeShares(stored: readonly (number | null)[]): SplitShares {
  let left: Prob = ONE;
  const shares: Prob[] = [];
  for (const s of stored) {
    if (left.num === 0n) {
      shares.push(ZERO);
      continue;
    }
    if (s === null) {
      shares.push(reduce(left));
      left = ZERO;
    } else {
      shares.push(reduce(times31(left, s)));
      left = reduce(timesNot31(left, s));
    }
  }
  return { shares, fallThrough: left };
}

/**
 * What kube-proxy writes for n endpoints: 1/(n-i) for all but the last, which has none
 * (writeServiceToEndpointRules), printed %0.10f (computeProbability since Kubernetes 1.17, kubernetes#83599) or, with
 * `digits` 5, %0.5f as kube-proxy up to 1.16 printed it (0.33333, stored as 0.33332999982).
 */
export function kubeProxyStored(n: number, digits: 10 | 5 = 10): readonly (number | null)[] {
  const key = n * 100 + digits;
  let out = written.get(key);
  if (!out) {
    out = [];
    for (let i = 0; i < n; i++) out.push(i < n - 1 ? storedProbability(Number(digits === 10 ? probability(n - i) : (1 / (n - i)).toFixed(5))) : null);
    written.set(key, out);
  }
  return out;
}

/** kubeProxyStored's answers by endpoint count and digits. */
const written = new Map<number, (number | null)[]>();

/**
 * The share of `numgen random mod n` values from..to (0-based, within 0..n-1): the kernel draws
 * reciprocal_scale(get_random_u32(), n), so value i has (ceil((i+1)*2^32/n) - ceil(i*2^32/n)) / 2^32
 * (src/packetsim-nft/run.ts drawShare), and a run of values the difference of the two ends.
 */
export function numgenShare(from: number, to: number, n: number): Prob {
  const N = BigInt(n);
  const ceil = (i: number) => ((BigInt(i) << 32n) + N - 1n) / N;
  return reduce({ num: ceil(to + 1) - ceil(from), exp: 32, den: 1n });
}
