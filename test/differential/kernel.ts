// The kernel half of a differential case: the shared judge (test/host/judge.ts) sends the flows
// through the real netfilter in a throwaway topology and compares with kpsim trace. This file is
// the only place that knows the judge's interface; campaign.ts and differential.test.ts pass
// `kernelCheck` to runCase where the kernel part can run (kernelAvailable).
import { judgeCluster } from '../host/judge.js';
import type { DiffFlow } from './flows.js';
import type { Disagreement } from './golden-out.js';
import type { KernelCheck } from './run-case.js';

/** Each cluster's flows stop being sent after this long (the judge reports the rest skipped). */
const BUDGET_MS = 60_000;

export const kernelCheck: KernelCheck = async (_g, sim, flows, topo) => {
  const byName = new Map<string, DiffFlow>(flows.map((f) => [f.name, f]));
  const report = await judgeCluster(
    sim.compiled,
    flows.map((f) => ({ name: f.name, sourceIP: f.sourceIP, protocol: f.protocol, destIP: f.destIP, destPort: f.destPort })),
    { topology: topo, budgetMs: BUDGET_MS },
  );
  if (report.error) return { disagreements: [], checked: 0, error: `kernel: the rules do not load: ${report.error}` };
  const disagreements: Disagreement[] = [];
  for (const v of report.flows) {
    if (v.verdict !== 'disagree') continue;
    const flow = byName.get(v.flow.name)!;
    const kpsimSplit = v.kpsim.outcomes.map((o) => `${o.fraction} ${o.key}`).join('; ');
    const kernelSplit = v.kernel ? v.kernel.outcomes.map((o) => `${o.count}x ${o.key}`).join('; ') : 'no kernel answer';
    disagreements.push({
      flow,
      kernel: v.kernel ? { output: v.kernel.output, masq: v.kernel.masq } : { output: '?', masq: false },
      kpsim: { output: v.kpsim.output, masq: v.kpsim.masq },
      what: [whatDiffered(v.kernel, v.kpsim, v.why)],
      detail: `why: ${v.why.join('; ')}\nkernel saw: ${kernelSplit}\nkpsim says: ${kpsimSplit}`,
    });
  }
  return { disagreements, checked: report.flows.filter((v) => v.verdict !== 'skipped').length };
};

/** DROP, REJECT, ACCEPT, `untouched` or `endpoints`: an answer's kind, without the addresses. */
const shapeOf = (output: string) => (!output ? 'untouched' : /^(DROP|REJECT|ACCEPT)$/.test(output) ? output : 'endpoints');

/** One line that groups like failures in the campaign summary: the kinds of both answers, or why equal answers still failed. */
function whatDiffered(kernel: { output: string; masq: boolean } | null, kpsim: { output: string; masq: boolean }, why: readonly string[]): string {
  if (!kernel) return 'no kernel answer';
  if (kernel.output === kpsim.output && kernel.masq === kpsim.masq) {
    const reason = why.find((w) => /chi-square|never/.test(w)) ?? why[0] ?? '';
    return `same answer, implausible counts: ${reason.replace(/\d+(\.\d+)*(e[+-]?\d+)?/g, 'N').replace(/\(.*\)/, '').trim()}`;
  }
  return `kernel ${shapeOf(kernel.output)}${kernel.masq ? ' masq' : ''}, kpsim ${shapeOf(kpsim.output)}${kpsim.masq ? ' masq' : ''}`;
}
