// Sends every flow of a golden corpus (each case and step with a flows.yaml) through the real
// kernel with the shared judge (test/host/judge.ts): the case's syncs loaded into a throwaway
// service node, several real packets per flow, and what netfilter did compared with kpsim trace on
// the same node (destinations reached, masquerade and the source address the endpoint sees,
// drop/reject, and for splits a bounded chi-square check); flows that share state (ClientIP
// affinity) are sent once per trial, in file order at their `at`, and judged on their joint odds
// (test/host/judge-sequence.ts). The kernel's answer is also compared with the flow's expected
// output/masq (for a sequence's flow, whose kernel answer is one outcome per trial, as a sample:
// nothing unexpected, and masq as expected once every expected outcome showed); where kube-proxy's test tracer and the kernel differ the
// kernel is right, the flow is in KERNEL_DIFFERS (test/packetsim/corpus.ts) and the case's
// notes.md says so. One topology per case step and family. Used by trace-kernel.test.ts
// (kube-proxy's corpus) and golden-kpsim-kernel.test.ts (kpsim's own cases).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { relative } from 'node:path';
import { findCases } from '../../src/cli/golden-read.js';
import { compileCluster, type Compiled } from '../../src/compiler/index.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { verifyCase } from '../../src/golden/verify.js';
import { FAKE_NODE_INTERFACES } from '../../src/node/fake-node.js';
import type { Family } from '../../src/iptables/ir.js';
import { judgeCluster, judgeNftCluster, judgeRules, type FlowJudgement, type JudgeFlow, type JudgeReport } from '../host/judge.js';
import { compileNftablesCluster } from '../../src/compiler/nftables/index.js';
import type { CaseFiles } from '../../src/golden/case.js';
import { loadCluster } from '../../src/model/load.js';
import { configuredMode, modeNamed } from '../../src/modes.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { sctpProbesAvailable } from '../host/sctp-probe.js';
import { familyOfText } from '../../src/net/index.js';
import { KERNEL_DIFFERS, quoteBareComments } from '../packetsim/corpus.js';

export const kernel = kernelAvailable();

export interface GoldenFlow extends JudgeFlow {
  readonly output: string;
  readonly masq: boolean;
}

interface Job {
  /** `case` or `case/steps/02-x`, plus the family when the flows file holds both. */
  readonly id: string;
  readonly label: string;
  readonly flows: readonly GoldenFlow[];
  readonly judge: () => Promise<JudgeReport>;
}

const sorted = (s: string) => (s === '' ? '' : s.split(/,\s*/).sort().join(', '));
/** The tracer's answer without the explicit-ACCEPT token, which the kernel cannot see. */
const visible = (s: string) => sorted(s).split(', ').filter((t) => t !== 'ACCEPT' && t !== '').join(', ');

function byFamily(flows: readonly GoldenFlow[]): Map<Family, GoldenFlow[]> {
  const out = new Map<Family, GoldenFlow[]>();
  for (const f of flows) {
    const fam = familyOfText(f.sourceIP);
    out.set(fam, [...(out.get(fam) ?? []), f]);
  }
  return out;
}

/** Why a flow cannot be judged faithfully by the judge's topology, or null. */
export type Unjudgeable = (flow: GoldenFlow, compiled: Compiled | null) => string | null;

function jobs(corpus: string, unjudgeable: Unjudgeable, skippedOut: string[]): Job[] {
  const out: Job[] = [];
  for (const c of findCases(corpus)) {
    const name = relative(corpus, c.dir);
    if (!c.files.has('cluster.yaml')) {
      const text = c.files.get('iptables-save.txt');
      const flows = c.files.get('flows.yaml');
      if (text === undefined || flows === undefined) continue;
      // kube-proxy's TestTracePacket: a fixed ruleset on the fake node (comments quoted, see corpus.ts).
      const nodeAddrs = FAKE_NODE_INTERFACES.filter((i) => i.name !== 'lo').flatMap((i) => i.addresses.map((a) => a.split('/')[0]));
      for (const [family, fl] of byFamily(parseYaml(flows) as GoldenFlow[])) {
        out.push({ id: name, label: `${name} (${family})`, flows: fl, judge: () => judgeRules({ family, texts: [{ label: 'iptables-save.txt', text: quoteBareComments(text) }], nodeAddrs }, fl) });
      }
      continue;
    }
    const steps = [c, ...c.steps];
    if (!steps.some((s) => s.files.has('flows.yaml'))) continue;
    if (nftMode(c.files.get('cluster.yaml')!)) {
      out.push(...nftJobs(corpus, steps, unjudgeable, skippedOut));
      continue;
    }
    const verified = verifyCase(c);
    steps.forEach((step, i) => {
      const flowsText = step.files.get('flows.yaml');
      if (flowsText === undefined) return;
      const syncs = verified.compiled.slice(0, i + 1).map((x) => x.compiled);
      const last = verified.compiled[i];
      const id = relative(corpus, step.dir);
      const judgeable = (parseYaml(flowsText) as GoldenFlow[]).filter((f) => {
        const why = unjudgeable(f, last.compiled);
        if (why) skippedOut.push(`${id} | ${f.name}: not sent (${why})`);
        return !why;
      });
      for (const [family, fl] of byFamily(judgeable)) {
        const mine: Compiled[] = family === last.compiled.settings.family ? syncs : [otherFamily(last.cluster, family)];
        out.push({ id, label: `${id} (${family})`, flows: fl, judge: () => judgeCluster(mine, fl) });
      }
    });
  }
  return out;
}

function nftMode(clusterText: string): boolean {
  const row = modeNamed(configuredMode(loadCluster([{ name: 'cluster.yaml', text: clusterText }], new DiagnosticSink())));
  return typeof row !== 'string' && row.rulesFormat === 'nft';
}

/**
 * An nftables case: each step's flows on the node its own sync leaves (kube-proxy's transaction on
 * a fresh node, per family); a hand-written nft.txt (`nft-check.yaml`: `transaction: input`,
 * kube-proxy's tracer self-tests) loaded as it is on kube-proxy's fake node's addresses.
 */
function nftJobs(corpus: string, steps: readonly CaseFiles[], unjudgeable: Unjudgeable, skippedOut: string[]): Job[] {
  const out: Job[] = [];
  for (const step of steps) {
    const flowsText = step.files.get('flows.yaml');
    const clusterText = step.files.get('cluster.yaml');
    if (flowsText === undefined || clusterText === undefined) continue;
    const id = relative(corpus, step.dir);
    const judgeable = (parseYaml(flowsText) as GoldenFlow[]).filter((f) => {
      const why = unjudgeable(f, null);
      if (why) skippedOut.push(`${id} | ${f.name}: not sent (${why})`);
      return !why;
    });
    const handWritten = /^transaction:\s*input\s*$/m.test(step.files.get('nft-check.yaml') ?? '');
    for (const [family, fl] of byFamily(judgeable)) {
      const label = `${id} (${family})`;
      if (handWritten) {
        const nodeAddrs = FAKE_NODE_INTERFACES.filter((i) => i.name !== 'lo').flatMap((i) => i.addresses.map((a) => a.split('/')[0]));
        out.push({ id, label, flows: fl, judge: () => judgeRules({ family, format: 'nft', texts: [{ label: 'nft.txt', text: step.files.get('nft.txt')! }], nodeAddrs }, fl) });
        continue;
      }
      const sink = new DiagnosticSink();
      const compiled = compileNftablesCluster(loadCluster([{ name: `${step.dir}/cluster.yaml`, text: clusterText }], sink), { family }, sink);
      if (sink.hasErrors) throw new Error(`${step.dir}: ${sink.errors[0].message}`);
      out.push({ id, label, flows: fl, judge: () => judgeNftCluster(compiled, fl) });
    }
  }
  return out;
}

/** A dual-stack node runs one proxier per family; the other family's is compiled on its own (first sync). */
function otherFamily(cluster: Parameters<typeof compileCluster>[0], family: Family): Compiled {
  const sink = new DiagnosticSink();
  const compiled = compileCluster(cluster, { family }, sink);
  if (sink.hasErrors) throw new Error(`no ${family} proxier: ${sink.errors[0].message}`);
  return compiled;
}

/** One line per flow that went wrong, with both answers, ready to paste into a golden flows.yaml. */
function describeFlow(job: Job, j: FlowJudgement): string {
  const f = j.flow;
  const k = j.kernel;
  const s = j.sequence;
  return [
    `${job.id} | ${f.name}: ${j.verdict}${j.why.length ? ` (${j.why.join('; ')})` : ''}`,
    `  kpsim:  ${j.kpsim.outcomes.map((o) => `${o.key} ${o.fraction}`).join(' | ')}`,
    `  kernel: ${k ? k.outcomes.map((o) => `${o.key} x${o.count}`).join(' | ') : '(not sent)'}`,
    ...(s ? [`  sequence of ${s.flows.length} flows, one trial each: sent at ${s.sentAt.map((t) => `${t.toFixed(3)} s`).join(', ')}; kpsim's odds of each trial's run ${s.runOdds.join(', ')}`] : []),
    `  golden: - {name: ${JSON.stringify(f.name)}, sourceIP: ${f.sourceIP}, protocol: ${f.protocol}, destIP: ${f.destIP}, destPort: ${f.destPort}, output: ${JSON.stringify(k?.output ?? '')}, masq: ${k?.masq ?? false}}`,
  ].join('\n');
}


/**
 * Whether a sequence's flow's kernel answer (one outcome per trial) can be a sample of the
 * expected one: every destination or verdict it shows is expected, and its masq is the expected
 * one unless it missed some expected outcome (which might be the one masqueraded or not). That
 * what it missed was plausible to miss is the judge's check (never-seen odds over the trials).
 */
function sampleOf(got: { output: string; masq: boolean }, want: { output: string; masq: boolean }): boolean {
  const tokens = (s: string) => (s === '' ? [] : s.split(', '));
  const seen = new Set(tokens(got.output));
  const expected = new Set(tokens(want.output));
  if ([...seen].some((t) => !expected.has(t))) return false;
  const missed = [...expected].some((t) => !seen.has(t));
  return got.masq === want.masq || (missed && !got.masq);
}

/** Seconds of `at` from which a job is started before its turn. */
const EARLY_AT = 10;

/** Registers one test per case step and family of the corpus. */
export function judgeCorpus(corpus: string, title: string, unjudgeable: Unjudgeable = () => null): void {
  if (!kernel.ok) console.warn(`${title}: kernel tests not run: ${kernel.reason}`);
  const summary: string[] = [];
  const notSent: string[] = [];
  describe.runIf(kernel.ok)(title, () => {
  const all = kernel.ok ? jobs(corpus, unjudgeable, notSent) : [];
  // A job whose flows wait long for their `at` (a sequence: session-affinity-expired waits 61 s)
  // starts at once, so that its waiting overlaps the other jobs; its test awaits it.
  const early = new Map<string, Promise<JudgeReport>>();
  beforeAll(() => {
    for (const j of all) {
      if (Math.max(0, ...j.flows.map((f) => f.at ?? 0)) < EARLY_AT) continue;
      const report = j.judge();
      report.catch(() => {});
      early.set(j.label, report);
    }
  });
  afterAll(async () => {
    // An early job whose test was filtered out (-t) still owns namespaces: let it finish and delete them.
    await Promise.allSettled(early.values());
    if (summary.length) console.log(`${title}: kernel agreement (agree/sent/skipped per case):\n${summary.join('\n')}`);
    if (notSent.length) console.log(`${title}: flows the judge cannot send faithfully:\n${notSent.join('\n')}`);
  }, 240_000);

  it.each(all.map((j) => ({ ...j, name: j.label })))('$name', async (job) => {
    const report = await (early.get(job.label) ?? job.judge());
    expect(report.error).toBeNull();
    const problems: string[] = [];
    let agree = 0;
    let skipped = 0;
    for (const j of report.flows) {
      const f = j.flow as GoldenFlow;
      if (j.verdict === 'skipped') {
        skipped++;
        // Only SCTP may go unsent, and only where its raw-socket probes cannot run (no python3).
        if (f.protocol.toLowerCase() !== 'sctp' || sctpProbesAvailable()) problems.push(describeFlow(job, j));
        continue;
      }
      if (j.verdict === 'agree') agree++;
      else problems.push(describeFlow(job, j));
      const differs = KERNEL_DIFFERS[`${job.id} | ${f.name}`];
      const want = differs ? differs.kernel : { output: visible(f.output), masq: f.masq };
      const got = { output: j.kernel!.output, masq: j.kernel!.masq };
      if (j.sequence?.timing) problems.push(`${describeFlow(job, j)}\n  timing: ${j.sequence.timing}; its expected answer assumes its at`);
      if (j.sequence ? !sampleOf(got, want) : got.output !== want.output || got.masq !== want.masq) {
        problems.push(`${describeFlow(job, j)}\n  expected (${differs ? `kernel difference: ${differs.why}` : 'kube-proxy tracer'}): output ${JSON.stringify(want.output)} masq ${want.masq}`);
      }
    }
    const sequence = report.flows.find((j) => j.sequence)?.sequence;
    const trials = sequence ? ` (a sequence of ${sequence.flows.length} flows in ${sequence.runOdds.length} trials, kpsim's odds of each run ${sequence.runOdds.join(', ')}, ${report.ms.sequences} ms)` : '';
    summary.push(`${job.label}: ${agree}/${report.flows.length - skipped}/${skipped} in ${report.ms.total} ms${trials}`);
    expect(problems, problems.join('\n')).toEqual([]);
    // The judge's bounds: independent flows start within budgetMs (120 s), sequences wait at most
    // maxWaitMs (120 s) alongside them, every probe is bounded; both default.
  }, 240_000);
});
}
