// Every virtual server of every IPVS conformance state (golden/kube-proxy-ipvs, ipvs.yaml), traced
// in IPVS mode from an outside client: the packet reaches the IPVS step and is sent to exactly the
// real servers ipvs.yaml lists, in equal rr shares, or (no real server) rejected; or a filter rule
// (loadBalancerSourceRanges, externalTrafficPolicy Local) stops it before IPVS. Nothing UNKNOWN but
// `-m physdev` (external IPs: `! --physdev-is-in`), which the simulator does not model: both of
// its branches are followed, and each must still be one of the sensible outcomes.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compiledTarget } from './ipvs-target.js';
import { hostPort } from '../../src/ipvs/ir.js';
import { formatIp } from '../../src/net/index.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import type { PacketProtocol } from '../../src/packetsim/packet.js';
import { tracePacket } from '../../src/packetsim/trace.js';
import { nodeInterfaces } from '../../src/compiler/node-interfaces.js';
import { allStates, type CaseState } from '../ipvs/corpus.js';

interface ExpectedVs {
  address: string;
  port: number;
  protocol: string;
  scheduler: string;
  realServers: { address: string; port: number; weight: number }[];
}

const states = allStates();

/** The node as the compile says, with an eth0 address when the test gave none (MASQUERADE needs one). */
function target(st: CaseState) {
  const interfaces = nodeInterfaces(st.compiled.settings);
  const eth0 = interfaces.find((i) => i.name === 'eth0');
  const fallback = st.family === 'ipv4' ? '192.0.2.1/24' : '2001:db8:1::1/64';
  const override = eth0 && eth0.addresses.some((a) => a.includes(':') === (st.family === 'ipv6')) ? null : [...interfaces.filter((i) => i.name !== 'eth0'), { name: 'eth0', addresses: [...(eth0?.addresses ?? []), fallback] }];
  return compiledTarget(st.compiled, st.family, { rotate: false, interfaces: override });
}

const summary = { virtualServers: 0, reachedIpvs: 0, stoppedBefore: 0, physdev: 0 };

describe('IPVS conformance states traced in IPVS mode', () => {
  for (const { state: st } of states) {
    const text = st.file('ipvs.yaml');
    const expected: ExpectedVs[] = text ? (parse(text).virtualServers ?? []) : [];
    it(`${st.id}: ${expected.length} virtual servers`, () => {
      const { rs, env } = target(st);
      for (const vs of expected) {
        summary.virtualServers++;
        const what = `${vs.protocol} ${hostPort(vs.address, vs.port)}`;
        const r = tracePacket(rs, env, {
          protocol: vs.protocol.toLowerCase() as PacketProtocol,
          sourceIP: st.family === 'ipv4' ? '203.0.113.9' : '2001:db8:ff::9',
          sourcePort: 40000,
          destIP: vs.address,
          destPort: vs.port,
          inInterface: 'eth0',
        });
        const want = vs.realServers.filter((x) => x.weight > 0).map((x) => hostPort(x.address, x.port)).sort();
        const reached = r.outcomes.filter((o) => o.path.some((s) => s.chain.table === 'ipvs'));
        for (const o of r.outcomes) {
          expect(o.unknown.filter((u) => !u.text.startsWith('-m physdev')).map((u) => u.reason), what).toEqual([]);
          if (o.unknown.length) summary.physdev++;
        }
        // Not reaching IPVS is only sensible when a filter rule dropped or rejected the packet.
        for (const o of r.outcomes.filter((x) => !reached.includes(x))) expect(['DROP', 'REJECT'], what).toContain(o.assumedVerdict);
        if (reached.length === 0) {
          summary.stoppedBefore++;
          continue;
        }
        summary.reachedIpvs++;
        if (want.length === 0) {
          for (const o of reached) expect(o.assumedVerdict, what).toBe('REJECT');
          continue;
        }
        // Per assumption about the unmodelled matches: exactly the listed servers, in equal shares.
        const byAssumption = new Map<string, typeof reached>();
        for (const o of reached) {
          const k = o.unknown.map((u) => u.assumed).join(',');
          byAssumption.set(k, [...(byAssumption.get(k) ?? []), o]);
        }
        for (const group of byAssumption.values()) {
          const got = group.map((o) => hostPort(formatIp(o.packet.dst, st.family), o.packet.dport)).sort();
          expect(got, what).toEqual(want);
          for (const o of group) expect(o.assumedVerdict, `${what} -> ${o.note}`).toBe('ACCEPT');
          expect(new Set(group.map((o) => fractionText(o.prob))).size, `${what}: rr shares`).toBe(1);
        }
      }
    });
  }

  it('traces every virtual server; most reach IPVS', () => {
    expect(summary.virtualServers).toBe(94);
    expect(summary.reachedIpvs).toBeGreaterThan(summary.virtualServers * 0.8);
    console.log(`IPVS conformance trace: ${summary.virtualServers} virtual servers on ${states.length} states, ${summary.reachedIpvs} reached IPVS, ${summary.stoppedBefore} stopped by filter rules first, ${summary.physdev} outcomes resting on -m physdev`);
  });
});
