// A growing byte buffer written at its end and read once: how large outputs (a restore or save
// text of tens of MB) are built without a join of half a million strings. Shared by the compiler's
// rule text and the iptables-save renderer.

/**
 * The memory of the last sink taken, for the next: a large cluster's restore text is tens of MB,
 * and fresh memory costs a page fault per 4 KiB on first touch (as much as the copying into it).
 */
let spare: Buffer | null = null;

/** A growing byte buffer that text is written to the end of, read once (take). */
export class ByteSink {
  buf: Buffer;
  len = 0;
  /** Whether every byte is ASCII: then the text decodes as Latin-1, which Node gives a large string outside the JS heap. */
  ascii = true;

  constructor(capacity: number) {
    if (spare && spare.length >= capacity) {
      this.buf = spare;
      spare = null;
    } else this.buf = Buffer.allocUnsafe(capacity);
  }

  reserve(bytes: number): void {
    if (this.len + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.len + bytes));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Appends the bytes [start, end) of `from`. */
  copy(from: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    this.len += from.copy(this.buf, this.len, start, end);
  }

  write(text: string): void {
    this.reserve(3 * text.length);
    const bytes = this.buf.write(text, this.len);
    if (bytes !== text.length) this.ascii = false;
    this.len += bytes;
  }

  /** The bytes written: the sink's own memory, not copied (the sink is empty after). */
  takeBytes(): Buffer {
    const bytes = this.buf.subarray(0, this.len);
    this.buf = Buffer.alloc(0);
    this.len = 0;
    return bytes;
  }

  /** The text written (a copy); the sink's memory goes to the next sink, so it is not written again. */
  take(): string {
    const text = this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.len);
    if (!spare || spare.length < this.buf.length) spare = this.buf;
    this.buf = Buffer.alloc(0);
    this.len = 0;
    return text;
  }
}
