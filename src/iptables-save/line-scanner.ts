// LineScanner: a line's words and its plan in one pass over its characters, without making a
// string of every word. It mirrors lexer.ts (splitLine for the words, shapeOf for what each word
// stands for) on word offsets and character hashes: option spellings, module and target names are
// interned on first sight, so a line's shape is a sequence of small numbers and the plan is found
// by those. The first line of each such sequence is checked against shapeOf itself before its plan
// is kept, so the grammar stays the one definition of the syntax. Lines the fast path does not
// take (control bytes, an open quote, too many or too long words) return null and go through
// splitLine and shapeOf as before.
import type { Family } from '../iptables/ir.js';
import { shapeOf, splitLine, SHAPE_COUNTERS, SHAPE_PART, SHAPE_PROTOCOL, SHAPE_QUOTED, SHAPE_VALUE, type Words } from './lexer.js';
import { planFor, type Plan } from './plan.js';
import { VALUE_TAKING_SPELLINGS } from './spec.js';
import { hashOf } from './word-table.js';

/** Flags of a word's text, for the word after it (lexer.ts shapeOf's `prev`). */
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
  /** Whether shapeOf keeps this name after `-j` (a verdict or target extension). */
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
 * A line's words as offsets and hashes, without a string per word: splitLine on offsets, for the
 * lines it takes (see split), or splitLine's words loaded.
 */
export class WordSplitter {
  /** The words of the last line split (or loaded): count, offsets, ends. */
  n = 0;
  /** The text the offsets are in (the whole file when split, the line when loaded) and the line's start in it. */
  src = '';
  base = 0;
  starts: Int32Array;
  ends: Int32Array;
  protected readonly quoted: Uint8Array;
  /** Each word's hash (word-table.ts hashOf). */
  hashes: Int32Array;

  constructor(
    protected readonly maxWords = MAX_WORDS,
    protected readonly maxWord = MAX_WORD,
  ) {
    this.starts = new Int32Array(maxWords);
    this.ends = new Int32Array(maxWords);
    this.quoted = new Uint8Array(maxWords);
    this.hashes = new Int32Array(maxWords);
  }

  text(i: number): string {
    return this.src.slice(this.base + this.starts[i], this.base + this.ends[i]);
  }

  /** The word's hash (word-table.ts hashOf). */
  hash(i: number): number {
    return this.hashes[i];
  }

  /** Takes the words splitLine found (the slow path). */
  load(line: string, words: Words): void {
    this.src = line;
    this.base = 0;
    const n = words.texts.length;
    if (n > this.starts.length) {
      this.starts = new Int32Array(n);
      this.ends = new Int32Array(n);
      this.hashes = new Int32Array(n);
    }
    for (let i = 0; i < n; i++) {
      this.starts[i] = words.starts[i];
      this.ends[i] = words.starts[i] + words.texts[i].length;
      this.hashes[i] = hashOf(words.texts[i]);
    }
    this.n = n;
  }

  /**
   * splitLine on offsets of `line` from `from` to `to`: false (and the words unusable) for a line
   * with control bytes or an open quote, too many or too long words, or no word.
   */
  split(line: string, from: number, to: number): boolean {
    this.src = line;
    this.base = from;
    const { starts, ends, quoted, hashes } = this;
    const max = this.maxWords;
    let n = 0;
    let i = from;
    while (i < to) {
      let c = line.charCodeAt(i);
      if (c === SPACE || c === TAB) {
        i++;
        continue;
      }
      if (n === max) return false;
      const start = i;
      let q = 0;
      let h = 0;
      while (i < to) {
        c = line.charCodeAt(i);
        if (c === SPACE || c === TAB) break;
        if (c < 32 || c === 127) return false;
        h = (Math.imul(h, 31) + c) | 0;
        i++;
        if (c === QUOTE) {
          q = 1;
          while (i < to) {
            const d = line.charCodeAt(i);
            if ((d < 32 || d === 127) && d !== TAB) return false;
            h = (Math.imul(h, 31) + d) | 0;
            if (d === BACKSLASH && i + 1 < to) {
              h = (Math.imul(h, 31) + line.charCodeAt(i + 1)) | 0;
              i += 2;
            } else if (d === QUOTE) break;
            else i++;
          }
          if (i >= to) return false; // an open quote
          i++; // the closing quote ends the word
          break;
        }
      }
      if (i - start > this.maxWord) return false;
      starts[n] = start - from;
      ends[n] = i - from;
      quoted[n] = q;
      hashes[n] = h;
      n++;
    }
    this.n = n;
    return n > 0;
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

  constructor(
    private readonly family: Family,
    private readonly keepTarget: (name: string) => boolean,
    keptNames: Iterable<string>,
    maxWords = MAX_WORDS,
    maxWord = MAX_WORD,
  ) {
    super(maxWords, maxWord);
    this.ids = new Int32Array(maxWords);
    // Every name shapeOf keeps after `-j` is known here, so a name not found is a chain.
    for (const name of keptNames) this.intern(name, hashOf(name, 0, name.length));
  }

  /**
   * The plan of a plain line with at least one word, or null for the slow path. The line is
   * `text` from `from` to `to`: scanning the file's own flat string is faster than a slice of it.
   */
  scan(text: string, from: number, to: number): Plan | null {
    if (!this.split(text, from, to)) return null;
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
    return this.addShape(text.slice(from, to), h);
  }

  private addShape(line: string, h: number): Plan | null {
    let key = '';
    for (let i = 0; i < this.n; i++) key += (i === 0 ? '' : ' ') + this.tokens[this.ids[i]];
    // The shape as lexer.ts defines it: a line this scanner reads differently is left to it.
    if (key !== shapeOf(splitLine(line), this.keepTarget)) return null;
    const plan = planFor(key, this.family);
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
      keep: this.keepTarget(text),
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

/** lexer.ts isOptionWord on an offset: `-x`, `--x` are options; `-1`, `-` are values. */
function isOptionWord(line: string, s: number, len: number): boolean {
  if (len < 2 || line.charCodeAt(s) !== 45) return false;
  const c = line.charCodeAt(s + 1);
  return c === 45 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
