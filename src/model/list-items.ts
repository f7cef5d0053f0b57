// Where each item of a `kind: List` document is, so that a problem in one item of a 100 MB list
// is located by reading that item with positions, not the whole list. Only kubectl's own
// spellings are recognised (`-o yaml`: `items:` at the left margin and one `- ` per item there;
// `-o json`: the top-level object's "items" array of objects); load.ts reads an item alone only
// when that reading gives exactly the item's value, and otherwise reads the whole document.

import { jsonStringEnd } from './fast-read.js';

export interface ItemRange {
  readonly start: number;
  readonly end: number;
}

/** The items of the block sequence under a top-level `items:` key, each from its `-` to the next. */
export function yamlItemRanges(text: string, start: number, end: number): ItemRange[] | null {
  const key = /(?:^|\n)items:[ \t]*\r?\n/g;
  key.lastIndex = start;
  const m = key.exec(text);
  if (!m || m.index >= end) return null;
  const ranges: ItemRange[] = [];
  let itemStart = -1;
  for (let line = m.index + m[0].length; line < end; ) {
    const next = text.indexOf('\n', line);
    const lineEnd = next === -1 || next >= end ? end : next + 1;
    const c = text.charCodeAt(line);
    const after = text.charCodeAt(line + 1);
    if (c === 45 && (after === 32 || after === 10 || after === 13)) {
      if (itemStart !== -1) ranges.push({ start: itemStart, end: line });
      itemStart = line;
    } else if (c !== 32 && c !== 10 && c !== 13 && c !== 35 && c !== 9) {
      // The next top-level key ends the list.
      if (itemStart !== -1) ranges.push({ start: itemStart, end: line });
      return ranges;
    }
    line = lineEnd;
  }
  if (itemStart !== -1) ranges.push({ start: itemStart, end });
  return ranges;
}

/** The objects of the top-level "items" array of a JSON text, each from its `{` to its `}`. */
export function jsonItemRanges(text: string): ItemRange[] | null {
  const ranges: ItemRange[] = [];
  let depth = 0;
  let itemsKey = false;
  let inItems = false;
  let itemStart = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const j = jsonStringEnd(text, i);
      if (j === -1) return null;
      if (inItems && depth === 2) return null; // an item that is not an object
      if (depth === 1 && !inItems) itemsKey = text.slice(i, j + 1) === '"items"';
      i = j;
    } else if (c === 123 || c === 91) {
      if (depth === 1 && itemsKey && c === 91) inItems = true;
      else if (inItems && depth === 2) {
        if (c !== 123) return null;
        itemStart = i;
      }
      depth++;
    } else if (c === 125 || c === 93) {
      depth--;
      if (inItems && depth === 2 && itemStart !== -1) {
        ranges.push({ start: itemStart, end: i + 1 });
        itemStart = -1;
      } else if (inItems && depth === 1) return ranges;
    } else if (inItems && depth === 2 && c !== 32 && c !== 10 && c !== 13 && c !== 9 && c !== 44) return null;
  }
  return null;
}
