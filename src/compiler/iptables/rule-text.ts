// The rule lines of one restore table, kept as UTF-8 bytes in one growing buffer with, per chain,
// the byte ranges that hold its lines. A sync of a large cluster writes half a million lines; as
// bytes outside the JS heap they cost the garbage collector nothing to keep, and the restore text
// is a copy of ranges plus one decode, not a join of half a million strings.

export class RuleText {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;
  /** Counts the writes, so a reading of the text can tell it is out of date. */
  private writes = 0;
  /** Whether `buf` is shared with a fork: the next append copies it first. */
  private shared = false;
  /** Per chain, [start, end) pairs into `buf`, in writing order. */
  private readonly spans = new Map<string, number[]>();

  /** Appends one line (with its newline) to a chain. */
  append(chain: string, line: string): void {
    if (this.shared || this.len + 3 * line.length > this.buf.length) this.grow(3 * line.length);
    const start = this.len;
    this.len += this.buf.write(line, start);
    this.writes++;
    const spans = this.spans.get(chain);
    if (!spans) this.spans.set(chain, [start, this.len]);
    // A chain written line after line is one range.
    else if (spans[spans.length - 1] === start) spans[spans.length - 1] = this.len;
    else spans.push(start, this.len);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.len + need));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.shared = false;
  }

  has(chain: string): boolean {
    return this.spans.has(chain);
  }

  chainCount(): number {
    return this.spans.size;
  }

  /** The chains with lines, in the order their first line was written. */
  chains(): IterableIterator<string> {
    return this.spans.keys();
  }

  /** A chain's lines as one string (each line ends in a newline); '' for a chain without lines. */
  text(chain: string): string {
    const spans = this.spans.get(chain);
    if (!spans) return '';
    let out = '';
    for (let i = 0; i < spans.length; i += 2) out += this.buf.toString('utf8', spans[i], spans[i + 1]);
    return out;
  }

  /** The bytes of a chain's lines. */
  byteLength(chain: string): number {
    const spans = this.spans.get(chain);
    let n = 0;
    if (spans) for (let i = 0; i < spans.length; i += 2) n += spans[i + 1] - spans[i];
    return n;
  }

  /** Copies a chain's lines into `target` at `at`; returns the offset after them. */
  copyChain(chain: string, target: Buffer, at: number): number {
    const spans = this.spans.get(chain);
    if (spans) for (let i = 0; i < spans.length; i += 2) at += this.buf.copy(target, at, spans[i], spans[i + 1]);
    return at;
  }

  /** Replaces a chain's lines (the rewritten text goes to the end of the buffer). */
  replace(chain: string, lines: readonly string[]): void {
    this.writes++;
    this.spans.delete(chain);
    for (const l of lines) this.append(chain, l);
  }

  /** A copy that shares the bytes written so far and may be rewritten apart from this one. */
  fork(): RuleText {
    const copy = new RuleText();
    copy.buf = this.buf;
    copy.len = this.len;
    copy.shared = this.shared = true;
    for (const [chain, spans] of this.spans) copy.spans.set(chain, spans.slice());
    return copy;
  }

  get version(): number {
    return this.writes;
  }

  clear(): void {
    this.writes++;
    this.len = 0;
    this.spans.clear();
  }
}
