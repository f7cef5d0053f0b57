// IPVS scheduler choices as distributions (src/packetsim-ipvs/schedule.ts).
import { describe, expect, it } from 'vitest';
import { SERVICE_FLAGS, type RealServer, type VirtualServer } from '../../src/ipvs/ir.js';
import { bucketTable, choose, type Client } from '../../src/packetsim-ipvs/schedule.js';

const rs = (address: string, weight = 1): RealServer => ({ address, port: 80, weight, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, span: null });
const vs = (scheduler: string, servers: RealServer[], flags = 0): VirtualServer => ({ family: 'ipv4', address: '172.30.0.41', port: 80, protocol: 'TCP', scheduler, flags, timeout: 0, netmaskPrefix: 32, realServers: servers, span: null });
const client = (src: number, sport = 40000): Client => ({ source: BigInt(src), sourcePort: sport, destination: 0xac1e0029n, ipv6: false });

describe('IPVS schedulers', () => {
  it('rr: equal shares over the servers with weight > 0', () => {
    const c = choose(vs('rr', [rs('10.0.0.1'), rs('10.0.0.2', 0), rs('10.0.0.3'), rs('10.0.0.4')]), client(1));
    expect(c.kind === 'shares' && c.shares.map((s) => [s.server.address, s.numerator, s.denominator])).toEqual([
      ['10.0.0.1', 1, 3],
      ['10.0.0.3', 1, 3],
      ['10.0.0.4', 1, 3],
    ]);
  });

  it('wlc: shares in proportion to the weights', () => {
    const c = choose(vs('wlc', [rs('10.0.0.1', 1), rs('10.0.0.2', 3)]), client(1));
    expect(c.kind === 'shares' && c.shares.map((s) => `${s.numerator}/${s.denominator}`)).toEqual(['1/4', '3/4']);
  });

  it('no real server (or only quiescent ones): none', () => {
    expect(choose(vs('rr', []), client(1)).kind).toBe('none');
    expect(choose(vs('rr', [rs('10.0.0.1', 0)]), client(1)).kind).toBe('none');
  });

  it('sh: one server per client, the same every time; sh-port adds the source port', () => {
    const servers = [rs('10.0.0.1'), rs('10.0.0.2'), rs('10.0.0.3')];
    const picks = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const a = choose(vs('sh', servers), client(0x0a000000 + i));
      const b = choose(vs('sh', servers), client(0x0a000000 + i, 50000));
      expect(a.kind).toBe('fixed');
      expect(a).toEqual(b);
      if (a.kind === 'fixed') picks.add(a.server.address);
    }
    expect(picks.size).toBe(3);
    const withPort = new Set<string>();
    for (let p = 0; p < 64; p++) {
      const c = choose(vs('sh', servers, SERVICE_FLAGS.sched2), client(0x0a000001, 40000 + p));
      if (c.kind === 'fixed') withPort.add(c.server.address);
    }
    expect(withPort.size).toBeGreaterThan(1);
  });

  it('sh bucket table: each server takes weight consecutive buckets', () => {
    const t = bucketTable([rs('a', 2), rs('b', 1)]);
    expect(t.slice(0, 6).map((s) => s?.address)).toEqual(['a', 'a', 'b', 'a', 'a', 'b']);
    expect(t.length).toBe(256);
  });

  it("mh: the server of the source's Maglev slot, the same for every port; mh-port brings the port in", () => {
    const servers = [rs('10.0.0.1'), rs('10.0.0.2'), rs('10.0.0.3')];
    const picks = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const a = choose(vs('mh', servers), client(0x0a000000 + i));
      expect(a.kind).toBe('fixed');
      expect(choose(vs('mh', servers), client(0x0a000000 + i, 50000))).toEqual(a);
      if (a.kind === 'fixed') picks.add(a.server.address);
    }
    expect(picks.size).toBe(3);
    const c = choose(vs('mh', servers), client(0x0a000001));
    expect(c.kind === 'fixed' && c.why).toMatch(/^mh: Maglev table of 4093 slots \(servers in listed order\), slot \d+ by the hash of the source address$/);
    const withPort = new Set<string>();
    for (let p = 0; p < 64; p++) {
      const d = choose(vs('mh', servers, SERVICE_FLAGS.sched2), client(0x0a000001, 40000 + p));
      if (d.kind === 'fixed') withPort.add(d.server.address);
      expect(d.kind === 'fixed' && d.why).toMatch(/source address and port$/);
    }
    expect(withPort.size).toBe(3);
  });

  it('mh: a quiescent server keeps its slots; its clients get none, or another server with mh-fallback', () => {
    const servers = [rs('10.0.0.1'), rs('10.0.0.2', 0), rs('10.0.0.3')];
    const live = [rs('10.0.0.1'), rs('10.0.0.2'), rs('10.0.0.3')];
    let quiesced = 0;
    for (let i = 0; i < 64; i++) {
      const before = choose(vs('mh', live), client(0x0a000000 + i));
      const plain = choose(vs('mh', servers), client(0x0a000000 + i));
      const fb = choose(vs('mh', servers, SERVICE_FLAGS.sched1), client(0x0a000000 + i));
      if (before.kind === 'fixed' && before.server.address === '10.0.0.2') {
        quiesced++;
        expect(plain.kind).toBe('none');
        expect(fb.kind === 'fixed' && fb.server.address).toMatch(/^10\.0\.0\.[13]$/);
        expect(fb.kind === 'fixed' && fb.why).toMatch(/, slot \d+ by the hash of the source address \(its own slot \d+ is a quiescent server's: mh-fallback rehashed\)$/);
      } else {
        // Every other client keeps its server: the table is unchanged.
        expect(plain).toEqual({ ...before, server: servers[live.indexOf((before as { server: RealServer }).server)] });
        expect(fb).toEqual(plain);
      }
    }
    expect(quiesced).toBeGreaterThan(0);
    expect(choose(vs('mh', [rs('10.0.0.1', 0)], SERVICE_FLAGS.sched1), client(1)).kind).toBe('none');
  });

  it('mh over IPv6: the address words folded with XOR, like sh', () => {
    const v6 = (a: string): RealServer => ({ ...rs(a), address: a });
    const servers = [v6('fd00::1'), v6('fd00::2')];
    const svc = { ...vs('mh', servers), family: 'ipv6' as const, address: 'fd00:10:96::a' };
    const c6: Client = { source: 0xfd000000_00000000_00000000_0a000001n, sourcePort: 1, destination: 0n, ipv6: true };
    // The same service (the same table), the source given as the IPv4 address fd000000 ^ 0a000001.
    const c4: Client = { source: BigInt((0xfd000000 ^ 0x0a000001) >>> 0), sourcePort: 1, destination: 0n, ipv6: false };
    const a = choose(svc, c6);
    expect(a.kind).toBe('fixed');
    expect(choose(svc, c4)).toEqual(a);
  });
});
