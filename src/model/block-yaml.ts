// readBlockYaml: one YAML document in the plain block style kubectl and people write
// (`kubectl get -o yaml`, manifests), read line by line to the value the `yaml` library gives,
// several times faster than a general parser. Anything outside that style, or anything the `yaml`
// library would report, is refused (null) and the document goes to fast-read.ts's general path:
// so this reader never decides what a document means where the two could differ, and never
// reports anything itself. test/model/block-yaml.test.ts reads every fixture, kubectl's output
// and thousands of damaged documents both ways.
//
// The style: block mappings of plain or quoted keys and block sequences, nested by indentation
// (spaces only; a sequence may sit at its key's indentation, as kubectl writes it, and a mapping
// may start on its item's `- ` line); values on the key's line as plain scalars (resolved by the
// YAML 1.2 core schema, as fast-read.ts resolves them), single- or double-quoted scalars on one
// line, the empty flow collections `{}` and `[]`, and literal block scalars (`|`, `|-`, `|+`);
// comments on their own line or after a value. Refused: tabs, CRs, anchors, aliases, tags,
// directives, flow collections with content, folded scalars, multi-line plain or quoted scalars,
// complex keys, keys that resolve to something other than a string, duplicate keys, `<<` and
// `__proto__` keys, nesting deeper than MAX_NESTING.
import { coreScalar, NOT_CORE } from './core-scalar.js';

/** Deeper documents go to the general path (which has its own limit and message). */
const MAX_NESTING = 64;
/** The `yaml` library refuses implicit keys of 1024 characters and more; stay well below. */
const MAX_KEY = 1000;

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DQUOTE = 34;
const SQUOTE = 39;

/** Thrown to refuse the document; caught in readBlockYaml. */
class Refuse {}
const REFUSE = new Refuse();

/** The value of the document `text.slice(start, end)`, or null when it is not of this style. */
export function readBlockYaml(text: string, start: number, end: number): { readonly value: unknown } | null {
  const doc = start === 0 && end === text.length ? text : text.slice(start, end);
  // Characters this reader never reads past: tabs (blanks to YAML, not here), CRs (line breaks),
  // byte-order marks. Other control characters are content to the `yaml` library, as here.
  if (doc.includes('\t') || doc.includes('\r') || doc.includes('\ufeff')) return null;
  try {
    const r = new BlockReader(doc);
    return { value: r.document() };
  } catch (e) {
    if (e === REFUSE) return null;
    throw e;
  }
}

/** A key the `yaml` library reads as this reader does (length) and that means nothing special to a JavaScript object or a merge. */
function acceptable(key: string): boolean {
  return key.length < MAX_KEY && key !== '<<' && key !== '__proto__';
}

/** Characters that cannot start a plain scalar (c-indicator), other than `-`, `?` and `:`, which can when a non-space follows. */
function indicator(c: number): boolean {
  return (
    c === 44 /* , */ || c === 91 /* [ */ || c === 93 /* ] */ || c === 123 /* { */ || c === 125 /* } */ || c === HASH || c === 38 /* & */ || c === 42 /* * */ ||
    c === 33 /* ! */ || c === 124 /* | */ || c === 62 /* > */ || c === SQUOTE || c === DQUOTE || c === 37 /* % */ || c === 64 /* @ */ || c === 96 /* ` */
  );
}

/** A plain key as read before: the same string object for the same text (interned by V8 once it is a property name). */
interface CachedKey {
  readonly text: string;
  /** Whether it is a string under the core schema and an acceptable key (see key()). */
  readonly ok: boolean;
}

const KEY_SLOTS = 4096;
/** Shared by every document read (a slot is checked against the text before it is used). */
const KEYS: (CachedKey | undefined)[] = new Array(KEY_SLOTS);

class BlockReader {
  /**
   * Plain keys by the hash keyEnd computes: kubectl's documents repeat a few hundred keys, and a
   * key string made afresh for every property costs its hashing into V8's string table and a
   * generic property store; the same string object each time costs neither.
   */
  private readonly keys = KEYS;
  /** Whether the double-quoted scalar doubleEnd found last holds a backslash. */
  private escaped = false;
  /** Where the next `#` and `:` are (searches of the whole text from every line would make a long document quadratic). */
  private readonly hashes: NextChar;
  private readonly colons: NextChar;
  /** The current content line: its start, its end (the offset of its line feed, or the text's end), its indentation. */
  private ls = 0;
  private le = 0;
  private ind = 0;
  private eof = false;

  constructor(private readonly s: string) {
    this.hashes = new NextChar(s, '#');
    this.colons = new NextChar(s, ':');
  }

  document(): unknown {
    const s = this.s;
    let from = 0;
    // A `---` marker line without anything after it.
    if (s.startsWith('---')) {
      const nl = s.indexOf('\n');
      const lineEnd = nl < 0 ? s.length : nl;
      for (let i = 3; i < lineEnd; i++) if (s.charCodeAt(i) !== SPACE) throw REFUSE;
      from = nl < 0 ? s.length : nl + 1;
    }
    this.seek(from);
    // An empty document, or one with a scalar at the top: the general path.
    if (this.eof || this.ind !== 0) throw REFUSE;
    const value = this.block(0, 0);
    if (!this.eof) throw REFUSE;
    return value;
  }

  /** Moves to the first line from `from` on that holds something other than blanks and a comment. */
  private seek(from: number): void {
    const s = this.s;
    const n = s.length;
    let p = from;
    while (p < n) {
      let q = p;
      while (s.charCodeAt(q) === SPACE) q++;
      let nl = s.indexOf('\n', q);
      if (nl < 0) nl = n;
      const c = s.charCodeAt(q);
      if (q < nl && c !== HASH) {
        // A document end marker, or more stream: not one document of this style.
        if (q === p && (s.startsWith('...', p) || s.startsWith('---', p))) throw REFUSE;
        this.ls = p;
        this.le = nl;
        this.ind = q - p;
        this.eof = false;
        return;
      }
      p = nl + 1;
    }
    this.eof = true;
    this.ls = this.le = n;
    this.ind = 0;
  }

  /** The block collection whose first line is the current line, at its indentation. */
  private block(indent: number, depth: number): unknown {
    if (depth > MAX_NESTING) throw REFUSE;
    if (this.isItem(this.ls + this.ind)) return this.sequence(indent, depth);
    return this.mapping(indent, this.ls + this.ind, depth);
  }

  /** Whether a `-` at p starts a sequence item (a space or the line's end follows). */
  private isItem(p: number): boolean {
    const s = this.s;
    if (s.charCodeAt(p) !== DASH) return false;
    const c = s.charCodeAt(p + 1);
    return p + 1 >= this.le || c === SPACE;
  }

  /** A block sequence at `indent`: its items, each a `- ` at that indentation. */
  private sequence(indent: number, depth: number): unknown[] {
    const s = this.s;
    const out: unknown[] = [];
    while (!this.eof && this.ind === indent && this.isItem(this.ls + indent)) {
      let p = this.ls + indent + 1;
      while (p < this.le && s.charCodeAt(p) === SPACE) p++;
      if (p >= this.le || s.charCodeAt(p) === HASH) {
        // `-` alone: the item is the block below, or null.
        this.seek(this.le + 1);
        out.push(!this.eof && this.ind > indent ? this.block(this.ind, depth + 1) : null);
        continue;
      }
      // `- - x` and `- ? x`: compact nested sequences and complex keys.
      if (this.isItem(p) || (s.charCodeAt(p) === 63 /* ? */ && s.charCodeAt(p + 1) === SPACE)) throw REFUSE;
      const key = this.keyEnd(p);
      if (key >= 0) {
        // A mapping that starts on the item's line, at the column of its first key.
        out.push(this.mapping(p - this.ls, p, depth + 1));
        continue;
      }
      out.push(this.scalarValue(p, indent));
    }
    if (!this.eof && this.ind > indent) throw REFUSE;
    return out;
  }

  /**
   * A block mapping at `indent` whose first key starts at `first` on the current line (which may
   * be a sequence item's line).
   */
  private mapping(indent: number, first: number, depth: number): Record<string, unknown> {
    if (depth > MAX_NESTING) throw REFUSE;
    const s = this.s;
    const out: Record<string, unknown> = {};
    let p = first;
    for (;;) {
      const colon = this.keyEnd(p);
      if (colon < 0) throw REFUSE;
      const key = this.key(p, colon);
      if (Object.hasOwn(out, key)) throw REFUSE;
      let v = colon + 1;
      while (v < this.le && s.charCodeAt(v) === SPACE) v++;
      if (v >= this.le || s.charCodeAt(v) === HASH) {
        // Nothing after the colon: a block below, a sequence at the key's indentation, or null.
        this.seek(this.le + 1);
        if (!this.eof && this.ind > indent) out[key] = this.block(this.ind, depth + 1);
        else if (!this.eof && this.ind === indent && this.isItem(this.ls + indent)) out[key] = this.sequence(indent, depth + 1);
        else out[key] = null;
      } else out[key] = this.scalarValue(v, indent);
      if (this.eof || this.ind < indent) return out;
      if (this.ind > indent || this.isItem(this.ls + indent)) throw REFUSE;
      p = this.ls + indent;
    }
  }

  /**
   * Where the implicit key starting at p ends: the offset of its `:` (followed by a space or the
   * line's end), or -1 when the line has none there (then it is not a key). Quoted keys end at
   * their closing quote.
   */
  private keyEnd(p: number): number {
    const s = this.s;
    const le = this.le;
    const c = s.charCodeAt(p);
    if (c === DQUOTE || c === SQUOTE) {
      const close = c === DQUOTE ? this.doubleEnd(p) : this.singleEnd(p);
      let q = close + 1;
      while (q < le && s.charCodeAt(q) === SPACE) q++;
      return s.charCodeAt(q) === COLON && (q + 1 >= le || s.charCodeAt(q + 1) === SPACE) ? q : -1;
    }
    // The first `:` followed by a blank or the line's end, unless a comment starts before it.
    let q = this.colons.from(p);
    while (q >= 0 && q < le && q + 1 < le && s.charCodeAt(q + 1) !== SPACE) q = this.colons.from(q + 1);
    if (q < 0 || q >= le) return -1;
    const hash = this.commentAt(p, q);
    return hash < 0 ? q : -1;
  }

  /** The first `#` in [p, e) that starts a comment (a blank before it), or -1. */
  private commentAt(p: number, e: number): number {
    const s = this.s;
    for (let h = this.hashes.from(p); h >= 0 && h < e; h = this.hashes.from(h + 1)) if (s.charCodeAt(h - 1) === SPACE) return h;
    return -1;
  }

  /** The key from p to its colon, as a string (refused when it would be anything else). */
  private key(p: number, colon: number): string {
    const s = this.s;
    const c = s.charCodeAt(p);
    let key: string;
    if (c === DQUOTE) key = this.double(p, this.doubleEnd(p));
    else if (c === SQUOTE) key = this.single(p, this.singleEnd(p));
    else {
      // A slot by the key's length and a few of its characters (checked against the text before use).
      const len = colon - p;
      const slot = (len * 31 + s.charCodeAt(p) * 7 + s.charCodeAt(colon - 1) * 13 + s.charCodeAt(p + (len >> 1))) & (KEY_SLOTS - 1);
      const cached = this.keys[slot];
      if (cached !== undefined && cached.text.length <= colon - p && this.textAt(cached.text, p) && this.blanksTo(p + cached.text.length, colon)) {
        if (!cached.ok) throw REFUSE;
        return cached.text;
      }
      let e = colon;
      while (e > p && s.charCodeAt(e - 1) === SPACE) e--;
      key = e === p ? '' : s.slice(p, e);
      const ok = e > p && this.plainStart(p, e) && coreScalar(key) === NOT_CORE && acceptable(key);
      this.keys[slot] = { text: key, ok };
      if (!ok) throw REFUSE;
      return key;
    }
    if (!acceptable(key)) throw REFUSE;
    return key;
  }

  /** Whether `t` is in the text at p (a loop: startsWith at an offset of a sliced string costs more for these short keys). */
  private textAt(t: string, p: number): boolean {
    const s = this.s;
    for (let i = 0; i < t.length; i++) if (s.charCodeAt(p + i) !== t.charCodeAt(i)) return false;
    return true;
  }

  /** Whether only blanks lie between p and e. */
  private blanksTo(p: number, e: number): boolean {
    for (; p < e; p++) if (this.s.charCodeAt(p) !== SPACE) return false;
    return true;
  }

  /** Whether a plain scalar may start at p (it runs to e). */
  private plainStart(p: number, e: number): boolean {
    const c = this.s.charCodeAt(p);
    if (indicator(c)) return false;
    if (c === DASH || c === 63 /* ? */ || c === COLON) return p + 1 < e && this.s.charCodeAt(p + 1) !== SPACE;
    return true;
  }

  /**
   * A value on the line of its key or `- ` at v (not blank, not a comment); moves to the next line.
   * `parent` is the indentation of the collection it belongs to (block scalars are indented past it).
   */
  private scalarValue(v: number, parent: number): unknown {
    const s = this.s;
    const le = this.le;
    const c = s.charCodeAt(v);
    let value: unknown;
    let after: number;
    if (c === DQUOTE) {
      const close = this.doubleEnd(v);
      value = this.double(v, close);
      after = close + 1;
    } else if (c === SQUOTE) {
      const close = this.singleEnd(v);
      value = this.single(v, close);
      after = close + 1;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (s.charCodeAt(v + 1) !== (c === 123 ? 125 : 93)) throw REFUSE;
      value = c === 123 ? {} : [];
      after = v + 2;
    } else if (c === 124 /* | */) {
      return this.literal(v, parent);
    } else {
      // A plain scalar: to the line's end or a comment, without `: ` (a nested mapping, refused).
      const comment = this.commentAt(v, le);
      let e = comment < 0 ? le : comment;
      for (let q = this.colons.from(v); q >= 0 && q < e; q = this.colons.from(q + 1)) {
        if (q + 1 >= le || s.charCodeAt(q + 1) === SPACE) throw REFUSE;
      }
      while (e > v && s.charCodeAt(e - 1) === SPACE) e--;
      if (!this.plainStart(v, e)) throw REFUSE;
      const text = s.slice(v, e);
      const core = coreScalar(text);
      value = core === NOT_CORE ? text : core;
      after = le;
    }
    // After a quoted scalar or a flow collection: blanks, then the line's end or a comment.
    if (after < le) {
      if (s.charCodeAt(after) !== SPACE) throw REFUSE;
      let q = after;
      while (q < le && s.charCodeAt(q) === SPACE) q++;
      if (q < le && s.charCodeAt(q) !== HASH) throw REFUSE;
    }
    this.seek(le + 1);
    // A line indented past the collection continues the scalar (a multi-line plain scalar) or is
    // misplaced: refused either way.
    if (!this.eof && this.ind > parent) throw REFUSE;
    return value;
  }

  /** The offset of the double quote closing the one at p, on the same line (escaped: whether a backslash comes before it). */
  private doubleEnd(p: number): number {
    const s = this.s;
    this.escaped = false;
    for (let q = p + 1; q < this.le; q++) {
      const c = s.charCodeAt(q);
      if (c === 92 /* \ */) {
        this.escaped = true;
        q++;
      } else if (c === DQUOTE) return q;
    }
    throw REFUSE;
  }

  /** The offset of the single quote closing the one at p, on the same line (`''` is a quote inside). */
  private singleEnd(p: number): number {
    const s = this.s;
    for (let q = p + 1; q < this.le; q++) {
      if (s.charCodeAt(q) !== SQUOTE) continue;
      if (s.charCodeAt(q + 1) === SQUOTE) q++;
      else return q;
    }
    throw REFUSE;
  }

  /** A double-quoted scalar from p to its closing quote, escapes read as YAML 1.2 reads them. */
  private double(p: number, close: number): string {
    const s = this.s;
    if (!this.escaped) return s.slice(p + 1, close);
    const first = s.indexOf('\\', p + 1);
    let out = '';
    let from = p + 1;
    for (let q = first; q < close; q++) {
      if (s.charCodeAt(q) !== 92) continue;
      out += s.slice(from, q);
      const e = s[q + 1];
      const simple = ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        q++;
      } else {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
        if (len === 0) throw REFUSE;
        const hex = s.slice(q + 2, q + 2 + len);
        if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) throw REFUSE;
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) throw REFUSE;
        out += String.fromCodePoint(code);
        q += 1 + len;
      }
      from = q + 1;
    }
    return out + s.slice(from, close);
  }

  /** A single-quoted scalar from p to its closing quote (`''` is one quote). */
  private single(p: number, close: number): string {
    const inner = this.s.slice(p + 1, close);
    return inner.includes("''") ? inner.replaceAll("''", "'") : inner;
  }

  /**
   * A literal block scalar whose `|` is at v: its lines below, indented past `parent` by as much
   * as the first of them, without that indentation; the final line breaks as its chomping says.
   */
  private literal(v: number, parent: number): string {
    const s = this.s;
    const le = this.le;
    let chomp: 'clip' | 'strip' | 'keep' = 'clip';
    let q = v + 1;
    const c = s.charCodeAt(q);
    if (c === DASH) {
      chomp = 'strip';
      q++;
    } else if (c === 43 /* + */) {
      chomp = 'keep';
      q++;
    }
    // Only blanks after the header: no indentation indicator, no comment.
    for (; q < le; q++) if (s.charCodeAt(q) !== SPACE) throw REFUSE;
    if (le >= s.length) throw REFUSE;
    // The content's indentation: the first line that is not blank. Blank lines before it must not be longer.
    const n = s.length;
    let p = le + 1;
    let longestBlank = 0;
    let indent = -1;
    while (p < n) {
      let r = p;
      while (s.charCodeAt(r) === SPACE) r++;
      const nl = s.indexOf('\n', r);
      if (nl < 0) throw REFUSE; // the last line must end with a line feed
      if (r < nl) {
        indent = r - p;
        break;
      }
      longestBlank = Math.max(longestBlank, r - p);
      p = nl + 1;
    }
    // No content, or content not indented past its parent, or blank lines longer than the content's indentation.
    if (indent <= parent || longestBlank > indent) throw REFUSE;
    const lines: string[] = [];
    p = le + 1;
    let next = n;
    while (p < n) {
      let r = p;
      while (s.charCodeAt(r) === SPACE && r - p < indent) r++;
      let nl = s.indexOf('\n', p);
      if (nl < 0) nl = n;
      if (r - p < indent && r < nl) {
        // A line less indented than the content: the scalar ends before it.
        next = p;
        break;
      }
      if (nl === n) throw REFUSE; // the last line must end with a line feed
      if (r - p < indent) lines.push(''); // a blank line no longer than the indentation: an empty line
      else {
        // A line of blanks past the indentation is content by the letter of the spec: refused.
        let t = r;
        while (t < nl && s.charCodeAt(t) === SPACE) t++;
        if (t === nl) throw REFUSE;
        lines.push(s.slice(r, nl));
      }
      p = nl + 1;
    }
    // Trailing empty lines are what chomping decides.
    let last = lines.length;
    while (last > 0 && lines[last - 1] === '') last--;
    if (last === 0) throw REFUSE;
    let value = lines.slice(0, last).join('\n');
    if (chomp === 'clip') value += '\n';
    else if (chomp === 'keep') value += '\n'.repeat(lines.length - last + 1);
    this.seek(next);
    return value;
  }
}

/**
 * The first occurrence of a character at or after an offset, remembered: asked at offsets that
 * mostly grow, it reads the text about once, where a search from each offset could read it once per
 * line.
 */
class NextChar {
  /** The first occurrence at or after `since` (-1: none). */
  private next = -1;
  private since = Number.MAX_SAFE_INTEGER;

  constructor(
    private readonly s: string,
    private readonly ch: string,
  ) {}

  from(p: number): number {
    if (p < this.since || (this.next >= 0 && this.next < p)) {
      this.next = this.s.indexOf(this.ch, p);
      this.since = p;
    }
    return this.next;
  }
}

/** YAML 1.2's one-character escapes in double-quoted scalars. */
const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};
