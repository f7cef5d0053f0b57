// kpsim trace --state / --reply (packetsim/connection.ts): a packet in a given conntrack state, and
// the reply of a connection through reverse NAT, the connection made by its first packet.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { formatHostPort } from '../../src/net/index.js';
import { NoConnection, traceConnection, type ConnState } from '../../src/packetsim/connection.js';
import { equal, fractionText, ONE } from '../../src/packetsim/fraction.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import type { PacketSpec } from '../../src/packetsim/trace.js';

// A NodePort service with two endpoints (masqueraded), and filter rules that tell states apart.
const RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
-A PREROUTING -d 192.168.0.2/32 -p tcp -m tcp --dport 30080 -j SVC
-A SVC -j MARK --set-xmark 0x4000/0x4000
-A SVC -m statistic --mode random --probability 0.5 -p tcp -j DNAT --to-destination 10.244.1.5:8080
-A SVC -p tcp -j DNAT --to-destination 10.244.2.7:8080
-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate RELATED -j ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED -s 10.244.2.0/24 -j REJECT
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate NEW -j ACCEPT
COMMIT
`;

function sim(text = RULES) {
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [{ family: 'ipv4', file: 'node.rules', text }], interfaces: simpleInterfaces(['192.168.0.2']) }, sink)!;
  expect(sink.errors).toEqual([]);
  return prepareNode(node, 'ipv4').sim;
}

const CLIENT: PacketSpec = { protocol: 'tcp', sourceIP: '203.0.113.9', sourcePort: 40000, destIP: '192.168.0.2', destPort: 30080 };

function trace(state: ConnState, reply = false, text = RULES) {
  const { rs, env } = sim(text);
  const ct = traceConnection(rs, env, CLIENT, { state, reply }, { explain: true });
  return { ct, rows: ct.outcomes.map((o) => `${fractionText(o.prob)} ${o.verdict} ${formatHostPort(o.packet.src, o.packet.sport, 'ipv4')} -> ${formatHostPort(o.packet.dst, o.packet.dport, 'ipv4')}`) };
}

describe('a packet in a given conntrack state', () => {
  it('new: the first packet, NAT and all', () => {
    expect(trace('new').rows).toEqual(['1/2 ACCEPT 192.168.0.2:40000 -> 10.244.1.5:8080', '1/2 ACCEPT 192.168.0.2:40000 -> 10.244.2.7:8080']);
  });

  it('established: a later packet of the connection its first packet made, the nat table not run, its NAT binding kept', () => {
    const { ct, rows } = trace('established');
    // The ESTABLISHED rule rejects what comes from 10.244.2.0/24... only replies do; this packet goes on to its endpoint.
    expect(rows).toEqual(['1/2 ACCEPT 192.168.0.2:40000 -> 10.244.1.5:8080', '1/2 ACCEPT 192.168.0.2:40000 -> 10.244.2.7:8080']);
    expect(ct.traces).toHaveLength(2);
    for (const t of ct.traces) for (const w of t.result.walks) for (let n = w.path; n; n = n.prev) expect(n.chain.table).not.toBe('nat');
    expect(equal(ct.accepted, ONE)).toBe(true);
  });

  it('related and invalid: conntrack\'s view of the packet, with no NAT for an invalid one', () => {
    expect(trace('related').rows).toEqual(['1/2 ACCEPT 192.168.0.2:40000 -> 10.244.1.5:8080', '1/2 ACCEPT 192.168.0.2:40000 -> 10.244.2.7:8080']);
    // Without NAT the packet stays addressed to the node: INPUT's INVALID rule drops it.
    const invalid = trace('invalid');
    expect(invalid.rows).toEqual(['1/1 DROP 203.0.113.9:40000 -> 192.168.0.2:30080']);
    const walk = invalid.ct.traces[0].result.walks[0];
    expect(walk.path!.rule!.text).toBe('-m conntrack --ctstate INVALID -j DROP');
    expect(walk.path!.chain.name).toBe('INPUT');
  });

  it('reply: back through reverse NAT, from each endpoint the connection may have, with its own verdict', () => {
    const { ct, rows } = trace('new', true);
    expect(ct.traces.map((t) => `${formatHostPort(t.result.input.src, t.result.input.sport, 'ipv4')} -> ${formatHostPort(t.result.input.dst, t.result.input.dport, 'ipv4')}`)).toEqual([
      '10.244.1.5:8080 -> 192.168.0.2:40000',
      '10.244.2.7:8080 -> 192.168.0.2:40000',
    ]);
    // The masquerade and the DNAT undone: the client sees the node's NodePort answering. The reply
    // from 10.244.2.7 is ESTABLISHED from 10.244.2.0/24: rejected, why a reply is dropped.
    expect(rows).toEqual(['1/2 ACCEPT 192.168.0.2:30080 -> 203.0.113.9:40000', '1/2 REJECT 10.244.2.7:8080 -> 203.0.113.9:40000']);
  });

  it('a packet of a connection that never exists: no trace, said so', () => {
    const dropped = RULES.replace('-A FORWARD -m conntrack --ctstate NEW -j ACCEPT\n', '');
    expect(() => trace('established', false, dropped)).toThrow(NoConnection);
    expect(() => trace('new', true, dropped)).toThrow(/first packet is never accepted/);
    expect(() => trace('related', true)).toThrow(NoConnection);
  });
});
