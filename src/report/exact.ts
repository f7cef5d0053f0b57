// Probabilities for people. Each is exact (fraction.ts): kube-proxy's statistic splits are dyadic,
// a rule matching stored/2^31 of the packets (715827883/2^31 for --probability 0.3333333333), and
// IPVS's weight shares have odd denominators (1/3). The short form says exactly that when it can,
// and nothing when it cannot: a path through ten split rules has a 70-digit numerator, whose short
// "form" would be a rounding passed off as exact; the decimal beside it is the honest summary and
// --exact (or --json's `fraction`) prints the whole fraction.
import { fractionText, reduce, toDecimal, type Prob } from '../packetsim/fraction.js';

/** Numerators and odd denominators up to this many digits print; longer ones have no short form. */
const MAX_DIGITS = 12;
/** Denominators up to this print as plain numbers (`1/4`, `1/6`); larger powers of two as `2^31`. */
const PLAIN_DENOMINATOR = 4096n;

/** `1/3`, `715827883/2^31`, `1431655765/2^32`, `5/(3*2^31)`; null when the exact value has no short form. */
export function shortExact(q: Prob): string | null {
  const p = reduce(q);
  if (p.num === 0n) return '0';
  const whole = p.den << BigInt(p.exp);
  if (p.num === whole) return '1';
  if (p.num.toString().length > MAX_DIGITS || p.den.toString().length > MAX_DIGITS) return null;
  let den: string;
  if (whole <= PLAIN_DENOMINATOR) den = String(whole);
  else if (p.den === 1n) den = `2^${p.exp}`;
  else if (p.exp === 0) den = String(p.den);
  else den = `(${p.den}*2^${p.exp})`;
  return `${p.num}/${den}`;
}

/** The whole fraction, denominator written out (`715827883/2147483648`). */
export function fullExact(q: Prob): string {
  return fractionText(q);
}

/**
 * The decimal a person reads: as short as it is when that is exact (`0.5`, `1`), else ten
 * significant digits with their trailing zeros (`0.1000000000` for 214748365/2^31: not 0.1).
 */
export function decimalText(q: Prob): string {
  const p = reduce(q);
  const d = toDecimal(p);
  const text = String(d);
  // Exact when num / (den * 2^exp) equals the printed decimal D / 10^m.
  const [whole, frac = ''] = text.includes('e') ? ['', 'x'] : text.split('.');
  if (!frac.includes('x')) {
    const m = BigInt(frac.length);
    const digits = BigInt(whole + frac);
    if (p.num * 10n ** m === digits * (p.den << BigInt(p.exp))) return text;
  }
  return d.toPrecision(10);
}
