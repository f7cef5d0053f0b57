// The line lexer written plainly, on strings, as the oracle the reader's one lexer
// (src/iptables-save/line-scanner.ts: offsets, hashes and interned word ids) must agree with:
// line-scanner.test.ts compares the two on the corpus, its respellings and mutations.
//
// splitLine cuts one line into words the way iptables-restore does (add_param_to_argv in
// iptables' xshared.c): blanks and tabs separate words; a double quote opens a quoted part that
// may hold blanks and backslash escapes (`\"`, `\\`); the closing quote ends the word; single
// quotes are ordinary characters. shapeOf replaces every word by what it stands for (an option
// spelling, `!`, a module or target name, or a value class): the key the grammar plans once per
// shape (src/iptables-save/plan.ts planFor).
import { SHAPE_COUNTERS, SHAPE_PART, SHAPE_PROTOCOL, SHAPE_QUOTED, SHAPE_VALUE } from '../../src/iptables-save/lexer.js';
import { VALUE_TAKING_SPELLINGS } from '../../src/iptables-save/spec.js';

export interface Words {
  /** Each word's exact text, quotes and escapes included. */
  readonly texts: string[];
  /** Offsets of each word's first character within the line. */
  readonly starts: number[];
  /** Whether the word contains a double quote (its value differs from its text). */
  readonly quoted: boolean[];
  /** Set when a quote is not closed: the offset of the opening quote. */
  readonly unterminatedAt: number;
  /** The offset of the first control character (not tab), or -1: iptables text has none. */
  readonly controlAt: number;
}

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;

export function splitLine(line: string): Words {
  const texts: string[] = [];
  const starts: number[] = [];
  const quoted: boolean[] = [];
  let unterminatedAt = -1;
  let controlAt = -1;
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === SPACE || c === TAB) {
      i++;
      continue;
    }
    const start = i;
    let hasQuote = false;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === SPACE || c === TAB) break;
      if ((c < 32 || c === 127) && controlAt < 0) controlAt = i;
      if (c === QUOTE) {
        hasQuote = true;
        const open = i;
        i++;
        while (i < n) {
          const q = line.charCodeAt(i);
          if ((q < 32 || q === 127) && q !== TAB && controlAt < 0) controlAt = i;
          if (q === BACKSLASH && i + 1 < n) i += 2;
          else if (q === QUOTE) break;
          else i++;
        }
        if (i >= n) {
          unterminatedAt = open;
          break;
        }
        i++; // the closing quote ends the word
        break;
      }
      i++;
    }
    texts.push(line.slice(start, i));
    starts.push(start);
    quoted.push(hasQuote);
  }
  return { texts, starts, quoted, unterminatedAt, controlAt };
}

const NAME_AFTER = new Set(['-m', '--match', '-j', '--jump']);

function isOptionWord(t: string): boolean {
  if (t.length < 2 || t.charCodeAt(0) !== 45 /* - */) return false;
  const c = t.charCodeAt(1);
  // `-1`, `-` are values; `-x`, `--x` are options.
  return c === 45 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The shape of a command line (`-A ...`, `-N X`, `[0:0] -A ...`). `keepTarget` decides which names
 * after `-j` are kept in the shape (extension targets and verdicts; anything else is a chain, a value).
 */
export function shapeOf(words: Words, keepTarget: (name: string) => boolean): string {
  const { texts, quoted } = words;
  let key = '';
  let prev = '';
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    let s: string;
    if (quoted[i]) s = SHAPE_QUOTED;
    else if (NAME_AFTER.has(prev)) s = prev === '-m' || prev === '--match' || keepTarget(t) ? '@' + t : SHAPE_VALUE;
    else if (t === '!') s = '!';
    else if (prev === '-p' || prev === '--protocol') s = SHAPE_PROTOCOL + t.toLowerCase();
    else if (isOptionWord(t) && !VALUE_TAKING_SPELLINGS.has(prev)) s = t;
    else if (i === 0 && t.charCodeAt(0) === 91 /* [ */) s = SHAPE_COUNTERS;
    else if (i === 0 && t === 'COMMIT') s = t;
    else if (i === 0 && (t.charCodeAt(0) === 42 /* * */ || t.charCodeAt(0) === 58) /* : */) {
      // `*filter`, `:KUBE-SERVICES`: the sigil is its own word in the shape.
      s = t.length > 1 ? t[0] + ' ' + SHAPE_PART : t;
    } else if (i === texts.length - 1 && t.charCodeAt(0) === 91 /* [ */ && t.charCodeAt(t.length - 1) === 93) s = SHAPE_COUNTERS;
    else s = SHAPE_VALUE;
    key += i === 0 ? s : ' ' + s;
    prev = s === SHAPE_VALUE || s === SHAPE_QUOTED ? '' : t;
  }
  return key;
}

/** Single spaces between words, none at either end: how iptables-save and kube-proxy write. */
export function isCanonical(words: Words, line: string): boolean {
  const { texts, starts } = words;
  if (texts.length === 0 || starts[0] !== 0) return false;
  for (let i = 1; i < texts.length; i++) if (starts[i] !== starts[i - 1] + texts[i - 1].length + 1) return false;
  return starts[texts.length - 1] + texts[texts.length - 1].length === line.length;
}
