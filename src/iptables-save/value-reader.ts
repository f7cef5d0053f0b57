// ValueReader: the values of one parse, read once per distinct text and shared. A kube-proxy dump
// repeats the same ports, marks, comments and probabilities thousands of times, and Values are
// immutable, so rules share them.
import type { Value } from '../iptables/ir.js';
import type { Family } from '../net/index.js';
import { checkWords } from './check-words.js';
import { unquote } from './lexer.js';
import { isProblem, readValue, type ValueResult } from './read-value.js';
import type { ValueKind } from './spec.js';
import { hashOf, WordTable } from './word-table.js';

/** Where a value stands: its kind, `module.option` (for word lists) and argument index. */
export interface ValueSlot {
  readonly kind: ValueKind;
  readonly key: string;
  readonly index: number;
}

/** A word's reading, cached per slot and text. */
interface Cached {
  readonly result: ValueResult;
  readonly value: Value;
  single: readonly Value[] | null;
}

/**
 * Reads values for one parse, with a cache per slot (plans are shared, so a slot object stands
 * for the same option position in every line of a shape): the hot path is two Map lookups.
 */
export class ValueReader {
  private readonly bySlot = new Map<ValueSlot, WordTable<Cached>>();
  private readonly byKind = new Map<string, WordTable<Cached>>();

  constructor(readonly family: Family) {}

  read(slot: ValueSlot, text: string): ValueResult {
    return this.readAt(slot, text, 0, text.length, hashOf(text));
  }

  /** The value of the word `src[start, end)`, whose hash (word-table.ts) is `h`. */
  readAt(slot: ValueSlot, src: string, start: number, end: number, h: number): ValueResult {
    return this.cachedAt(slot, src, start, end, h).result;
  }

  /** What the IR holds for the word: its Value, or the word as written when it has a problem. */
  valueAt(slot: ValueSlot, src: string, start: number, end: number, h: number): Value {
    return this.cachedAt(slot, src, start, end, h).value;
  }

  /** valueAt as a one-value list, shared by every option that holds this (immutable) value. */
  singleAt(slot: ValueSlot, src: string, start: number, end: number, h: number): readonly Value[] {
    const c = this.cachedAt(slot, src, start, end, h);
    return (c.single ??= [c.value]);
  }

  private cachedAt(slot: ValueSlot, src: string, start: number, end: number, h: number): Cached {
    let cache = this.bySlot.get(slot);
    if (!cache) {
      // Slots of different shapes with the same meaning share one cache.
      const id = `${slot.kind}\0${slot.key}\0${slot.index}`;
      cache = this.byKind.get(id);
      if (!cache) this.byKind.set(id, (cache = new WordTable()));
      this.bySlot.set(slot, cache);
    }
    let c = cache.getAt(src, start, end, h);
    if (c === undefined) {
      const text = start === 0 && end === src.length ? src : src.slice(start, end);
      // A quoted word is read from its unquoted form, but the Value keeps the exact text.
      const plain = slot.kind === 'string' || text.indexOf('"') < 0 ? text : unquote(text);
      let r = readValue(slot.kind, plain, this.family);
      if (!isProblem(r)) {
        if (plain !== text) r = { ...r, text } as Value;
        r = checkWords(r, slot.key, slot.index, this.family);
      }
      c = { result: r, value: isProblem(r) ? { type: 'word', text, value: text } : r, single: null };
      cache.set(text, c, h);
    }
    return c;
  }
}
