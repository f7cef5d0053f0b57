// Random damage to a text, for the loading tests that compare two readers on broken documents:
// a piece inserted, a few characters removed, or a line doubled.

/** `edits` random edits of `text` (rand: a generator of numbers in [0, 1)). */
export function damage(text: string, rand: () => number, pieces: readonly string[], edits: number): string {
  let t = text;
  for (let k = edits; k > 0; k--) {
    const at = Math.floor(rand() * t.length);
    const r = rand();
    if (r < 0.5) t = t.slice(0, at) + pieces[Math.floor(rand() * pieces.length)] + t.slice(at);
    else if (r < 0.8) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(rand() * 3));
    else {
      const ls = t.lastIndexOf('\n', at) + 1;
      const le = t.indexOf('\n', at) + 1 || t.length;
      t = t.slice(0, le) + t.slice(ls, le) + t.slice(le);
    }
  }
  return t;
}
