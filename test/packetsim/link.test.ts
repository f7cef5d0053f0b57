import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import type { OptionArg, Ruleset, Value } from '../../src/iptables/ir.js';
import { formatHostPort } from '../../src/net/index.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { simpleInterfaces } from '../../src/node/node.js';

const simpleFacts = (ips: readonly string[]) => ({ interfaces: simpleInterfaces(ips), routes: [] });
import { tracePacket } from '../../src/packetsim/trace.js';
import { ruleset } from './ir-builder.js';

const NODE = buildEnv(simpleFacts(['192.168.0.2']), 'ipv4');

// A rule whose first match is exactly `--dport N` has N in dport0 and the walker tests it inline;
// every other port test stays a closure. The verdicts show both agree with netfilter's reading.
const PORTS = `
*filter
:INPUT DROP
:FORWARD ACCEPT
:OUTPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p tcp -m tcp ! --dport 81 -m tcp --dport 90:91 -j ACCEPT
-A INPUT -p udp -m udp --dport 82 -m comment --comment "x" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 83 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 84,85 -j ACCEPT
-A INPUT -p tcp -m tcp --sport 86 -j ACCEPT
COMMIT
`;
const RS = linkRuleset(loadedState(ruleset(PORTS), []));

describe('the --dport test inline', () => {
  it('is taken only for a first match of exactly one port', () => {
    expect(RS.tables.get('filter')!.chains.get('INPUT')!.rules.map((r) => r.dport0)).toEqual([80, -1, 82, 83, -1, -1]);
  });

  it.each([
    { proto: 'tcp', port: 80, verdict: 'ACCEPT' },
    { proto: 'tcp', port: 79, verdict: 'DROP' },
    { proto: 'tcp', port: 90, verdict: 'ACCEPT' },
    { proto: 'udp', port: 82, verdict: 'ACCEPT' },
    { proto: 'udp', port: 80, verdict: 'DROP' },
    { proto: 'tcp', port: 83, verdict: 'ACCEPT' },
    { proto: 'tcp', port: 85, verdict: 'ACCEPT' },
    { proto: 'tcp', port: 86, verdict: 'DROP' },
  ] as const)('$proto port $port: $verdict', ({ proto, port, verdict }) => {
    const r = tracePacket(RS, NODE, { protocol: proto, sourceIP: '203.0.113.2', sourcePort: 1000, destIP: '192.168.0.2', destPort: port });
    expect(r.outcomes.map((o) => o.verdict)).toEqual([verdict]);
  });
});

// The reader reads every value once (src/net numbers, typed words); the simulator compiles those
// and never the text: with every value's text replaced, the rules still do what they say.
const KUBE_LIKE = `
*nat
:PREROUTING ACCEPT
:INPUT ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:SVC -
:SEP -
-A PREROUTING -d 172.30.0.10/32 -p tcp -m tcp --dport 80 -j SVC
-A SVC -m statistic --mode random --probability 1 -j SEP
-A SEP -s 10.0.0.0/255.0.0.0 -m conntrack --ctstate NEW -j MARK --or-mark 0x4000
-A SEP -p tcp -m tcp -j DNAT --to-destination 10.180.0.1-10.180.0.1:8080
COMMIT
`;

function withoutText(rs: Ruleset): Ruleset {
  const value = (v: Value): Value => ({ ...v, text: '?' });
  const option = (o: OptionArg): OptionArg => ({ ...o, values: o.values.map(value) });
  const tables = rs.tables.map((t) => ({
    ...t,
    commands: t.commands.map((c) =>
      c.kind !== 'rule'
        ? c
        : {
            ...c,
            args: c.args.map((a) => (a.kind === 'option' ? option(a) : a)),
            target: c.target?.kind === 'extension' ? { ...c.target, options: c.target.options.map(option) } : c.target,
          },
    ),
  }));
  return { ...rs, tables };
}

describe('values come parsed from the reader', () => {
  it.each([
    ['as read', (rs: Ruleset) => rs],
    ['with every value text replaced', withoutText],
  ])('%s: the rules still match, mark and DNAT', (_name, change) => {
    const rs = linkRuleset(loadedState(change(ruleset(KUBE_LIKE)), []));
    expect(rs.problems).toEqual([]);
    const r = tracePacket(rs, NODE, { protocol: 'tcp', sourceIP: '10.1.2.3', sourcePort: 1000, destIP: '172.30.0.10', destPort: 80, inInterface: 'eth0' });
    expect(r.outcomes.map((o) => [formatHostPort(o.packet.dst, o.packet.dport, 'ipv4'), o.packet.mark])).toEqual([['10.180.0.1:8080', 0x4000]]);
  });
});
