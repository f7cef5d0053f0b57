// The kernel half of a differential case: the shared judge (src/host/judge.ts) sends the flows
// through the real netfilter in a throwaway topology and compares with kpsim trace. This file is
// the only place that knows the judge's interface; campaign.ts and differential.test.ts ask
// `kernelJudge` whether it can run and why not. The judge is imported by path at run time, so
// this checkout keeps compiling and saying why not while the judge is not committed.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Compiled } from '../../src/compiler/index.js';
import type { DiffFlow } from './flows.js';
import type { Disagreement } from './golden-out.js';
import type { KernelCheck } from './run-case.js';

export interface KernelJudge {
  /** null when the kernel part cannot run; `reason` says why. */
  readonly check: KernelCheck | null;
  readonly reason: string;
}

/** The part of src/host/judge.ts's interface used here (judgeCluster and its report). */
interface JudgeModule {
  judgeCluster(
    syncs: Compiled,
    flows: readonly { name: string; sourceIP: string; protocol: string; destIP: string; destPort: number }[],
    opts: { topology?: { nodeAddrs: readonly string[]; clientAddrs: readonly string[]; endpointAddrs: readonly string[] }; budgetMs?: number },
  ): Promise<{
    error: string | null;
    flows: readonly {
      flow: { name: string };
      verdict: 'agree' | 'disagree' | 'skipped';
      why: readonly string[];
      kpsim: { output: string; masq: boolean; outcomes: readonly { key: string; fraction: string }[] };
      kernel: { output: string; masq: boolean; outcomes: readonly { key: string; count: number }[] } | null;
    }[];
  }>;
}

const JUDGE_SOURCE = fileURLToPath(new URL('../../src/host/judge.ts', import.meta.url));
const JUDGE_MODULE: string = '../../src/host/judge.js';
/** Each cluster's flows stop being sent after this long (the judge reports the rest skipped). */
const BUDGET_MS = 60_000;

const check: KernelCheck = async (_g, sim, flows, topo) => {
  const judge = (await import(JUDGE_MODULE)) as JudgeModule;
  const byName = new Map<string, DiffFlow>(flows.map((f) => [f.name, f]));
  const report = await judge.judgeCluster(
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

export const kernelJudge: KernelJudge = existsSync(JUDGE_SOURCE)
  ? { check, reason: '' }
  : { check: null, reason: 'the shared kernel judge (src/host/judge.ts) is not in this checkout yet, so no flow is sent to the kernel' };
