// The nftables simulator on small rulesets, one behaviour each: where base chains run among the
// hooks (priorities, the NAT core), verdicts, set and map lookups, numgen's exact shares, conntrack
// state, NAT, dynamic sets over time, and what is not modelled.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/net/index.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import type { NodeInterface } from '../../src/node/node.js';
import { nftablesExtensions } from '../../src/packetsim-nft/hook.js';
import { drawShare } from '../../src/packetsim-nft/run.js';
import { jhash, reciprocalScale } from '../../src/packetsim-nft/values.js';
import { add, fractionText, ZERO } from '../../src/packetsim/fraction.js';
import { formatIp } from '../../src/net/index.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { tracePacket, type FlowSpec, type Outcome, type PacketSpec } from '../../src/packetsim/trace.js';

const IFACES: readonly NodeInterface[] = [
  { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
  { name: 'eth0', addresses: ['192.168.0.2/24', '2001:db8::2/64'] },
  { name: 'cali1', addresses: ['10.0.0.1/24'] },
];

function sim(text: string, family: Family = 'ipv4', interfaces: readonly NodeInterface[] = IFACES) {
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [], nft: { file: 'test.nft', text }, interfaces }, sink);
  expect(sink.errors).toEqual([]);
  const ext = nftablesExtensions(node!.nftables!, family, interfaces.map((i) => i.name));
  return prepareNode(node!, family, { extensions: ext }).sim;
}

function trace(text: string, p: Partial<PacketSpec> = {}, family: Family = 'ipv4') {
  const { rs, env } = sim(text, family);
  return tracePacket(rs, env, { protocol: 'tcp', sourceIP: '203.0.113.9', destIP: '192.168.0.2', destPort: 80, ...p }, { explain: false });
}

/** Each outcome: verdict, the packet's destination after NAT, and its probability. */
function summary(outcomes: readonly Outcome[]) {
  return outcomes.map((o) => `${o.verdict} ${formatIp(o.packet.dst, o.packet.family)}:${o.packet.dport} ${fractionText(o.prob)}`).sort();
}

const chainsOf = (o: Outcome) => o.path.map((s) => `${s.chain.name}${s.kind === 'policy' ? ':policy' : `:${s.rule?.num}`}`);

describe('base chains at their hook and priority', () => {
  it('a nat chain runs from the NAT core (-100), after a filter chain at -150 even when its own priority is -190', () => {
    const r = trace(`table ip t {
  chain early { type filter hook prerouting priority -250; policy accept; ct state invalid meta mark set 7 }
  chain n { type nat hook prerouting priority -190; policy accept; meta mark set meta mark | 0x10 }
  chain f { type filter hook prerouting priority -150; policy accept; meta mark 0x10 drop }
  chain g { type filter hook input priority 0; policy accept; meta mark 0x17 accept }
}`);
    expect(r.outcomes).toHaveLength(1);
    const o = r.outcomes[0];
    // -250 runs before conntrack (-200): the packet has no connection yet, `ct state` is invalid.
    expect(chainsOf(o)).toEqual(['early:1', 'early:policy', 'f:policy', 'n:1', 'n:policy', 'g:1']);
    expect(o.verdict).toBe('ACCEPT');
    expect(o.packet.mark).toBe(0x17);
  });

  it('accept ends only its own base chain; drop is final; the policy ends the base chain', () => {
    const text = `table ip a {
  chain one { type filter hook input priority 0; policy accept; tcp dport 80 accept }
}
table ip b {
  chain two { type filter hook input priority 10; policy drop; tcp dport 81 accept }
}`;
    expect(trace(text, { destPort: 80 }).outcomes.map((o) => o.verdict)).toEqual(['DROP']);
    expect(trace(text, { destPort: 81 }).outcomes.map((o) => o.verdict)).toEqual(['ACCEPT']);
  });

  it('jump returns, goto does not; return from the base chain is its policy', () => {
    const r = trace(`table ip t {
  chain base { type filter hook input priority 0; policy drop; jump a; tcp dport 80 accept }
  chain a { goto b; tcp dport 80 drop }
  chain b { return; drop }
}`);
    expect(r.outcomes[0].verdict).toBe('ACCEPT');
    expect(chainsOf(r.outcomes[0])).toEqual(['base:1', 'a:1', 'b:1', 'base:2']);
  });

  it('an inet table sees both families; ip only IPv4, ip6 only IPv6', () => {
    const text = `table inet i { chain c { type filter hook input priority 0; policy accept; meta nfproto ipv6 drop } }
table ip6 six { chain c { type filter hook input priority 10; policy accept; tcp dport 81 reject } }`;
    expect(trace(text).outcomes[0].verdict).toBe('ACCEPT');
    expect(trace(text, { sourceIP: '2001:db8:9::1', destIP: '2001:db8::2' }, 'ipv6').outcomes[0].verdict).toBe('DROP');
  });
});

describe('lookups', () => {
  const text = `table ip t {
  set nets { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.0.2.10-192.0.2.20 } }
  map svc { type ipv4_addr . inet_proto . inet_service : verdict; elements = { 192.168.0.2 . tcp . 80 : goto web, 192.168.0.2 . udp . 53 : drop } }
  chain c {
    type filter hook input priority 0; policy accept;
    ip saddr @nets tcp dport 22 drop
    ip daddr . meta l4proto . th dport vmap @svc
    ip saddr . tcp dport { 203.0.113.0/24 . 1000-2000 } reject
    iifname "cali*" drop
  }
  chain web { ip saddr != { 203.0.113.9, 198.51.100.0/24 } drop }
}`;

  it('interval sets: prefixes and ranges', () => {
    expect(trace(text, { sourceIP: '10.9.9.9', destPort: 22 }).outcomes[0].verdict).toBe('DROP');
    expect(trace(text, { sourceIP: '192.0.2.15', destPort: 22 }).outcomes[0].verdict).toBe('DROP');
    expect(trace(text, { sourceIP: '192.0.2.21', destPort: 22 }).outcomes[0].verdict).toBe('ACCEPT');
  });

  it('a concatenated verdict map picks by every part; no element, the rule does not match', () => {
    const web = trace(text, { destPort: 80 }).outcomes[0];
    expect(web.verdict).toBe('ACCEPT');
    // goto: the end of `web` is the end of the base chain (its policy).
    expect(chainsOf(web)).toEqual(['c:2', 'c:policy']);
    expect(trace(text, { protocol: 'udp', destPort: 53 }).outcomes[0].verdict).toBe('DROP');
    expect(trace(text, { sourceIP: '198.51.100.7', destPort: 80 }).outcomes[0].verdict).toBe('ACCEPT');
    expect(trace(text, { sourceIP: '198.18.0.1', destPort: 80 }).outcomes[0].verdict).toBe('DROP');
  });

  it('concatenations with ranges in anonymous sets; interface name wildcards', () => {
    expect(trace(text, { destPort: 1500 }).outcomes[0].verdict).toBe('REJECT');
    expect(trace(text, { destPort: 2001 }).outcomes[0].verdict).toBe('ACCEPT');
    expect(trace(text, { sourceIP: '10.0.0.5', destPort: 443, inInterface: 'cali1' }).outcomes[0].verdict).toBe('DROP');
  });
});

describe('numgen: reciprocal_scale of one random u32, exactly', () => {
  it('outcome i of N has (ceil((i+1)2^32/N) - ceil(i 2^32/N)) / 2^32', () => {
    expect([0, 1, 2].map((i) => fractionText(drawShare(i, 3)))).toEqual(['715827883/2147483648', '1431655765/4294967296', '1431655765/4294967296']);
    for (const n of [1, 2, 5, 7, 1000]) {
      let sum = ZERO;
      for (let i = 0; i < n; i++) sum = add(sum, drawShare(i, n));
      expect(fractionText(sum)).toBe('1/1');
    }
    // The same as counting the u32 values reciprocal_scale sends to each bucket (a sample of them).
    for (const v of [0, 1431655765, 1431655766, 2863311531, 2863311532, 0xffffffff]) expect(reciprocalScale(v, 3)).toBe(v < 1431655766 ? 0 : v < 2863311531 ? 1 : 2);
  });

  it('a three-endpoint DNAT split traces to three outcomes with those shares; offset shifts the keys', () => {
    const r = trace(`table ip t {
  chain pre { type nat hook prerouting priority dstnat; policy accept; tcp dport 80 numgen random mod 3 offset 5 vmap { 5 : goto e0, 6 : goto e1, 7 : goto e2 } }
  chain e0 { dnat to 10.0.0.10:8080 }
  chain e1 { dnat to 10.0.0.11:8080 }
  chain e2 { dnat to 10.0.0.12:8080 }
}`);
    expect(summary(r.outcomes)).toEqual(['ACCEPT 10.0.0.10:8080 715827883/2147483648', 'ACCEPT 10.0.0.11:8080 1431655765/4294967296', 'ACCEPT 10.0.0.12:8080 1431655765/4294967296']);
    for (const o of r.outcomes) expect(o.dnat).toBe(true);
  });

  it('numgen inc counts from 0 from packet to packet', () => {
    const { rs, env } = sim(`table ip t {
  chain pre { type nat hook prerouting priority dstnat; policy accept; tcp dport 80 numgen inc mod 2 vmap { 0 : goto e0, 1 : goto e1 } }
  chain e0 { dnat to 10.0.0.10 }
  chain e1 { dnat to 10.0.0.11 }
}`);
    const flows: FlowSpec[] = [40001, 40002, 40003].map((sourcePort) => ({ protocol: 'tcp', sourceIP: '203.0.113.9', sourcePort, destIP: '192.168.0.2', destPort: 80 }));
    expect(traceFlows(rs, env, flows).map((f) => summary(f.outcomes))).toEqual([['ACCEPT 10.0.0.10:80 1/1'], ['ACCEPT 10.0.0.11:80 1/1'], ['ACCEPT 10.0.0.10:80 1/1']]);
  });
});

describe('conntrack, NAT and marks', () => {
  const text = `table ip t {
  chain pre { type nat hook prerouting priority dstnat; policy accept; tcp dport 80 meta mark set meta mark | 0x4000 dnat to 10.0.0.10:8080 }
  chain fwd { type filter hook forward priority filter; policy drop; ct state established accept; ct state new ct status dnat accept }
  chain post { type nat hook postrouting priority srcnat; policy accept; meta mark & 0x4000 == 0 return; masquerade fully-random }
}`;

  it('DNAT in prerouting, ct status dnat in forward, masquerade by the mark in postrouting', () => {
    const r = trace(text);
    expect(r.outcomes).toHaveLength(1);
    const o = r.outcomes[0];
    expect([o.verdict, o.delivery, o.dnat, o.masquerade]).toEqual(['ACCEPT', 'forward', true, true]);
    // MASQUERADE picks the output interface's address for the destination.
    expect(formatIp(o.packet.src, 'ipv4')).toBe('10.0.0.1');
  });

  it('the reply of the connection is established and un-NATed; nat chains do not see it', () => {
    const { rs, env } = sim(text);
    const [, reply] = traceFlows(rs, env, [
      { protocol: 'tcp', sourceIP: '203.0.113.9', sourcePort: 40000, destIP: '192.168.0.2', destPort: 80 },
      { protocol: 'tcp', sourceIP: '10.0.0.10', sourcePort: 8080, destIP: '10.0.0.1', destPort: 40000 },
    ]);
    const o = reply.outcomes[0];
    expect(o.verdict).toBe('ACCEPT');
    expect(`${formatIp(o.packet.src, 'ipv4')}:${o.packet.sport} -> ${formatIp(o.packet.dst, 'ipv4')}:${o.packet.dport}`).toBe('192.168.0.2:80 -> 203.0.113.9:40000');
    expect(o.path.map((s) => s.chain.name)).toEqual(['fwd']);
  });

  it('fib daddr type local', () => {
    const t = `table ip t { chain c { type filter hook prerouting priority 0; policy accept; fib daddr type local tcp dport 80 drop } }`;
    expect(trace(t).outcomes[0].verdict).toBe('DROP');
    expect(trace(t, { destIP: '198.51.100.1' }).outcomes[0].verdict).toBe('ACCEPT');
  });
});

describe('dynamic sets: kube-proxy session affinity over time', () => {
  const text = `table ip t {
  set aff0 { type ipv4_addr; flags dynamic,timeout; timeout 10s; }
  set aff1 { type ipv4_addr; flags dynamic,timeout; timeout 10s; }
  chain pre { type nat hook prerouting priority dstnat; policy accept; tcp dport 80 jump svc }
  chain svc { ip saddr @aff0 goto e0; ip saddr @aff1 goto e1; numgen random mod 2 vmap { 0 : goto e0, 1 : goto e1 } }
  chain e0 { update @aff0 { ip saddr }; dnat to 10.0.0.10 }
  chain e1 { update @aff1 { ip saddr }; dnat to 10.0.0.11 }
}`;

  it('a client goes back to its endpoint within the timeout, and is split again after it', () => {
    const { rs, env } = sim(text);
    const at = (t: number, sourcePort: number): FlowSpec => ({ protocol: 'tcp', sourceIP: '203.0.113.9', sourcePort, destIP: '192.168.0.2', destPort: 80, at: t });
    const [first, second, third] = traceFlows(rs, env, [at(0, 40001), at(5, 40002), at(20, 40003)]);
    expect(summary(first.outcomes)).toEqual(['ACCEPT 10.0.0.10:80 1/2', 'ACCEPT 10.0.0.11:80 1/2']);
    // Each world remembers its endpoint: over both, each half, now through the affinity rule.
    expect(summary(second.outcomes)).toEqual(['ACCEPT 10.0.0.10:80 1/2', 'ACCEPT 10.0.0.11:80 1/2']);
    for (const o of second.outcomes) expect(o.path.some((s) => s.rule?.recalls)).toBe(true);
    // 20 s: the entries expired; the split again, four ways over the two worlds.
    expect(third.outcomes.every((o) => !o.path.some((s) => s.rule?.recalls))).toBe(true);
    expect(summary(third.outcomes)).toEqual(['ACCEPT 10.0.0.10:80 1/2', 'ACCEPT 10.0.0.11:80 1/2']);
  });
});

describe('what kpsim does not model is followed both ways, marked UNKNOWN', () => {
  it('an iptables-nft xt match forks; a queue verdict ends the walk UNKNOWN', () => {
    const r = trace(`table ip filter { chain INPUT { type filter hook input priority filter; policy accept; xt match "recent" counter drop } }`);
    expect(r.outcomes.map((o) => [o.verdict, o.assumedVerdict, o.unknown[0]?.assumed]).sort()).toEqual([
      ['UNKNOWN', 'ACCEPT', 'no match'],
      ['UNKNOWN', 'DROP', 'match'],
    ]);
    expect(trace(`table ip t { chain c { type filter hook input priority 0; policy accept; queue } }`).outcomes[0].verdict).toBe('UNKNOWN');
  });
});

describe('jhash is the kernel\'s (lookup3, words read little-endian)', () => {
  it("Bob Jenkins' test vectors", () => {
    const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    expect(jhash(bytes(''), 0)).toBe(0xdeadbeef);
    expect(jhash(bytes('Four score and seven years ago'), 0)).toBe(0x17770551);
    expect(jhash(bytes('Four score and seven years ago'), 1)).toBe(0xcd628161);
  });
});
