// The rules' targets read from a chain index without building the rules (ruleTargets, what explain
// and lint follow jumps by), a target option's value read alone (ruleTargetValue: endpoint chains'
// DNAT destinations) and a rule built alone (ruleAt), against the rules built: over every
// text of the corpus, kpsim's compile output for generated clusters, and damaged copies of them
// (the index reads the parse's log, so a text with errors must give the same answers too). Match
// options read alone (ruleMatchOptions: what diff's slices read of every rule) likewise.
import { describe, expect, it } from 'vitest';
import { chainIndexOf, targetNameOf, type MatchOptionRead } from '../../src/iptables/ir.js';
import { applyRestore, emptyState, ruleAt, ruleMatchOption, ruleMatchOptions, ruleSpan, ruleTargets, ruleTargetValue, type KernelState } from '../../src/iptables/state.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { corpusAndClusters, damagedCopies, type CorpusFile } from './corpus.js';

/** Target options whose values are read alone: DNAT's, SNAT's, MARK's, REJECT's, and one no target has. */
const OPTIONS = ['to-destination', 'to-source', 'set-xmark', 'reject-with', 'no-such-option'];

/** Match options read alone (lint's splits: statistic's probability, recent's checks), a negatable one, one with no value, and one no module has. */
const MATCH_OPTIONS: readonly (readonly [string | null, string])[] = [
  // Built-in checks (explain's entry rules: protocol, destination; and the negatable source).
  [null, 'protocol'],
  [null, 'destination'],
  [null, 'source'],
  [null, 'in-interface'],
  ['udp', 'dport'],
  ['sctp', 'dport'],
  ['addrtype', 'dst-type'],
  ['recent', 'seconds'],
  ['statistic', 'probability'],
  ['recent', 'rcheck'],
  ['recent', 'update'],
  ['recent', 'name'],
  ['tcp', 'dport'],
  ['conntrack', 'ctstate'],
  ['comment', 'comment'],
  ['physdev', 'physdev-is-bridged'],
  ['statistic', 'no-such-option'],
];

type Text = CorpusFile;

const texts = (): Text[] => corpusAndClusters(10);

/** The state of a text read leniently (as explain and lint read a dump), chains loaded from the index where the table has one. */
function load(t: Text): { state: KernelState; indexed: number } {
  const { ruleset } = parseIptablesSave(t.text, { file: t.name, family: t.family, noflush: true });
  const state = emptyState(ruleset!.family);
  const indexed = ruleset!.tables.filter((x) => chainIndexOf(x) !== null).length;
  applyRestore(state, ruleset!, []);
  return { state, indexed };
}

/** Every chain's targets and single rules, read before its rules are built (a fresh state), equal those of the built rules. */
function expectSameTargets(t: Text): void {
  const fresh = load(t).state;
  const built = load(t).state;
  for (const [table, chains] of fresh.tables) {
    for (const [name, ch] of chains) {
      const rules = built.tables.get(table)!.get(name)!.rules;
      const targets = ruleTargets(ch);
      expect(targets, `${t.name} ${table} ${name}`).toEqual(rules.map(targetNameOf));
      // Target options' values read alone (explain reads every endpoint chain's DNAT destination so).
      for (let j = 0; j < rules.length; j++) {
        const target = rules[j].target;
        for (const option of OPTIONS) {
          const want = target?.kind === 'extension' ? target.options.find((o) => o.name === option)?.values[0] : undefined;
          expect(ruleTargetValue(ch, j, option), `${t.name} ${table} ${name} rule ${j + 1} --${option}`).toEqual(want);
        }
        expect(ruleSpan(ch, j), `${t.name} ${table} ${name} rule ${j + 1} span`).toEqual(rules[j].span);
        // Match options read alone: the first of that module and name, its negation and first value.
        for (const [module, option] of MATCH_OPTIONS) {
          const o = rules[j].args.find((a) => a.kind === 'option' && a.module === module && a.name === option);
          const want = o?.kind === 'option' ? { negation: o.negation, value: o.values[0] } : undefined;
          expect(ruleMatchOption(ch, j, module, option), `${t.name} ${table} ${name} rule ${j + 1} -m ${module} --${option}`).toEqual(want);
        }
      }
      // Every match option read alone (module, name, negation, all values), and those of one module only.
      for (let j = 0; j < rules.length; j++) {
        // What an option says (a chain not loaded from an index gives its built options, which say more).
        const says = (l: readonly MatchOptionRead[]) => l.map((o) => ({ module: o.module, name: o.name, negation: o.negation, values: o.values }));
        const options = says(rules[j].args.filter((a) => a.kind === 'option'));
        expect(says(ruleMatchOptions(ch, j, () => true)), `${t.name} ${table} ${name} rule ${j + 1} options`).toEqual(options);
        expect(says(ruleMatchOptions(ch, j, (m) => m === 'set')), `${t.name} ${table} ${name} rule ${j + 1} set options`).toEqual(options.filter((o) => o.module === 'set'));
      }
      // Rules built one at a time, in an order other than the file's, before the chain's rules are.
      for (let j = rules.length - 1; j >= 0; j--) expect(ruleAt(ch, j), `${t.name} ${table} ${name} rule ${j + 1}`).toEqual(rules[j]);
      // Built after: the same rules.
      expect(ch.rules).toEqual(rules);
      expect(ruleTargets(ch)).toEqual(targets);
    }
  }
}

describe('rule targets without building the rules', () => {
  const all = texts();

  it('come from the index for the corpus (not only from built rules)', () => {
    let indexed = 0;
    let chains = 0;
    for (const t of all) {
      indexed += load(t).indexed;
      for (const table of parseIptablesSave(t.text, { file: t.name, family: t.family }).ruleset!.tables) {
        const index = chainIndexOf(table);
        index?.ruleChains.forEach((_, k) => {
          if (index.targets!(k) !== null) chains++;
        });
      }
    }
    expect(indexed).toBeGreaterThan(100);
    expect(chains).toBeGreaterThan(1000);
  });

  it.each(all.map((t) => ({ name: t.name, t })))('equal the built rules: $name', ({ t }) => {
    expectSameTargets(t);
  });

  it('equal the built rules in damaged texts', () => {
    const damaged = damagedCopies(all, 17, 6);
    for (const t of damaged) expectSameTargets(t);
    expect(damaged.length).toBeGreaterThan(300);
  });

  it('read a jump to a chain declared after it from the rule (the index cannot name it)', () => {
    const text = '*filter\n:A - [0:0]\n-A A -j B\n-A A -g C\n:B - [0:0]\n:C - [0:0]\n-A B -j DROP\nCOMMIT\n';
    const { state } = load({ name: 't', text, family: 'ipv4' });
    expect(ruleTargets(state.tables.get('filter')!.get('A')!)).toEqual([
      { kind: 'chain', name: 'B', goto: false },
      { kind: 'chain', name: 'C', goto: true },
    ]);
  });
});
