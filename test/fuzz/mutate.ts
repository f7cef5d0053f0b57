// Text mutations for the readers' fuzz tests: a window of up to 40 lines of a real file, then one
// to four edits: a word deleted, duplicated, swapped or given random bytes, a reader-specific word
// inserted, a line deleted, duplicated, swapped or cut short. Seeded (bench/generate.ts rng), so a
// failure names a reproducible input.

export function mutate(text: string, r: () => number, inserts: readonly string[]): string {
  const pick = (n: number) => Math.floor(r() * n);
  let lines = text.split('\n');
  const start = pick(Math.max(1, lines.length - 40));
  lines = lines.slice(start, start + 1 + pick(40));
  const rounds = 1 + pick(4);
  for (let k = 0; k < rounds; k++) {
    if (lines.length === 0) lines.push('');
    const i = pick(lines.length);
    const words = lines[i].split(' ');
    const j = pick(words.length);
    switch (pick(9)) {
      case 0:
        words.splice(j, 1);
        break;
      case 1:
        words.splice(j, 0, words[j]);
        break;
      case 2: {
        const m = pick(words.length);
        [words[j], words[m]] = [words[m], words[j]];
        break;
      }
      case 3:
        lines.splice(i, 1);
        continue;
      case 4:
        lines.splice(i, 0, lines[i]);
        continue;
      case 5: {
        const m = pick(lines.length);
        [lines[i], lines[m]] = [lines[m], lines[i]];
        continue;
      }
      case 6: {
        const bytes = Array.from({ length: 1 + pick(6) }, () => String.fromCharCode(pick(256)));
        words[j] = (words[j] ?? '') + bytes.join('');
        break;
      }
      case 7:
        words.splice(j, 0, inserts[pick(inserts.length)]);
        break;
      case 8:
        lines[i] = lines[i].slice(0, pick(lines[i].length + 1));
        continue;
    }
    lines[i] = words.join(' ');
  }
  return lines.join('\n');
}

/** Where a re-rendered text first differs from what was read, for a failure message; null when equal. */
export function firstDifference(rendered: string, read: string): string | null {
  if (rendered === read) return null;
  const a = rendered.split('\n');
  const b = read.split('\n');
  const i = a.findIndex((l, k) => l !== b[k]);
  return `line ${i + 1}: rendered ${JSON.stringify(a[i])}, read ${JSON.stringify(b[i])}`;
}
