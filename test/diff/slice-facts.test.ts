// What diff's slicer reads of every rule (destination, protocol, ports, --dst-type, destination
// sets, jump, DNAT destination, targets it does not follow), read from the chain index without
// building the rules (chainFacts), against the same read of the built rules (builtFacts, with
// explain's dnatTo): over the corpus, generated clusters and damaged copies of them.
import { describe, expect, it } from 'vitest';
import { builtFacts, chainFacts } from '../../src/diff/slice.js';
import { applyRestore, emptyState, type KernelState } from '../../src/iptables/state.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { mulberry32 } from '../../src/util/rng.js';
import { corpusAndClusters, type CorpusFile } from '../iptables-save/corpus.js';
import { mutate } from '../iptables-save/mutate.js';

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
    const r = mulberry32(29);
    let n = 0;
    for (const t of all) {
      if (t.text.length > 200_000) continue;
      for (let k = 0; k < 4; k++) {
        expectSameFacts({ ...t, name: `${t.name} (mutation ${k})`, text: mutate(t.text, r) });
        n++;
      }
    }
    expect(n).toBeGreaterThan(200);
  });
});
