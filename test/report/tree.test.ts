// The report's tree (src/report/tree.ts) built from real traces: the part every walk shares is one
// segment, walks part at forks whose exact shares add up to the fork's probability, kube-proxy's
// statistic rules make one fork with a branch per endpoint, UNKNOWN branches are assumptions
// (no share), worlds in which a packet goes the same way are one case, and the steps every branch
// ends with are found once.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { explainer, worldFacts } from '../../src/packetsim/explain.js';
import { add, equal, mul, ONE, ZERO, type Prob } from '../../src/packetsim/fraction.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { tracePacket, type FlowSpec, type PacketSpec } from '../../src/packetsim/trace.js';
import type { Fork, Segment, TraceReport } from '../../src/report/model.js';
import { buildReport, sharedTail } from '../../src/report/tree.js';
import { renderText, PLAIN } from '../../src/report/text.js';

function node(text: string) {
  const sink = new DiagnosticSink();
  const n = nodeFromDumps({ iptables: [{ family: 'ipv4', file: 'node.rules', text }], interfaces: simpleInterfaces(['192.168.0.2']) }, sink);
  expect(sink.errors).toEqual([]);
  return n!;
}

function report(text: string, spec: PacketSpec, explain = true): TraceReport {
  const n = node(text);
  const { sim } = prepareNode(n, 'ipv4');
  const r = tracePacket(sim.rs, sim.env, spec, { explain });
  const ex = explainer(n, 'ipv4');
  return buildReport({ input: r, traces: [{ prob: ONE, world: r.walks[0].ctx.world, result: r }], outcomes: r.outcomes, verbose: explain }, ex, (w) => worldFacts(w, 'ipv4'));
}

function flowsReport(text: string, flows: FlowSpec[]): TraceReport[] {
  const n = node(text);
  const { sim } = prepareNode(n, 'ipv4');
  const ex = explainer(n, 'ipv4');
  return traceFlows(sim.rs, sim.env, flows, { explain: true }).map((r) => buildReport({ input: r.result, traces: r.traces, outcomes: r.outcomes, verbose: false }, ex, (w) => worldFacts(w, 'ipv4')));
}

function forks(seg: Segment, out: Fork[] = []): Fork[] {
  if (seg.fork) {
    out.push(seg.fork);
    for (const b of seg.fork.branches) forks(b.segment, out);
  }
  return out;
}

function sum(ps: readonly Prob[]): Prob {
  return ps.reduce((a, b) => add(a, b), ZERO);
}

const HEAD = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n';

/** kube-proxy's endpoint split (writeServiceToEndpointRules): n rules, 1/n, 1/(n-1), ... the last without a statistic match. */
function service(n: number, chain = 'KUBE-SVC-A', from = 'PREROUTING'): string {
  let decl = `:${chain} - [0:0]\n`;
  let rules = `-A ${from} -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j ${chain}\n`;
  for (let k = 0; k < n; k++) {
    decl += `:${chain}-SEP${k} - [0:0]\n`;
    rules += `-A ${chain}${n - k > 1 ? ` -m statistic --mode random --probability ${(1 / (n - k)).toFixed(11)}` : ''} -j ${chain}-SEP${k}\n`;
  }
  for (let k = 0; k < n; k++) rules += `-A ${chain}-SEP${k} -p tcp -m tcp -j DNAT --to-destination 10.244.0.${k + 1}:8080\n`;
  return decl + rules;
}

const POST = '-A POSTROUTING -j MARK --set-xmark 0x1/0x1\n';
const PACKET: PacketSpec = { protocol: 'tcp', sourceIP: '10.1.2.3', destIP: '10.96.0.10', destPort: 80 };

describe('the trace tree', () => {
  it('prints the shared prefix once and forks where the walks part, one branch per endpoint', () => {
    const r = report(`${HEAD}${service(3)}${POST}COMMIT\n`, PACKET);
    const root = r.tree;
    expect(root.steps.map((s) => s.rule.text)).toEqual(['-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A']);
    expect(root.fork?.kind).toBe('statistic');
    expect(root.fork?.chain).toBe('KUBE-SVC-A');
    const branches = root.fork!.branches;
    expect(branches.map((b) => b.label)).toEqual(['rule 1: jump KUBE-SVC-A-SEP0', 'rule 2: jump KUBE-SVC-A-SEP1', 'rule 3: jump KUBE-SVC-A-SEP2']);
    // Each branch starts with the rule it took (a different one), so the prefix was the longest shared.
    expect(new Set(branches.map((b) => b.segment.steps.find((s) => s.kind === 'rule')!.key)).size).toBe(3);
    expect(branches.map((b) => b.outcomes)).toEqual([[1], [2], [3]]);
    // The kernel's quantised odds, exactly.
    expect(branches.map((b) => b.share && `${b.share.num}/${b.share.den << BigInt(b.share.exp)}`)).toEqual(['715827883/2147483648', '1431655765/4294967296', '1431655765/4294967296']);
  });

  it.each([2, 3, 5, 10])('shares of a %i-way split add up to the fork, and each branch holds its share of the parent', (n) => {
    const r = report(`${HEAD}${service(n)}${POST}COMMIT\n`, PACKET);
    for (const f of forks(r.tree)) {
      expect(equal(sum(f.branches.map((b) => b.share!)), ONE)).toBe(true);
      for (const b of f.branches) expect(equal(b.segment.prob, mul(b.share!, r.tree.prob))).toBe(true);
    }
    expect(r.tree.fork!.branches).toHaveLength(n);
    expect(equal(sum(r.outcomes.map((o) => o.prob)), ONE)).toBe(true);
  });

  it('nests a fork in a branch when a second split follows the first, shares still adding up', () => {
    const text = `${HEAD}:KUBE-SVC-A - [0:0]\n:A1 - [0:0]\n:A2 - [0:0]\n${service(3, 'KUBE-SVC-B', 'A1').replace(/-d 10.96.0.10\/32 -p tcp -m tcp --dport 80 /, '')}` +
      '-A PREROUTING -d 10.96.0.10/32 -j KUBE-SVC-A\n-A KUBE-SVC-A -m statistic --mode random --probability 0.5 -j A1\n-A KUBE-SVC-A -j A2\n-A A2 -j DNAT --to-destination 10.244.9.9\nCOMMIT\n';
    const r = report(text, PACKET);
    const all = forks(r.tree);
    expect(all.map((f) => f.chain)).toEqual(['KUBE-SVC-A', 'KUBE-SVC-B']);
    const inner = all[1];
    const parent = r.tree.fork!.branches.find((b) => b.segment.fork === inner)!;
    expect(equal(sum(inner.branches.map((b) => b.segment.prob)), parent.segment.prob)).toBe(true);
    expect(equal(sum(inner.branches.map((b) => b.share!)), ONE)).toBe(true);
  });

  it('an UNKNOWN fork has branches that are assumptions: no share, each the whole chance of getting there', () => {
    const r = report('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m devgroup --src-group 0x1 -j ACCEPT\nCOMMIT\n', PACKET);
    const f = r.tree.fork!;
    expect(f.kind).toBe('unknown');
    expect(f.branches.map((b) => b.share)).toEqual([null, null]);
    for (const b of f.branches) expect(equal(b.segment.prob, ONE)).toBe(true);
    expect(f.branches.map((b) => b.label)).toEqual(['assumed to match: rule 1, ACCEPT', 'assumed not to match: rule 1']);
  });

  it('finds the steps every branch ends with, each branch keeping the rule it took', () => {
    const r = report(`${HEAD}${service(3)}${POST}COMMIT\n`, PACKET, false);
    const tail = sharedTail(r.tree.fork!);
    // nat POSTROUTING's MARK rule and its policy; each branch keeps its SVC and SEP rules.
    expect(tail.length).toBe(2);
    for (const l of tail.leaves) {
      expect(l.steps.slice(-2).map((s) => s.rule.text)).toEqual(['-A POSTROUTING -j MARK --set-xmark 0x1/0x1', ':POSTROUTING ACCEPT [0:0]']);
      expect(l.steps).toHaveLength(4);
    }
    const text = renderText(r, { style: PLAIN, exact: false, paths: true });
    expect(text.split('\n').filter((l) => l.includes('--set-xmark 0x1/0x1'))).toHaveLength(1);
  });

  it('the same tree with and without explain mode, but for the rules that did not match (and the route: explain mode records the packet at each step)', () => {
    const text = `${HEAD}${service(4)}${POST}COMMIT\n`;
    const keys = (seg: Segment, explain: boolean): unknown => ({
      steps: seg.steps.filter((s) => explain || (s.kind !== 'nomatch' && s.kind !== 'route')).map((s) => `${s.kind} ${s.rule.text}`),
      fork: seg.fork?.branches.map((b) => [b.label, b.share && `${b.share.num}/${b.share.exp}`, keys(b.segment, explain)]),
    });
    const a = report(text, PACKET, true);
    const b = report(text, PACKET, false);
    expect(JSON.stringify(keys(a.tree, false))).toBe(JSON.stringify(keys(b.tree, false)));
    expect(JSON.stringify(keys(a.tree, true))).toContain('nomatch -A KUBE-SVC-A -m statistic');
  });

  it('worlds in which the packet goes the same way are one case; different ones are a state fork with their facts', () => {
    const AFF = `${HEAD}:KUBE-SVC-A - [0:0]\n:KUBE-SEP-1 - [0:0]\n:KUBE-SEP-2 - [0:0]\n` +
      '-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A\n' +
      '-A KUBE-SVC-A -m recent --rcheck --seconds 600 --reap --name KUBE-SEP-1 --mask 255.255.255.255 --rsource -j KUBE-SEP-1\n' +
      '-A KUBE-SVC-A -m recent --rcheck --seconds 600 --reap --name KUBE-SEP-2 --mask 255.255.255.255 --rsource -j KUBE-SEP-2\n' +
      '-A KUBE-SVC-A -m statistic --mode random --probability 0.5 -j KUBE-SEP-1\n-A KUBE-SVC-A -j KUBE-SEP-2\n' +
      '-A KUBE-SEP-1 -p tcp -m recent --set --name KUBE-SEP-1 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.0.1:8080\n' +
      '-A KUBE-SEP-2 -p tcp -m recent --set --name KUBE-SEP-2 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.0.2:8080\nCOMMIT\n';
    const flows: FlowSpec[] = [
      { ...PACKET, sourceIP: '10.1.1.1', sourcePort: 1000 },
      { ...PACKET, sourceIP: '10.2.2.2', sourcePort: 2000 },
      { ...PACKET, sourceIP: '10.1.1.1', sourcePort: 1001, at: 10 },
    ];
    const [, other, again] = flowsReport(AFF, flows);
    // Another client does not care where the first one went: no state fork.
    expect(other.tree.fork?.kind).toBe('statistic');
    // The first client's new connection goes where its affinity says: one state branch per endpoint.
    const f = again.tree.fork!;
    expect(f.kind).toBe('state');
    expect(f.branches.map((b) => b.label)).toEqual(['10.1.1.1 in recent list KUBE-SEP-1', '10.1.1.1 in recent list KUBE-SEP-2']);
    expect(f.branches.map((b) => b.outcomes)).toEqual([[1], [2]]);
    expect(equal(sum(f.branches.map((b) => b.share!)), ONE)).toBe(true);
    const words = f.branches.flatMap((b) => b.segment.steps.map((s) => s.words).filter(Boolean));
    expect(words).toContain('sticks to 10.244.0.1:8080 for 600 s (recent list KUBE-SEP-1)');
    expect(words).toContain('10.1.1.1 is in recent list KUBE-SEP-1 (seen within 600 s): it sticks to the endpoint it had');
  });
  it('an interface set by the routing decision is the route\'s step, not the DNAT rule\'s; conntrack\'s source rewrite sits at POSTROUTING', () => {
    const steps = (seg: Segment): Segment['steps'][number][] => [...seg.steps, ...(seg.fork?.branches.flatMap((b) => steps(b.segment)) ?? [])];
    const r = report(`${HEAD}${service(1)}-A POSTROUTING -j MASQUERADE\nCOMMIT\n`, PACKET);
    const all = steps(r.tree);
    const dnat = all.find((s) => s.action.startsWith('DNAT'))!;
    expect(dnat.changes.map((c) => c.field)).toEqual(['destination', 'ctState']);
    const route = all.filter((s) => s.kind === 'route');
    expect(route).toHaveLength(1);
    expect(route[0].hook).toBe('routing');
    expect(route[0].changes).toEqual([{ field: 'outInterface', from: 'none', to: 'eth0' }]);
    // The route comes after the DNAT (it routes the rewritten destination) and before POSTROUTING's rule.
    expect(all.indexOf(route[0])).toBeGreaterThan(all.indexOf(dnat));
    expect(all.indexOf(route[0])).toBeLessThan(all.findIndex((s) => s.action.startsWith('MASQUERADE')));
  });
});
