// WordTable: a map from word texts to values, looked up by a word's place in the source text and
// the hash the line scanner computed while splitting it, so the hot path makes no string and
// hashes no characters twice. A kube-proxy dump looks up ~450k rule chains, ~300k jump targets and
// ~2M option values; a fresh substring per lookup was most of their cost.

/** The hash LineScanner computes for a word: over its exact characters, quotes included. */
export function hashOf(text: string, start = 0, end = text.length): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

export interface Entry<T> {
  readonly text: string;
  value: T;
  next: Entry<T> | null;
}

export class WordTable<T> {
  private readonly byHash = new Map<number, Entry<T>>();

  /** The entry of the word `src[start, end)` whose hash is `h`, or undefined. */
  getAt(src: string, start: number, end: number, h: number): T | undefined {
    const len = end - start;
    for (let e = this.byHash.get(h) ?? null; e; e = e.next) {
      if (e.text.length === len && src.startsWith(e.text, start)) return e.value;
    }
    return undefined;
  }

  /** The entry of the word `src[start, end)` whose hash is `h` (its own string and its value), or null. */
  entryAt(src: string, start: number, end: number, h: number): Entry<T> | null {
    const len = end - start;
    for (let e = this.byHash.get(h) ?? null; e; e = e.next) {
      if (e.text.length === len && src.startsWith(e.text, start)) return e;
    }
    return null;
  }

  /** The text of the entry of the word `src[start, end)` whose hash is `h` (the entry's own string), or undefined. */
  keyAt(src: string, start: number, end: number, h: number): string | undefined {
    const len = end - start;
    for (let e = this.byHash.get(h) ?? null; e; e = e.next) {
      if (e.text.length === len && src.startsWith(e.text, start)) return e.text;
    }
    return undefined;
  }

  get(text: string): T | undefined {
    return this.getAt(text, 0, text.length, hashOf(text));
  }

  has(text: string): boolean {
    return this.get(text) !== undefined;
  }

  set(text: string, value: T, h = hashOf(text)): void {
    for (let e = this.byHash.get(h) ?? null; e; e = e.next) {
      if (e.text === text) {
        e.value = value;
        return;
      }
    }
    this.byHash.set(h, { text, value, next: this.byHash.get(h) ?? null });
  }

  /** Removes the word; true when it was there. */
  delete(text: string): boolean {
    const h = hashOf(text);
    let prev: Entry<T> | null = null;
    for (let e = this.byHash.get(h) ?? null; e; prev = e, e = e.next) {
      if (e.text !== text) continue;
      if (prev) prev.next = e.next;
      else if (e.next) this.byHash.set(h, e.next);
      else this.byHash.delete(h);
      return true;
    }
    return false;
  }
}
