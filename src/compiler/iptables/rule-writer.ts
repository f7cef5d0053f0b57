// The rule lines of one restore table, kept as UTF-8 bytes in fixed-size chunks with, per chain,
// a list of the byte ranges that hold its lines. A sync of a large cluster writes half a million
// lines into a hundred thousand chains; as bytes outside the JS heap, indexed by typed arrays,
// they cost the garbage collector nothing to keep, and the restore text is a copy of ranges plus
// one decode, not a join of half a million strings.
import type { ByteSink } from '../../util/byte-sink.js';

export { ByteSink } from '../../util/byte-sink.js';

const CHUNK_BYTES = 1 << 20;
/** The UTF-16 code units of pending lines that make a write (at most 3 bytes each: a small part of a chunk). */
const PENDING_MAX = 1 << 14;
/** A write position past the end of any chunk (a small integer, so `pos` stays one). */
const NO_ROOM = 0x3fffffff;

/** A span is four int32s: chunk index, start, end (in that chunk), index of the chain's next span or -1. */
const SPAN = 4;

export class RuleWriter {
  private chunks: Buffer[] = [];
  /** Chunks below this index are shared with a fork, and never written again. */
  private ownedFrom = 0;
  /** The write position in the last chunk; a fork sets it past the end so neither side writes into shared bytes. */
  private pos = NO_ROOM;
  private spans = new Int32Array(SPAN * 1024);
  private spanCount = 0;
  /** Chain -> its index in `firstSpan` / `lastSpan`, in the order its first line was written. */
  private ids = new Map<string, number>();
  private nextId = 0;
  /** The chain of the last line written and its id. */
  private lastChain: string | null = null;
  private lastId = 0;
  private firstSpan = new Int32Array(256);
  private lastSpan = new Int32Array(256);
  /** Per chain id, how many lines it holds. */
  private lines = new Int32Array(256);
  /** Whether every line written is ASCII. */
  private ascii = true;
  /** Counts the writes, so a reading of the text can tell it is out of date. */
  private writes = 0;

  /**
   * Lines not yet in the chunks, as one string of runs of one chain each (the chain of run i and
   * where it ends): a string costs about as much per Buffer write as per line, so lines go into
   * the chunks some thousands at a time. Every read writes them first.
   */
  private pending = '';
  private pendingChains: string[] = [];
  private pendingEnds: number[] = [];
  private pendingLines: number[] = [];

  /** Appends one line (with its newline) to a chain. */
  append(chain: string, line: string): void {
    this.writes++;
    this.pending += line;
    const n = this.pendingChains.length;
    if (n > 0 && this.pendingChains[n - 1] === chain) {
      this.pendingEnds[n - 1] = this.pending.length;
      this.pendingLines[n - 1]++;
    } else {
      this.pendingChains.push(chain);
      this.pendingEnds.push(this.pending.length);
      this.pendingLines.push(1);
    }
    if (this.pending.length >= PENDING_MAX) this.flush();
  }

  /** Writes the pending lines into the chunks. */
  private flush(): void {
    const runs = this.pendingChains.length;
    if (runs === 0) return;
    const lines = this.pending;
    const most = 3 * lines.length;
    let chunk = this.chunks[this.chunks.length - 1];
    if (this.chunks.length === 0 || this.pos + most > chunk.length) {
      chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, most));
      this.chunks.push(chunk);
      this.pos = 0;
    }
    const c = this.chunks.length - 1;
    const start = this.pos;
    const bytes = chunk.write(lines, start);
    this.pos += bytes;
    // UTF-8 takes more bytes than UTF-16 code units exactly when a character is not ASCII; then
    // each run's bytes are counted.
    const ascii = bytes === lines.length;
    if (!ascii) this.ascii = false;
    let from = 0;
    let at = start;
    for (let i = 0; i < runs; i++) {
      const to = this.pendingEnds[i];
      const end = ascii ? start + to : at + Buffer.byteLength(lines.slice(from, to));
      this.addRange(this.pendingChains[i], c, at, end, this.pendingLines[i]);
      from = to;
      at = end;
    }
    this.pending = '';
    this.pendingChains.length = 0;
    this.pendingEnds.length = 0;
    this.pendingLines.length = 0;
  }

  /** Adds the bytes [start, end) of chunk c, `lines` lines, to the end of a chain. */
  private addRange(chain: string, c: number, start: number, end: number, lines: number): void {
    // Lines often go to the chain of the lines before: no map lookup for them.
    let id = chain === this.lastChain ? this.lastId : this.ids.get(chain);
    this.lastChain = chain;
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(chain, id);
      if (id === this.firstSpan.length) {
        this.firstSpan = grown(this.firstSpan);
        this.lastSpan = grown(this.lastSpan);
        this.lines = grown(this.lines);
      }
      const span = this.newSpan(c, start, end);
      this.firstSpan[id] = span;
      this.lastSpan[id] = span;
      this.lines[id] = lines;
      this.lastId = id;
      return;
    }
    this.lastId = id;
    this.lines[id] += lines;
    // A chain written line after line is one range.
    const last = SPAN * this.lastSpan[id];
    if (this.spans[last] === c && this.spans[last + 2] === start) this.spans[last + 2] = end;
    else {
      const span = this.newSpan(c, start, end); // may replace this.spans
      this.spans[last + 3] = span;
      this.lastSpan[id] = span;
    }
  }

  /** A span [start, end) in chunk c; returns its index. */
  private newSpan(c: number, start: number, end: number): number {
    if (SPAN * (this.spanCount + 1) > this.spans.length) this.spans = grown(this.spans);
    const at = SPAN * this.spanCount;
    this.spans[at] = c;
    this.spans[at + 1] = start;
    this.spans[at + 2] = end;
    this.spans[at + 3] = -1;
    return this.spanCount++;
  }

  has(chain: string): boolean {
    this.flush();
    return this.ids.has(chain);
  }

  chainCount(): number {
    this.flush();
    return this.ids.size;
  }

  /** The chains with lines, in the order their first line was written. */
  chains(): IterableIterator<string> {
    this.flush();
    return this.ids.keys();
  }

  /** A chain's lines as one string (each line ends in a newline); '' for a chain without lines. */
  text(chain: string): string {
    this.flush();
    const id = this.ids.get(chain);
    let out = '';
    if (id !== undefined) {
      for (let s = SPAN * this.firstSpan[id]; s >= 0; s = SPAN * this.spans[s + 3]) out += this.chunks[this.spans[s]].toString('utf8', this.spans[s + 1], this.spans[s + 2]);
    }
    return out;
  }

  /** The bytes of the chunks: at least what the chains hold now. */
  byteLength(): number {
    this.flush();
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  /** How many lines the chain with this id holds. */
  lineCount(id: number): number {
    this.flush();
    return id < 0 ? 0 : this.lines[id];
  }

  /** Whether every line written is ASCII (then a line's offsets in bytes are its offsets in characters). */
  get isAscii(): boolean {
    this.flush();
    return this.ascii;
  }

  /** A chain's id (stable until the chain is replaced), or -1 for a chain without lines. */
  idOf(chain: string): number {
    this.flush();
    return this.ids.get(chain) ?? -1;
  }

  /** Copies a chain's lines to the end of `out`. */
  copyChain(chain: string, out: ByteSink): void {
    this.copyId(this.idOf(chain), out);
  }

  /** Copies the lines of the chain with this id to the end of `out`. */
  copyId(id: number, out: ByteSink): void {
    this.flush();
    if (id < 0) return;
    if (!this.ascii) out.ascii = false;
    for (let s = SPAN * this.firstSpan[id]; s >= 0; s = SPAN * this.spans[s + 3]) {
      out.copy(this.chunks[this.spans[s]], this.spans[s + 1], this.spans[s + 2]);
    }
  }

  /** Calls `visit` with each byte range of the lines of the chain with this id, in order; each range holds whole lines. */
  forEachRange(id: number, visit: (bytes: Buffer, start: number, end: number) => void): void {
    this.flush();
    if (id < 0) return;
    for (let s = SPAN * this.firstSpan[id]; s >= 0; s = SPAN * this.spans[s + 3]) visit(this.chunks[this.spans[s]], this.spans[s + 1], this.spans[s + 2]);
  }

  /** Replaces a chain's lines. */
  replace(chain: string, lines: readonly string[]): void {
    this.flush();
    // Deleting the id keeps every other chain's id; the chain gets a new one, last in order.
    this.ids.delete(chain);
    this.lastChain = null;
    for (const l of lines) this.append(chain, l);
  }

  /** A copy that shares the bytes written so far and may be written apart from this one. */
  fork(): RuleWriter {
    this.flush();
    const copy = new RuleWriter();
    copy.chunks = this.chunks.slice();
    copy.spans = this.spans.slice();
    copy.spanCount = this.spanCount;
    copy.ids = new Map(this.ids);
    copy.firstSpan = this.firstSpan.slice();
    copy.lastSpan = this.lastSpan.slice();
    copy.lines = this.lines.slice();
    copy.nextId = this.nextId;
    copy.writes = this.writes;
    copy.ascii = this.ascii;
    this.pos = copy.pos = NO_ROOM;
    this.ownedFrom = copy.ownedFrom = this.chunks.length;
    return copy;
  }

  get version(): number {
    return this.writes;
  }

  /** Forgets every line; the last chunk is written again unless a fork shares it. */
  clear(): void {
    this.writes++;
    this.pending = '';
    this.pendingChains.length = 0;
    this.pendingEnds.length = 0;
    this.pendingLines.length = 0;
    this.ascii = true;
    this.ids.clear();
    this.lastChain = null;
    this.nextId = 0;
    this.spanCount = 0;
    const last = this.chunks.length - 1;
    this.chunks = last >= this.ownedFrom ? [this.chunks[last]] : [];
    this.ownedFrom = 0;
    this.pos = this.chunks.length > 0 ? 0 : NO_ROOM;
  }
}

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(2 * a.length);
  b.set(a);
  return b;
}
