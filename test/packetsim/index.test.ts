import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import { kubeRuleset, NODE_IP, packets, serviceIP } from '../../bench/trace.js';
import { compiledChains, linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { simpleInterfaces } from '../../src/node/node.js';

const simpleFacts = (ips: readonly string[]) => ({ interfaces: simpleInterfaces(ips), routes: [] });
import { explainer } from '../../src/packetsim/explain.js';
import { tracePacket, type PacketSpec, type TraceResult } from '../../src/packetsim/trace.js';
import { traceJson as reportJson } from '../../src/report/json.js';

/** The --json output of a trace (rule lines from the IR's spans: no listing here). */
const traceJson = (r: TraceResult) => reportJson({ result: r, outcomes: r.outcomes }, explainer({ netfilter: new Map(), ipsets: null }, r.family), { paths: true, verbose: false });

const ENV = buildEnv(simpleFacts([NODE_IP]), 'ipv4');
import type { Rule, Ruleset } from '../../src/iptables/ir.js';
import { rule, ruleset } from './ir-builder.js';
import { corpusTargets } from './corpus.js';

/** The generated ruleset plus rules without a -d / --dport key in the middle of indexed chains. */
function withGenericRules(rs: Ruleset): Ruleset {
  const extra: Record<string, Rule[]> = {
    'KUBE-SERVICES': [rule('-A KUBE-SERVICES -s 10.0.0.2/32 -j KUBE-MARK-MASQ'), rule('-A KUBE-SERVICES -s 10.0.0.3/32 -p tcp -d 172.16.0.40/32 --dport 80 -j KUBE-MARK-MASQ')],
    'KUBE-NODEPORTS': [rule('-A KUBE-NODEPORTS -s 203.0.113.9/32 -j KUBE-MARK-MASQ'), rule('-A KUBE-NODEPORTS -m statistic --mode random --probability 0.5 -p tcp -m tcp --dport 30040 -j KUBE-MARK-MASQ')],
  };
  const tables = rs.tables.map((t) => {
    if (t.name !== 'nat') return t;
    const commands = [...t.commands];
    for (const [chain, rules] of Object.entries(extra)) {
      const at = commands.findIndex((c, i) => c.kind === 'rule' && c.chain === chain && i > 0 && commands.filter((d, j) => j < i && d.kind === 'rule' && d.chain === chain).length === 30);
      commands.splice(at, 0, ...rules);
    }
    return { ...t, commands };
  });
  return { ...rs, tables };
}

const IR = withGenericRules(kubeRuleset(60, 3));
const INDEXED = linkRuleset(loadedState(IR, []), { index: true });
const PLAIN = linkRuleset(loadedState(IR, []), { index: false });

const EDGE: PacketSpec[] = [
  { protocol: 'tcp', sourceIP: '10.0.0.2', destIP: serviceIP(0), destPort: 80 },
  { protocol: 'tcp', sourceIP: '10.0.0.2', destIP: serviceIP(59), destPort: 81 },
  { protocol: 'udp', sourceIP: '10.0.0.2', destIP: serviceIP(7), destPort: 80 },
  { protocol: 'tcp', sourceIP: '203.0.113.9', destIP: NODE_IP, destPort: 30007 },
  { protocol: 'tcp', sourceIP: NODE_IP, destIP: '127.0.0.1', destPort: 30003 },
  { protocol: 'tcp', sourceIP: '10.0.0.2', destIP: '172.16.9.9', destPort: 80 },
  { protocol: 'tcp', sourceIP: '10.0.0.3', destIP: serviceIP(40), destPort: 80 },
  { protocol: 'tcp', sourceIP: '203.0.113.9', destIP: NODE_IP, destPort: 30040 },
  { protocol: 'tcp', sourceIP: '203.0.113.8', destIP: NODE_IP, destPort: 30040 },
  ...Array.from({ length: 60 }, (_, i): PacketSpec => ({ protocol: 'tcp', sourceIP: '10.0.0.2', destIP: serviceIP(i), destPort: 80 })),
];

describe('chain index', () => {
  it('indexes the long chains', () => {
    const nat = INDEXED.tables.get('nat')!;
    const svc = nat.chains.get('KUBE-SERVICES')!;
    let picked = 0;
    for (let l = svc.index!({ pkt: { dst: 0 } } as never); l; l = l.rest) picked++;
    expect(picked).toBeLessThan(svc.rules.length);
    const plainSvc = PLAIN.tables.get('nat')!.chains.get('KUBE-SERVICES')!;
    expect(plainSvc.index).toBeNull();
  });

  it.each([...EDGE, ...packets(60, 300, 11)].map((p, i) => ({ name: `${i}: ${p.protocol} ${p.sourceIP} -> ${p.destIP}:${p.destPort}`, p })))(
    'gives the plain evaluator\'s result: $name',
    ({ p }) => {
      const a = traceJson(tracePacket(INDEXED, ENV, p, { explain: false }));
      const b = traceJson(tracePacket(PLAIN, ENV, p, { explain: false }));
      expect(a).toEqual(b);
    },
  );
});

// The same on every flow of the conformance corpus: kube-proxy's own rulesets, where the nat and
// filter chains are short (no index) but filter FORWARD / INPUT / OUTPUT and nat POSTROUTING are
// memoised, and each flow is traced a second time so that it meets the memo's stored traversals.
describe('chain index and memoised traversals on the conformance corpus', () => {
  const cases = corpusTargets();
  it.each(cases.map((c) => ({ name: c.name, c })))('gives the plain evaluator\'s result: $name', ({ c }) => {
    for (const f of c.flows) {
      const spec: PacketSpec = { protocol: f.protocol.toLowerCase() as PacketSpec['protocol'], sourceIP: f.sourceIP, destIP: f.destIP, destPort: f.destPort };
      const plain = traceJson(tracePacket(c.plain, c.env, spec, { explain: false }));
      expect(traceJson(tracePacket(c.indexed, c.env, spec, { explain: false }))).toEqual(plain);
      expect(traceJson(tracePacket(c.indexed, c.env, spec, { explain: false }))).toEqual(plain);
    }
  });
});

describe('memoised traversals across many keys', () => {
  // filter FORWARD is memoised by mark: the walk must get each mark's own traversal whether the
  // memo finds it as the last key, in its map, or not at all (past its size bound it starts over).
  const RULES = `
*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
:ODD -
-A FORWARD -m mark --mark 0x1/0x1 -j ODD
-A FORWARD -m mark --mark 0x2/0x2 -j DROP
-A ODD -m mark --mark 0x4/0x4 -j REJECT
COMMIT
`;
  it('agrees with the plain evaluator mark by mark, keys repeated and alternating, past the bound', () => {
    const ir = ruleset(RULES);
    const indexed = linkRuleset(loadedState(ir, []), { index: true });
    const plain = linkRuleset(loadedState(ir, []), { index: false });
    expect(indexed.tables.get('filter')!.chains.get('FORWARD')!.memo).not.toBeNull();
    const marks = [1, 1, 2, 1, 2, 2, 5, 4, 5, 0, ...Array.from({ length: 5000 }, (_, i) => i * 7 + (i % 3)), 3, 3, 1, 5];
    const verdicts = new Set<string>();
    for (const mark of marks) {
      const p: PacketSpec = { protocol: 'tcp', sourceIP: '203.0.113.9', destIP: '10.1.2.3', destPort: 80, mark };
      const a = traceJson(tracePacket(indexed, ENV, p));
      expect(a).toEqual(traceJson(tracePacket(plain, ENV, p)));
      verdicts.add(a.outcomes[0].verdict);
    }
    expect([...verdicts].sort()).toEqual(['ACCEPT', 'DROP', 'REJECT']);
  });
});

describe('chains compiled when first reached', () => {
  it('a packet compiles the chains on its way, not the ruleset', () => {
    const rs = linkRuleset(loadedState(IR, []), { index: true });
    expect(compiledChains(rs)).toBe(0);
    const one = traceJson(tracePacket(rs, ENV, EDGE[0], { explain: false }));
    const reached = compiledChains(rs);
    let chains = 0;
    for (const t of rs.tables.values()) chains += t.chains.size;
    // The built-in chains on the way, KUBE-SERVICES, one service's chains and what they jump to.
    expect(reached).toBeGreaterThan(3);
    expect(reached).toBeLessThan(chains / 4);
    // And the same answer as a ruleset whose every chain was compiled first.
    const all = linkRuleset(loadedState(IR, []), { index: true });
    for (const t of all.tables.values()) for (const ch of t.chains.values()) void ch.rules;
    expect(compiledChains(all)).toBe(chains);
    expect(traceJson(tracePacket(all, ENV, EDGE[0], { explain: false }))).toEqual(one);
  });
});
