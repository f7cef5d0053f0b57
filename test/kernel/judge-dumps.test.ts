// The dump corpus through the real kernel (issue 14's judge): every flow of every
// `test/fixtures/dumps/*.judge.yaml` sent as real packets into a throwaway node holding the dump's
// rules (and sets), and what netfilter did compared with kpsim's trace of the same rules
// (test/host/judge.ts: splits by chi-square, flows that share state as sequences). A flow agrees,
// disagrees, or kpsim answers UNKNOWN (allowed only where the flow says what no input describes,
// `unknownBecause`); the kernel's answer must also be the one the file records. The counts are
// printed per dump and in total.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument } from 'yaml';
import { judgeRules, type FlowJudgement } from '../host/judge.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { DUMPS, dumpJudgements, type DumpFlow } from './dump-corpus.js';

const kernel = kernelAvailable();
/** `KPSIM_UPDATE_DUMPS=1`: record the kernel's answers in the judge files (comments kept). */
const UPDATE = process.env.KPSIM_UPDATE_DUMPS === '1';

function record(name: string, answers: ReadonlyMap<string, string>): void {
  const path = join(DUMPS, `${name}.judge.yaml`);
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const flows = doc.get('flows');
  if (isSeq(flows)) for (const item of flows.items) if (isMap(item) && answers.has(String(item.get('name')))) item.set('kernel', answers.get(String(item.get('name'))));
  writeFileSync(path, doc.toString({ lineWidth: 0 }));
}
if (!kernel.ok) console.warn(`dump judge: kernel tests not run: ${kernel.reason}`);

type Verdict = 'agree' | 'disagree' | 'unknown' | 'skipped';
const totals: Record<Verdict, number> = { agree: 0, disagree: 0, unknown: 0, skipped: 0 };
const lines: string[] = [];

/** The kernel's outcomes for a flow, as recorded in a judge file. */
export const kernelKeys = (j: FlowJudgement) => (j.kernel ? j.kernel.outcomes.map((o) => o.key).sort().join(' | ') : '(not sent)');

function verdictOf(j: FlowJudgement): Verdict {
  if (j.verdict === 'skipped') return 'skipped';
  if (j.kpsim.outcomes.some((o) => o.key === 'UNKNOWN')) return 'unknown';
  return j.verdict === 'agree' ? 'agree' : 'disagree';
}

describe.runIf(kernel.ok)('the dump corpus judged by the kernel', () => {
  afterAll(() => {
    console.log(`dump judge: ${totals.agree} agree, ${totals.disagree} disagree, ${totals.unknown} UNKNOWN, ${totals.skipped} not sent\n${lines.join('\n')}`);
  });
  it.each(dumpJudgements().map((d) => ({ ...d, label: d.name })))('$label', async (d) => {
    const now = Math.floor(Date.now() / 1000);
    const flows = d.flows.map((f) => ({ ...f, now }));
    const report = await judgeRules(d.rules, flows, { topology: d.topology });
    expect(report.error).toBeNull();
    const problems: string[] = [];
    const counts: Record<Verdict, number> = { agree: 0, disagree: 0, unknown: 0, skipped: 0 };
    for (const j of report.flows) {
      const f = j.flow as DumpFlow;
      const v = verdictOf(j);
      counts[v]++;
      totals[v]++;
      const say = `${d.name} | ${f.name}: ${v}${j.why.length ? ` (${j.why.join('; ')})` : ''}\n  kpsim:  ${j.kpsim.outcomes.map((o) => `${o.key} ${o.fraction}`).join(' | ')}\n  kernel: ${kernelKeys(j)}`;
      if (v === 'disagree' || v === 'skipped' || (v === 'unknown' && !f.unknownBecause)) problems.push(say);
      if (j.kernel && !UPDATE && kernelKeys(j) !== f.kernel) problems.push(`${say}\n  recorded kernel answer: ${f.kernel}`);
    }
    if (UPDATE) record(d.name, new Map(report.flows.filter((j) => j.kernel).map((j) => [j.flow.name, kernelKeys(j)])));
    lines.push(`  ${d.name}: ${counts.agree} agree, ${counts.disagree} disagree, ${counts.unknown} UNKNOWN, ${counts.skipped} not sent`);
    expect(problems, problems.join('\n')).toEqual([]);
  }, 300_000);
});
