// Which chains two nodes have alike (diff's SameChains): read from the lines as written where the
// chains' rules are not built (equal lines, equal rules), built only where the lines differ, and
// rendered in normal form only where the rules are not written alike. Checked against the
// reference, every rule of both chains built and compared (writtenAlike, else normal forms), over
// pairs of texts: each text of the corpus and kpsim's compile output for generated clusters
// against itself, against a copy respelled (option spellings and comments changed: lines differ,
// rules written alike), a copy reordered (rules not written alike, same kernel rules), damaged
// copies (lines differ, rules differ), and another cluster, with either side's rules built first
// or not.
import { describe, expect, it } from 'vitest';
import { chainsAlike } from '../../src/diff/slice.js';
import { normalForm, writtenAlike } from '../../src/explain/rule-facts.js';
import type { Family } from '../../src/iptables/ir.js';
import { applyRestore, emptyState, ruleTextAt, type KernelChain, type KernelState } from '../../src/iptables/state.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { mulberry32 } from '../../src/util/rng.js';
import { corpusAndClusters, type CorpusFile } from '../iptables-save/corpus.js';
import { mutate } from '../iptables-save/mutate.js';

type Text = CorpusFile;

function load(t: Text, family?: Family): KernelState | null {
  const { ruleset } = parseIptablesSave(t.text, { file: t.name, family: family ?? t.family, noflush: true });
  if (!ruleset) return null;
  const state = emptyState(ruleset.family);
  applyRestore(state, ruleset, []);
  return state;
}

/** The reference: every rule built, compared in order (written alike, or in the same normal form). */
function reference(a: KernelChain, b: KernelChain, family: Family): boolean {
  return a.rules.length === b.rules.length && a.rules.every((r, i) => writtenAlike(r, b.rules[i]) || normalForm(r, family) === normalForm(b.rules[i], family));
}

/** Same kernel rules written otherwise: options in iptables-save's order, a host address with its prefix. */
function reordered(text: string): string {
  return text.replace(/ -m (tcp|udp|sctp) -p \1 /g, ' -p $1 -m $1 ').replace(/ -d (\d+\.\d+\.\d+\.\d+) /g, ' -d $1/32 ');
}

/** Same rules, other lines: long option spellings, another comment. */
function respelled(text: string): string {
  return text
    .replace(/ --dport /g, ' --destination-port ')
    .replace(/ -j /g, ' --jump ')
    .replace(/--comment "([^"]*)"/g, '--comment "$1 (respelled)"');
}

interface Tally {
  chains: number;
  alike: number;
  /** Chains compared with some rule's line read as text. */
  byText: number;
  /** Chains alike only by their normal forms. */
  byNormalForm: number;
}

/**
 * For every chain both states have: the answer on fresh states (`builtLeft`/`builtRight`: that
 * side's rules built first) equals the reference's on states with every rule built.
 */
function expectAlike(name: string, left: Text, right: Text, tally: Tally, builtLeft = false, builtRight = false): void {
  const family = parseIptablesSave(left.text, { file: left.name, family: left.family }).ruleset?.family;
  const fa = load(left, family);
  const fb = load(right, family);
  const ra = load(left, family);
  const rb = load(right, family);
  if (!fa || !fb || !ra || !rb) return;
  for (const [table, chains] of fa.tables) {
    for (const [chain, a] of chains) {
      const b = fb.tables.get(table)?.get(chain);
      if (!b) continue;
      if (builtLeft) void a.rules;
      if (builtRight) void b.rules;
      if (ruleTextAt(a, 0) !== null && ruleTextAt(b, 0) !== null) tally.byText++;
      const want = reference(ra.tables.get(table)!.get(chain)!, rb.tables.get(table)!.get(chain)!, fa.family);
      expect(chainsAlike(a, b, fa.family), `${name}: ${table} ${chain}`).toBe(want);
      tally.chains++;
      if (want) tally.alike++;
      const ca = ra.tables.get(table)!.get(chain)!.rules;
      const cb = rb.tables.get(table)!.get(chain)!.rules;
      if (want && !ca.every((r, i) => writtenAlike(r, cb[i]))) tally.byNormalForm++;
    }
  }
}

describe('chains written alike, read from the lines as written', () => {
  const all = corpusAndClusters(8);

  it('equal the built rules compared: each text against itself, respelled and reordered', () => {
    const same: Tally = { chains: 0, alike: 0, byText: 0, byNormalForm: 0 };
    const other: Tally = { chains: 0, alike: 0, byText: 0, byNormalForm: 0 };
    const reorder: Tally = { chains: 0, alike: 0, byText: 0, byNormalForm: 0 };
    for (const t of all) {
      expectAlike(`${t.name} against itself`, t, t, same);
      expectAlike(`${t.name} respelled`, t, { ...t, text: respelled(t.text) }, other);
      expectAlike(`${t.name} reordered`, t, { ...t, text: reordered(t.text) }, reorder);
    }
    // Reordered, rules are not written alike but load to the same kernel rules.
    expect(reorder.alike).toBe(reorder.chains);
    expect(reorder.byNormalForm).toBeGreaterThan(100);
    // Against itself every chain is alike, and read as text; respelled, lines differ but rules are alike.
    expect(same.alike).toBe(same.chains);
    expect(same.byText).toBeGreaterThan(1000);
    expect(other.alike).toBeGreaterThan(other.chains / 2);
  });

  it('equal the built rules compared: damaged copies, either side built first', () => {
    const r = mulberry32(23);
    const tally: Tally = { chains: 0, alike: 0, byText: 0, byNormalForm: 0 };
    let n = 0;
    for (const t of all) {
      if (t.text.length > 200_000) continue;
      for (let k = 0; k < 4; k++) {
        const damaged = { ...t, text: mutate(t.text, r) };
        expectAlike(`${t.name} against mutation ${k}`, t, damaged, tally, k === 1, k === 2);
        n++;
      }
    }
    expect(n).toBeGreaterThan(200);
    // Most chains of a damaged copy are untouched; some are not.
    expect(tally.alike).toBeGreaterThan(tally.chains / 2);
    expect(tally.alike).toBeLessThan(tally.chains);
  });

  it('equal the built rules compared: one generated cluster against another', () => {
    const gen = all.filter((t) => t.name.startsWith('generated'));
    const tally: Tally = { chains: 0, alike: 0, byText: 0, byNormalForm: 0 };
    for (let i = 0; i + 1 < gen.length; i++) expectAlike(`${gen[i].name} against ${gen[i + 1].name}`, gen[i], gen[i + 1], tally);
    expect(tally.alike).toBeLessThan(tally.chains);
  });
});
