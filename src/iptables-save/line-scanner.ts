// LineScanner: the reader's lexer. A line's words and its plan in one pass over its characters,
// without making a string of every word. Words are cut as iptables-restore cuts them
// (add_param_to_argv in iptables' xshared.c): blanks and tabs separate words; a double quote opens
// a quoted part that may hold blanks and backslash escapes (`\"`, `\\`); the closing quote ends
// the word; single quotes are ordinary characters. Each word then stands for what it is in the
// line's shape (an option spelling, `!`, a module or target name after -m / -j, a protocol after
// -p, or a value class: see lexer.ts), as word offsets and character hashes: option spellings,
// module and target names are interned on first sight, so a line's shape is a sequence of small
// numbers and its plan (plan.ts, running the grammar once per shape) is found by those.
// test/iptables-save/line-scanner.test.ts holds the same lexer written plainly on strings and
// compares the two on every line of the corpus, respelled and mutated.
import type { Family } from '../iptables/ir.js';
import { SHAPE_COUNTERS, SHAPE_PART, SHAPE_PROTOCOL, SHAPE_QUOTED, SHAPE_VALUE } from './lexer.js';
import { planFor, type Plan } from './plan.js';
import { BUILTIN_VERDICTS, OPAQUE_TARGETS, TARGET_MODULES, VALUE_TAKING_SPELLINGS } from './spec.js';
import { hashOf } from './word-table.js';

/**
 * Whether a name after `-j` stands for itself in a line's shape: a verdict or a target extension
 * (with options the grammar knows, or kept opaque). Any other name is a chain, a value.
 */
export const keepTarget = (name: string): boolean => BUILTIN_VERDICTS.has(name) || TARGET_MODULES.has(name) || OPAQUE_TARGETS.has(name);

/** Flags of a word's text, for the word after it. */
const AFTER_MATCH = 1;
const AFTER_JUMP = 2;
const AFTER_PROTOCOL = 4;
const TAKES_VALUE = 8;

function flagsOf(text: string): number {
  let f = 0;
  if (text === '-m' || text === '--match') f |= AFTER_MATCH;
  if (text === '-j' || text === '--jump') f |= AFTER_JUMP;
  if (text === '-p' || text === '--protocol') f |= AFTER_PROTOCOL;
  if (VALUE_TAKING_SPELLINGS.has(text)) f |= TAKES_VALUE;
  return f;
}

interface Interned {
  readonly text: string;
  readonly flags: number;
  /** Whether the shape keeps this name after `-j` (keepTarget). */
  readonly keep: boolean;
  /** Shape word ids of the text itself, of `@text` and of the text after `-p`. */
  readonly id: number;
  readonly atId: number;
  readonly protocolId: number;
  next: Interned | null;
}

interface Shape {
  readonly ids: Int32Array;
  readonly plan: Plan;
  next: Shape | null;
}

/** iptables-restore's parameter buffer (add_param_to_argv) holds 1023 characters. */
export const MAX_WORD = 1023;
/** ... and its argument vector at most 255 words (MAX_ARGC in xshared.h). */
export const MAX_WORDS = 255;

const V = 0;
const Q = 1;
const C = 2;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;

/**
 * A line's words as offsets and hashes, without a string per word, and what iptables-restore
 * would refuse in it: a control byte, an unclosed quote, more than MAX_WORDS words, a word longer
 * than MAX_WORD.
 */
export class WordSplitter {
  /** The words of the last line split, as many as are kept (at most MAX_WORDS): count, offsets, ends. */
  n = 0;
  /** How many words the line has (more than n when it has more than MAX_WORDS). */
  count = 0;
  /** The text the offsets are in (the whole file) and the line's start in it. */
  src = '';
  base = 0;
  readonly starts = new Int32Array(MAX_WORDS);
  readonly ends = new Int32Array(MAX_WORDS);
  /** 1 where the word has a double quote (its value is not its text). */
  readonly quoted = new Uint8Array(MAX_WORDS);
  /** Each word's hash (word-table.ts hashOf). */
  readonly hashes = new Int32Array(MAX_WORDS);
  /** The offset in the line of its first control byte (not tab), or -1: iptables text has none. The split stops there. */
  controlAt = -1;
  /** The offset in the line of a quote not closed (its word runs to the end of the line), or -1. */
  unterminatedAt = -1;
  /** Whether some word is longer than MAX_WORD characters. */
  longWord = false;

  text(i: number): string {
    return this.src.slice(this.base + this.starts[i], this.base + this.ends[i]);
  }

  /** The word's hash (word-table.ts hashOf). */
  hash(i: number): number {
    return this.hashes[i];
  }

  /** Single spaces between the words, none at either end of the line of `length` characters: how iptables-save and kube-proxy write. */
  isCanonical(length: number): boolean {
    const { starts, ends, n } = this;
    if (n === 0 || n !== this.count || starts[0] !== 0) return false;
    for (let i = 1; i < n; i++) if (starts[i] !== ends[i - 1] + 1) return false;
    return ends[n - 1] === length;
  }

  /** The words of `line` from `from` to `to` (a line without its newline and final CR). */
  split(line: string, from: number, to: number): void {
    this.src = line;
    this.base = from;
    this.controlAt = -1;
    this.unterminatedAt = -1;
    this.longWord = false;
    const { starts, ends, quoted, hashes } = this;
    let n = 0;
    let i = from;
    while (i < to) {
      let c = line.charCodeAt(i);
      if (c === SPACE || c === TAB) {
        i++;
        continue;
      }
      const start = i;
      let q = 0;
      let h = 0;
      while (i < to) {
        c = line.charCodeAt(i);
        if (c === SPACE || c === TAB) break;
        if (c < 32 || c === 127) return this.control(i, n);
        h = (Math.imul(h, 31) + c) | 0;
        i++;
        if (c === QUOTE) {
          const open = i - 1;
          q = 1;
          while (i < to) {
            const d = line.charCodeAt(i);
            if ((d < 32 || d === 127) && d !== TAB) return this.control(i, n);
            h = (Math.imul(h, 31) + d) | 0;
            // An escaped character is taken as it is, whatever it is.
            if (d === BACKSLASH && i + 1 < to) {
              h = (Math.imul(h, 31) + line.charCodeAt(i + 1)) | 0;
              i += 2;
            } else if (d === QUOTE) break;
            else i++;
          }
          if (i >= to) this.unterminatedAt = open - from;
          else i++; // the closing quote ends the word
          break;
        }
      }
      if (i - start > MAX_WORD) this.longWord = true;
      if (n < MAX_WORDS) {
        starts[n] = start - from;
        ends[n] = i - from;
        quoted[n] = q;
        hashes[n] = h;
      }
      n++;
    }
    this.count = n;
    this.n = Math.min(n, MAX_WORDS);
  }

  /** A control byte at `at`: the line is not blank, and none of its words is kept. */
  private control(at: number, n: number): void {
    this.controlAt = at - this.base;
    this.count = n + 1;
    this.n = 0;
  }
}

export class LineScanner extends WordSplitter {
  private readonly ids: Int32Array;
  private readonly words = new Map<number, Interned>();
  private readonly shapes = new Map<number, Shape>();
  private readonly tokenIds = new Map<string, number>([
    [SHAPE_VALUE, V],
    [SHAPE_QUOTED, Q],
    [SHAPE_COUNTERS, C],
  ]);
  private readonly tokens: string[] = [SHAPE_VALUE, SHAPE_QUOTED, SHAPE_COUNTERS];

  constructor(private readonly family: Family) {
    super();
    this.ids = new Int32Array(MAX_WORDS);
    // Every name the shape keeps after `-j` is known here, so a name not found is a chain.
    for (const name of [...BUILTIN_VERDICTS, ...TARGET_MODULES.keys(), ...OPAQUE_TARGETS]) this.intern(name, hashOf(name, 0, name.length));
  }

  /**
   * The plan of the line `text` from `from` to `to` (scanning the file's own flat string is faster
   * than a slice of it), or null for a line the grammar does not see: no word (blank), a control
   * byte (controlAt), more than MAX_WORDS words (count). An unclosed quote and overlong words are
   * planned like any word; the parse reports them (unterminatedAt, longWord).
   */
  scan(text: string, from: number, to: number): Plan | null {
    this.split(text, from, to);
    if (this.count === 0 || this.controlAt >= 0 || this.count > MAX_WORDS) return null;
    const line = text;
    const { ids, starts, ends, hashes, quoted } = this;
    const n = this.n;
    let prev = 0;
    let h = n;
    for (let i = 0; i < n; i++) {
      const s = from + starts[i];
      const e = from + ends[i];
      const len = e - s;
      const c0 = line.charCodeAt(s);
      let id = V;
      let flags = 0;
      if (quoted[i]) id = Q;
      else if (prev & (AFTER_MATCH | AFTER_JUMP)) {
        let w = this.find(line, s, len, hashes[i]);
        if (!w && prev & AFTER_MATCH) w = this.intern(line.slice(s, e), hashes[i]);
        if (w && (prev & AFTER_MATCH || w.keep)) {
          id = w.atId;
          flags = w.flags;
        }
      } else if (len === 1 && c0 === 33 /* ! */) {
        id = this.tokenId('!');
      } else if (prev & AFTER_PROTOCOL) {
        const w = this.find(line, s, len, hashes[i]) ?? this.intern(line.slice(s, e), hashes[i]);
        id = w.protocolId;
        flags = w.flags;
      } else if (isOptionWord(line, s, len) && !(prev & TAKES_VALUE)) {
        const w = this.find(line, s, len, hashes[i]) ?? this.intern(line.slice(s, e), hashes[i]);
        id = w.id;
        flags = w.flags;
      } else if (i === 0 && c0 === 91 /* [ */) id = C;
      else if (i === 0 && len === 6 && line.startsWith('COMMIT', s)) id = this.tokenId('COMMIT');
      else if (i === 0 && (c0 === 42 /* * */ || c0 === 58) /* : */) {
        id = this.tokenId(len > 1 ? String.fromCharCode(c0) + ' ' + SHAPE_PART : String.fromCharCode(c0));
      } else if (i === n - 1 && c0 === 91 && line.charCodeAt(e - 1) === 93) id = C;
      ids[i] = id;
      prev = id === V || id === Q ? 0 : flags;
      h = (Math.imul(h, 31) + id) | 0;
    }
    for (let sh = this.shapes.get(h) ?? null; sh; sh = sh.next) {
      if (sh.ids.length === n && sameIds(sh.ids, ids, n)) return sh.plan;
    }
    return this.addShape(h);
  }

  /** The shape of the line last scanned with a plan: its words' shape words, blank-separated (the grammar's input). */
  shapeKey(): string {
    let key = '';
    for (let i = 0; i < this.n; i++) key += (i === 0 ? '' : ' ') + this.tokens[this.ids[i]];
    return key;
  }

  private addShape(h: number): Plan {
    const plan = planFor(this.shapeKey(), this.family);
    this.shapes.set(h, { ids: this.ids.slice(0, this.n), plan, next: this.shapes.get(h) ?? null });
    return plan;
  }

  private find(line: string, start: number, len: number, h: number): Interned | null {
    for (let w = this.words.get(h) ?? null; w; w = w.next) {
      if (w.text.length === len && line.startsWith(w.text, start)) return w;
    }
    return null;
  }

  private intern(text: string, h: number): Interned {
    const w: Interned = {
      text,
      flags: flagsOf(text),
      keep: keepTarget(text),
      id: this.tokenId(text),
      atId: this.tokenId('@' + text),
      protocolId: this.tokenId(SHAPE_PROTOCOL + text.toLowerCase()),
      next: this.words.get(h) ?? null,
    };
    this.words.set(h, w);
    return w;
  }

  private tokenId(token: string): number {
    let id = this.tokenIds.get(token);
    if (id === undefined) {
      id = this.tokens.length;
      this.tokens.push(token);
      this.tokenIds.set(token, id);
    }
    return id;
  }
}

function sameIds(a: Int32Array, b: Int32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `-x`, `--x` are options; `-1`, `-` are values. */
function isOptionWord(line: string, s: number, len: number): boolean {
  if (len < 2 || line.charCodeAt(s) !== 45) return false;
  const c = line.charCodeAt(s + 1);
  return c === 45 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
