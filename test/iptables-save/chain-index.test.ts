// Reading a table chain by chain gives what reading it whole gives. Three readers meet here:
// parseIptablesSave's chain index (a dump's rules by chain, built when a chain is first read),
// readOwnText (kpsim's own restore text, logged in one pass and built chain by chain), and the
// kernel state loaded from an index (state.ts loadIndexed) against the same text applied line by
// line. Over every text of the corpus, kpsim's compile output for every golden case, and
// generated clusters of every service type, policy and family.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileCluster } from '../../src/compiler/index.js';
import { hostSetupText } from '../../src/compiler/iptables/node-artefacts.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { chainIndexOf, type Family, type Rule, type Ruleset, type Table } from '../../src/iptables/ir.js';
import { applyRestore, emptyState, ruleCount, type KernelState } from '../../src/iptables/state.js';
import { parseIptablesSave, readOwnText } from '../../src/iptables-save/index.js';
import { isOwnShape } from '../../src/iptables-save/own-text.js';
import { loadCluster } from '../../src/model/load.js';
import { generateCluster } from '../differential/generate.js';
import { clusterFiles, GOLDEN } from './golden-clusters.js';
import { corpus } from './corpus.js';


/** kpsim's restore text for every iptables-mode golden cluster that compiles, and for generated clusters. */
function ownTexts(): { name: string; text: string; family: Family }[] {
  const out: { name: string; text: string; family: Family }[] = [];
  for (const file of clusterFiles(GOLDEN).filter((f) => !f.includes('ipvs'))) {
    const sink = new DiagnosticSink();
    const cluster = loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink);
    if (sink.hasErrors) continue;
    const c = compileCluster(cluster, {}, sink);
    if (!sink.hasErrors) out.push({ name: file.slice(GOLDEN.length + 1), text: c.restore, family: c.settings.family });
  }
  for (let seed = 1; seed <= 40; seed++) {
    const g = generateCluster(seed);
    const c = compileCluster(g.cluster, {}, new DiagnosticSink());
    out.push({ name: `generated cluster, seed ${seed}`, text: c.restore, family: c.settings.family });
  }
  for (const family of ['ipv4', 'ipv6'] as const) out.push({ name: `host setup ${family}`, text: hostSetupText(family).text, family });
  return out;
}

/** A table's rules grouped by chain in the order of each chain's first rule, as a chain index lists them. */
function rulesByChain(t: Table): Map<string, Rule[]> {
  const by = new Map<string, Rule[]>();
  for (const c of t.commands) {
    if (c.kind !== 'rule') continue;
    const list = by.get(c.chain) ?? [];
    list.push(c);
    by.set(c.chain, list);
  }
  return by;
}

/** The chain index of every table holds exactly the table's declarations and rules. */
function expectIndexMatches(rs: Ruleset, whole: Ruleset): number {
  let indexed = 0;
  rs.tables.forEach((t, i) => {
    const index = chainIndexOf(t);
    if (!index) return;
    indexed++;
    const w = whole.tables[i];
    expect(index.declared).toEqual(w.chains.map((d) => d.name));
    index.declared.forEach((_, k) => {
      expect(index.decl(k)).toEqual(w.chains[k]);
      expect(index.declSpan(k)).toEqual(w.chains[k].span);
    });
    const by = rulesByChain(w);
    expect(index.ruleChains).toEqual([...by.keys()]);
    index.ruleChains.forEach((name, k) => {
      expect(index.count(k)).toBe(by.get(name)!.length);
      expect(index.rules(k)).toEqual(by.get(name));
    });
  });
  return indexed;
}

/** Every chain of two kernel states: the same policy, span and rules. */
function expectSameState(a: KernelState, b: KernelState): void {
  expect([...a.tables.keys()]).toEqual([...b.tables.keys()]);
  for (const [name, t] of a.tables) {
    const u = b.tables.get(name)!;
    expect([...t.keys()]).toEqual([...u.keys()]);
    for (const [c, ch] of t) {
      const other = u.get(c)!;
      expect(ruleCount(ch)).toBe(other.rules.length);
      expect({ policy: ch.policy, span: ch.span, rules: ch.rules }).toEqual({ policy: other.policy, span: other.span, rules: other.rules });
    }
  }
}

/** The state after applying each table line by line (no index). */
function lineByLine(rs: Ruleset, problems: unknown[] | undefined, base?: KernelState): KernelState {
  const state = base ?? emptyState(rs.family);
  applyRestore(state, { ...rs, tables: rs.tables.map((t) => ({ name: t.name, chains: t.chains, commands: t.commands, lines: t.lines, committed: t.committed, span: t.span })) }, problems as never);
  return state;
}

describe("parseIptablesSave's chain index", () => {
  const files = corpus();
  it('has a corpus', () => expect(files.length).toBeGreaterThan(50));

  it('indexes the tables of its kind, with their declarations and rules by chain', () => {
    let indexed = 0;
    for (const f of files) {
      const one = parseIptablesSave(f.text, { file: f.name, family: f.family }).ruleset!;
      const whole = parseIptablesSave(f.text, { file: f.name, family: f.family }).ruleset!;
      indexed += expectIndexMatches(one, whole);
    }
    // The conformance corpus is kube-proxy's restore input and iptables-save output: mostly of the kind.
    expect(indexed).toBeGreaterThan(100);
  });

  it.each(files.map((f) => ({ name: f.name, f })))('loads as applying it line by line: $name', ({ f }) => {
    const { ruleset, diagnostics } = parseIptablesSave(f.text, { file: f.name, family: f.family });
    if (diagnostics.some((d) => d.severity === 'error')) return;
    const lenient: unknown[] = [];
    const a = emptyState(ruleset!.family);
    applyRestore(a, ruleset!, lenient as never);
    const expected: unknown[] = [];
    const b = lineByLine(parseIptablesSave(f.text, { file: f.name, family: f.family }).ruleset!, expected);
    expectSameState(a, b);
    expect(lenient).toEqual(expected);
  });

  it('has no index for a table of another kind', () => {
    const other = ['*filter\n:A - [0:0]\n-N B\n-A A -j B\nCOMMIT\n', '*filter\n:A - [0:0]\n-I A 1 -j ACCEPT\nCOMMIT\n', '*filter\n:A - [0:0]\n:A - [0:0]\nCOMMIT\n'];
    for (const text of other) expect(chainIndexOf(parseIptablesSave(text, { file: 'f' }).ruleset!.tables[0])).toBeNull();
    expect(chainIndexOf(parseIptablesSave('*filter\n:A - [0:0]\n-A A -j ACCEPT\nCOMMIT\n', { file: 'f' }).ruleset!.tables[0])).not.toBeNull();
  });

  it('loads line by line when a chain the rules need does not exist before (strict: the same refusal)', () => {
    // --noflush text appending to a chain it does not declare, and jumping to one declared after the jump.
    const text = '*filter\n:A - [0:0]\n-A A -j B\n:B - [0:0]\n-A C -j ACCEPT\nCOMMIT\n';
    const rs = parseIptablesSave(text, { file: 'f', noflush: true }).ruleset!;
    expect(chainIndexOf(rs.tables[0])).not.toBeNull();
    expect(() => applyRestore(emptyState('ipv4'), rs)).toThrow(/chain 'B' does not exist/);
    const lenient: unknown[] = [];
    applyRestore(emptyState('ipv4'), parseIptablesSave(text, { file: 'f', noflush: true }).ruleset!, lenient as never);
    expect(lenient).toEqual([expect.objectContaining({ code: 'RESTORE_NO_CHAIN', message: "rule for chain 'C', which does not exist" })]);
  });
});

describe('readOwnText reads kpsim\'s restore text as parseIptablesSave does', () => {
  const texts = ownTexts();
  it('has texts', () => expect(texts.length).toBeGreaterThan(80));

  it.each(texts.map((t) => ({ name: t.name, t })))('$name', ({ t }) => {
    const opts = { file: 'restore input', family: t.family, noflush: true };
    expect(isOwnShape(t.text)).toBe(true);
    const own = readOwnText(t.text, opts);
    const parsed = parseIptablesSave(t.text, opts);
    expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // Chain by chain first (nothing built yet), then whole.
    expectIndexMatches(own, parsed.ruleset!);
    expect(own).toEqual(parsed.ruleset);
    // Loaded on the host setup's state, as the node is.
    const host = () => lineByLine(parseIptablesSave(hostSetupText(t.family).text, { file: 'host setup', family: t.family }).ruleset!, undefined);
    const lazy = host();
    applyRestore(lazy, readOwnText(t.text, opts));
    expectSameState(lazy, lineByLine(parseIptablesSave(t.text, opts).ruleset!, undefined, host()));
  });

  it('hands text of any other shape to parseIptablesSave', () => {
    const other = [
      '*filter\n:A - [0:0]\n-X A\nCOMMIT\n',
      '*filter\n:A - [0:0]\n-A A -j ACCEPT\n# a comment\nCOMMIT\n',
      '*filter\n:A - [0:0]\n-A\tA -j ACCEPT\nCOMMIT\n',
      '*filter\n:A - [0:0]\n-A "A" -j ACCEPT\nCOMMIT\n',
      '*filter\n:A - [0:0]\n-A A -j ACCEPT\n:A - [0:0]\nCOMMIT\n',
      '*filter\n:A - [0:0]\n-A A -j ACCEPT\nCOMMIT',
      '*filter\n:A - [0:0]\n-A A -j ACCEPT\n',
    ];
    for (const text of other) {
      expect(isOwnShape(text)).toBe(false);
      const parsed = parseIptablesSave(text, { file: 'f', noflush: true });
      if (parsed.diagnostics.some((d) => d.severity === 'error')) expect(() => readOwnText(text, { file: 'f', noflush: true })).toThrow(/its reader rejects/);
      else expect(readOwnText(text, { file: 'f', noflush: true })).toEqual(parsed.ruleset);
    }
  });
});
