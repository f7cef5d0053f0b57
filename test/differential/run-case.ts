// One differential case: generate the cluster and flows for a seed, check kpsim against itself on
// every flow, then (when a kernel check is given) a bounded selection of flows against the kernel.
// A failing case is written out as a golden case under `goldenRoot`.
import { generateFlows, selectFlows, topologyAddrs, type DiffFlow, type TopologyAddrs } from './flows.js';
import { generateCluster, type GeneratedCluster } from './generate.js';
import { writeGoldenCase, type Disagreement } from './golden-out.js';
import { kernelLoad } from './kernel-load.js';
import { checkFlow, simulate, SelfCheckError, type Simulated } from './self-check.js';
import type { CaseOutcome, Problem } from './summary.js';

export interface KernelVerdict {
  readonly disagreements: readonly Disagreement[];
  /** Flows the kernel answered (flows the judge cannot send, e.g. SCTP, are not counted). */
  readonly checked: number;
  /** The judge could not run the case at all (load failure is a kpsim failure, and goes in disagreements). */
  readonly error?: string;
}

/** Sends the flows through the real kernel and compares with kpsim (kernel.ts wraps test/host/judge.ts). */
export type KernelCheck = (g: GeneratedCluster, sim: Simulated, flows: readonly DiffFlow[], topo: TopologyAddrs) => Promise<KernelVerdict>;

export interface RunOptions {
  /** Flows per cluster sent to the kernel. */
  readonly kernelFlows: number;
  readonly kernel: KernelCheck | null;
  /** Load the rules into a namespace and compare iptables-save with kpsim compile (kernel-load.ts). */
  readonly kernelLoad: boolean;
  /** Where failing cases are written; null: not written. */
  readonly goldenRoot: string | null;
}

export async function runCase(seed: number, opts: RunOptions): Promise<CaseOutcome & { readonly generated: GeneratedCluster }> {
  const started = Date.now();
  const g = generateCluster(seed);
  const flows = generateFlows(g);
  const topo = topologyAddrs(g, flows);
  const problems: Problem[] = [];
  let sim: Simulated;
  try {
    sim = simulate(g, topo);
  } catch (e) {
    if (!(e instanceof SelfCheckError)) throw e;
    problems.push({ kind: `self: ${e.message.split(':')[0]}`, flow: null, text: e.message });
    return { seed, problems, kernelFlows: 0, kernelLoaded: false, selfFlows: 0, goldenDir: null, ms: Date.now() - started, generated: g };
  }
  for (const f of flows) {
    for (const p of checkFlow(sim, f, topo).problems) problems.push({ kind: `self: ${p.replace(/[\d/]+/g, 'N').slice(0, 60)}`, flow: f, text: `${f.name}: ${p}` });
  }
  let loaded = false;
  if (opts.kernelLoad) {
    const load = await kernelLoad(sim.compiled);
    for (const p of load.problems) problems.push({ ...p, flow: null });
    loaded = load.problems.length === 0;
  }
  let kernelFlows = 0;
  let diffs: readonly Disagreement[] = [];
  if (opts.kernel) {
    const chosen = selectFlows(flows, opts.kernelFlows, seed);
    // A judge that breaks (a probe program failing, say) fails this case, not the whole campaign.
    const verdict: KernelVerdict = await opts.kernel(g, sim, chosen, topo).catch((e: unknown) => ({
      disagreements: [],
      checked: 0,
      error: `the judge failed: ${(e instanceof Error ? e.message : String(e)).split('\n').slice(-3).join(' ')}`,
    }));
    kernelFlows = verdict.checked;
    diffs = verdict.disagreements;
    if (verdict.error) problems.push({ kind: `kernel: ${verdict.error.split(':')[0]}`, flow: null, text: verdict.error });
    for (const d of diffs) {
      problems.push({
        kind: `kernel: ${d.what.join('+')} (${d.flow.origin} -> ${d.flow.entry})`,
        flow: d.flow,
        text: `${d.flow.name}\n    kernel: ${d.kernel.output || '(untouched)'} masq=${d.kernel.masq}\n    kpsim:  ${d.kpsim.output || '(untouched)'} masq=${d.kpsim.masq}${d.detail ? `\n    ${d.detail.replace(/\n/g, '\n    ')}` : ''}`,
      });
    }
  }
  const goldenDir = diffs.length && opts.goldenRoot ? writeGoldenCase(opts.goldenRoot, g, sim.compiled, topo, diffs) : null;
  return { seed, problems, kernelFlows, kernelLoaded: loaded, selfFlows: flows.length, goldenDir, ms: Date.now() - started, generated: g };
}
