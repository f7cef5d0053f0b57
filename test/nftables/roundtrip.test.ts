// Every corpus ruleset (knftables' transaction spelling) and every fixture (the kernel's `nft list
// ruleset` spelling) reads without a problem and renders back byte for byte; where nft's own text
// is canonical (everything but iptables-nft's compat printing), the IR needs no kept layout at all.
import { describe, expect, it } from 'vitest';
import { parseNft, renderNft } from '../../src/nftables/index.js';
import { plannedShapes } from '../../src/nftables/plan.js';
import { corpusRulesets, fixtures, inputs, keptLayout } from './corpus.js';

const corpus = corpusRulesets();
const fixtureFiles = fixtures();

describe('the kube-proxy corpus', () => {
  it('has its 18 rulesets', () => expect(corpus).toHaveLength(18));

  it.each(corpus.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const { file, diagnostics } = parseNft(f.text, { file: f.name });
    expect(diagnostics).toEqual([]);
    expect(renderNft(file)).toBe(f.text);
    expect(keptLayout(file)).toEqual({ raw: 0, layout: 0, gaps: 0 });
    expect(file.items.filter((i) => i.kind === 'opaque')).toEqual([]);
  });
});

describe('nft -f inputs', () => {
  it.each(inputs().map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const { file, diagnostics } = parseNft(f.text, { file: f.name });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(renderNft(file)).toBe(f.text);
    expect(keptLayout(file).raw).toBe(0);
  });

  it('a transaction in knftables spelling needs no kept layout', () => {
    const f = inputs().find((x) => x.name.endsWith('transaction.nft'))!;
    const { file, diagnostics } = parseNft(f.text, { file: f.name });
    expect(diagnostics).toEqual([]);
    expect(keptLayout(file)).toEqual({ raw: 0, layout: 0, gaps: 0 });
  });

  it('a hand-written firewall: each define and each variable is kept with a warning', () => {
    const f = inputs().find((x) => x.name.endsWith('host-firewall.nft'))!;
    const { diagnostics } = parseNft(f.text, { file: f.name });
    expect(diagnostics.map((d) => [d.code, d.span?.line])).toEqual([
      ['NFT_NOT_MODELLED', 4],
      ['NFT_NOT_MODELLED', 5],
      ['NFT_NOT_MODELLED', 24],
      ['NFT_NOT_MODELLED', 25],
      ['NFT_NOT_MODELLED', 31],
      ['NFT_NOT_MODELLED', 41],
      ['NFT_NOT_MODELLED', 45],
      ['NFT_NOT_MODELLED', 45],
    ]);
  });
});

describe('the fixtures', () => {
  it('are there', () => expect(fixtureFiles.length).toBeGreaterThanOrEqual(9));

  it.each(fixtureFiles.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const { file, diagnostics } = parseNft(f.text, { file: f.name });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(renderNft(file)).toBe(f.text);
    const kept = keptLayout(file);
    expect(kept.raw).toBe(0);
    // iptables-nft's tables print empty statements for matches nft cannot spell (`-m comment`,
    // `-p` with a protocol match): double spaces that only a kept layout reproduces.
    if (!/is managed by iptables-nft/.test(f.text)) expect(kept).toEqual({ raw: 0, layout: 0, gaps: 0 });
  });

  it('the grammar has exactly one parse for every shape it read (no ambiguity)', () => {
    const ambiguous = plannedShapes().filter((s) => s.parses > 1);
    expect(ambiguous.map((s) => `${s.context} ${s.shape.join(' ')}`)).toEqual([]);
  });
});
