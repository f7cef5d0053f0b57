// Every golden case's flows with the simulator node they run on (its mode's extensions included:
// IPVS, nftables), per family: what the tests of bulk tracing (factored worlds, the flow cache)
// run over.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { parseFlowsFile } from '../../src/golden/flows-file.js';
import type { Family } from '../../src/iptables/ir.js';
import { loadCluster } from '../../src/model/load.js';
import { configuredMode, modeNamed } from '../../src/modes.js';
import { familyOfText } from '../../src/net/index.js';
import type { Node } from '../../src/node/node.js';
import type { NodeEnv } from '../../src/packetsim/env.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import type { FlowSpec } from '../../src/packetsim/trace.js';
import type { CompiledRuleset } from '../../src/packetsim/types.js';
import { clusterFiles, GOLDEN } from '../iptables-save/golden-clusters.js';

export interface GoldenFlows {
  readonly node: Node;
  readonly family: Family;
  readonly rs: CompiledRuleset;
  readonly env: NodeEnv;
  readonly flows: FlowSpec[];
}

/** The golden cases that have flows, by name (the cluster file under golden/). */
export const GOLDEN_FLOW_CASES = clusterFiles(GOLDEN).map((file) => ({ name: file.slice(GOLDEN.length + 1), file }));

/**
 * A case's flows per family, each with a node made fresh by `fresh()` (simulator state, such as
 * IPVS's rr position, is per node); none when the case has no flows or does not compile.
 */
export function goldenFlows(file: string): { readonly family: Family; readonly flows: FlowSpec[]; fresh(): GoldenFlows }[] {
  let flowsText: string;
  try {
    flowsText = readFileSync(join(file, '..', 'flows.yaml'), 'utf8');
  } catch {
    return [];
  }
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink);
  const row = modeNamed(configuredMode(cluster));
  if (sink.hasErrors || typeof row === 'string') return [];
  const byFamily = new Map<Family, FlowSpec[]>();
  for (const f of parseFlowsFile(flowsText, 'flows.yaml').flows) {
    const fam = familyOfText(f.spec.sourceIP);
    byFamily.set(fam, [...(byFamily.get(fam) ?? []), f.spec]);
  }
  const out: { family: Family; flows: FlowSpec[]; fresh(): GoldenFlows }[] = [];
  for (const [family, flows] of byFamily) {
    const fresh = freshNode(row, cluster, family);
    if (fresh) out.push({ family, flows, fresh: () => ({ ...fresh(), flows }) });
  }
  return out;
}

/** The node kube-proxy makes of a cluster in its mode, made fresh for each run; null when it does not compile. */
function freshNode(row: Exclude<ReturnType<typeof modeNamed>, string>, cluster: ReturnType<typeof loadCluster>, family: Family): (() => Omit<GoldenFlows, 'flows'>) | null {
  const compiled = row.compile(cluster, { family }, new DiagnosticSink());
  if (!compiled) return null;
  const node = compiled.node();
  return () => {
    const { sim } = prepareNode(node, family, { extensions: row.extensions(node, family, { rotate: true }) });
    return { node, family, rs: sim.rs, env: sim.env };
  };
}

/** A cluster's node (cluster.yaml text, its configuration's mode), made fresh for each run. */
export function clusterNode(text: string, family: Family = 'ipv4'): () => Omit<GoldenFlows, 'flows'> {
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: 'cluster.yaml', text }], sink);
  const row = modeNamed(configuredMode(cluster));
  if (sink.hasErrors || typeof row === 'string') throw new Error(`the test's cluster does not load: ${typeof row === 'string' ? row : sink.errors.map((d) => d.message).join('; ')}`);
  const fresh = freshNode(row, cluster, family);
  if (!fresh) throw new Error("the test's cluster does not compile");
  return fresh;
}
