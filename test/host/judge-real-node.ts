// The kernel judge on a real-like node (real-node.ts): each flow sent a few times from the
// namespace behind the interface it arrives on (or from the node itself for the node's own
// addresses), what netfilter did read from the node's conntrack table and the client, and
// compared with kpsim's trace of the same node value read from the same files. Flows here are
// independent (no splits, no shared state): agreement is every probe ending as kpsim's one
// outcome.
import { familyOfText } from '../../src/net/index.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { tracePacket, type FlowSpec } from '../../src/packetsim/trace.js';
import { createNfacct, nfacctNamesIn, restoreIpsets, restoreRules } from './iptables.js';
import { sendFlow } from './judge-node.js';
import { marginal, specOf, type JudgeFlow } from './judgement.js';
import { startResponder, type ProbeProtocol } from './probe.js';
import { withRealNode, type NodeFixture, type RealNode } from './real-node.js';
import type { ServiceNode } from './service-node.js';
import { toDecimal } from '../../src/packetsim/fraction.js';

export interface RealFlow extends JudgeFlow {
  readonly outPort?: string;
  /** The kernel's answer, as recorded (`ACCEPT 10.244.0.12:8080 from 10.244.0.11`, `DROP`, `REJECT`). */
  readonly kernel?: string;
}

export interface RealJudgement {
  readonly flow: RealFlow;
  readonly verdict: 'agree' | 'disagree' | 'unknown';
  readonly kpsim: readonly string[];
  readonly kernel: readonly string[];
}

/** The flow as kpsim traces it: its arrival interface and bridge port included. */
export function realSpec(f: RealFlow, sourcePort: number): FlowSpec {
  return { ...specOf(f, sourcePort), inInterface: f.inInterface ?? null, outPort: f.outPort ?? null };
}

/** kpsim's outcomes for a flow, as observation keys (UNKNOWN when an outcome rests on what is not modelled). */
export function kpsimKeys(fx: NodeFixture, f: RealFlow, sourcePort = 10000): string[] {
  const family = familyOfText(f.sourceIP);
  const { sim } = prepareNode(fx.node, family);
  const spec = realSpec(f, sourcePort);
  const r = tracePacket(sim.rs, sim.env, spec);
  return [...marginal(r.outcomes, spec, family)].filter(([, v]) => toDecimal(v.prob) > 0).map(([k]) => k).sort();
}

const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';

export async function judgeRealNode(fx: NodeFixture, flows: readonly RealFlow[], probes = 2): Promise<RealJudgement[]> {
  return withRealNode(fx, async (n) => {
    await quiet(n);
    await load(n, fx);
    await listen(n, fx);
    await loopbackRoutes(n, fx, flows);
    const out: RealJudgement[] = [];
    let port = 20000;
    for (const f of flows) {
      const family = familyOfText(f.sourceIP);
      const kpsim = kpsimKeys(fx, f, port);
      const ports = Array.from({ length: probes }, () => port++);
      const src = sourceNamespace(n, f);
      const sn = { node: n.node, client: src, pods: src, ns: (side: string) => (side === 'node' ? n.node : src), sideOf: () => (src === n.node ? 'node' : 'client') } as unknown as ServiceNode;
      const { sim } = prepareNode(fx.node, family);
      const records = await sendFlow(sn, { flow: f, protocol: f.protocol.toLowerCase() as ProbeProtocol, ports }, true, sim.env, 1000);
      const kernel = [...new Set(records.map((r) => r.observed.key))].sort();
      const unknown = kpsim.includes('UNKNOWN');
      const agree = !unknown && kernel.every((k) => kpsim.includes(k)) && kpsim.every((k) => kernel.includes(k));
      out.push({ flow: f, verdict: unknown ? 'unknown' : agree ? 'agree' : 'disagree', kpsim, kernel });
    }
    return out;
  });
}

function sourceNamespace(n: RealNode, f: RealFlow) {
  if (f.inInterface) return n.peer(f.inInterface);
  const h = n.holder(f.sourceIP);
  if (!h) throw new Error(`${f.name}: no namespace holds ${f.sourceIP}`);
  return h;
}

/** ICMP errors unthrottled (a REJECT's answer must not be rate-limited into a timeout), as judge-node's quietNode. */
async function quiet(n: RealNode): Promise<void> {
  await n.node.sysctl('net.ipv4.icmp_ratelimit', 0);
  await n.node.sysctl('net.ipv4.icmp_ratemask', 0);
  await n.node.sysctl('net.ipv6.icmp.ratelimit', 0);
}

async function load(n: RealNode, fx: NodeFixture): Promise<void> {
  if (fx.ipsets) await restoreIpsets(n.node, fx.ipsets);
  for (const [family, text] of fx.rules) {
    await createNfacct(n.node, nfacctNamesIn(text));
    const r = await restoreRules(n.node, family === 'ipv4' ? 'iptables' : 'ip6tables', text);
    if (r.code !== 0) throw new Error(`${family} restore: ${r.stderr}`);
  }
}

async function listen(n: RealNode, fx: NodeFixture): Promise<void> {
  const start = async (ns: RealNode['node'], what: readonly string[] | undefined, name: string) => {
    for (const l of what ?? []) {
      const [proto, port] = l.split('/');
      await startResponder(ns, proto as ProbeProtocol, Number(port), name);
    }
  };
  await start(n.node, fx.hosts.node?.listen, 'node');
  for (const [name, ns] of n.peers) await start(ns, fx.hosts.peers[name]?.listen, name);
}

/**
 * A peer's packets to 127.0.0.1 would stay inside it: a policy rule sends them to the node (as a
 * misrouted or hostile sender would), and route_localnet lets the node's answer from 127.0.0.1 in.
 */
async function loopbackRoutes(n: RealNode, fx: NodeFixture, flows: readonly RealFlow[]): Promise<void> {
  for (const f of flows) {
    if (!isLoopback(f.destIP) || !f.inInterface || familyOfText(f.destIP) !== 'ipv4') continue;
    const peer = n.peer(f.inInterface);
    const gw = fx.hosts.peers[f.inInterface]?.gateway;
    if (!gw) continue;
    // Before the local table (moved behind), for the peer's own packets only (iif lo).
    await peer.run('ip', ['route', 'add', 'default', 'via', gw, 'table', '200']);
    await peer.run('ip', ['rule', 'add', 'pref', '100', 'lookup', 'local']);
    await peer.run('ip', ['rule', 'del', 'pref', '0']);
    await peer.run('ip', ['rule', 'add', 'pref', '10', 'iif', 'lo', 'to', `${f.destIP}/32`, 'lookup', '200']);
    await peer.sysctl('net.ipv4.conf.all.route_localnet', 1);
    await peer.sysctl('net.ipv4.conf.p0.route_localnet', 1);
  }
}
