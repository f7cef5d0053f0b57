// Exact probabilities. The kernel's statistic match (xt_statistic.c, statistic_mt) matches when
// `(get_random_u32() & 0x7FFFFFFF) < info->u.random.probability`, and iptables stores
// `--probability p` as `lround(0x80000000 * p)` (libxt_statistic.c), so one rule matches with
// probability stored / 2^31 exactly. Every probability along a path is therefore a dyadic
// rational num / 2^exp; we keep it reduced (num odd, or exp 0). IPVS schedulers split by weight
// shares (1/3), so a probability also has an odd factor `den` in its denominator: 1 for every
// probability iptables alone produces.

export interface Prob {
  readonly num: bigint;
  readonly exp: number;
  /** Odd part of the denominator: the value is num / (den * 2^exp). */
  readonly den: bigint;
}

export const ONE: Prob = { num: 1n, exp: 0, den: 1n };
export const ZERO: Prob = { num: 0n, exp: 0, den: 1n };

export const STATISTIC_SCALE = 0x80000000;

/** The u32 iptables stores for `--probability P` (P as strtod reads it): lround(2^31 * P). */
export function storedProbability(p: number): number {
  // Math.round rounds halves up; lround rounds them away from zero: the same for p >= 0.
  return Math.round(STATISTIC_SCALE * p);
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Lowest terms: the numerator odd (or the exponent 0), and prime to `den`. */
export function reduce(p: Prob): Prob {
  const { num, exp } = p;
  if (num === 0n) return ZERO;
  if (p.den !== 1n) {
    const g = gcd(num, p.den);
    if (g !== 1n) return reduce({ num: num / g, exp, den: p.den / g });
  }
  if (exp === 0 || (num & 1n) === 1n) return p;
  const low = num & -num;
  const tz = Math.min(exp, low.toString(2).length - 1);
  return { num: num >> BigInt(tz), exp: exp - tz, den: p.den };
}

// The two products below run on the hot path (each statistic branch); they leave the result
// unreduced, and everything that compares or prints reduces first.

/** p x (stored / 2^31). */
export function times31(p: Prob, stored: number): Prob {
  return { num: p.num * BigInt(stored), exp: p.exp + 31, den: p.den };
}

/** p x (1 - stored / 2^31). */
export function timesNot31(p: Prob, stored: number): Prob {
  return { num: p.num * BigInt(STATISTIC_SCALE - stored), exp: p.exp + 31, den: p.den };
}

/** p x (k / n) for integers 0 <= k <= n (an IPVS weight share). */
export function timesRatio(p: Prob, k: number, n: number): Prob {
  let den = BigInt(n);
  let exp = p.exp;
  while ((den & 1n) === 0n) {
    den >>= 1n;
    exp++;
  }
  return reduce({ num: p.num * BigInt(k), exp, den: p.den * den });
}

export function add(a: Prob, b: Prob): Prob {
  if (a.den !== b.den) {
    const e = Math.max(a.exp, b.exp);
    return reduce({ num: ((a.num * b.den) << BigInt(e - a.exp)) + ((b.num * a.den) << BigInt(e - b.exp)), exp: e, den: a.den * b.den });
  }
  if (a.exp >= b.exp) return reduce({ num: a.num + (b.num << BigInt(a.exp - b.exp)), exp: a.exp, den: a.den });
  return reduce({ num: (a.num << BigInt(b.exp - a.exp)) + b.num, exp: b.exp, den: a.den });
}

export function mul(a: Prob, b: Prob): Prob {
  return reduce({ num: a.num * b.num, exp: a.exp + b.exp, den: a.den * b.den });
}

/** a / b for b > 0: a conditional probability, exact. */
export function div(a: Prob, b: Prob): Prob {
  const x = reduce(a);
  const y = reduce(b);
  if (y.num === 0n) throw new RangeError('division by a zero probability');
  // x / y = (x.num * y.den) / (x.den * y.num) * 2^(y.exp - x.exp); y.num's factors of 2 join the exponent.
  let odd = y.num;
  let exp = x.exp - y.exp;
  while ((odd & 1n) === 0n) {
    odd >>= 1n;
    exp++;
  }
  let num = x.num * y.den;
  if (exp < 0) {
    num <<= BigInt(-exp);
    exp = 0;
  }
  return reduce({ num, exp, den: x.den * odd });
}

export function equal(a: Prob, b: Prob): boolean {
  const x = reduce(a);
  const y = reduce(b);
  return x.num === y.num && x.exp === y.exp && x.den === y.den;
}

export function compare(a: Prob, b: Prob): number {
  const e = Math.max(a.exp, b.exp);
  const x = (a.num * b.den) << BigInt(e - a.exp);
  const y = (b.num * a.den) << BigInt(e - b.exp);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The texts of probabilities printed before, by value: a bulk trace prints the same few
 * probabilities (a service's endpoint shares) for every packet, each a BigInt reduction and
 * division to print, and each packet's are objects of its own. Found by the reduced numerator,
 * then exponent and odd denominator (the reduced form is unique); emptied past MAX_PRINTED values.
 */
const printed = new Map<bigint, Printed[]>();
const MAX_PRINTED = 1 << 16;

interface Printed {
  readonly p: Prob;
  fraction?: string;
  decimal?: number;
}

function printedOf(q: Prob): Printed {
  const p = reduce(q);
  let list = printed.get(p.num);
  if (list === undefined) {
    if (printed.size >= MAX_PRINTED) printed.clear();
    printed.set(p.num, (list = []));
  }
  for (const t of list) if (t.p.exp === p.exp && t.p.den === p.den) return t;
  const t: Printed = { p };
  list.push(t);
  return t;
}

/** `num/den` with the denominator written out: `715827883/2147483648`, `1/3`. */
export function fractionText(q: Prob): string {
  const t = printedOf(q);
  if (t.fraction === undefined) {
    const p = t.p;
    t.fraction = `${p.num}/${p.den << BigInt(p.exp)}`;
  }
  return t.fraction;
}

/** A decimal with ten significant digits, as the JSON `probability` field. */
function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** num / den (both positive, or num 0) as the nearest double, whatever their size: a 64-bit quotient, then scaled (0 below a double's range). */
function bigRatio(num: bigint, den: bigint): number {
  if (num === 0n) return 0;
  const shift = bitLength(den) - bitLength(num) + 64;
  const q = shift >= 0 ? (num << BigInt(shift)) / den : num / (den << BigInt(-shift));
  // 2^-shift in two steps, so a shift past 1023 does not overflow 2^shift first.
  const half = Math.trunc(shift / 2);
  return Number(q) * 2 ** -half * 2 ** -(shift - half);
}

export function toDecimal(q: Prob): number {
  const t = printedOf(q);
  if (t.decimal === undefined) {
    const p = t.p;
    let v = Number(p.num) / Number(p.den) / 2 ** p.exp;
    // A long split's later shares have numerators and denominators beyond a double's range (a
    // thousand endpoints: 2^-31000 steps): Infinity / Infinity, or 2^exp overflowing to Infinity.
    if (!Number.isFinite(v) || (v === 0 && p.num !== 0n)) v = bigRatio(p.num, p.den << BigInt(p.exp));
    t.decimal = Number(v.toPrecision(10));
  }
  return t.decimal;
}
