// The nft texts the reader's tests run on: every ruleset of the kube-proxy nftables corpus
// (knftables' transaction spelling) and every fixture in test/fixtures/nft (the kernel's
// `nft list ruleset` spelling, see its README).
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const GOLDEN = join(ROOT, 'golden/kube-proxy-nftables');
export const FIXTURES = join(ROOT, 'test/fixtures/nft');
export const INPUTS = join(ROOT, 'test/fixtures/nft-input');

export interface TextFile {
  readonly name: string;
  readonly path: string;
  readonly text: string;
}

function walk(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, keep));
    else if (keep(e.name)) out.push(p);
  }
  return out.sort();
}

const read = (path: string): TextFile => ({ name: relative(ROOT, path), path, text: readFileSync(path, 'utf8') });

/** Every `nft.txt` and `preexisting-nft.txt` of the corpus. */
export function corpusRulesets(): TextFile[] {
  return walk(GOLDEN, (f) => f.endsWith('nft.txt')).map(read);
}

/** Every `*.nft` fixture. */
export function fixtures(): TextFile[] {
  return walk(FIXTURES, (f) => f.endsWith('.nft')).map(read);
}

/** Every `*.nft` input (nft -f text nft accepts, in spellings a listing never has). */
export function inputs(): TextFile[] {
  return walk(INPUTS, (f) => f.endsWith('.nft')).map(read);
}

const KIND_ORDER: Readonly<Record<string, number>> = { table: 0, set: 1, map: 1, chain: 2, rule: 3, element: 4 };

/**
 * A corpus ruleset in the order `nft -f` needs (golden/kube-proxy-nftables/README.md, "nft.txt
 * format"): table, sets and maps, chains, rules, elements; a stable reorder, so rules keep their
 * order within each chain. Comment and blank lines are dropped.
 */
export function loadOrder(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const rank = (l: string) => KIND_ORDER[l.split(' ')[1]] ?? 5;
  return (
    lines
      .map((l, i) => ({ l, i, r: rank(l) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.l)
      .join('\n') + '\n'
  );
}

/** How many units keep their source text or spacing, and whether the file keeps its gaps. */
export function keptLayout(file: unknown): { raw: number; layout: number; gaps: number } {
  const n = { raw: 0, layout: 0, gaps: 0 };
  JSON.stringify(file, (k, v: unknown) => {
    if (k === 'raw' && v) n.raw++;
    if (k === 'layout' && v) n.layout++;
    if (k === 'gaps' && v) n.gaps++;
    return typeof v === 'bigint' ? v.toString() : v;
  });
  return n;
}

