// The node of an nftables-mode compile is read from the transaction grouped (transaction.ts
// renderGrouped: chains and rules as one table block, elements one line per set), not from its
// `add` lines: both texts must give the same kernel state, handles and order included, for every
// sync of every nftables golden case in both families, and for transactions whose rules and
// elements alternate between chains and sets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileNftablesCluster } from '../../src/compiler/nftables/index.js';
import { renderGrouped, Transaction } from '../../src/compiler/nftables/transaction.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster } from '../../src/model/load.js';
import { applyNft, emptyNftState, parseNft, type NftState } from '../../src/nftables/index.js';
import { nftClusters, ROOT } from '../nftables/corpus.js';

/** The state `text` leaves in a fresh kernel; no problem reading or applying it. */
function stateOf(text: string): NftState {
  const { file, diagnostics } = parseNft(text, { file: 'tx' });
  expect(diagnostics).toEqual([]);
  const state = emptyNftState();
  expect(applyNft(state, file, 'tx')).toEqual([]);
  return state;
}

/** The state as comparable data: where each thing was in its text (spans, layout) left out. */
function comparable(state: NftState): unknown {
  return JSON.parse(
    JSON.stringify(state, (key, value: unknown) => {
      if (key === 'span' || key === 'layout' || key === 'raw') return undefined;
      if (value instanceof Map) return [...value.entries()];
      if (typeof value === 'bigint') return `${value}n`;
      return value;
    }),
  );
}

const CASES = [...nftClusters(join(ROOT, 'golden/kube-proxy-nftables')), ...nftClusters(join(ROOT, 'golden/kpsim-nftables'))].flatMap((dir) =>
  (['ipv4', 'ipv6'] as const).map((family) => [`${dir.slice(ROOT.length + 1)} ${family}`, dir, family] as const),
);

describe('the grouped transaction reads to the state of its add lines', () => {
  it('covers the golden cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
  });

  it.each(CASES)('%s', (_name, dir, family) => {
    const sink = new DiagnosticSink();
    const cluster = loadCluster([{ name: join(dir, 'cluster.yaml'), text: readFileSync(join(dir, 'cluster.yaml'), 'utf8') }], sink);
    const c = compileNftablesCluster(cluster, { family }, sink);
    expect(sink.errors).toEqual([]);
    expect(comparable(stateOf(renderGrouped(c.transaction)))).toEqual(comparable(stateOf(c.restore)));
  });

  it('keeps the handles of rules that alternate between chains, and elements that alternate between sets', () => {
    const tx = new Transaction('ip', 'kube-proxy', 'rules for kube-proxy');
    tx.set({ map: false, name: 'a', type: 'ipv4_addr', flags: [], timeoutSeconds: null, comment: null });
    tx.set({ map: true, name: 'm', type: 'ipv4_addr . inet_proto . inet_service : verdict', flags: [], timeoutSeconds: 10800, comment: 'the map' });
    tx.chain('filter-input', { type: 'filter', hook: 'input', priority: -110 }, 'base');
    tx.chain('x');
    tx.chain('y');
    tx.rule('x', 'ip daddr @a drop');
    tx.rule('y', 'ip saddr 10.0.0.1 jump x', 'to x');
    tx.rule('x', 'ip daddr . meta l4proto . th dport vmap @m');
    tx.rule('filter-input', 'jump y');
    tx.element('m', ['10.0.0.2', 'tcp', '80'], 'goto y', 'svc');
    tx.element('a', ['10.0.0.3']);
    tx.element('m', ['10.0.0.4', 'udp', '53'], 'drop');
    const grouped = renderGrouped(tx);
    // The alternation is written as it is, not sorted away: four runs of rules, three of elements.
    expect(grouped.match(/^\tchain [xy] \{\n\t\t/gm)).toHaveLength(3);
    expect(grouped.match(/^add element /gm)).toHaveLength(3);
    const want = stateOf(tx.render());
    expect(comparable(stateOf(grouped))).toEqual(comparable(want));
    // Handles as the kernel gives them, one counter per table: sets 1-2, chains 3-5, rules 6-9 in
    // the order added (x's second rule after y's).
    const t = want.tables.get('ip kube-proxy')!;
    expect([...t.chains.values()].map((c) => [c.name, c.handle, c.rules.map((r) => r.handle)])).toEqual([
      ['filter-input', 3, [9]],
      ['x', 4, [6, 8]],
      ['y', 5, [7]],
    ]);
  });
});
