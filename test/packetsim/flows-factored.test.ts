// traceFlows holds the worlds earlier packets leave as independent factors (src/packetsim/flows.ts);
// traceFlowsWhole holds them as one list of whole worlds (src/packetsim/flows-whole.ts). The two
// must give every packet the same outcomes, in the same order, with the same exact probabilities
// and paths, and the same report: on every golden case's flows (IPVS included: rr rotation and
// persistence are extension state), on random sequences over rulesets with ClientIP affinity, nth
// counters, token buckets, connlimit and connections reused and replied to, where independent
// clients make the list of whole worlds grow, and on runs where a packet rests on an unmodelled
// match (from which the factored run goes on as whole worlds).
import { describe, expect, it } from 'vitest';
import { traceFlows } from '../../src/packetsim/flows.js';
import { traceFlowsWhole } from '../../src/packetsim/flows-whole.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import type { FlowSpec } from '../../src/packetsim/trace.js';
import { mulberry32 } from '../../src/util/rng.js';
import { affinityRules } from './affinity-rules.js';
import { dumpNode, run, tableStart, type Fresh } from './flows-shown.js';
import { GOLDEN_FLOW_CASES, goldenFlows } from './golden-flows.js';

function expectSame(fresh: Fresh, flows: FlowSpec[], what: string, ordered = false): void {
  for (const explain of [false, true]) {
    const { rs, env } = fresh();
    const reference = traceFlowsWhole(rs, env, flows, { explain });
    // The whole worlds drop their least likely past MAX_WORLDS; the factored ones need not.
    expect(reference.some((r) => r.approximate), `${what}: the reference stays exact`).toBe(false);
    expect(run(fresh, traceFlows, flows, explain, ordered), what).toEqual(run(fresh, traceFlowsWhole, flows, explain, ordered));
  }
}

describe('factored worlds give what whole worlds give', () => {
  it.each(GOLDEN_FLOW_CASES)('golden case $name', ({ file }) => {
    for (const g of goldenFlows(file)) expectSame(g.fresh, g.flows, file, true);
  });

  // Three affinity services of three endpoints, an nth-counted marking rule in mangle, a limit
  // rule, a connlimit rule, one plain service; the first endpoint of service 0 also puts the client
  // on a list that mangle only reads (a factor read by packets that never write it).
  const svc = (s: number) => `172.30.0.${40 + s}`;
  const TEXT = (extra: string) => `${tableStart('mangle', ['COUNT'])}
-A PREROUTING -m recent --name SEEN --rcheck --seconds 100000 -j MARK --set-mark 0x2
-A PREROUTING -j COUNT
-A COUNT -m statistic --mode nth --every 3 --packet 0 -j MARK --set-mark 0x1
${extra}-A COUNT -p tcp --dport 80 -m limit --limit 2/minute --limit-burst 3 -j MARK --set-mark 0x4
COMMIT
${tableStart('filter')}
-A FORWARD -p tcp -d 10.180.2.0/24 -m connlimit --connlimit-above 1 --connlimit-mask 32 -j REJECT
COMMIT
${tableStart('nat', ['KUBE-SERVICES', 'KUBE-SVC-P', 'KUBE-SEP-P1', 'KUBE-SEP-P2', ...[0, 1, 2].flatMap((s) => [`KUBE-SVC-${s}`, ...[1, 2, 3].map((e) => `KUBE-SEP-${s}-${e}`)])])}
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
${[0, 1, 2].map((s) => `-A KUBE-SERVICES -d ${svc(s)}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-${s}`).join('\n')}
-A KUBE-SERVICES -d ${svc(3)}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-P
-A KUBE-SVC-P -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-P1
-A KUBE-SVC-P -j KUBE-SEP-P2
-A KUBE-SEP-P1 -p tcp -m tcp -j DNAT --to-destination 10.180.1.1:80
-A KUBE-SEP-P2 -p tcp -m tcp -j DNAT --to-destination 10.180.1.2:80
-A KUBE-SEP-0-1 -m recent --name SEEN --set
${[0, 1, 2].flatMap((s) => affinityRules({ svc: `KUBE-SVC-${s}`, sep: (e) => `KUBE-SEP-${s}-${e}`, endpoints: 3, seconds: s === 2 ? 30 : 10800, dnat: (e) => `10.180.${s}.${e}:80` })).join('\n')}
COMMIT
`;
  const NODE = dumpNode(TEXT(''));
  // The same with a rule kpsim cannot decide for some packets (-m devgroup: no input describes
  // interface groups), on a mark only the nth rule sets: runs part UNKNOWN.
  const UNKNOWN_NODE = dumpNode(TEXT('-A COUNT -m mark --mark 0x1 -m devgroup --src-group 0x7 -j DROP\n'));

  /** Two clients, three affinity services: replies, repeats, the clock moving. */
  function randomFlows(seed: number): FlowSpec[] {
    const rand = mulberry32(seed * 7919);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    // Two clients of three affinity services: the reference's worlds stay below its limit (3^6).
    const clients = ['10.0.0.2', '10.0.0.3'];
    const flows: FlowSpec[] = [];
    let at = 0;
    for (let n = 0; n < 14; n++) {
      const r = rand();
      at += rand() < 0.2 ? Math.floor(rand() * 40) : 0;
      if (r < 0.15 && flows.length > 0) {
        // A packet of an earlier connection, or its reply from the endpoint.
        const old = pick(flows);
        flows.push(rand() < 0.5 ? { ...old, name: `again ${n}`, at } : { name: `reply ${n}`, protocol: 'tcp', sourceIP: `10.180.${Math.floor(rand() * 3)}.${1 + Math.floor(rand() * 3)}`, sourcePort: 80, destIP: old.sourceIP, destPort: old.sourcePort ?? 40000, at });
      } else flows.push({ name: `p${n}`, protocol: 'tcp', sourceIP: pick(clients), sourcePort: 40000 + Math.floor(rand() * 4), destIP: svc(Math.floor(rand() * 4)), destPort: 80, at });
    }
    return flows;
  }

  /** The longest start of `flows` whose worlds the reference holds exactly. */
  function exactStart(fresh: Fresh, flows: FlowSpec[]): FlowSpec[] {
    const { rs, env } = fresh();
    const results = traceFlowsWhole(rs, env, flows);
    const n = results.findIndex((r) => r.approximate);
    return n < 0 ? flows : flows.slice(0, n);
  }

  it.each(Array.from({ length: 15 }, (_, i) => i + 1))('random sequence %i: clients, affinity, timeouts, counters, buckets, reused and replied connections', (seed) => {
    const flows = exactStart(NODE, randomFlows(seed));
    expect(flows.length).toBeGreaterThan(6);
    expectSame(NODE, flows, `seed ${seed}`);
  });

  it.each(Array.from({ length: 10 }, (_, i) => i + 1))('random sequence %i with a rule kpsim cannot decide', (seed) => {
    const flows = exactStart(UNKNOWN_NODE, randomFlows(seed + 100));
    expect(flows.length).toBeGreaterThan(6);
    // Some packet meets the rule (the run goes on as whole worlds from there).
    const { rs, env } = UNKNOWN_NODE();
    expect(traceFlows(rs, env, flows).some((r) => r.result.walks.some((w) => w.unknown !== null))).toBe(true);
    expectSame(UNKNOWN_NODE, flows, `seed ${seed}`);
  });

  it('a run that meets the undecidable rule goes on as whole worlds, and says UNKNOWN where they do', () => {
    // The third packet is the nth rule's: marked 0x1, it meets the devgroup rule.
    const flows: FlowSpec[] = [0, 1, 2, 3].map((k) => ({ name: `p${k}`, protocol: 'tcp', sourceIP: '10.0.0.2', sourcePort: 40000 + k, destIP: svc(3), destPort: 80 }));
    const { rs, env } = UNKNOWN_NODE();
    const verdicts = traceFlows(rs, env, flows).map((r) => r.outcomes.map((o) => o.verdict).join(','));
    expect(verdicts.some((v) => v.includes('UNKNOWN'))).toBe(true);
    expectSame(UNKNOWN_NODE, flows, 'undecidable');
  });

  it('independent clients of affinity services cost the factors a packet reads, not their product', () => {
    // 12 clients each to one service: the list of whole worlds would hold 3^12 of them, far past
    // MAX_WORLDS (1024), so the reference drops some and is approximate; the factors stay exact.
    const CLIENTS = 12;
    const flows: FlowSpec[] = [];
    for (let c = 0; c < CLIENTS; c++) flows.push({ name: `c${c}`, protocol: 'tcp', sourceIP: `10.1.${c >> 8}.${c & 255}`, sourcePort: 40000, destIP: svc(c % 3), destPort: 80 });
    // ... and each comes back: its endpoint is remembered (the same three outcomes, each 1/3).
    for (let c = 0; c < CLIENTS; c++) flows.push({ name: `again c${c}`, protocol: 'tcp', sourceIP: `10.1.${c >> 8}.${c & 255}`, sourcePort: 40001, destIP: svc(c % 3), destPort: 80 });
    const { rs, env } = NODE();
    const results = traceFlows(rs, env, flows);
    expect(results.every((r) => !r.approximate)).toBe(true);
    const { rs: rs2, env: env2 } = NODE();
    expect(traceFlowsWhole(rs2, env2, flows).some((r) => r.approximate)).toBe(true);
    // Each packet: three endpoints, the odds of the first visit's split (which the affinity then keeps).
    const odds = results[0].outcomes.map((o) => `${o.packet.dst} ${fractionText(o.prob)}`);
    expect(odds).toHaveLength(3);
    for (const r of results) expect(r.outcomes.map((o) => fractionText(o.prob)).sort()).toEqual(results[0].outcomes.map((o) => fractionText(o.prob)).sort());
    // The second visit goes through the affinity rules only: its path meets the rcheck rule of the endpoint it goes to.
    for (const r of results.slice(CLIENTS)) expect(r.outcomes.every((o) => o.path.some((p) => p.rule?.chain.startsWith('KUBE-SVC-') && p.rule.num <= 3))).toBe(true);
  });
});
