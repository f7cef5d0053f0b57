// Quick checks: the parse reads each value only to report its problems (the IR is built later,
// build-table.ts), and most values of a kube-proxy dump are written in a form that cannot have
// one. Those are recognised on the source text without making a string or reading a Value; any
// other text goes through readValue. A quick check only ever says "no problem": it accepts a
// subset of what readValue + checkWords accept (test/iptables-save/quick-values.test.ts).
import { ipv4End, type Family } from '../net/index.js';
import { hasWordList, maxStringLength } from './check-words.js';
import type { ValueKind } from './spec.js';

/** No quick check: the value is read. */
export const QUICK_NONE = 0;
/** Never a problem (a free word or text no list or length limit applies to). */
export const QUICK_ALWAYS = 1;
/** A string with a length limit: no problem when the word itself is no longer. */
export const QUICK_MAX_LENGTH = 2;
/** An IPv4 `A.B.C.D` or `A.B.C.D/N`. */
export const QUICK_ADDRESS4 = 3;
/** An IPv4 NAT target `A.B.C.D` or `A.B.C.D:PORT`. */
export const QUICK_NAT4 = 4;
/** A decimal port. */
export const QUICK_PORT = 5;

export interface QuickCheck {
  readonly quick: number;
  /** For QUICK_MAX_LENGTH: the longest word accepted. */
  readonly maxLength: number;
}

/** The quick check of a value slot: what checkWords would look at decides whether one applies. */
export function quickCheckOf(kind: ValueKind, key: string, index: number, family: Family): QuickCheck {
  const none = { quick: QUICK_NONE, maxLength: 0 };
  if (hasWordList(key, index)) return none;
  switch (kind) {
    case 'word':
      return { quick: QUICK_ALWAYS, maxLength: 0 };
    case 'string': {
      const max = maxStringLength(key);
      // unquote never makes a text longer than the word it is read from
      return max === undefined ? { quick: QUICK_ALWAYS, maxLength: 0 } : { quick: QUICK_MAX_LENGTH, maxLength: max };
    }
    case 'address':
      return family === 'ipv4' ? { quick: QUICK_ADDRESS4, maxLength: 0 } : none;
    case 'natRange':
      return family === 'ipv4' ? { quick: QUICK_NAT4, maxLength: 0 } : none;
    case 'port':
      return { quick: QUICK_PORT, maxLength: 0 };
    default:
      return none;
  }
}

/** Whether `src[i, end)` is 1 to `maxDigits` decimal digits of a number at most `max`. */
function decimalUpTo(src: string, i: number, end: number, maxDigits: number, max: number): boolean {
  if (i >= end || end - i > maxDigits) return false;
  let v = 0;
  for (; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    v = v * 10 + (c - 48);
  }
  return v <= max;
}

/** A strict dotted quad, then nothing or `sep` and 1 to `maxDigits` digits up to `max`. */
function quadThen(src: string, start: number, end: number, sep: number, maxDigits: number, max: number): boolean {
  const at = ipv4End(src, start, end);
  if (at === end) return true;
  return at > 0 && src.charCodeAt(at) === sep && decimalUpTo(src, at + 1, end, maxDigits, max);
}

/** Whether the word `src[start, end)` passes its quick check: then reading it finds no problem. */
export function quickOk(q: QuickCheck, src: string, start: number, end: number): boolean {
  switch (q.quick) {
    case QUICK_ALWAYS:
      return true;
    case QUICK_MAX_LENGTH:
      return end - start <= q.maxLength;
    case QUICK_ADDRESS4:
      return quadThen(src, start, end, 47 /* / */, 2, 32);
    case QUICK_NAT4:
      return quadThen(src, start, end, 58 /* : */, 5, 65535);
    case QUICK_PORT:
      return decimalUpTo(src, start, end, 5, 65535);
    default:
      return false;
  }
}
