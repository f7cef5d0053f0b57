// The kernel judge: a node's rules loaded into a throwaway service-node topology, real packets sent
// for every flow (several each, from distinct source ports), and what netfilter did with them
// compared with what `kpsim trace` says for the same packets. Flows that share state (ClientIP
// affinity) are instead sent once per trial as a sequence and judged on their joint odds
// (judge-sequence.ts). Shared by the kernel trace test, the differential tests and the
// golden-case tooling.
//
// What the kernel did is read from the node's conntrack table: a connection that netfilter let
// through is confirmed (in POSTROUTING or INPUT) with its reply tuple, whose source is the DNAT
// destination and whose destination is the address the endpoint saw (SNAT/MASQUERADE). A packet
// dropped or rejected before confirmation leaves no entry; the client then tells which: a REJECT
// (icmp-port-unreachable or tcp-reset) fails connect() and a connected UDP socket with
// ECONNREFUSED, a DROP times out (or fails with EPERM for a packet the node itself sends). SCTP is
// probed with raw INITs (sctp-probe.ts), read the same way.
//
// Bounds: probes per flow are capped (`maxProbes`), each probe waits at most `timeoutMs`, the
// whole judgement stops sending after `budgetMs` (remaining flows are reported skipped), and every
// namespace is deleted afterwards (withServiceNode). Nothing touches the root namespace.
import type { Compiled } from '../../src/compiler/index.js';
import { hostSetup, renderHostSetup } from '../../src/compiler/iptables/host.js';
import type { Family } from '../../src/iptables/ir.js';
import { familyOfText } from '../../src/net/index.js';
import type { NftCompiled } from '../../src/compiler/nftables/index.js';
import { nftHooks } from '../../src/modes.js';
import { nodeFromArtefacts } from '../../src/node/assemble.js';
import { prepareNode as prepareSimulator } from '../../src/packetsim/prepare.js';
import { tupleKey, type Conn } from '../../src/packetsim/conntrack.js';
import type { NodeEnv } from '../../src/packetsim/env.js';
import { equal, toDecimal } from '../../src/packetsim/fraction.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { type FlowResult } from '../../src/packetsim/trace.js';
import type { CompiledRuleset } from '../../src/packetsim/types.js';
import { defaultTopology, prepareNode, sendFlow, type ProbeBatch } from './judge-node.js';
import { judgeSequence } from './judge-sequence.js';
import { kernelSide, kpsimSide, marginal, neverSeen, skipped, specOf, type ChiSquare, type FlowJudgement, type JudgeFlow, type JudgeRules, type Marginal, type ProbeRecord } from './judgement.js';
import { sctpProbesAvailable } from './sctp-probe.js';
import { withServiceNode, type ServiceNodeSpec } from './service-node.js';

export type { ChiSquare, FlowJudgement, JudgeFlow, JudgeRules, Observed, ProbeRecord, SequenceRun, TracerAnswer } from './judgement.js';

export interface JudgeOptions {
  /** Probes for a flow kpsim gives a single outcome; default 3. */
  readonly probes?: number;
  /** Most probes for a split; default 150. */
  readonly maxProbes?: number;
  /**
   * False-alarm rate of each split check (chi-square, never-seen outcome); default 1e-6, so that a
   * corpus with ~100 split checks raises a false alarm about once in 10 000 runs.
   */
  readonly alpha?: number;
  /** Per probe; default 1000 ms. */
  readonly timeoutMs?: number;
  /** No independent flow is started after this long, and no flow of a sequence this long past its `at`; default 120 s. */
  readonly budgetMs?: number;
  /** Trials of each sequence of flows that share state, run at once in nodes of their own; default 3. */
  readonly trials?: number;
  /** The longest a sequence may wait for its flows' `at`; default 120 s (a longer one is not sent). */
  readonly maxWaitMs?: number;
  /** Where addresses live; default: DNAT targets on the pods side, other non-node sources on the client side. */
  readonly topology?: ServiceNodeSpec;
}

export interface JudgeReport {
  readonly family: Family;
  readonly flows: readonly FlowJudgement[];
  /** The rules did not load; no packet was sent. */
  readonly error: string | null;
  /** Wall time per phase (topology, load, responders, kpsim, probes, teardown; sequences, alongside the probes) and in total. */
  readonly ms: Readonly<Record<string, number>>;
}

type Bounds = Required<Omit<JudgeOptions, 'topology'>>;

export const JUDGE_DEFAULTS: Readonly<Bounds> = { probes: 3, maxProbes: 150, alpha: 1e-6, timeoutMs: 1000, budgetMs: 120_000, trials: 3, maxWaitMs: 120_000 };

/** kube-proxy's nftables sync on a fresh node (its transaction), judged by the kernel. */
export function judgeNftCluster(c: NftCompiled, flows: readonly JudgeFlow[], opts: JudgeOptions = {}): Promise<JudgeReport> {
  const loopback = (a: string) => a.startsWith('127.') || a === '::1';
  return judgeRules(
    { family: c.settings.family, format: 'nft', texts: [{ label: 'nft transaction', text: c.restore }], nodeAddrs: [...new Set(c.settings.localAddresses.map((a) => a.text).filter((a) => !loopback(a)))] },
    flows,
    opts,
  );
}

/** kube-proxy's syncs on one node (host setup, then each restore input), judged by the kernel. */
export function judgeCluster(syncs: Compiled | readonly Compiled[], flows: readonly JudgeFlow[], opts: JudgeOptions = {}): Promise<JudgeReport> {
  const list: readonly Compiled[] = Array.isArray(syncs) ? syncs : [syncs as Compiled];
  const last = list[list.length - 1];
  if (!last) throw new Error('judgeCluster: no sync given');
  const loopback = (a: string) => a.startsWith('127.') || a === '::1';
  return judgeRules(
    {
      family: last.settings.family,
      texts: [{ label: 'host setup', text: renderHostSetup(hostSetup()) }, ...list.map((c, i) => ({ label: `restore input ${i + 1}`, text: c.restore }))],
      nodeAddrs: [...new Set(last.settings.localAddresses.map((a) => a.text).filter((a) => !loopback(a)))],
    },
    flows,
    opts,
  );
}

export async function judgeRules(rules: JudgeRules, flows: readonly JudgeFlow[], opts: JudgeOptions = {}): Promise<JudgeReport> {
  const started = Date.now();
  const o = { ...JUDGE_DEFAULTS, ...opts };
  const rs = simulatorRuleset(rules);
  const topology = opts.topology ?? defaultTopology(rules, flows);
  const ms: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    ms[name] = Date.now() - mark;
    mark = Date.now();
  };
  const report = await withServiceNode(topology, async (n) => {
    phase('topology');
    const { env, refused } = await prepareNode(n, rules, flows, topology, phase);
    if (refused) return { family: rules.family, flows: flows.map((f) => skipped(f, [`not sent: ${refused}`])), error: refused, ms };
    const plan = planProbes(rs, env, flows, o);
    const serial = countsConnections(rs);
    const marginals = probeMarginals(rs, env, plan);
    phase('kpsim');
    // The sequences run in nodes of their own while the independent flows are probed here.
    const inSequence = plan.filter((p) => p.sequence && !p.skip);
    const sequenceStart = Date.now();
    const sequences = judgeSequence(rules, rs, inSequence, topology, o).then((js) => {
      ms.sequences = Date.now() - sequenceStart;
      return new Map(inSequence.map((p, i) => [p, js[i]]));
    });
    // Awaited below; this only keeps a failure there from going unhandled if the probes throw first.
    sequences.catch(() => {});
    const out: (FlowJudgement | null)[] = [];
    for (const p of plan) {
      const m = marginals.slice(p.first, p.first + p.ports.length);
      if (p.skip) out.push(skipped(p.flow, [p.skip], m[0]));
      else if (p.sequence) out.push(null);
      else if (Date.now() - started > o.budgetMs) out.push(skipped(p.flow, [`not sent: the judge's time budget of ${o.budgetMs} ms ran out`], m[0]));
      else if (serial) {
        // -m connlimit counts the connections open at once: the probes go one by one, each done before the next.
        const records: ProbeRecord[] = [];
        for (const port of p.ports) records.push(...(await sendFlow(n, { ...p, ports: [port] }, true, env, o.timeoutMs)));
        out.push(compare(p, m, records, o.alpha));
      } else out.push(compare(p, m, await sendFlow(n, p, !m.some((x) => x.stateful) && m.every((x) => sameOdds(m[0], x)), env, o.timeoutMs), o.alpha));
    }
    phase('probes');
    const judged = await sequences;
    return { family: rules.family, flows: out.map((j, i) => j ?? judged.get(plan[i])!), error: null, ms };
  });
  phase('teardown');
  return { ...report, ms: { ...ms, total: Date.now() - started } };
}

// ---- the simulator's side -------------------------------------------------------------------

/**
 * The rules the kernel was given, as the node value (src/node) holds them, compiled for the
 * simulator; nftables tables as the hook extensions a node of that mode is traced with.
 */
function simulatorRuleset(rules: JudgeRules): CompiledRuleset {
  if (rules.format === 'nft') {
    const node = nodeFromArtefacts({ iptables: [], nft: rules.texts.map((t) => ({ file: t.label, text: t.text })), interfaces: [] });
    return prepareSimulator(node, rules.family, { extensions: nftHooks(node, rules.family) }).sim.rs;
  }
  const node = nodeFromArtefacts({
    iptables: rules.texts.map((t) => ({ family: rules.family, file: t.label, text: t.text, noflush: true })),
    interfaces: [],
    ...(rules.ipsets ? { ipsetsText: { file: 'ipsets', text: rules.ipsets } } : {}),
  });
  return prepareSimulator(node, rules.family).sim.rs;
}

interface PlannedFlow extends ProbeBatch {
  /** One per probe; the first is sent alone, the rest together. */
  readonly ports: readonly number[];
  /** The flow shares state with others: sent once per trial in their sequence (judge-sequence.ts). */
  readonly sequence: boolean;
  /** Index of the first probe in the probe sequence. */
  readonly first: number;
  readonly skip: string | null;
}

/**
 * How many probes each flow gets: `probes` when kpsim gives one outcome; for a split, enough that
 * every outcome is expected at least 5 times (chi-square's rule of thumb) and that missing one
 * has odds below alpha, at most maxProbes. Decided on the flows traced once each, in order.
 */
function planProbes(rs: CompiledRuleset, env: NodeEnv, flows: readonly JudgeFlow[], o: Bounds): PlannedFlow[] {
  const family = rs.family;
  const firstPorts = assignPorts(flows);
  const once = traceFlows(rs, env, flows.map((f, i) => specOf(f, firstPorts[i])));
  const sequence = sharingState(once);
  const used = new Set(firstPorts.map((p, i) => `${flows[i].sourceIP} ${p}`));
  let next = 20000;
  let first = 0;
  return flows.map((f, i) => {
    const protocol = f.protocol.toLowerCase();
    let skip: string | null = null;
    if (protocol === 'sctp' && !sctpProbesAvailable()) skip = 'not sent: SCTP probes need python3 (raw sockets), which is not on the PATH';
    else if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') skip = `not sent: protocol ${f.protocol} is not probed`;
    else if (familyOfText(f.sourceIP) !== family || familyOfText(f.destIP) !== family) skip = `not sent: the flow is not ${family}`;
    const m = marginal(once[i].outcomes, specOf(f, firstPorts[i]), family);
    const probs = [...m.values()].map((v) => toDecimal(v.prob)).filter((p) => p > 0);
    let count = o.probes;
    if (probs.length > 1) {
      const pmin = Math.min(...probs);
      count = Math.min(o.maxProbes, Math.max(o.probes, Math.ceil(5 / pmin), Math.ceil(Math.log(o.alpha) / Math.log(1 - pmin))));
    }
    const ports = [firstPorts[i]];
    while (ports.length < (skip || sequence[i] ? 1 : count)) {
      const p = next++;
      if (!used.has(`${f.sourceIP} ${p}`)) ports.push(p);
    }
    const planned = { flow: f, protocol: protocol as PlannedFlow['protocol'], ports, sequence: sequence[i], first, skip };
    first += ports.length;
    return planned;
  });
}

/** Whether some rule counts the connections open at once (-m connlimit): probes sent together would count each other. */
function countsConnections(rs: CompiledRuleset): boolean {
  for (const t of rs.tables.values()) for (const ch of t.chains.values()) for (const r of ch.rules) if (/(^| )-m connlimit /.test(r.text)) return true;
  return false;
}

/** Each flow's own source port, or one from 10000 up that no flow from the same source uses. */
function assignPorts(flows: readonly JudgeFlow[]): number[] {
  const taken = new Set(flows.filter((f) => f.sourcePort).map((f) => `${f.sourceIP} ${f.sourcePort}`));
  let next = 10000;
  return flows.map((f) => {
    if (f.sourcePort) return f.sourcePort;
    while (taken.has(`${f.sourceIP} ${next}`)) next++;
    taken.add(`${f.sourceIP} ${next}`);
    return next++;
  });
}

/** kpsim's outcome distribution for every probe, traced in the order they are sent, state carried (affinity). */
function probeMarginals(rs: CompiledRuleset, env: NodeEnv, plan: readonly PlannedFlow[]): Marginal[] {
  const specs = plan.flatMap((p) => p.ports.map((port) => specOf(p.flow, port)));
  return traceFlows(rs, env, specs).map((r, i) => {
    const m = marginal(r.outcomes, specs[i], rs.family);
    // A rule whose match depends on what earlier packets did (`-m recent`: ClientIP affinity;
    // `statistic --mode nth`): the odds kpsim gives such a probe are a mixture over the worlds
    // earlier probes may have left, while the kernel is in one of them, so its probes are not
    // independent draws.
    m.stateful = r.outcomes.some((o) => o.path.some((e) => e.rule?.stateful === true));
    return m;
  });
}

/**
 * Which flows share state with others, as kpsim traces them in order: those whose path passes a
 * rule that reads or writes what other packets see (CompiledRule.stateful: `-m recent`, as for
 * ClientIP affinity, or `statistic --mode nth`), and those that meet a connection
 * such a flow opened (a later packet of it, or its reply), which must follow it in its node.
 */
function sharingState(once: readonly FlowResult[]): boolean[] {
  const opened = new Set<string>();
  const keyOf = (c: Conn) => tupleKey(c.proto, c.orig.src, c.orig.sport, c.orig.dst, c.orig.dport);
  return once.map((r) => {
    // A walk that wrote state (a token taken from a rate limit's bucket, even where the limit did not match) shares it too.
    const shares = r.outcomes.some((o) => o.path.some((e) => e.rule?.stateful === true)) || r.result.walks.some((w) => w.delta !== null || (w.known && opened.has(keyOf(w.conn))));
    if (shares) for (const w of r.result.walks) opened.add(keyOf(w.conn));
    return shares;
  });
}

// ---- comparing ------------------------------------------------------------------------------

function compare(p: PlannedFlow, m: readonly Marginal[], probes: ProbeRecord[], alpha: number): FlowJudgement {
  const why: string[] = [];
  const kpsim = kpsimSide(m[0]);
  if (m.some((x) => [...x.keys()].includes('UNKNOWN'))) why.push('kpsim: some outcome rests on a rule it does not model (UNKNOWN)');
  // Every probe's kernel outcome must be possible for that probe.
  probes.forEach((r, i) => {
    const v = m[i]?.get(r.observed.key);
    if (!v || toDecimal(v.prob) === 0) why.push(`kernel: probe from port ${r.sourcePort} ended ${r.observed.key}, which kpsim gives no chance (${[...(m[i]?.keys() ?? [])].join(' | ')})`);
  });
  // Every outcome kpsim expects must show, unless missing it is plausible; with state between
  // the probes (affinity) they are not independent draws, and only the check above applies.
  const dependent = m.some((x) => x.stateful);
  if (!dependent) why.push(...neverSeen(m, probes, alpha, 'probes'));
  const chi = dependent ? null : splitCheck(m, probes, alpha);
  if (chi && chi.pValue < alpha) why.push(`kernel: split implausible under kpsim's odds (chi-square ${chi.statistic.toFixed(2)}, df ${chi.df}, p ${chi.pValue.toExponential(2)} < ${alpha})`);
  return { flow: p.flow, verdict: why.length ? 'disagree' : 'agree', why, kpsim, kernel: kernelSide(probes), chiSquare: chi, sequence: null };
}

/** Whether two probes face the same outcomes with the same odds (nothing an earlier probe did changes them). */
function sameOdds(a: Marginal, b: Marginal): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.has(k) && equal(b.get(k)!.prob, v.prob));
}

/** Chi-square goodness of fit, when every probe faces the same odds (no state between them) and every outcome is expected at least 5 times. */
function splitCheck(m: readonly Marginal[], probes: readonly ProbeRecord[], alpha: number): ChiSquare | null {
  const first = m[0];
  if (!first || first.size < 2 || probes.length < 2) return null;
  if (!m.slice(1, probes.length).every((x) => sameOdds(first, x))) return null;
  const n = probes.length;
  const cells = [...first.values()].map((v) => ({ key: v.obs.key, expected: n * toDecimal(v.prob) }));
  if (cells.some((c) => c.expected < 5)) return null;
  let statistic = 0;
  for (const c of cells) {
    const seen = probes.filter((r) => r.observed.key === c.key).length;
    statistic += (seen - c.expected) ** 2 / c.expected;
  }
  const df = cells.length - 1;
  return { statistic, df, pValue: chiSquareSurvival(statistic, df), alpha };
}

/** P(X >= x) for X ~ chi-square(df): the regularised upper incomplete gamma Q(df/2, x/2) (Numerical Recipes 6.2). */
export function chiSquareSurvival(x: number, df: number): number {
  const a = df / 2;
  const z = x / 2;
  if (z <= 0) return 1;
  const lnPre = a * Math.log(z) - z - lnGamma(a);
  if (z < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let k = 1; k < 500; k++) {
      term *= z / (a + k);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPre));
  }
  // Lentz's continued fraction for Q.
  let b = z + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(lnPre) * h;
}

function lnGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const xx = x - 1;
  let s = c[0];
  for (let i = 1; i < 9; i++) s += c[i] / (xx + i);
  const t = xx + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(s);
}

