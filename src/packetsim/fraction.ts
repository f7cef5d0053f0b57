// Exact probabilities. The kernel's statistic match (xt_statistic.c, statistic_mt) matches when
// `(get_random_u32() & 0x7FFFFFFF) < info->u.random.probability`, and iptables stores
// `--probability p` as `lround(0x80000000 * p)` (libxt_statistic.c), so one rule matches with
// probability stored / 2^31 exactly. Every probability along a path is therefore a dyadic
// rational num / 2^exp; we keep it reduced (num odd, or exp 0).

export interface Prob {
  readonly num: bigint;
  readonly exp: number;
}

export const ONE: Prob = { num: 1n, exp: 0 };
export const ZERO: Prob = { num: 0n, exp: 0 };

export const STATISTIC_SCALE = 0x80000000;

/** The u32 iptables stores for `--probability TEXT`: lround(2^31 * strtod(TEXT)). */
export function storedProbability(text: string | number): number {
  const p = typeof text === 'number' ? text : Number(text);
  // Math.round rounds halves up; lround rounds them away from zero: the same for p >= 0.
  return Math.round(STATISTIC_SCALE * p);
}

/** Lowest terms: the numerator odd (or the exponent 0). */
export function reduce(p: Prob): Prob {
  const { num, exp } = p;
  if (num === 0n) return ZERO;
  if (exp === 0 || (num & 1n) === 1n) return p;
  const low = num & -num;
  const tz = Math.min(exp, low.toString(2).length - 1);
  return { num: num >> BigInt(tz), exp: exp - tz };
}

// The two products below run on the hot path (each statistic branch); they leave the result
// unreduced, and everything that compares or prints reduces first.

/** p x (stored / 2^31). */
export function times31(p: Prob, stored: number): Prob {
  return { num: p.num * BigInt(stored), exp: p.exp + 31 };
}

/** p x (1 - stored / 2^31). */
export function timesNot31(p: Prob, stored: number): Prob {
  return { num: p.num * BigInt(STATISTIC_SCALE - stored), exp: p.exp + 31 };
}

export function add(a: Prob, b: Prob): Prob {
  if (a.exp >= b.exp) return reduce({ num: a.num + (b.num << BigInt(a.exp - b.exp)), exp: a.exp });
  return reduce({ num: (a.num << BigInt(b.exp - a.exp)) + b.num, exp: b.exp });
}

export function mul(a: Prob, b: Prob): Prob {
  return reduce({ num: a.num * b.num, exp: a.exp + b.exp });
}

export function equal(a: Prob, b: Prob): boolean {
  const x = reduce(a);
  const y = reduce(b);
  return x.num === y.num && x.exp === y.exp;
}

export function compare(a: Prob, b: Prob): number {
  const e = Math.max(a.exp, b.exp);
  const x = a.num << BigInt(e - a.exp);
  const y = b.num << BigInt(e - b.exp);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `num/den` with the denominator written out: `715827883/2147483648`. */
export function fractionText(q: Prob): string {
  const p = reduce(q);
  return `${p.num}/${1n << BigInt(p.exp)}`;
}

/** A decimal with ten significant digits, as the JSON `probability` field. */
export function toDecimal(q: Prob): number {
  const p = reduce(q);
  const v = Number(p.num) / 2 ** p.exp;
  return Number(v.toPrecision(10));
}
