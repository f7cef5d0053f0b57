// How kube-proxy's nftables tests compare a ruleset (golden/kube-proxy-nftables/README.md, "What
// the tests assert"): both texts are normalised the same way, then must be equal character for
// character. Normalising drops empty lines and `#` lines, then stable-sorts the lines by object
// kind (table, chain, rule, set, map, element), then by object name (the 5th word); `add rule`
// lines of one chain keep their order, other lines of one kind and name are ordered as strings.
// So the order of objects is free, the order of rules within a chain is not.
import { compareText } from './check-restore.js';
import type { CheckResult } from './result.js';

const KIND_ORDER: Readonly<Record<string, number>> = { table: 0, chain: 1, rule: 2, set: 3, map: 4, element: 5 };

export function normalizeNftTransaction(text: string): string {
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const keyed = lines.map((line, i) => {
    const words = line.split(' ');
    return { line, i, kind: KIND_ORDER[words[1]] ?? 6, name: words[4] ?? '', rule: words[1] === 'rule' };
  });
  keyed.sort((a, b) => {
    if (a.kind !== b.kind) return a.kind - b.kind;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    if (a.rule) return a.i - b.i;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : a.i - b.i;
  });
  return keyed.map((k) => k.line + '\n').join('');
}

/**
 * The check of an expected transaction against kpsim's. When they differ the check shows both
 * normalised (the diff then shows only what matters), and `rewrite` is kpsim's own text, which
 * `--update` writes.
 */
export function compareNftTransaction(name: string, file: string, expected: string, actual: string): { check: CheckResult; rewrite: string | null } {
  const check = compareText(name, file, normalizeNftTransaction(expected), normalizeNftTransaction(actual));
  return { check, rewrite: check.status === 'pass' ? null : actual };
}
