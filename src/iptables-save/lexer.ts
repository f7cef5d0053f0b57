// Two levels of lexing.
//
// 1. splitLine cuts one line into words the way iptables-restore does (add_param_to_argv in
//    iptables' xshared.c): blanks and tabs separate words; a double quote opens a quoted part
//    that may hold blanks and backslash escapes (`\"`, `\\`); the closing quote ends the word;
//    single quotes are ordinary characters. This runs on every line, so it is a plain loop.
//
// 2. shapeLexer is the moo lexer of the grammar. It does not see the line's text but its shape:
//    every word replaced by what it is (an option spelling, `!`, a module or target name, or a
//    value class), so the ~330k lines of a kube-proxy dump collapse into a few dozen shapes and
//    the grammar runs once per shape (see shape.ts).
import moo from 'moo';
import { VALUE_TAKING_SPELLINGS } from './spec.js';

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

/**
 * The value iptables reads from a word: quotes removed, escapes inside quotes resolved. Built from
 * slices of the word (not character by character), so the value is one string, not a chain of them.
 */
export function unquote(text: string): string {
  if (text.indexOf('"') < 0) return text;
  let out = '';
  let inQuote = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      out += text.slice(from, i);
      from = i + 1;
      inQuote = !inQuote;
    } else if (inQuote && c === BACKSLASH && i + 1 < text.length) {
      // the escaped character is kept: it starts the next slice
      out += text.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + text.slice(from);
}

// Shape words. Value classes are sigils that no option, module or keyword can be spelled as.
export const SHAPE_VALUE = '%V';
export const SHAPE_QUOTED = '%Q';
export const SHAPE_COUNTERS = '%C';
/** A protocol after `-p`: kept in the shape, since `-p tcp --dport 80` loads the tcp match. */
export const SHAPE_PROTOCOL = '%P';
/** The rest of the word after `*` or `:` (`*filter`, `:KUBE-SERVICES`). */
export const SHAPE_PART = '%N';

const NAME_AFTER = new Set(['-m', '--match', '-j', '--jump']);

function isOptionWord(t: string): boolean {
  if (t.length < 2 || t.charCodeAt(0) !== 45 /* - */) return false;
  const c = t.charCodeAt(1);
  // `-1`, `-` are values; `-x`, `--x` are options.
  return c === 45 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The shape of a command line (`-A ...`, `-N X`, `[0:0] -A ...`). `names` decides which names after
 * `-j` are kept in the shape (extension targets and verdicts; anything else is a chain, a value).
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

const KEYWORDS = {
  append: ['-A', '--append'],
  insert: ['-I', '--insert'],
  deleteRule: ['-D', '--delete'],
  replace: ['-R', '--replace'],
  newChain: ['-N', '--new-chain'],
  deleteChain: ['-X', '--delete-chain'],
  flush: ['-F', '--flush'],
  zero: ['-Z', '--zero'],
  policy: ['-P', '--policy'],
  match: ['-m', '--match'],
  jump: ['-j', '--jump'],
  goto: ['-g', '--goto'],
};

const shapeTokens = moo.compile({
  ws: / +/,
  counters: SHAPE_COUNTERS,
  quoted: SHAPE_QUOTED,
  value: SHAPE_VALUE,
  part: SHAPE_PART,
  protocol: /%P[^ \n]*/,
  name: /@[^ \n]+/,
  bang: '!',
  star: '*',
  colon: ':',
  commit: 'COMMIT',
  option: { match: /-[^ \n]+/, type: moo.keywords(KEYWORDS) },
  other: /[^ \n]+/,
});

/** The grammar's lexer, over shape strings; blanks between shape words are dropped. */
export const shapeLexer = {
  reset(chunk: string, state?: moo.LexerState) {
    shapeTokens.reset(chunk, state);
    return shapeLexer;
  },
  next(): moo.Token | undefined {
    let t = shapeTokens.next();
    while (t && t.type === 'ws') t = shapeTokens.next();
    return t;
  },
  save: () => shapeTokens.save(),
  formatError: (t: moo.Token, message?: string) => shapeTokens.formatError(t, message),
  has: (type: string) => shapeTokens.has(type),
};
