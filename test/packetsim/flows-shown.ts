// What a bulk trace shows of each packet, for the tests that hold two ways of tracing flows to the
// same answers (factored against whole worlds, with the flow cache against without): its JSON with
// every path, its text report, on a simulator node made fresh for each run.
import { expect } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import type { Node, NodeInterface } from '../../src/node/node.js';
import { simpleInterfaces } from '../../src/node/node.js';
import type { NodeEnv } from '../../src/packetsim/env.js';
import { explainer, worldFacts, type Explainer } from '../../src/packetsim/explain.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import type { FlowResult, FlowSpec } from '../../src/packetsim/trace.js';
import type { CompiledRuleset } from '../../src/packetsim/types.js';
import { traceJson } from '../../src/report/json.js';
import { renderText, PLAIN } from '../../src/report/text.js';
import { buildReport } from '../../src/report/tree.js';

/** A simulator node made fresh (extension state such as IPVS's is per node). */
export type Fresh = () => { node: Node; family: Family; rs: CompiledRuleset; env: NodeEnv };

export type Engine = (rs: CompiledRuleset, env: NodeEnv, flows: readonly FlowSpec[], options: { explain: boolean }) => FlowResult[];

/**
 * Everything the output shows of each packet: its JSON with every path, and the text report. Only
 * the count of paths in an outcome is left out: the whole worlds count a path once in every world
 * it is taken in, the factors once per combination of what the packet read (flows.ts). Unless
 * `ordered`, the outcomes and the report's lines are compared as sets: a packet that reads several
 * factors meets their combinations in an order of their own, where the whole worlds' order
 * interleaves them as earlier packets happened to (flows.ts).
 */
export function shown(results: FlowResult[], ex: Explainer, family: Family, explain: boolean, ordered: boolean) {
  const order = <T>(xs: T[]) => (ordered ? xs : xs.map((x) => JSON.stringify(x)).sort());
  return results.map((r) => {
    const json = traceJson({ result: r.result, outcomes: r.outcomes, name: r.flow.name, approximate: r.approximate }, ex, { paths: true, verbose: explain });
    const text = explain ? renderText(buildReport({ input: r.result, traces: r.traces, outcomes: r.outcomes, name: r.flow.name ?? null, approximate: r.approximate, verbose: false }, ex, (w) => worldFacts(w, family)), { style: PLAIN, exact: false, paths: true }) : null;
    return { json: { ...json, outcomes: order(json.outcomes.map((o) => ({ ...o, paths: 0 }))) }, fractions: order(r.outcomes.map((o) => fractionText(o.prob))), text: text === null ? null : order(text.split('\n')) };
  });
}

/** Each engine on a fresh simulator node (extension state such as IPVS's is per node). */
export function run(fresh: Fresh, engine: Engine, flows: FlowSpec[], explain: boolean, ordered: boolean) {
  const { node, family, rs, env } = fresh();
  return shown(engine(rs, env, flows, { explain }), explainer(node, family), family, explain, ordered);
}

/** A node from an iptables-save text, with the interfaces given (default: eth0 192.168.0.2/24, lo). */
export function dumpNode(text: string, interfaces: NodeInterface[] = simpleInterfaces(['192.168.0.2']), sysctls?: ReadonlyMap<string, string>): Fresh {
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [{ family: 'ipv4', file: 'node.rules', text }], interfaces, sysctls }, sink);
  expect(sink.errors).toEqual([]);
  return () => {
    const { sim } = prepareNode(node!, 'ipv4');
    return { node: node!, family: 'ipv4', rs: sim.rs, env: sim.env };
  };
}

const BUILTIN: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

/** `*table` and its chains' declarations, built-in (policy ACCEPT) then `chains`, for a test's iptables-save text. */
export function tableStart(table: 'filter' | 'nat' | 'mangle', chains: readonly string[] = []): string {
  return [`*${table}`, ...BUILTIN[table].map((c) => `:${c} ACCEPT [0:0]`), ...chains.map((c) => `:${c} - [0:0]`)].join('\n');
}
