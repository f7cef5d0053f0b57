// What an unmodelled match does to a trace (issue 14, bugs 4 and 5): a rule whose target changes
// nothing that decides the outcome is no fork; where branches differ, each distinct end is one
// outcome with its probability bounded over the ways the unmodelled matches may go; and --flows
// never gives a probability above 1, a later packet exact unless it truly depends on them.
import { describe, expect, it } from 'vitest';
import { loadedState } from '../../src/iptables/state.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { compiledChains, linkRuleset } from '../../src/packetsim/link.js';
import { isInert } from '../../src/packetsim/inert.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { compare, fractionText, ONE } from '../../src/packetsim/fraction.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { tracePacket, type FlowSpec, type Outcome } from '../../src/packetsim/trace.js';
import { ruleset } from './ir-builder.js';

const ENV = buildEnv({ interfaces: simpleInterfaces(['192.168.0.2']), routes: [] }, 'ipv4');
const compile = (text: string) => linkRuleset(loadedState(ruleset(text), []));
const pkt = (destPort: number, sourceIP = '192.168.1.5'): FlowSpec => ({ protocol: 'tcp', sourceIP, destIP: '10.1.2.3', destPort });
const summary = (os: readonly Outcome[]) => os.map((o) => `${o.verdict} ${o.min ? `${fractionText(o.min)}..` : ''}${fractionText(o.prob)}`).sort();

// An OpenStack-like FORWARD chain: interface-group rules kpsim cannot decide (-m devgroup: no input
// gives the groups), most of them only logging or jumping to chains that only log.
const BRIDGED = `
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:neutron-log - [0:0]
:neutron-inner - [0:0]
-A FORWARD -m devgroup --src-group 0x9 -j neutron-log
-A FORWARD -m devgroup --src-group 0x1 -j LOG --log-prefix "tap1 "
-A FORWARD -m devgroup --src-group 0x2 -j NFLOG --nflog-group 3
-A FORWARD -m devgroup --dst-group 0x3
-A FORWARD -m devgroup --src-group 0x4 -j neutron-log
-A FORWARD -m devgroup --src-group 0x5 -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 443 -j ACCEPT
-A neutron-log -m devgroup --dst-group 0x6 -j neutron-inner
-A neutron-log -m devgroup --dst-group 0x7 -j RETURN
-A neutron-log -j LOG
-A neutron-inner -m limit --limit 3/min -j LOG
-A neutron-inner -j NFLOG
COMMIT
`;

describe('unmodelled matches guarding rules that change nothing', () => {
  const rs = compile(BRIDGED);

  it('are no fork: LOG, NFLOG, no target, and jumps to chains that only log or return', () => {
    const r = tracePacket(rs, ENV, pkt(443));
    expect(summary(r.outcomes)).toEqual(['ACCEPT 1/1']);
    // Only the rule that accepts forks (both ways end accepted); the six others would have made 64 walks.
    expect(r.walks.length).toBe(2);
  });

  it('fork where the target decides: each distinct end once, with its bounds and what it rests on', () => {
    const r = tracePacket(rs, ENV, pkt(80));
    expect(summary(r.outcomes)).toEqual(['UNKNOWN 0/1..1/1', 'UNKNOWN 0/1..1/1']);
    const accepted = r.outcomes.find((o) => o.assumedVerdict === 'ACCEPT')!;
    expect(accepted.unknown.map((u) => `${u.rule.num} ${u.assumed}`)).toEqual(['6 match']);
  });

  it('a rule with a goto, a MARK or a recent --set is not inert', () => {
    const g = compile(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:L - [0:0]\n-A FORWARD -m devgroup --src-group 0x11 -g L\n-A FORWARD -m devgroup --src-group 0x12 -j MARK --set-mark 1\n-A FORWARD -m devgroup --src-group 0x13 -m recent --set --name seen\n-A L -j LOG\nCOMMIT\n`);
    const rules = g.tables.get('filter')!.chains.get('FORWARD')!.rules;
    expect(rules.map(isInert)).toEqual([false, false, false]);
    expect(isInert(g.tables.get('filter')!.chains.get('L')!.rules[0])).toBe(true);
  });

  it('a jump to a chain of LOG and RETURN rules is inert, a jump into a loop is not; deciding compiles only the chains jumped to', () => {
    const g = compile(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:L - [0:0]\n:R - [0:0]\n:A - [0:0]\n:B - [0:0]\n:U - [0:0]\n-A FORWARD -m devgroup --src-group 0x11 -j L\n-A FORWARD -m devgroup --src-group 0x12 -j A\n-A L -j LOG\n-A L -j R\n-A R -j RETURN\n-A A -j B\n-A B -j A\n-A U -j DROP\nCOMMIT\n`);
    const filter = g.tables.get('filter')!;
    const [toL, toA] = filter.chains.get('FORWARD')!.rules;
    expect(compiledChains(g)).toBe(1);
    expect(isInert(toL)).toBe(true);
    // FORWARD, L and R; not A, B or U.
    expect(compiledChains(g)).toBe(3);
    expect(isInert(toA)).toBe(false);
    expect(isInert(filter.chains.get('B')!.rules[0])).toBe(false);
    expect(compiledChains(g)).toBe(5);
  });
});

describe('outcomes bounded over the unmodelled branches', () => {
  it('an end reached both ways is exact: not UNKNOWN', () => {
    const rs = compile(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m devgroup --src-group 0x9 -j ACCEPT\nCOMMIT\n`);
    expect(summary(tracePacket(rs, ENV, pkt(80)).outcomes)).toEqual(['ACCEPT 1/1']);
  });

  it('a statistic split before an unmodelled fork: the bounds add the split exactly', () => {
    const rs = compile(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:S - [0:0]\n-A FORWARD -m statistic --mode random --probability 0.5 -j S\n-A FORWARD -j ACCEPT\n-A S -m devgroup --src-group 0x9 -j DROP\nCOMMIT\n`);
    expect(summary(tracePacket(rs, ENV, pkt(80)).outcomes)).toEqual(['UNKNOWN 0/1..1/2', 'UNKNOWN 1/2..1/1']);
  });
});

describe('--flows after an unmodelled branch', () => {
  const rs = compile(BRIDGED);
  const flows = [pkt(80), pkt(81), pkt(443), pkt(443, '192.168.1.6'), { ...pkt(80), name: 'again' }];
  const results = traceFlows(rs, ENV, flows);

  it('never gives a probability above 1', () => {
    for (const r of results) for (const o of r.outcomes) expect(compare(o.prob, ONE)).toBeLessThanOrEqual(0);
  });

  it('gives later packets that do not depend on the branch their exact answer', () => {
    expect(summary(results[2].outcomes)).toEqual(['ACCEPT 1/1']);
    expect(summary(results[3].outcomes)).toEqual(['ACCEPT 1/1']);
  });

  it('keeps a later packet of the same connection resting on what the first one assumed', () => {
    expect(summary(results[4].outcomes)).toEqual(['UNKNOWN 0/1..1/1', 'UNKNOWN 0/1..1/1']);
  });
});

describe('an unmodelled match with several options', () => {
  it('is one fork, not one per option (-m string --string X --algo bm --to N)', () => {
    const rs = compile(`
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p tcp -m string --string "GET /admin" --algo bm --to 65535 -j DROP
COMMIT
`);
    const r = tracePacket(rs, ENV, pkt(80));
    expect(r.walks.length).toBe(2);
    expect(summary(r.outcomes)).toEqual(['UNKNOWN 0/1..1/1', 'UNKNOWN 0/1..1/1']);
    for (const o of r.outcomes) {
      expect(o.unknown.map((u) => u.text)).toEqual(['-m string --string "GET /admin" --algo bm --to 65535']);
    }
  });
});
