// kpsim against the kernel's answers recorded in the dump corpus's judge files
// (test/fixtures/dumps/*.judge.yaml, written by test/kernel/judge-dumps.test.ts), without a kernel:
// every flow traced in file order on the same node (the judge's service node, its rules and sets),
// each must end as the kernel did, every outcome of a split seen, and none UNKNOWN unless the flow
// says why.
import { describe, expect, it } from 'vitest';
import { nodeFromArtefacts } from '../../src/node/assemble.js';
import { toDecimal } from '../../src/packetsim/fraction.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { marginal, specOf } from '../host/judgement.js';
import { serviceNodeFacts } from '../host/service-node.js';
import { dumpJudgements } from '../kernel/dump-corpus.js';

describe('the dump corpus: kpsim ends each judged flow as the kernel did', () => {
  it.each(dumpJudgements().map((d) => ({ ...d, label: d.name })))('$label', (d) => {
    const facts = serviceNodeFacts(d.topology);
    const node = nodeFromArtefacts({
      iptables: d.rules.texts.map((t) => ({ family: d.rules.family, file: t.label, text: t.text })),
      ...facts,
      ...(d.rules.ipsets ? { ipsetsText: { file: 'ipsets', text: d.rules.ipsets } } : {}),
    });
    const { sim } = prepareNode(node, d.rules.family);
    const now = Math.floor(Date.now() / 1000);
    const specs = d.flows.map((f, i) => specOf({ ...f, now }, 10000 + i));
    const results = traceFlows(sim.rs, sim.env, specs);
    const got = d.flows.map((f, i) => {
      const m = marginal(results[i].outcomes, specs[i], d.rules.family);
      return `${f.name}: ${[...m].filter(([, v]) => toDecimal(v.prob) > 0).map(([k]) => k).sort().join(' | ')}`;
    });
    expect(got).toEqual(d.flows.map((f) => `${f.name}: ${f.unknownBecause && got.some((g) => g.startsWith(`${f.name}: UNKNOWN`)) ? 'UNKNOWN' : f.kernel}`));
  });
});
