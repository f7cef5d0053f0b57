// What diff's slicer reads of every rule (destination, protocol, ports, --dst-type, destination
// sets, jump, DNAT destination, targets it does not follow), read from the chain index without
// building the rules (chainFacts), against the same read of the built rules (builtFacts, with
// explain's dnatTo): over the corpus, generated clusters and damaged copies of them.
import { describe, expect, it } from 'vitest';
import { ruleDestinations } from '../../src/diff/behaviour.js';
import { builtFacts, chainFacts } from '../../src/diff/slice.js';
import { serviceChainOf } from '../../src/explain/rule-facts.js';
import { formatIp } from '../../src/net/index.js';
import type { Node } from '../../src/node/node.js';
import { applyRestore, emptyState, type KernelState } from '../../src/iptables/state.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { corpusAndClusters, damagedCopies, type CorpusFile } from '../iptables-save/corpus.js';

function load(t: CorpusFile): KernelState | null {
  const { ruleset } = parseIptablesSave(t.text, { file: t.name, family: t.family, noflush: true });
  if (!ruleset) return null;
  const state = emptyState(ruleset.family);
  applyRestore(state, ruleset, []);
  return state;
}

/** Every chain's facts read from a fresh state equal those of its built rules; the number of rules with a destination fact. */
function expectSameFacts(t: CorpusFile): number {
  const fresh = load(t);
  const built = load(t);
  if (!fresh || !built) return 0;
  let telling = 0;
  for (const [table, chains] of fresh.tables) {
    for (const [name, ch] of chains) {
      const want = builtFacts(built.tables.get(table)!.get(name)!.rules);
      expect(chainFacts(ch), `${t.name} ${table} ${name}`).toEqual(want);
      telling += want.filter((f) => f.addr || f.ports || f.local || f.sets.length || f.dnat).length;
    }
  }
  return telling;
}

describe("the slicer's rule facts read without building the rules", () => {
  const all = corpusAndClusters(10);

  it('equal those of the built rules: corpus and generated clusters', () => {
    let telling = 0;
    for (const t of all) telling += expectSameFacts(t);
    expect(telling).toBeGreaterThan(1000);
  });

  it('equal those of the built rules: damaged texts', () => {
    const damaged = damagedCopies(all, 29, 4);
    for (const t of damaged) expectSameFacts(t);
    expect(damaged.length).toBeGreaterThan(200);
  });
});

/** ruleDestinations' reference: the same read over the built rules (the last matching option of each kind wins). */
function builtDestinations(state: KernelState): { protocol: string; address: string; port: number }[] {
  const out: { protocol: string; address: string; port: number }[] = [];
  for (const [, chains] of state.tables) {
    for (const [name, ch] of chains) {
      if (serviceChainOf(name)) continue;
      for (const r of ch.rules) {
        let addr: string | null = null;
        let port: number | null = null;
        let proto: string | null = null;
        for (const a of r.args) {
          if (a.kind !== 'option' || a.negation !== 'none') continue;
          const v = a.values[0];
          if (a.module === null && a.name === 'destination' && v?.type === 'address' && v.prefix === (state.family === 'ipv4' ? 32 : 128)) addr = formatIp(v.address, v.family);
          if (a.module === null && a.name === 'protocol' && v?.type === 'protocol' && (v.name === 'tcp' || v.name === 'udp' || v.name === 'sctp')) proto = v.name;
          if (a.name === 'dport' && v?.type === 'ports' && v.ranges.length === 1 && v.ranges[0][0] === v.ranges[0][1]) port = v.ranges[0][0];
        }
        if (addr !== null && port !== null && proto !== null) out.push({ protocol: proto, address: addr, port });
      }
    }
  }
  return out;
}

describe('the destinations rules name, read without building the rules', () => {
  it('equal those read from the built rules: corpus, generated clusters and damaged texts', () => {
    const all = corpusAndClusters(10);
    let found = 0;
    for (const texts of [all, damagedCopies(all, 31, 2)]) {
      for (const x of texts) {
        const fresh = load(x);
        const built = load(x);
        if (!fresh || !built) continue;
        const want = builtDestinations(built);
        const got = ruleDestinations({ netfilter: new Map([[fresh.family, fresh]]) } as unknown as Node, fresh.family).map((d) => ({ protocol: d.protocol, address: formatIp(d.address, fresh.family), port: d.port }));
        expect(got, x.name).toEqual(want);
        found += want.length;
      }
    }
    expect(found).toBeGreaterThan(100);
  });
});
