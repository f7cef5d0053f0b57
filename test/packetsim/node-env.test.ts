// The node environment's kernel rules, one by one: MASQUERADE's source address (inet_select_addr,
// RFC 6724), input routing (route_localnet, rp_filter, accept_local, blackhole, forwarding) and
// the rpfilter match's reverse lookup.
import { describe, expect, it } from 'vitest';
import { formatIp, parseAddress, type Family } from '../../src/net/index.js';
import type { NodeInterface, NodeRoute } from '../../src/node/node.js';
import { buildEnv } from '../../src/packetsim/env.js';

const IFS: NodeInterface[] = [
  { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'], index: 1 },
  { name: 'cni0', addresses: ['10.244.0.1/24', 'fd00:10:244::1/64'], index: 2 },
  { name: 'eth0', addresses: ['192.168.5.2/24', '192.168.5.3/24', '2001:db8:5::2/64', 'fe80::1/64'], index: 3 },
  { name: 'eth1', addresses: ['172.20.0.2/24'], index: 4 },
];
const ROUTES: NodeRoute[] = [
  { to: '0.0.0.0/0', dev: 'eth0', gateway: '192.168.5.1' },
  { to: '10.244.0.0/24', dev: 'cni0' },
  { to: '192.168.5.0/24', dev: 'eth0' },
  { to: '172.20.0.0/24', dev: 'eth1' },
  { to: '198.51.100.0/24', dev: 'eth1', gateway: '172.20.0.1' },
  { to: '10.99.0.0/16', dev: null, type: 'blackhole' },
];
const ip = (t: string, f: Family = t.includes(':') ? 'ipv6' : 'ipv4') => parseAddress(t, f)!;
const env = (sysctls: Record<string, string> = {}, family: Family = 'ipv4') => buildEnv({ interfaces: IFS, routes: ROUTES, sysctls: new Map(Object.entries(sysctls)) }, family);

describe('MASQUERADE\'s source address', () => {
  it.each([
    ['out of lo: no global address there, the first of any interface by index (not 127.0.0.1)', 'lo', '192.168.5.2', '10.244.0.1'],
    ['out of eth0 to its subnet: the primary address, never the secondary', 'eth0', '192.168.5.77', '192.168.5.2'],
    ['out of eth1 through a gateway: the address in the gateway\'s subnet', 'eth1', '198.51.100.7', '172.20.0.2'],
  ])('%s', (_what, dev, dst, want) => {
    expect(formatIp(env().sourceAddress(dev, ip(dst))!, 'ipv4')).toBe(want);
  });

  it.each([
    ['out of lo to the node\'s own address: that address (rule 1), not ::1', 'lo', '2001:db8:5::2', '2001:db8:5::2'],
    ['to an outside address: a global address on the output interface (rule 5)', 'eth0', '2001:db8:99::9', '2001:db8:5::2'],
    ['to a link-local address: only the output interface\'s, the link-local one (rule 2)', 'eth0', 'fe80::9', 'fe80::1'],
  ])('IPv6 %s', (_what, dev, dst, want) => {
    expect(formatIp(env({}, 'ipv6').sourceAddress(dev, ip(dst))!, 'ipv6')).toBe(want);
  });
});

describe('input routing', () => {
  const route = (e: ReturnType<typeof env>, src: string, dst: string, iif: string) => e.inputRoute(ip(src), ip(dst), iif);
  it('127.0.0.0/8 from outside only with route_localnet on the interface or all', () => {
    expect(route(env(), '203.0.113.9', '127.0.0.1', 'eth0').kind).toBe('drop');
    expect(route(env({ 'net.ipv4.conf.eth0.route_localnet': '1' }), '203.0.113.9', '127.0.0.1', 'eth0').kind).toBe('local');
    expect(route(env({ 'net.ipv4.conf.all.route_localnet': '1' }), '203.0.113.9', '127.0.0.1', 'eth1').kind).toBe('local');
  });

  it('rp_filter: strict wants the route back through the same interface, loose any route', () => {
    expect(route(env(), '10.8.3.4', '10.244.0.12', 'eth1')).toEqual({ kind: 'forward', dev: 'cni0' });
    expect(route(env({ 'net.ipv4.conf.eth1.rp_filter': '1' }), '10.8.3.4', '10.244.0.12', 'eth1').kind).toBe('drop');
    expect(route(env({ 'net.ipv4.conf.all.rp_filter': '2' }), '10.8.3.4', '10.244.0.12', 'eth1').kind).toBe('forward');
    expect(route(env({ 'net.ipv4.conf.eth1.rp_filter': '1' }), '198.51.100.7', '10.244.0.12', 'eth1').kind).toBe('forward');
  });

  it('a source that is the node\'s own address is martian unless accept_local', () => {
    expect(route(env(), '10.244.0.1', '192.168.5.2', 'eth0').kind).toBe('drop');
    expect(route(env({ 'net.ipv4.conf.eth0.accept_local': '1' }), '10.244.0.1', '192.168.5.2', 'eth0').kind).toBe('local');
  });

  it('blackhole routes and forwarding off drop; the longest prefix picks the interface', () => {
    expect(route(env(), '203.0.113.9', '10.99.1.1', 'eth0').kind).toBe('drop');
    expect(route(env({ 'net.ipv4.conf.eth0.forwarding': '0' }), '203.0.113.9', '10.244.0.12', 'eth0').kind).toBe('drop');
    expect(route(env(), '203.0.113.9', '198.51.100.7', 'eth0')).toEqual({ kind: 'forward', dev: 'eth1' });
  });

  it('the node\'s own packets from 127.0.0.0/8 leave by lo only, without route_localnet', () => {
    expect(env().outputRefusal(ip('127.0.0.1'), 'eth0')).not.toBeNull();
    expect(env().outputRefusal(ip('127.0.0.1'), 'lo')).toBeNull();
    expect(env({ 'net.ipv4.conf.all.route_localnet': '1' }).outputRefusal(ip('127.0.0.1'), 'eth0')).toBeNull();
  });
});

describe('the rpfilter match', () => {
  const strict = { loose: false, acceptLocal: false };
  it.each([
    ['a source routed back through the arrival interface', '192.168.5.77', 'eth0', strict, true],
    ['a source routed back through another interface', '10.244.0.50', 'eth0', strict, false],
    ['the same, --loose', '10.244.0.50', 'eth0', { loose: true, acceptLocal: false }, true],
    ['a local source', '192.168.5.2', 'eth0', strict, false],
    ['a local source, --accept-local', '192.168.5.2', 'eth0', { loose: false, acceptLocal: true }, true],
    ['a source in a blackhole', '10.99.0.1', 'eth0', { loose: true, acceptLocal: false }, false],
    ['looped back', '10.244.0.50', 'lo', strict, true],
  ])('%s', (_what, src, iif, flags, want) => {
    expect(env().rpfilter(ip(src), ip('192.168.5.2'), iif, flags)).toBe(want);
  });
});
