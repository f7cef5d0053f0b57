// The kernel-free half of differential testing, run for every generated cluster: kpsim's compiled
// output loads into kpsim's own kernel-state model (host setup, then the restore with --noflush
// semantics), every jump and goto target exists, the simulator compiles every rule without an
// unsupported or unknown-chain problem, and for every flow the outcomes' probabilities sum to
// exactly 1 with no outcome resting on something the simulator does not model.
import { compileCluster, type Compiled } from '../../src/compiler/index.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Ruleset } from '../../src/iptables/ir.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv, type NodeEnv, type NodeSpec } from '../../src/packetsim/env.js';
import { add, equal, fractionText, ONE, ZERO } from '../../src/packetsim/fraction.js';
import { tracePacket, type FlowSpec, type Outcome } from '../../src/packetsim/trace.js';
import type { CompiledRuleset } from '../../src/packetsim/types.js';
import { iptablesNodeArtefacts } from '../../src/compiler/iptables/node-artefacts.js';
import { stateToRuleset } from '../../src/iptables/state.js';
import { nodeFromArtefacts } from '../../src/node/assemble.js';
import { flowAnswer } from '../../src/golden/check-flows.js';
import type { DiffFlow, TopologyAddrs } from './flows.js';
import type { GeneratedCluster } from './generate.js';

export interface Simulated {
  readonly compiled: Compiled;
  readonly ruleset: Ruleset;
  readonly rs: CompiledRuleset;
  readonly env: NodeEnv;
}

/**
 * The node as the judge's topology builds it, for the simulator: eth0 holds the link address and
 * the node's addresses and leads to the client side (the default route); pods0 holds its link
 * address and a host route to every pod-side address.
 */
export function topologyNodeSpec(g: GeneratedCluster, topo: TopologyAddrs): NodeSpec {
  const host = (a: string) => `${a}/${g.plan.hostBits}`;
  return {
    interfaces: [
      { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
      { name: 'eth0', addresses: [g.plan.linkAddrs.eth0, ...topo.nodeAddrs.map(host)] },
      { name: 'pods0', addresses: [g.plan.linkAddrs.pods0] },
    ],
    routes: [...topo.endpointAddrs.map((a) => ({ to: host(a), dev: 'pods0' })), { to: 'default', dev: 'eth0' }],
  };
}

/** The packet the simulator traces for a flow: pod-side sources arrive on pods0, client-side ones on eth0, the node's own start in OUTPUT. */
export function packetOf(flow: DiffFlow, topo: TopologyAddrs, sourcePort?: number): FlowSpec {
  const inInterface = topo.nodeAddrs.includes(flow.sourceIP) || flow.origin === 'node-ip' || flow.origin === 'localhost' ? null : topo.endpointAddrs.includes(flow.sourceIP) ? 'pods0' : 'eth0';
  return { name: flow.name, protocol: flow.protocol, sourceIP: flow.sourceIP, sourcePort: sourcePort ?? null, destIP: flow.destIP, destPort: flow.destPort, inInterface };
}

export class SelfCheckError extends Error {}

/** Compiles the cluster and loads it into kpsim's kernel model and simulator; throws SelfCheckError on any problem. */
export function simulate(g: GeneratedCluster, topo: TopologyAddrs): Simulated {
  const sink = new DiagnosticSink();
  const compiled = compileCluster(g.cluster, {}, sink);
  if (sink.hasErrors) throw new SelfCheckError(`compile errors: ${sink.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  let ruleset: Ruleset;
  let state;
  try {
    state = nodeFromArtefacts(iptablesNodeArtefacts(compiled)).netfilter.get(compiled.settings.family)!;
    ruleset = stateToRuleset(state);
  } catch (e) {
    throw new SelfCheckError(`compiled output does not load into kpsim's kernel-state model: ${(e as Error).message}`);
  }
  const missing = missingJumpTargets(ruleset);
  if (missing.length) throw new SelfCheckError(`jump targets that do not exist: ${missing.join(', ')}`);
  const rs = linkRuleset(state, { index: true });
  if (rs.problems.length) throw new SelfCheckError(`simulator problems: ${rs.problems.map((p) => `${p.code} ${p.message}`).join('; ')}`);
  const problems: { message: string }[] = [];
  const env = buildEnv(topologyNodeSpec(g, topo), g.family, problems);
  if (problems.length) throw new SelfCheckError(`node environment: ${problems.map((p) => p.message).join('; ')}`);
  return { compiled, ruleset, rs, env };
}

/** `table/chain -> TARGET` for every jump or goto to a chain its table does not have. */
export function missingJumpTargets(ruleset: Ruleset): string[] {
  const out: string[] = [];
  for (const t of ruleset.tables) {
    const chains = new Set(t.chains.map((c) => c.name));
    for (const c of t.commands) {
      if (c.kind === 'rule' && c.target?.kind === 'chain' && !chains.has(c.target.name)) out.push(`${t.name}/${c.chain} -> ${c.target.name}`);
    }
  }
  return out;
}

export interface FlowCheck {
  readonly flow: DiffFlow;
  readonly outcomes: readonly Outcome[];
  /** What is wrong with the trace itself; empty when it is sound. */
  readonly problems: readonly string[];
}

/** Traces one flow from an empty conntrack table and checks the outcomes are a distribution. */
export function checkFlow(sim: Simulated, flow: DiffFlow, topo: TopologyAddrs): FlowCheck {
  const problems: string[] = [];
  let outcomes: Outcome[] = [];
  try {
    outcomes = tracePacket(sim.rs, sim.env, packetOf(flow, topo)).outcomes;
  } catch (e) {
    problems.push(`trace failed: ${(e as Error).message}`);
    return { flow, outcomes, problems };
  }
  const total = outcomes.reduce((s, o) => add(s, o.prob), ZERO);
  if (!equal(total, ONE)) problems.push(`outcome probabilities sum to ${fractionText(total)}, not 1`);
  for (const o of outcomes) {
    if (o.verdict === 'UNKNOWN') problems.push(`an outcome rests on something not modelled: ${o.unknown.map((u) => `${u.text} (${u.reason})`).join('; ') || o.note || 'no verdict'}`);
  }
  return { flow, outcomes, problems };
}

/** kpsim's answer for a flow in kube-proxy's tracer shape (what a golden flows.yaml holds). */
export function tracerAnswer(check: FlowCheck, family: GeneratedCluster['family']): { output: string; masq: boolean } {
  const a = flowAnswer(check.outcomes, family);
  return { output: a.output, masq: a.masq };
}
