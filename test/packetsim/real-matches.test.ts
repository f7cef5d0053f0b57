// The matches real nodes use beside kube-proxy's (issue 14): each decided from the packet, its
// socket and the clock where the trace is told them, UNKNOWN only where it is not.
import { describe, expect, it } from 'vitest';
import { loadedState } from '../../src/iptables/state.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { tracePacket, type FlowSpec, type Outcome } from '../../src/packetsim/trace.js';
import { ruleset } from './ir-builder.js';

const ENV = buildEnv({ interfaces: simpleInterfaces(['192.168.0.2']), routes: [] }, 'ipv4');

/** A filter table with these rules in `chain` (policy ACCEPT), compiled. */
function rules(chain: 'INPUT' | 'FORWARD' | 'OUTPUT', ...lines: string[]) {
  return linkRuleset(loadedState(ruleset(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${lines.map((l) => `-A ${chain} ${l}`).join('\n')}\nCOMMIT\n`), []));
}
const ends = (os: readonly Outcome[]) => os.map((o) => `${o.verdict}${o.min ? ` ${fractionText(o.min)}..` : ' '}${fractionText(o.prob)}`).sort();
const verdict = (rs: ReturnType<typeof rules>, spec: Partial<FlowSpec>) => ends(tracePacket(rs, ENV, { protocol: 'tcp', sourceIP: '10.0.0.7', destIP: '192.168.0.2', destPort: 80, ...spec }).outcomes);
const IN = { sourceIP: '10.0.0.7', destIP: '192.168.0.2' };
const OUT = { sourceIP: '192.168.0.2', destIP: '10.0.0.7' };
const THROUGH = { sourceIP: '10.0.0.7', destIP: '10.9.9.9' };

describe('header fields', () => {
  it('-m length: a TCP SYN is 60 bytes, other lengths come from the flow or are not known', () => {
    const rs = rules('INPUT', '-m length --length 0:59 -j DROP', '-m length --length 60 -j REJECT');
    expect(verdict(rs, IN)).toEqual(['REJECT 1/1']);
    expect(verdict(rs, { ...IN, protocol: 'udp', length: 40 })).toEqual(['DROP 1/1']);
    expect(verdict(rs, { ...IN, protocol: 'udp' })).toEqual(['UNKNOWN 0/1..1/1', 'UNKNOWN 0/1..1/1', 'UNKNOWN 0/1..1/1']);
  });

  it('-m ttl: as the packet arrives, one less once forwarded, none left: dropped', () => {
    const rs = rules('FORWARD', '-m ttl --ttl-eq 63 -j ACCEPT', '-j REJECT');
    expect(verdict(rs, THROUGH)).toEqual(['ACCEPT 1/1']);
    expect(verdict(rs, { ...THROUGH, ttl: 5 })).toEqual(['REJECT 1/1']);
    expect(verdict(rs, { ...THROUGH, ttl: 1 })).toEqual(['DROP 1/1']);
    expect(verdict(rules('INPUT', '-m ttl --ttl-lt 10 -j DROP'), { ...IN, ttl: 9 })).toEqual(['DROP 1/1']);
  });

  it('-m tos and -m dscp read the TOS byte', () => {
    const rs = rules('INPUT', '-m dscp --dscp-class EF -j DROP', '-m tos --tos Minimize-Delay -j REJECT');
    expect(verdict(rs, { ...IN, tos: 0xb8 })).toEqual(['DROP 1/1']);
    expect(verdict(rs, { ...IN, tos: 0x10 })).toEqual(['REJECT 1/1']);
    expect(verdict(rs, IN)).toEqual(['ACCEPT 1/1']);
  });
});

describe('the socket a packet belongs to', () => {
  it('-m owner: the sender of a packet from this node, as told; a forwarded packet has none', () => {
    const rs = rules('OUTPUT', '-m owner --uid-owner 1000-1999 -j REJECT', '-m owner ! --gid-owner 0 -j DROP');
    expect(verdict(rs, { ...OUT, uid: 1500 })).toEqual(['REJECT 1/1']);
    expect(verdict(rs, { ...OUT, uid: 0, gid: 0 })).toEqual(['ACCEPT 1/1']);
    expect(verdict(rs, { ...OUT, uid: 0, gid: 5 })).toEqual(['DROP 1/1']);
    expect(verdict(rs, OUT)).toHaveLength(3);
    expect(verdict(rs, OUT).every((e) => e.startsWith('UNKNOWN'))).toBe(true);
    const post = linkRuleset(loadedState(ruleset('*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -m owner ! --socket-exists -j MASQUERADE\nCOMMIT\n'), []));
    const through = tracePacket(post, ENV, { protocol: 'tcp', ...THROUGH, destPort: 80 }).outcomes;
    expect(through.map((o) => o.masquerade)).toEqual([true]);
  });

  it('-m socket and -m cgroup, as the trace is told', () => {
    const s = rules('INPUT', '-m socket --transparent -j DROP', '-m socket -j REJECT', '-m socket --nowildcard -j DROP');
    expect(verdict(s, { ...IN, socket: 'transparent' })).toEqual(['DROP 1/1']);
    expect(verdict(s, { ...IN, socket: 'bound' })).toEqual(['REJECT 1/1']);
    // A listener on any address counts only with --nowildcard (xt_socket ignores it otherwise).
    expect(verdict(s, { ...IN, socket: 'wildcard' })).toEqual(['DROP 1/1']);
    expect(verdict(s, { ...IN, socket: 'none' })).toEqual(['ACCEPT 1/1']);
    const c = rules('OUTPUT', '-m cgroup --path system.slice -j DROP', '-m cgroup --cgroup 0x100001 -j REJECT');
    expect(verdict(c, { ...OUT, cgroup: '/system.slice/ssh.service' })).toEqual(['DROP 1/1']);
    expect(verdict(c, { ...OUT, cgroup: '/user.slice', classid: 0x100001 })).toEqual(['REJECT 1/1']);
    expect(verdict(rules('FORWARD', '-m cgroup ! --path x -j DROP'), THROUGH)).toEqual(['ACCEPT 1/1']);
  });
});

describe('what conntrack counts', () => {
  it('-m connbytes: a new connection has one packet of its length in the original direction', () => {
    const rs = rules('INPUT', '-m connbytes --connbytes 2: --connbytes-dir original --connbytes-mode packets -j DROP', '-m connbytes --connbytes 0:100 --connbytes-dir both --connbytes-mode bytes -j REJECT');
    expect(verdict(rs, IN)).toEqual(['REJECT 1/1']);
    expect(verdict(rs, { ...IN, protocol: 'udp', length: 500 })).toEqual(['ACCEPT 1/1']);
  });

  it('-m connlimit counts the open connections of the flows from the same (masked) address', () => {
    const rs = rules('INPUT', '-p tcp -m connlimit --connlimit-above 1 --connlimit-mask 24 -j REJECT');
    const flows: FlowSpec[] = [
      { protocol: 'tcp', ...IN, sourcePort: 1000, destPort: 80 },
      { protocol: 'tcp', sourceIP: '10.0.0.8', destIP: '192.168.0.2', sourcePort: 1001, destPort: 80 },
      // The first connection again: it is still open, so the second found two.
      { protocol: 'tcp', ...IN, sourcePort: 1000, destPort: 80 },
    ];
    expect(traceFlows(rs, ENV, flows).map((r) => ends(r.outcomes))).toEqual([['ACCEPT 1/1'], ['REJECT 1/1'], ['ACCEPT 1/1']]);
  });

  it('-m helper: no connection of kpsim is expected by a helper', () => {
    expect(verdict(rules('INPUT', '-m helper --helper ftp -j DROP', '-m helper ! --helper sip -j REJECT'), IN)).toEqual(['REJECT 1/1']);
  });
});

describe('rates, exact over time', () => {
  it('-m limit: a full bucket of burst packets, one more per interval', () => {
    const rs = rules('INPUT', '-p tcp -m limit --limit 2/min --limit-burst 2 -j ACCEPT', '-p tcp -j REJECT');
    const at = [0, 0, 0, 29.9, 30, 31];
    const flows = at.map((t, i): FlowSpec => ({ protocol: 'tcp', ...IN, sourcePort: 2000 + i, destPort: 22, at: t }));
    expect(traceFlows(rs, ENV, flows).map((r) => ends(r.outcomes)[0])).toEqual(['ACCEPT 1/1', 'ACCEPT 1/1', 'REJECT 1/1', 'REJECT 1/1', 'ACCEPT 1/1', 'REJECT 1/1']);
  });

  it('-m hashlimit: one bucket per key, shared by the rules naming the table', () => {
    const rs = rules('INPUT', '-p tcp -m hashlimit --hashlimit-above 1/min --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-name h -j DROP');
    const flows = ['10.0.0.7', '10.0.0.7', '10.0.0.8'].map((src, i): FlowSpec => ({ protocol: 'tcp', sourceIP: src, destIP: '192.168.0.2', sourcePort: 3000 + i, destPort: 22 }));
    expect(traceFlows(rs, ENV, flows).map((r) => ends(r.outcomes)[0])).toEqual(['ACCEPT 1/1', 'DROP 1/1', 'ACCEPT 1/1']);
  });
});

describe('-m time', () => {
  // 2025-06-02 is a Monday.
  const at = (iso: string) => Date.parse(`${iso}Z`) / 1000;
  it('office hours on week days, a range past midnight, --contiguous, dates', () => {
    const office = rules('INPUT', '-m time --timestart 09:00 --timestop 17:00 --weekdays Mon,Tue,Wed,Thu,Fri -j DROP');
    expect(verdict(office, { ...IN, now: at('2025-06-02T10:00') })).toEqual(['DROP 1/1']);
    expect(verdict(office, { ...IN, now: at('2025-06-01T10:00') })).toEqual(['ACCEPT 1/1']);
    expect(verdict(office, { ...IN, now: at('2025-06-02T18:00') })).toEqual(['ACCEPT 1/1']);
    expect(verdict(office, IN).every((e) => e.startsWith('UNKNOWN'))).toBe(true);
    // Friday night into Saturday: only with --contiguous is Saturday 01:00 part of Friday's range.
    const night = (c: string) => rules('INPUT', `-m time --timestart 22:00 --timestop 02:00 --weekdays Fri ${c} -j DROP`);
    expect(verdict(night(''), { ...IN, now: at('2025-06-07T01:00') })).toEqual(['ACCEPT 1/1']);
    expect(verdict(night('--contiguous'), { ...IN, now: at('2025-06-07T01:00') })).toEqual(['DROP 1/1']);
    const dates = rules('INPUT', '-m time --datestart 2025-01-01 --datestop 2025-12-31 ! --monthdays 1 -j DROP');
    expect(verdict(dates, { ...IN, now: at('2025-06-02T00:00') })).toEqual(['DROP 1/1']);
    expect(verdict(dates, { ...IN, now: at('2025-06-01T00:00') })).toEqual(['ACCEPT 1/1']);
    expect(verdict(dates, { ...IN, now: at('2026-06-02T00:00') })).toEqual(['ACCEPT 1/1']);
  });
});
