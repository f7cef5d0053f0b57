// The nft texts the reader's tests run on: every ruleset of the kube-proxy nftables corpus
// (knftables' transaction spelling) and every fixture in test/fixtures/nft (the kernel's
// `nft list ruleset` spelling, see its README).
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import type { ChainDecl, Rule, SetDecl } from '../../src/nftables/index.js';
import { parseNft, tableKey, type NftState } from '../../src/nftables/index.js';

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


/**
 * Compares a state with the kernel's `nft -a list ruleset` of the same load: the same tables and
 * chains, each chain, set and map with the kernel's handle, each chain's rules with the kernel's
 * handles in the kernel's order, base chains with the kernel's priority, sets with as many
 * elements. Returns how many rules it compared.
 */
export function stateVersusListing(state: NftState, listing: string): number {
  const { file } = parseNft(listing, { file: 'listing' });
  let compared = 0;
  const tables = new Set<string>();
  for (const item of file.items) {
    if (item.kind !== 'command' || item.object.kind !== 'table') continue;
    const key = tableKey(item.object.ref.family, item.object.ref.table);
    tables.add(key);
    const t = state.tables.get(key);
    expect(t, key).toBeDefined();
    const items = item.object.body!.items;
    for (const d of items) {
      if (d.kind === 'chain') {
        const ch = t!.chains.get(d.name);
        expect(ch, d.name).toBeDefined();
        expect(ch!.handle, d.name).toBe(d.handle);
        const rules = (d as ChainDecl).body.items.filter((r): r is Rule => r.kind === 'rule');
        expect(ch!.rules.map((r) => r.handle), d.name).toEqual(rules.map((r) => r.handle));
        const hook = (d as ChainDecl).body.items.find((x) => x.kind === 'hook');
        expect(ch!.hook?.priority.value ?? null, d.name).toBe(hook?.kind === 'hook' ? hook.priority.value : null);
        compared += rules.length;
      } else if (d.kind === 'set' || d.kind === 'map') {
        const set = t!.sets.get(d.name);
        expect(set, d.name).toBeDefined();
        expect(set!.handle, d.name).toBe(d.handle);
        const listed = (d as SetDecl).body.items.find((x) => x.kind === 'elements');
        expect(set!.elements.length, d.name).toBe(listed?.kind === 'elements' ? listed.elements.length : 0);
      }
    }
    expect(t!.chains.size, key).toBe(items.filter((x) => x.kind === 'chain').length);
  }
  expect([...state.tables.keys()].sort()).toEqual([...tables].sort());
  return compared;
}
