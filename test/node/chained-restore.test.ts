// The node of a compile read chain by chain from the compiler's bytes (src/node/chained-restore.ts,
// what `kpsim trace cluster.yaml` uses) against the node read from the rendered restore text
// (readOwnText, the reference): the same kernel state (every chain, rule and span), the same
// listing (every rule's line and text, also against `kpsim compile`'s iptables.save), and the same
// trace reports (text, --verbose and JSON) for packets to every kind of destination, on every
// golden case's cluster and on generated ones. The last tests show the comparison fails when the
// chain-by-chain reader is told a wrong layout.
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCluster, type Compiled } from '../../src/compiler/index.js';
import { hostSetupText, iptablesNodeArtefacts, restoreInput } from '../../src/compiler/iptables/node-artefacts.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { ruleAt, ruleCount, ruleMatchOption, ruleMatchOptions, ruleSpan, ruleTargets, ruleTargetValue, ruleTextAt, stateToRuleset } from '../../src/iptables/state.js';
import { iptablesServices } from '../../src/explain/iptables-view.js';
import { renderKernelRuleset } from '../../src/iptables-save/index.js';
import { loadCluster } from '../../src/model/load.js';
import type { Cluster } from '../../src/model/types.js';
import { nodeFromArtefacts } from '../../src/node/assemble.js';
import type { ChainedTable } from '../../src/node/chained-restore.js';
import type { Node } from '../../src/node/node.js';
import { traceConnection } from '../../src/packetsim/connection.js';
import { explainer, worldFacts } from '../../src/packetsim/explain.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import type { FlowSpec } from '../../src/packetsim/trace.js';
import { traceJson } from '../../src/report/json.js';
import { PLAIN, renderText } from '../../src/report/text.js';
import { buildReport } from '../../src/report/tree.js';
import { generateFlows, topologyAddrs } from '../differential/flows.js';
import { generateCluster } from '../differential/generate.js';
import { kubectlCluster } from '../model/kubectl-cluster.js';
import { packetOf } from '../differential/self-check.js';

/** The reference: the restore input rendered and read back as one text. */
function textNode(c: Compiled): Node {
  const a = iptablesNodeArtefacts(c);
  const family = c.settings.family;
  return nodeFromArtefacts({ ...a, iptables: [hostSetupText(family), { family, file: 'restore input', text: c.restore, noflush: true }] });
}

function compiled(cluster: Cluster): Compiled | null {
  const sink = new DiagnosticSink();
  const c = compileCluster(cluster, {}, sink);
  return sink.hasErrors ? null : c;
}

/** Every chain's policy, declaration and rules (spans included), and what is read of single rules without building the chain. */
function sameState(fast: Node, ref: Node, family: Family): void {
  const a = fast.netfilter.get(family)!;
  const b = ref.netfilter.get(family)!;
  // Before anything builds a chain: counts, targets and single rules as the analyses read them.
  for (const [table, chains] of b.tables) {
    for (const [name, chain] of chains) {
      const other = a.tables.get(table)!.get(name)!;
      expect(ruleCount(other), `${table} ${name}`).toBe(ruleCount(chain));
      const n = ruleCount(chain);
      for (const j of [0, Math.floor(n / 2), n - 1]) {
        if (j < 0 || j >= n) continue;
        expect(ruleAt(other, j)).toEqual(ruleAt(chain, j));
        expect(ruleTargetValue(other, j, 'to-destination')).toEqual(ruleTargetValue(chain, j, 'to-destination'));
        expect(ruleMatchOption(other, j, 'statistic', 'probability')).toEqual(ruleMatchOption(chain, j, 'statistic', 'probability'));
        expect(ruleMatchOption(other, j, null, 'destination')).toEqual(ruleMatchOption(chain, j, null, 'destination'));
        expect(ruleSpan(other, j)).toEqual(ruleSpan(chain, j));
      }
      expect(ruleTargets(other)).toEqual(ruleTargets(chain));
    }
  }
  expect(stateToRuleset(a)).toEqual(stateToRuleset(b));
  for (const [table, chains] of b.tables) for (const [name, chain] of chains) expect(a.tables.get(table)!.get(name)!.span, `${table} ${name}`).toEqual(chain.span);
}

/** Every rule and declaration as each node's listing shows it: equal, and the lines of the rendered save text. */
function sameListing(fast: Node, ref: Node, family: Family): number {
  const lines = renderKernelRuleset(stateToRuleset(ref.netfilter.get(family)!)).split('\n');
  const a = fast.listings!.get(family)!;
  const b = ref.listings!.get(family)!;
  let n = 0;
  for (const [table, chains] of ref.netfilter.get(family)!.tables) {
    for (const [name, chain] of chains) {
      const decl = a.chain(table, name);
      expect(decl).toEqual(b.chain(table, name));
      expect(lines[decl!.line - 1]).toBe(decl!.text);
      for (let j = 0; j < ruleCount(chain); j++) {
        const l = a.rule(table, name, j);
        expect(l).toEqual(b.rule(table, name, j));
        expect(lines[l!.line - 1], `${table} ${name} rule ${j + 1}`).toBe(l!.text);
        n++;
      }
      expect(a.rule(table, name, ruleCount(chain))).toBeNull();
    }
  }
  return n;
}

function printed(render: () => string): string {
  try {
    return render();
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** What `kpsim trace` prints for each packet (text, --verbose, --json --verbose), and the simulator's problems. */
function traces(node: Node, family: Family, packets: readonly FlowSpec[]): string[] {
  const { sim } = prepareNode(node, family, {});
  const ex = explainer(node, family);
  const out: string[] = [];
  for (const p of packets) {
    const ct = traceConnection(sim.rs, sim.env, p, { state: 'new', reply: false }, { explain: true, index: true, paths: true });
    const report = buildReport({ input: ct.traces[0].result, traces: ct.traces, outcomes: ct.outcomes, name: null, verbose: true }, ex, (w) => worldFacts(w, family));
    // (A report the renderer cannot print is compared by its error: both nodes must meet it.)
    out.push(printed(() => renderText({ ...report, verbose: false }, { style: PLAIN, exact: false, paths: true })));
    out.push(printed(() => renderText(report, { style: PLAIN, exact: true, paths: true })));
    out.push(JSON.stringify(traceJson({ result: ct.traces[0].result, outcomes: ct.outcomes }, ex, { paths: true, verbose: true })));
  }
  out.push(JSON.stringify(sim.rs.problems));
  return out;
}

const packet = (protocol: string, sourceIP: string, destIP: string, destPort: number, inInterface: string | null): FlowSpec => ({ protocol: protocol.toLowerCase() as FlowSpec['protocol'], sourceIP, sourcePort: null, destIP, destPort, inInterface });

/** Packets to each service port of the cluster by every way in (cluster IP, node port, load-balancer and external IP), to a wrong port and to no service. */
function packetsOf(cluster: Cluster, c: Compiled): FlowSpec[] {
  const family = c.settings.family;
  const v4 = family === 'ipv4';
  const outside = v4 ? '203.0.113.9' : '2001:db8:ff::9';
  const pod = v4 ? '10.244.7.7' : 'fd00:10:244::7';
  const nodeIP = c.settings.nodeIP?.text ?? null;
  const out: FlowSpec[] = [packet('TCP', outside, v4 ? '198.51.100.77' : '2001:db8:77::1', 80, 'eth0')];
  for (const s of cluster.services) {
    for (const sp of s.ports) {
      if (s.clusterIP && s.clusterIP !== 'None' && (s.clusterIP.includes(':') ? !v4 : v4)) {
        out.push(packet(sp.protocol, pod, s.clusterIP, sp.port, 'eth0'), packet(sp.protocol, outside, s.clusterIP, sp.port + 1, 'eth0'));
      }
      if (sp.nodePort && nodeIP) out.push(packet(sp.protocol, outside, nodeIP, sp.nodePort, 'eth0'));
      const lb = s.ingress.find((i) => i.ip)?.ip?.text;
      if (lb && lb.includes(':') !== v4) out.push(packet(sp.protocol, outside, lb, sp.port, 'eth0'));
      const ext = s.externalIPs[0]?.trim();
      if (ext && ext.includes(':') !== v4) out.push(packet(sp.protocol, outside, ext, sp.port, 'eth0'));
    }
  }
  // A thousand endpoints make a thousand paths to report: then no service, a wrong port and the last port.
  const endpoints = c.plans.reduce((n, p) => n + p.allEndpoints.length, 0);
  return endpoints > 200 ? [out[0], out[2], out[out.length - 1]] : out.slice(0, 12);
}

function goldenClusters(): { name: string; cluster: Cluster }[] {
  const out: { name: string; cluster: Cluster }[] = [];
  for (const root of ['golden/kpsim', 'golden/kube-proxy-iptables']) {
    for (const dir of readdirSync(root).sort()) {
      const file = join(root, dir, 'cluster.yaml');
      if (!existsSync(file)) continue;
      const sink = new DiagnosticSink();
      const cluster = loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink);
      if (!sink.hasErrors) out.push({ name: `${root}/${dir}`, cluster });
    }
  }
  return out;
}

const GOLDEN = goldenClusters();

describe('a compile read chain by chain is the compile read as text', () => {
  it('covers the golden corpora', () => {
    expect(GOLDEN.length).toBeGreaterThan(60);
  });

  it.each(GOLDEN.map((g) => [g.name, g.cluster] as const))('%s', (_, cluster) => {
    const c = compiled(cluster);
    if (!c) return;
    const family = c.settings.family;
    expect(sameListing(nodeFromArtefacts(iptablesNodeArtefacts(c)), textNode(c), family)).toBeGreaterThan(0);
    sameState(nodeFromArtefacts(iptablesNodeArtefacts(c)), textNode(c), family);
    const packets = packetsOf(cluster, c);
    expect(traces(nodeFromArtefacts(iptablesNodeArtefacts(c)), family, packets)).toEqual(traces(textNode(c), family, packets));
  });

  it.each([1, 2, 3, 5, 8, 13, 21, 34])('generated cluster, seed %i', (seed) => {
    const g = generateCluster(seed);
    const c = compiled(g.cluster)!;
    const flows = generateFlows(g);
    const topo = topologyAddrs(g, flows);
    const packets = flows.filter((_, i) => i % Math.max(1, Math.floor(flows.length / 30)) === 0).map((f) => packetOf(f, topo));
    expect(packets.length).toBeGreaterThan(5);
    sameState(nodeFromArtefacts(iptablesNodeArtefacts(c)), textNode(c), g.family);
    sameListing(nodeFromArtefacts(iptablesNodeArtefacts(c)), textNode(c), g.family);
    expect(traces(nodeFromArtefacts(iptablesNodeArtefacts(c)), g.family, packets)).toEqual(traces(textNode(c), g.family, packets));
  });

  it('a sync that deletes chains is read from its text', () => {
    const c = compileCluster(GOLDEN[0].cluster, {}, new DiagnosticSink(), { previous: { natChains: new Set(['KUBE-SVC-AAAAAAAAAAAAAAAA']) }, changedServices: null, cleanupDue: true });
    expect(c.restore).toContain('-X KUBE-SVC-AAAAAAAAAAAAAAAA');
    sameState(nodeFromArtefacts(iptablesNodeArtefacts(c)), textNode(c), c.settings.family);
  });
});

describe('the comparison fails when the chain-by-chain reader is wrong', () => {
  const c = compiled(generateCluster(3).cluster)!;
  const family = c.settings.family;
  /** The compile's node with one table's layout changed. */
  const damaged = (change: (t: ChainedTable) => ChainedTable) => {
    const input = restoreInput(c);
    const tables = input.tables.map((t) => (t.name === 'nat' ? change(t) : t));
    return nodeFromArtefacts({ ...iptablesNodeArtefacts(c), iptables: [hostSetupText(family), { ...input, tables }] });
  };

  it('a chain said to have one line fewer than it has moves the spans of every rule after it', () => {
    const node = damaged((t) => ({ ...t, lineCount: (i) => t.lineCount(i) - (i === 0 ? 1 : 0) }));
    expect(() => sameState(node, textNode(c), family)).toThrow();
  });

  it('chains read in another order than the text has them', () => {
    const node = damaged((t) => ({ ...t, forEachRange: (i, visit) => t.forEachRange(i === 1 ? 2 : i === 2 ? 1 : i, visit) }));
    expect(() => sameState(node, textNode(c), family)).toThrow();
  });
});

describe('a compile whose every chain is read (a drift diff, explain of a cluster)', () => {
  // Past 256 chains read alone, the table is read whole: the same rules, spans, texts and options
  // as the text path, before and after the switch.
  it('reads the same from its chains alone and from the whole table', () => {
    const sink = new DiagnosticSink();
    const cluster = loadCluster([{ name: 'big.yaml', text: kubectlCluster({ services: 160, endpointsPer: 2, nodes: 1 }, 'multidoc') }], sink);
    const c = compiled(cluster)!;
    const family = c.settings.family;
    const fast = nodeFromArtefacts(iptablesNodeArtefacts(c));
    const ref = textNode(c);
    const nat = ref.netfilter.get(family)!.tables.get('nat')!;
    expect(nat.size).toBeGreaterThan(2 * 256);
    // Every rule's line first (past 256 chains the table is read whole), then what is read of each rule.
    const texts = (n: Node) => {
      const out: (string | null)[] = [];
      const all = [...n.netfilter.get(family)!.tables.values()].flatMap((chains) => [...chains.values()]);
      for (const ch of all) for (let j = 0; j < ruleCount(ch); j++) out.push(ruleTextAt(ch, j));
      for (const ch of all) {
        for (let j = 0; j < ruleCount(ch); j++) {
          const read = [ruleMatchOptions(ch, j, (m, o) => m === null || o === 'dport'), ruleMatchOption(ch, j, null, 'source'), ruleMatchOption(ch, j, 'comment', 'comment'), ruleTargetValue(ch, j, 'to-destination'), ruleSpan(ch, j)];
          out.push(JSON.stringify(read, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
        }
      }
      return out;
    };
    expect(texts(fast)).toEqual(texts(ref));
    sameState(nodeFromArtefacts(iptablesNodeArtefacts(c)), textNode(c), family);
    const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
    expect(json(iptablesServices(nodeFromArtefacts(iptablesNodeArtefacts(c)), family, null))).toEqual(json(iptablesServices(textNode(c), family, null)));
  });
});
