import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { simpleInterfaces } from '../../src/node/node.js';

const simpleFacts = (ips: readonly string[]) => ({ interfaces: simpleInterfaces(ips), routes: [] });
import { add, fractionText, toDecimal, ZERO } from '../../src/packetsim/fraction.js';
import { formatHostPort } from '../../src/net/index.js';
import { tracePacket, type Outcome } from '../../src/packetsim/trace.js';
import { ruleset } from './ir-builder.js';

const NODE = buildEnv(simpleFacts(['192.168.0.2']), 'ipv4');

const KUBE = `
*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
:KUBE-SERVICES -
:KUBE-FORWARD -
-A INPUT -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -j KUBE-SERVICES
-A FORWARD -j KUBE-FORWARD
-A OUTPUT -m conntrack --ctstate NEW -j KUBE-SERVICES
-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT
:INPUT ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:KUBE-SERVICES -
:KUBE-SVC-A -
:KUBE-SEP-1 -
:KUBE-SEP-2 -
:KUBE-SEP-3 -
:KUBE-MARK-MASQ -
:KUBE-POSTROUTING -
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
-A POSTROUTING -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-A
-A KUBE-SVC-A -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-A -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-1
-A KUBE-SVC-A -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-2
-A KUBE-SVC-A -j KUBE-SEP-3
-A KUBE-SEP-1 -s 10.180.0.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-1 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
-A KUBE-SEP-2 -s 10.180.0.2 -j KUBE-MARK-MASQ
-A KUBE-SEP-2 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
-A KUBE-SEP-3 -s 10.180.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-3 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
COMMIT
`;

const RS = linkRuleset(loadedState(ruleset(KUBE), []));

function summary(o: Outcome) {
  return {
    fraction: fractionText(o.prob),
    verdict: o.verdict,
    delivery: o.delivery,
    dest: formatHostPort(o.packet.dst, o.packet.dport, 'ipv4'),
    masquerade: o.masquerade,
  };
}

describe('tracePacket on a kube-proxy-like ruleset', () => {
  it('compiles without problems', () => {
    expect(RS.problems).toEqual([]);
  });

  it('splits a 3-endpoint service with the kernel-quantised odds', () => {
    const r = tracePacket(RS, NODE, { protocol: 'tcp', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80 });
    expect(r.origin).toBe('remote');
    expect(r.outcomes.map(summary)).toEqual([
      // lround(2^31 * 0.3333333333) = 715827883
      { fraction: '715827883/2147483648', verdict: 'ACCEPT', delivery: 'forward', dest: '10.180.0.1:80', masquerade: false },
      // (1 - 715827883/2^31) * 2^30/2^31
      { fraction: '1431655765/4294967296', verdict: 'ACCEPT', delivery: 'forward', dest: '10.180.0.2:80', masquerade: false },
      { fraction: '1431655765/4294967296', verdict: 'ACCEPT', delivery: 'forward', dest: '10.180.0.3:80', masquerade: false },
    ]);
    expect(toDecimal(r.outcomes[0].prob)).toBe(0.3333333335);
  });

  it('probabilities of all outcomes sum to exactly 1', () => {
    const r = tracePacket(RS, NODE, { protocol: 'tcp', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80 });
    const total = r.outcomes.reduce((s, o) => add(s, o.prob), ZERO);
    expect(fractionText(total)).toBe('1/1');
  });

  it.each([
    { name: 'outside client is masqueraded', src: '203.0.113.2', masq: true, origin: 'remote' },
    { name: 'pod is not', src: '10.0.0.2', masq: false, origin: 'remote' },
    { name: 'the node itself starts in OUTPUT and is masqueraded', src: '192.168.0.2', masq: true, origin: 'local' },
  ])('$name', ({ src, masq, origin }) => {
    const r = tracePacket(RS, NODE, { protocol: 'tcp', sourceIP: src, destIP: '172.30.0.41', destPort: 80 });
    expect(r.origin).toBe(origin);
    expect(r.outcomes.every((o) => o.masquerade === masq && o.dnat)).toBe(true);
    if (masq) expect(r.outcomes.every((o) => o.packet.src === 0xc0a80002)).toBe(true);
  });

  it('rejects a service without endpoints in filter', () => {
    const r = tracePacket(RS, NODE, { protocol: 'tcp', sourceIP: '10.0.0.2', destIP: '172.30.0.46', destPort: 80 });
    expect(r.outcomes.map(summary)).toEqual([{ fraction: '1/1', verdict: 'REJECT', delivery: null, dest: '172.30.0.46:80', masquerade: false }]);
  });

  it('passes an unrelated packet untouched, ending in policies', () => {
    const r = tracePacket(RS, NODE, { protocol: 'udp', sourceIP: '10.0.0.2', destIP: '10.0.0.3', destPort: 53 });
    expect(r.outcomes.map(summary)).toEqual([{ fraction: '1/1', verdict: 'ACCEPT', delivery: 'forward', dest: '10.0.0.3:53', masquerade: false }]);
    expect(r.outcomes[0].path.filter((p) => p.kind === 'policy').map((p) => `${p.chain.table}:${p.chain.name}`)).toEqual([
      'nat:PREROUTING', 'filter:FORWARD', 'nat:POSTROUTING',
    ]);
  });

  it('delivers to the node locally', () => {
    const r = tracePacket(RS, NODE, { protocol: 'tcp', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 22 });
    expect(r.outcomes.map((o) => o.delivery)).toEqual(['local']);
  });
});

const CHAINS = `
*filter
:INPUT DROP
:FORWARD ACCEPT
:OUTPUT ACCEPT
:A -
:B -
:C -
:D -
:L1 -
:L2 -
-A INPUT -p tcp --dport 1 -j A
-A INPUT -p tcp --dport 2 -g B
-A INPUT -p tcp --dport 3 -j C
-A INPUT -p tcp --dport 4 -m weird --thing 1 -j ACCEPT
-A INPUT -p tcp --dport 5 -j OPAQUE --foo
-A INPUT -p tcp --dport 6 -m mark --mark 0x1/0x1 -j ACCEPT
-A INPUT -p tcp --dport 6 -j MARK --set-mark 0x1
-A INPUT -p tcp --dport 6 -m mark --mark 0x1/0x1 -j ACCEPT
-A INPUT -p tcp --dport 7 -j L1
-A INPUT -p tcp --dport 8 -j D
-A INPUT -p tcp --dport 8 -g D
-A A -j RETURN
-A A -j DROP
-A B -j RETURN
-A C -j ACCEPT
-A D -p udp -j ACCEPT
-A L1 -j L2
-A L2 -j L1
COMMIT
`;
const RS2 = linkRuleset(loadedState(ruleset(CHAINS), []));

describe('chain semantics', () => {
  it.each([
    { name: 'jump then RETURN continues after the jump: policy DROP', dport: 1, verdicts: ['DROP'] },
    { name: 'goto then RETURN from a base chain: the policy', dport: 2, verdicts: ['DROP'] },
    { name: 'ACCEPT in a user chain accepts', dport: 3, verdicts: ['ACCEPT'] },
    { name: 'an unknown match explores both ways', dport: 4, verdicts: ['UNKNOWN', 'UNKNOWN'] },
    { name: 'an unknown target is UNKNOWN', dport: 5, verdicts: ['UNKNOWN'] },
    { name: 'MARK is non-terminating and later rules see it', dport: 6, verdicts: ['ACCEPT'] },
    { name: 'jumps in a loop stop at the depth limit', dport: 7, verdicts: ['UNKNOWN'] },
    { name: 'jump, fall off the end, goto, fall off the end: the policy', dport: 8, verdicts: ['DROP'] },
  ])('$name', ({ dport, verdicts }) => {
    const r = tracePacket(RS2, NODE, { protocol: 'tcp', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: dport });
    expect(r.outcomes.map((o) => o.verdict)).toEqual(verdicts);
  });

  it('records what an unknown outcome assumed', () => {
    const r = tracePacket(RS2, NODE, { protocol: 'tcp', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 4 });
    expect(r.outcomes.map((o) => [o.assumedVerdict, o.unknown.map((u) => u.assumed)])).toEqual([
      ['ACCEPT', ['match']],
      ['DROP', ['no match']],
    ]);
  });

  it('says why a loop of jumps stopped', () => {
    const r = tracePacket(RS2, NODE, { protocol: 'tcp', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 7 });
    expect(r.outcomes[0].note).toBe('jump depth over 128: a loop between chains');
    expect(r.outcomes[0].path).toHaveLength(128);
  });

  it('explains the implicit return at the end of a called chain, not at the end of a goto', () => {
    const r = tracePacket(RS2, NODE, { protocol: 'tcp', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 8 }, { explain: true });
    const steps = r.outcomes[0].path.map((p) => `${p.kind} ${p.chain.name}${p.rule ? ` ${p.rule.num}` : ''}`);
    expect(steps.slice(-6)).toEqual(['rule INPUT 10', 'nomatch D 1', 'return D', 'rule INPUT 11', 'nomatch D 1', 'policy INPUT']);
  });

  it('the mark rule path shows MARK then ACCEPT', () => {
    const r = tracePacket(RS2, NODE, { protocol: 'tcp', sourceIP: '203.0.113.2', destIP: '192.168.0.2', destPort: 6 });
    expect(r.outcomes[0].path.map((p) => p.rule?.num ?? p.kind)).toEqual([7, 8]);
  });
});

describe('statistic --mode random wherever it sits in a rule', () => {
  // The walker splits on a first-position statistic match from fields copied into the rule, and on
  // one after other matches from the match object: both must give the kernel's odds, `!` included.
  const RS3 = linkRuleset(loadedState(
    ruleset(`
*nat
:PREROUTING ACCEPT
:INPUT ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:C1 -
:C2 -
:C3 -
:C4 -
:C5 -
-A PREROUTING -p tcp --dport 1 -j C1
-A PREROUTING -p tcp --dport 2 -j C2
-A PREROUTING -p tcp --dport 3 -j C3
-A PREROUTING -p tcp --dport 4 -j C4
-A PREROUTING -p tcp --dport 5 -j C5
-A PREROUTING -p tcp --dport 6 -j REDIRECT --to-ports 8080
-A C1 -p tcp -m tcp --dport 1 -m statistic --mode random ! --probability 0.25 -j DNAT --to-destination 10.1.0.1:80
-A C2 -m statistic --mode random ! --probability 0.25 -j DNAT --to-destination 10.1.0.2:80
-A C3 -m tcp -p tcp --dport 3 -m statistic --mode random --probability 0.25 -j DNAT --to-destination 10.1.0.3:80
-A C4 -m statistic --mode random --probability 0 -j DNAT --to-destination 10.1.0.4:80
-A C5 -m statistic --mode random --probability 1 -j DNAT --to-destination 10.1.0.5:80
COMMIT
`), []),
  );
  const odds = (dport: number) =>
    tracePacket(RS3, NODE, { protocol: 'tcp', sourceIP: '203.0.113.2', destIP: '192.168.0.9', destPort: dport }).outcomes.map((o) => `${fractionText(o.prob)} ${formatHostPort(o.packet.dst, o.packet.dport, 'ipv4')}`);

  it.each([
    { dport: 1, want: ['3/4 10.1.0.1:80', '1/4 192.168.0.9:1'] },
    { dport: 2, want: ['3/4 10.1.0.2:80', '1/4 192.168.0.9:2'] },
    { dport: 3, want: ['1/4 10.1.0.3:80', '3/4 192.168.0.9:3'] },
    { dport: 4, want: ['1/1 192.168.0.9:4'] },
    { dport: 5, want: ['1/1 10.1.0.5:80'] },
  ])('dport $dport', ({ dport, want }) => {
    expect(odds(dport)).toEqual(want);
  });

  it('REDIRECT sends to the incoming interface address and the given port', () => {
    expect(odds(6)).toEqual(['1/1 192.168.0.2:8080']);
  });
});
