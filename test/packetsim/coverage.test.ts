// One table (src/packetsim/coverage.ts) decides what the simulator models: `kpsim parse --stats`
// lists as "not modelled" exactly the rules the compiled ruleset holds an UNKNOWN match or target
// for, on every dump of the corpus; and every match module and target the reader types is either
// in the table or said to be not modelled.
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { MATCH_MODULES, TARGET_MODULES } from '../../src/iptables-save/spec.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { isModelledMatch, isModelledTarget, MODELLED_MATCHES, MODELLED_TARGETS, unmodelledItems } from '../../src/packetsim/coverage.js';
import { corpus } from '../iptables-save/corpus.js';
import { kernelCases } from '../iptables-save/kernel-cases.js';

const ROOT = join(import.meta.dirname, '../..');
const dumps = corpus().filter((f) => f.name.startsWith('test/fixtures/dumps/'));

describe('one coverage table for parse --stats and trace', () => {
  it.each(dumps.map((d) => [d.name, d] as const))('%s: the rules parse --stats names are the rules trace meets UNKNOWN at', (_n, d) => {
    const { ruleset } = parseIptablesSave(d.text, { file: d.name, family: d.family });
    const listed = new Set<number>();
    for (const t of ruleset!.tables) for (const c of t.commands) if (c.kind === 'rule' && unmodelledItems(c).length) listed.add(c.span!.line);
    // With the dump's sets: a `-m set` naming a set no input holds is UNKNOWN for want of input, not of a model.
    const sets = join(ROOT, d.name.replace(/\.[^.]+$/, '.ipsets'));
    const node = nodeFromDumps({ iptables: [{ family: ruleset!.family, file: d.name, text: d.text }], ipsets: existsSync(sets) ? { file: sets, text: readFileSync(sets, 'utf8') } : null, interfaces: [] }, new DiagnosticSink());
    const rs = prepareNode(node!, ruleset!.family).sim.rs;
    const unknown = new Set<number>();
    for (const t of rs.tables.values()) {
      for (const ch of t.chains.values()) {
        for (const r of ch.rules) if (r.matches.some((m) => m.kind === 'unknown') || r.target.kind === 'unknown') unknown.add(r.span!.line);
      }
    }
    expect([...unknown].sort()).toEqual([...listed].sort());
  });

  it('names only modules and targets the reader types', () => {
    for (const m of MODELLED_MATCHES) expect(MATCH_MODULES.has(m), m).toBe(true);
    for (const t of MODELLED_TARGETS) expect(TARGET_MODULES.has(t), t).toBe(true);
  });

  it('says of every match the reader types whether it is simulated', () => {
    const notModelled = [...MATCH_MODULES.keys()].filter((m) => !isModelledMatch(m)).sort();
    const notModelledTargets = [...TARGET_MODULES.keys()].filter((t) => !isModelledTarget(t)).sort();
    // What no input describes: neighbours' MAC addresses, interface groups, TPROXY's sockets.
    expect(notModelled).toEqual(['devgroup', 'mac']);
    expect(notModelledTargets).toEqual(['NETMAP', 'TPROXY']);
  });

  it('has every option the reader types in an input the kernel printed back (read and render checked against iptables-save)', () => {
    // test/iptables-save/kernel-save.test.ts reads each of these inputs, renders it and compares
    // with what iptables-save printed after iptables-restore loaded it into a namespace. A module
    // or option added to the reader's spec fails here until an input there uses it.
    const seen = new Set<string>();
    for (const k of kernelCases()) {
      const { ruleset } = parseIptablesSave(k.input, { file: k.name, family: k.family });
      for (const t of ruleset?.tables ?? []) {
        for (const c of t.commands) {
          if (c.kind !== 'rule') continue;
          for (const a of c.args) if (a.kind === 'option' && a.module !== null) seen.add(`-m ${a.module} --${a.name}`);
          for (const a of c.args) if (a.kind === 'module') seen.add(`-m ${a.name}`);
          const tg = c.target;
          if (tg?.kind === 'extension') {
            seen.add(`-j ${tg.name}`);
            for (const o of tg.options) seen.add(`-j ${tg.name} --${o.name}`);
          }
        }
      }
    }
    const missing: string[] = [];
    for (const [name, m] of MATCH_MODULES) {
      // xt_ipvs needs IPVS, which this kernel lacks: no rule with it loads (test/kernel/ipvs-roundtrip.test.ts);
      // test/iptables-save/ipvs-match.test.ts checks its reading and printing against libxt_ipvs instead.
      if (name === 'ipvs') continue;
      if (m.options.length === 0 && !seen.has(`-m ${name}`)) missing.push(`-m ${name}`);
      for (const o of m.options) if (!seen.has(`-m ${name} --${o.name}`)) missing.push(`-m ${name} --${o.name}`);
    }
    for (const [name, t] of TARGET_MODULES) {
      if (!seen.has(`-j ${name}`)) missing.push(`-j ${name}`);
      for (const o of t.options) if (!seen.has(`-j ${name} --${o.name}`)) missing.push(`-j ${name} --${o.name}`);
    }
    expect(missing).toEqual([]);
  });
});
