// `diff -u` of two texts: the common head and tail are trimmed, the middle is aligned by the
// longest common subsequence of lines (or shown as replaced when it is too large to align),
// and hunks carry three lines of context.

const CONTEXT = 3;
const MAX_CELLS = 4_000_000;

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

function lines(text: string): string[] {
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out;
}

function align(a: readonly string[], b: readonly string[]): Op[] {
  if (a.length * b.length > MAX_CELLS) return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++] });
      j++;
    } else if (i < a.length && (j === b.length || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) ops.push({ kind: '-', line: a[i++] });
    else ops.push({ kind: '+', line: b[j++] });
  }
  return ops;
}

function diffOps(a: readonly string[], b: readonly string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const same = (xs: readonly string[]) => xs.map((line) => ({ kind: ' ' as const, line }));
  return [...same(a.slice(0, head)), ...align(a.slice(head, a.length - tail), b.slice(head, b.length - tail)), ...same(a.slice(a.length - tail))];
}

export interface DiffStyle {
  readonly removed: (s: string) => string;
  readonly added: (s: string) => string;
  readonly hunk: (s: string) => string;
}

export const NO_STYLE: DiffStyle = { removed: (s) => s, added: (s) => s, hunk: (s) => s };

/** The unified diff from `expected` to `actual`, or '' when they are equal. */
export function unifiedDiff(expected: string, actual: string, names: { expected: string; actual: string }, style: DiffStyle = NO_STYLE): string {
  if (expected === actual) return '';
  const ops = diffOps(lines(expected), lines(actual));
  const out = [style.removed(`--- ${names.expected}`), style.added(`+++ ${names.actual}`)];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].kind === ' ') {
      k++;
      continue;
    }
    // A hunk: from CONTEXT lines before this change to CONTEXT lines after the last change
    // that is at most 2 x CONTEXT unchanged lines from the previous one.
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    let gap = 0;
    for (let m = k; m < ops.length; m++) {
      if (ops[m].kind === ' ') {
        if (++gap > 2 * CONTEXT) break;
      } else {
        gap = 0;
        end = m;
      }
    }
    const stop = Math.min(ops.length, end + 1 + CONTEXT);
    let aLine = 1;
    let bLine = 1;
    for (let m = 0; m < start; m++) {
      if (ops[m].kind !== '+') aLine++;
      if (ops[m].kind !== '-') bLine++;
    }
    const part = ops.slice(start, stop);
    const aLen = part.filter((o) => o.kind !== '+').length;
    const bLen = part.filter((o) => o.kind !== '-').length;
    out.push(style.hunk(`@@ -${aLen ? aLine : aLine - 1},${aLen} +${bLen ? bLine : bLine - 1},${bLen} @@`));
    for (const o of part) out.push(o.kind === '-' ? style.removed(`-${o.line}`) : o.kind === '+' ? style.added(`+${o.line}`) : ` ${o.line}`);
    k = stop;
  }
  if (!expected.endsWith('\n') !== !actual.endsWith('\n')) out.push('\\ No newline at end of file (one side)');
  return out.join('\n') + '\n';
}
