// The flow cache (src/packetsim/flow-cache.ts) is exact: a bulk trace gives every packet the same
// outcomes, paths and probabilities with it as without, on every golden case's flows (each a
// second time from another source port, where the cache answers) and on random flows through
// rulesets that read every part of the cache's key and the source, with state in the way
// (connections reused and replied to, ClientIP affinity, nth counters, token buckets, IPVS in the
// golden cases). And the test can fail: a cache whose key leaves out any one part, or that
// answers without the source checks, gives some packet another answer.
import { describe, expect, it } from 'vitest';
import { ClassJson, HOLES, type Hole } from '../../src/report/json-class.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { FlowCache, KEY_PARTS, type KeyPart } from '../../src/packetsim/flow-cache.js';
import type { FlowSpec } from '../../src/packetsim/trace.js';
import { mulberry32 } from '../../src/util/rng.js';
import { affinityRules } from './affinity-rules.js';
import { another, both, differs, jsonTexts } from './flow-cache-runs.js';
import { dumpNode, tableStart, type Engine } from './flows-shown.js';
import { GOLDEN_FLOW_CASES, goldenFlows } from './golden-flows.js';

describe("a cached packet's JSON spelled from its class's template is traceJson's", () => {
  it.each(GOLDEN_FLOW_CASES)('golden case $name', ({ file }) => {
    for (const g of goldenFlows(file)) {
      // Each flow four times from other sources: the cache answers, and the templates fill in.
      const flows = [...g.flows, ...[1, 2, 3].flatMap((k) => g.flows.map((f) => another(f, k)))];
      for (const paths of [false, true]) for (const { full, fast } of jsonTexts(g.fresh, flows, new ClassJson(), paths)) expect(fast).toBe(full);
    }
  });
});

describe('the flow cache gives what tracing gives', () => {
  it.each(GOLDEN_FLOW_CASES)('golden case $name', ({ file }) => {
    for (const g of goldenFlows(file)) {
      // Each flow twice, from another port: the second round is answered from the cache where it may be.
      const twice = [...g.flows, ...g.flows.map((f) => ({ ...f, name: `${f.name} again`, sourcePort: (f.sourcePort ?? 40000) + 1 }))];
      const { cached, plain } = both(g.fresh, twice, (env) => new FlowCache(env));
      expect(cached).toEqual(plain);
    }
  });

  // Services of three endpoints (kube-proxy's shape: the masquerade rule for sources outside the
  // pod network, hairpin masquerade per endpoint), a UDP port beside a TCP one, a mark set for
  // packets arriving on eth9 and one the KUBE-SERVICES chain reads, masquerade of marked packets,
  // an affinity service and an nth-counted rule on its own port, a limit on another, marks set by
  // a source range and by a source port range for packets to one service each.
  const svc = (s: number) => `172.30.0.${10 + s}`;
  const ep = (s: number, e: number) => `10.1.${s}.${e}`;
  const services = [0, 1, 2, 3];
  const TEXT = `${tableStart('mangle')}
-A PREROUTING -i eth9 -j MARK --set-mark 0x8
-A PREROUTING -p tcp --dport 90 -m statistic --mode nth --every 2 --packet 0 -j MARK --set-mark 0x20
-A PREROUTING -p tcp --dport 91 -m limit --limit 1/minute --limit-burst 2 -j MARK --set-mark 0x40
-A PREROUTING -d ${svc(3)}/32 -m iprange --src-range 10.3.0.1-10.3.0.50 -j MARK --set-mark 0x100
-A PREROUTING -d ${svc(2)}/32 -p tcp -m tcp --sport 1024:1200 -j MARK --set-mark 0x200
COMMIT
${tableStart('nat', ['KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'KUBE-EIGHT', 'KUBE-SVC-A', ...[1, 2].map((e) => `KUBE-SEP-A${e}`), ...services.flatMap((s) => [`KUBE-SVC-${s}`, `KUBE-SVC-U${s}`, ...[1, 2, 3].map((e) => `KUBE-SEP-${s}-${e}`)])])}
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
-A POSTROUTING -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MASQUERADE
-A KUBE-SERVICES -m mark --mark 0x8 -j KUBE-EIGHT
-A KUBE-EIGHT -j DNAT --to-destination 10.9.9.9
-A KUBE-SERVICES -d ${svc(9)}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A
${services.map((s) => `-A KUBE-SERVICES -d ${svc(s)}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-${s}\n-A KUBE-SERVICES -d ${svc(s)}/32 -p udp -m udp --dport 80 -j KUBE-SVC-U${s}\n-A KUBE-SERVICES -d ${svc(s)}/32 -p tcp -m tcp --dport 90:91 -j KUBE-SVC-${s}`).join('\n')}
${affinityRules({ svc: 'KUBE-SVC-A', sep: (e) => `KUBE-SEP-A${e}`, endpoints: 2, seconds: 10800, dnat: (e) => `10.2.0.${e}:80` }).join('\n')}
${services
  .map((s) =>
    [
      `-A KUBE-SVC-${s} ! -s 10.0.0.0/8 -d ${svc(s)}/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ`,
      `-A KUBE-SVC-${s} -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-${s}-1`,
      `-A KUBE-SVC-${s} -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-${s}-2`,
      `-A KUBE-SVC-${s} -j KUBE-SEP-${s}-3`,
      `-A KUBE-SVC-U${s} -j KUBE-SEP-${s}-3`,
      ...[1, 2, 3].flatMap((e) => [`-A KUBE-SEP-${s}-${e} -s ${ep(s, e)}/32 -j KUBE-MARK-MASQ`, `-A KUBE-SEP-${s}-${e} -p tcp -m tcp -j DNAT --to-destination ${ep(s, e)}:8080`, `-A KUBE-SEP-${s}-${e} -p udp -m udp -j DNAT --to-destination ${ep(s, e)}:5353`]),
    ].join('\n'),
  )
  .join('\n')}
COMMIT
`;
  // eth0 192.168.0.2/24, eth9 172.31.0.2/24; strict reverse-path filtering on eth0.
  const NODE = dumpNode(TEXT, [...simpleInterfaces(['192.168.0.2']), { name: 'eth9', addresses: ['172.31.0.2/24'] }], new Map([['net.ipv4.conf.eth0.rp_filter', '1']]));
  // A node with no interface but loopback: packets from elsewhere have no incoming interface, as
  // packets of its own have none; only their origin tells them apart.
  const NODE_LO = dumpNode(TEXT, [{ name: 'lo', addresses: ['127.0.0.1/8'] }]);

  /** Random flows that vary every part of the key and the source, with state in the way. */
  function randomFlows(seed: number, n: number): FlowSpec[] {
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const flows: FlowSpec[] = [];
    for (let k = 0; k < n; k++) {
      const s = pick(services);
      if (flows.length > 0 && rand() < 0.05) {
        // A packet of an earlier connection, or its reply from an endpoint: conntrack decides.
        const old = pick(flows);
        flows.push(rand() < 0.5 ? { ...old, name: `again ${k}` } : { name: `reply ${k}`, protocol: old.protocol, sourceIP: ep(s, 1 + (k % 3)), sourcePort: old.protocol === 'udp' ? 5353 : 8080, destIP: old.sourceIP, destPort: old.sourcePort ?? 40000 });
        continue;
      }
      const sourceIP = pick([`10.2.${k & 255}.7`, `10.3.0.${1 + (k % 200)}`, ep(s, 1 + (k % 3)), `203.0.113.${k % 250}`, '192.168.0.2', '192.168.0.9', '172.31.0.9', '172.31.0.2']);
      const affinity = rand() < 0.05;
      flows.push({
        name: `f${k}`,
        protocol: affinity ? 'tcp' : rand() < 0.8 ? 'tcp' : 'udp',
        sourceIP,
        sourcePort: 1024 + k,
        destIP: affinity ? svc(9) : rand() < 0.9 ? svc(s) : svc(s + 1),
        destPort: affinity ? 80 : pick([80, 80, 80, 80, 80, 81, 90, 91]),
        inInterface: rand() < 0.15 ? pick(['eth9', 'eth0']) : null,
        mark: rand() < 0.1 ? pick([0x8, 0x4000]) : 0,
      });
    }
    return flows;
  }

  it.each([1, 2, 3, 4, 5])('random flows, seed %i', (seed) => {
    const flows = randomFlows(seed, 400);
    const caches: FlowCache[] = [];
    const { cached, plain } = both(NODE, flows, (env) => new FlowCache(env), caches);
    expect(cached).toEqual(plain);
    // Most packets were answered from the cache (else the comparison shows little of it).
    expect(caches[0].hits).toBeGreaterThan(flows.length / 8);
  });

  it('gives what tracing gives on a node with loopback alone', () => {
    const flows = randomFlows(7, 200);
    const caches: FlowCache[] = [];
    const { cached, plain } = both(NODE_LO, flows, (env) => new FlowCache(env), caches);
    expect(cached).toEqual(plain);
    expect(caches[0].hits).toBeGreaterThan(flows.length / 8);
  });

  it.each([...KEY_PARTS])('goes wrong without %s in the key', (part: KeyPart) => {
    const parts = KEY_PARTS.filter((p) => p !== part);
    const make = (env: Parameters<Engine>[1]) => new FlowCache(env, parts);
    expect(differs(both(NODE, randomFlows(11, 600), make)) || differs(both(NODE_LO, randomFlows(12, 300), make))).toBe(true);
  });

  it('goes wrong without the source checks', () => {
    expect(differs(both(NODE, randomFlows(11, 600), (env) => new FlowCache(env, KEY_PARTS, false)))).toBe(true);
  });

  it.each([false, true])('spells the JSON of random flows as traceJson does (paths: %s)', (paths) => {
    for (const [fresh, seed] of [[NODE, 21], [NODE, 22], [NODE_LO, 23]] as const) {
      const classes = new ClassJson();
      for (const { full, fast } of jsonTexts(fresh, randomFlows(seed, 500), classes, paths)) expect(fast).toBe(full);
      // Many packets were spelled from a template (else the comparison shows little of it).
      expect(classes.filled).toBeGreaterThan(20);
    }
  });

  it.each([...HOLES])('catches a template without the %s holes, which used unchecked goes wrong', (hole: Hole) => {
    const flows = randomFlows(24, 500);
    const without = HOLES.filter((h) => h !== hole);
    // Checked against the second packet of its class, such a template is never used.
    const checked = new ClassJson(without);
    for (const { full, fast } of jsonTexts(NODE, flows, checked, false)) expect(fast).toBe(full);
    expect(checked.filled).toBe(0);
    // Unchecked, it gives some packet another text.
    expect(jsonTexts(NODE, flows, new ClassJson(without, false), false).some(({ full, fast }) => fast !== full)).toBe(true);
  });

  it('answers past an addrtype --dst-type test (it reads the destination, not the source), exactly', () => {
    // KUBE-EXTERNAL-SERVICES' shape at a few services: every packet meets the addrtype tests.
    const text = `${tableStart('filter', ['KUBE-EXT'])}
-A FORWARD -j KUBE-EXT
${[30000, 30001, 30002].map((p) => `-A KUBE-EXT -p tcp -m addrtype --dst-type LOCAL -m tcp --dport ${p} -j DROP`).join('\n')}
COMMIT
${tableStart('nat', ['KUBE-SERVICES', 'KUBE-SVC-0', 'KUBE-SEP-1', 'KUBE-SEP-2'])}
-A PREROUTING -j KUBE-SERVICES
-A KUBE-SERVICES -d ${svc(0)}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-0
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30000 -j KUBE-SVC-0
-A KUBE-SVC-0 -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-1
-A KUBE-SVC-0 -j KUBE-SEP-2
-A KUBE-SEP-1 -p tcp -m tcp -j DNAT --to-destination ${ep(0, 1)}:8080
-A KUBE-SEP-2 -p tcp -m tcp -j DNAT --to-destination ${ep(0, 2)}:8080
COMMIT
`;
    const flows: FlowSpec[] = [];
    for (let k = 0; k < 60; k++) flows.push({ name: `f${k}`, protocol: 'tcp', sourceIP: k % 5 === 4 ? '192.168.0.2' : `10.7.${k}.1`, sourcePort: 2000 + k, destIP: k % 3 === 2 ? '192.168.0.2' : svc(0), destPort: k % 3 === 2 ? 30000 + (k % 4) : 80 });
    const caches: FlowCache[] = [];
    const { cached, plain } = both(dumpNode(text), flows, (env) => new FlowCache(env), caches);
    expect(cached).toEqual(plain);
    expect(caches[0].hits).toBeGreaterThan(flows.length / 2);
  });

  it('remembers no trace that read state: affinity lists, counters, buckets, connections', () => {
    const flows: FlowSpec[] = [];
    for (let k = 0; k < 40; k++) flows.push({ name: `a${k}`, protocol: 'tcp', sourceIP: `10.5.0.${k % 4}`, sourcePort: 2000 + k, destIP: svc(9), destPort: 80 });
    for (let k = 0; k < 40; k++) flows.push({ name: `n${k}`, protocol: 'tcp', sourceIP: `10.5.1.${k}`, sourcePort: 3000 + k, destIP: svc(0), destPort: 90 + (k % 2) });
    const caches: FlowCache[] = [];
    const { cached, plain } = both(NODE, flows, (env) => new FlowCache(env), caches);
    expect(cached).toEqual(plain);
    expect(caches[0].remembered).toBe(0);
  });
});
