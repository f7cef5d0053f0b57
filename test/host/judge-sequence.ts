// Flows that share state, judged as sequences. kube-proxy's ClientIP affinity (`recent` rules)
// pins a client's later connections to the endpoint its first one met, so repeated probes of one
// flow are not independent draws, and a flow's own odds (a mixture over the worlds earlier flows
// may have left) cannot judge what one node did. Such flows are sent in file order instead, each
// as ONE real connection at its `at` (really waited for: xt_recent stamps hits in jiffies, so
// time cannot be faked), and each observed run is judged by the joint odds kpsim gives it
// (packetsim/sequence.ts): every flow's outcome must be possible given what the kernel did with
// the flows before it, masquerade source included. The run is repeated in a few trials, each in
// its own fresh service node (empty conntrack table and recent lists), all at once, so that a
// long wait is paid once.
//
// Time: each flow's client starts as soon as the flow before it is done and sends at its own
// deadline (the send of the flow before plus the difference of their `at`); a flow without `at`
// goes right away, as traceFlows puts it at the time of the one before. kpsim judges each trial
// at the times the clients really sent. Where those differ from `at` enough to change kpsim's
// odds of what the kernel did, the judgement says so (SequenceRun.timing).
import type { NodeEnv } from '../../src/packetsim/env.js';
import { equal, fractionText } from '../../src/packetsim/fraction.js';
import { sequenceProbability, type SequenceResult } from '../../src/packetsim/sequence.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import type { CompiledRuleset } from '../../src/packetsim/types.js';
import { prepareNode, sendFlow, type ProbeBatch } from './judge-node.js';
import { kernelSide, kpsimSide, marginal, neverSeen, skipped, specOf, type FlowJudgement, type JudgeRules, type ProbeRecord } from './judgement.js';
import { withServiceNode, type ServiceNode, type ServiceNodeSpec } from './service-node.js';

export interface SequenceBounds {
  /** Trials of the whole sequence, each in its own node, run at once. */
  readonly trials: number;
  /** Per probe. */
  readonly timeoutMs: number;
  /** False-alarm rate of the never-seen check over the trials. */
  readonly alpha: number;
  /** The longest a sequence may wait for its last flow's `at`; a longer one is not sent. */
  readonly maxWaitMs: number;
  /** No flow is started later than this past its `at` (the rest of the sequence is not sent). */
  readonly budgetMs: number;
}

/** Sends the flows (one probe port each, in file order) as a sequence per trial and judges every trial's run. */
export async function judgeSequence(rules: JudgeRules, rs: CompiledRuleset, flows: readonly ProbeBatch[], topology: ServiceNodeSpec, o: SequenceBounds): Promise<FlowJudgement[]> {
  if (!flows.length) return [];
  const at0 = flows[0].flow.at ?? 0;
  const waitMs = Math.max(...flows.map((f) => (f.flow.at ?? at0) - at0)) * 1000;
  if (waitMs > o.maxWaitMs) return flows.map((f) => skipped(f.flow, [`not sent: its sequence waits ${waitMs / 1000} s for the flows' at, longer than the judge's maxWaitMs (${o.maxWaitMs} ms)`]));
  const judgeFlows = flows.map((f) => f.flow);
  const trials = await Promise.all(
    Array.from({ length: o.trials }, () =>
      withServiceNode(topology, async (n) => {
        const { env, refused } = await prepareNode(n, rules, judgeFlows, topology);
        return { env, refused, probes: refused ? [] : await sendSequence(n, flows, env, o) };
      }),
    ),
  );
  const refused = trials.find((t) => t.refused)?.refused;
  if (refused) return flows.map((f) => skipped(f.flow, [`not sent: ${refused}`]));
  // A prefix of a sequence is judged as exactly as the whole: what every trial sent.
  const sent = Math.min(...trials.map((t) => t.probes.length));
  const late = flows.slice(sent).map((f) => skipped(f.flow, [`not sent: the judge's time budget of ${o.budgetMs} ms past the flows' at ran out`]));
  if (!sent) return late;
  // Every trial's node is built from the same spec: one environment serves them all.
  return [...compareSequence(rs, trials[0].env, flows.slice(0, sent), trials.map((t) => t.probes.slice(0, sent)), o.alpha), ...late];
}

/**
 * One probe per flow, each as long after the flow before it was sent as their `at` differ (flows
 * at one time go one after the other, as soon as they can); none started past the budget. Timed
 * from the flow before rather than from the first, a flow is never sooner after any earlier one
 * than their `at` say, only later, by how long the flows between took to send.
 */
async function sendSequence(n: ServiceNode, flows: readonly ProbeBatch[], env: NodeEnv, o: SequenceBounds): Promise<ProbeRecord[]> {
  const out: ProbeRecord[] = [];
  const at0 = flows[0].flow.at ?? 0;
  const begun = Date.now();
  // kpsim's clock, in seconds after the first flow: a flow without `at` keeps the last one's.
  let clock = 0;
  for (const f of flows) {
    const at = f.flow.at === undefined ? clock : f.flow.at - at0;
    const startAt = out.length ? out[out.length - 1].sentAt + Math.max(0, at - clock) * 1000 : 0;
    clock = Math.max(clock, at);
    if (Math.max(startAt, Date.now()) - begun > clock * 1000 + o.budgetMs) break;
    out.push(...(await sendFlow(n, f, true, env, o.timeoutMs, startAt)));
  }
  return out;
}

/**
 * The judgement of a sequence's flows from each trial's probes (one per flow, in order): kpsim's
 * joint odds of every trial's run at the times it was sent, and over the trials, which are
 * independent, the outcomes kpsim expects that never showed.
 */
export function compareSequence(rs: CompiledRuleset, env: NodeEnv, flows: readonly ProbeBatch[], trials: readonly (readonly ProbeRecord[])[], alpha: number): FlowJudgement[] {
  const family = rs.family;
  const specs = flows.map((f) => specOf(f.flow, f.ports[0]));
  const marginals = traceFlows(rs, env, specs).map((r, i) => marginal(r.outcomes, specs[i], family));
  const why = flows.map((): string[] => []);
  const sentAt = flows.map((): number[] => []);
  const timing: (string | null)[] = flows.map(() => null);
  const runOdds: string[] = [];
  trials.forEach((probes, t) => {
    const label = `trial ${t + 1}`;
    const at0 = specs[0].at ?? 0;
    const sent = specs.map((s, i) => ({ ...s, at: at0 + (probes[i].sentAt - probes[0].sentAt) / 1000 }));
    sent.forEach((s, i) => sentAt[i].push(s.at));
    const seen = probes.map((p) => p.observed);
    const run = sequenceProbability(rs, env, sent, seen);
    runOdds.push(fractionText(run.probability));
    const bad = run.impossibleAt;
    if (bad !== null) {
      const expected = marginal(run.steps[bad].outcomes, specs[bad], family);
      const odds = [...expected.values()].filter((v) => v.prob.num > 0n).map((v) => `${v.obs.key} ${fractionText(v.prob)}`);
      why[bad].push(`kernel: ${label} ended ${seen[bad].key}, which kpsim gives no chance after what the kernel did with the flows before it (${odds.join(' | ') || 'nothing'})`);
      for (let i = bad + 1; i < flows.length; i++) why[i].push(`${label}: not judged: flow '${flows[bad].flow.name}' before it in the sequence already disagrees`);
      return;
    }
    const slip = timingSlip(run, sequenceProbability(rs, env, specs, seen));
    if (slip !== null) {
      const times = sent.slice(0, slip + 1).map((s, i) => `${s.at.toFixed(3)} (at ${specs[i].at ?? '-'})`);
      timing[slip] ??= `${label}: the flows up to this one were sent at ${times.join(', ')} s, which changes the odds kpsim gives what the kernel did with this one`;
    }
  });
  return flows.map((f, i) => {
    const probes = trials.map((p) => p[i]);
    if ([...marginals[i].keys()].includes('UNKNOWN')) why[i].push('kpsim: some outcome rests on a rule it does not model (UNKNOWN)');
    why[i].push(...neverSeen(probes.map(() => marginals[i]), probes, alpha, 'trials'));
    return {
      flow: f.flow,
      verdict: why[i].length ? 'disagree' : 'agree',
      why: why[i],
      kpsim: kpsimSide(marginals[i]),
      kernel: kernelSide(probes),
      chiSquare: null,
      sequence: { flows: flows.map((x) => x.flow.name), sentAt: sentAt[i], runOdds, timing: timing[i] },
    };
  });
}

/** The first flow whose conditional odds differ between the run at the times sent and at the flows' `at`; null if none. */
function timingSlip(sent: SequenceResult, planned: SequenceResult): number | null {
  for (let i = 0; i < sent.steps.length; i++) {
    if (i >= planned.steps.length || !equal(sent.steps[i].conditional, planned.steps[i].conditional)) return i;
  }
  return null;
}
