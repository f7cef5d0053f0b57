// The node description readers: real iproute2 / sysctl output read into the node value, and bad
// files reported at their line and column with a code.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { parseBridgeLink, parseIpAddr, parseIpRoute } from '../../src/iproute2/index.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { addressesOf } from '../../src/node/node.js';
import { parseSysctls } from '../../src/sysctl/parse.js';

// Printed by iproute2 6.1 in a namespace (one secondary address, an IPv6 one, a bridge port).
const ADDR = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"link_type":"loopback","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":2,"ifname":"br0","flags":["BROADCAST","MULTICAST","UP"],"mtu":1500,"addr_info":[{"family":"inet","local":"10.1.0.1","prefixlen":24,"scope":"global","label":"br0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"10.1.0.9","prefixlen":24,"scope":"global","secondary":true,"label":"br0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"2001:db8::1","prefixlen":64,"scope":"global","nodad":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":3,"link_index":2,"ifname":"vp1","flags":["BROADCAST","MULTICAST","UP"],"master":"br0","addr_info":[]}]`;
const ROUTE4 = `[{"dst":"default","gateway":"192.168.5.1","dev":"eth0","flags":["linkdown"]},{"dst":"10.1.0.0/24","dev":"br0","protocol":"kernel","scope":"link","prefsrc":"10.1.0.1","flags":[]},{"type":"blackhole","dst":"10.9.0.0/16","flags":[]},{"type":"local","dst":"10.1.0.1","dev":"br0","table":"local","protocol":"kernel","scope":"host","prefsrc":"10.1.0.1","flags":[]}]`;
const ROUTE6 = `[{"dst":"2001:db8::/64","dev":"br0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"default","dev":"wg0","metric":1024,"flags":[],"pref":"medium"}]`;
const BRIDGE = `[{"ifindex":3,"link":"br0","ifname":"vp1","flags":["BROADCAST","MULTICAST","UP"],"mtu":1500,"master":"br0","state":"forwarding","priority":32,"cost":2}]`;

describe('ip -j addr', () => {
  it('reads links, addresses, scopes, secondaries and masters', () => {
    const { links, diagnostics } = parseIpAddr(ADDR, 'ip-addr.json');
    expect(diagnostics).toEqual([]);
    expect(links.map((l) => [l.index, l.name, l.master])).toEqual([[1, 'lo', null], [2, 'br0', null], [3, 'vp1', 'br0']]);
    expect(links[1].addrs.map((a) => [a.cidr, a.scope, a.secondary])).toEqual([['10.1.0.1/24', 'global', false], ['10.1.0.9/24', 'global', true], ['2001:db8::1/64', 'global', false]]);
    expect(links[0].addrs[0].scope).toBe('host');
  });

  it.each([
    ['ip addr text', '1: lo: <LOOPBACK,UP> mtu 65536', 'IPROUTE_NOT_JSON', 1, 1],
    ['a trailing comma', '[{"ifname":"lo",}]', 'IPROUTE_BAD_JSON', 1, 17],
    ['a missing ifname', '[\n  {"ifindex":1}]', 'IPROUTE_MISSING_FIELD', 2, 3],
    ['a bad address', '[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.300","prefixlen":24}]}]', 'IPROUTE_BAD_VALUE', 1, 57],
    ['a prefix length out of range', '[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.3","prefixlen":33}]}]', 'IPROUTE_BAD_VALUE', 1, 80],
    ['a route file', '[{"dst":"default","gateway":"10.0.0.1","dev":"eth0"}]', 'IPROUTE_WRONG_FILE', 1, 2],
    ['deep nesting', '['.repeat(100000), 'IPROUTE_TOO_DEEP', 1, 65],
    ['an unknown scope', '[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.3","prefixlen":24,"scope":"galaxy"}]}]', 'IPROUTE_BAD_VALUE', 1, 91],
  ])('%s', (_what, text, code, line, col) => {
    const { diagnostics } = parseIpAddr(text, 'f.json');
    expect(diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])).toContainEqual([code, line, col]);
    expect(diagnostics.every((d) => d.file === 'f.json')).toBe(true);
  });
});

describe('ip -j route', () => {
  it('reads both families, types, tables, metrics; a device-only default takes its list\'s family', () => {
    const { routes, diagnostics } = parseIpRoute(`${ROUTE4}\n${ROUTE6}\n`, 'ip-route.json');
    expect(diagnostics).toEqual([]);
    expect(routes.map((r) => [r.family, r.to, r.type, r.dev, r.gateway, r.table, r.metric])).toEqual([
      ['ipv4', 'default', 'unicast', 'eth0', '192.168.5.1', 'main', 0],
      ['ipv4', '10.1.0.0/24', 'unicast', 'br0', null, 'main', 0],
      ['ipv4', '10.9.0.0/16', 'blackhole', null, null, 'main', 0],
      ['ipv4', '10.1.0.1/32', 'local', 'br0', null, 'local', 0],
      ['ipv6', '2001:db8::/64', 'unicast', 'br0', null, 'main', 256],
      ['ipv6', 'default', 'unicast', 'wg0', null, 'main', 1024],
    ]);
  });

  it.each([
    ['an unknown type', '[{"type":"teleport","dst":"10.0.0.0/8"}]', 'IPROUTE_BAD_VALUE', 1, 10],
    ['a bad prefix', '[{"dst":"10.0.0.0/40","dev":"eth0"}]', 'IPROUTE_BAD_VALUE', 1, 9],
    ['a unicast route without dev', '[{"dst":"10.0.0.0/8"}]', 'IPROUTE_MISSING_FIELD', 1, 2],
    ['an interface list', '[{"ifindex":1,"ifname":"lo"}]', 'IPROUTE_WRONG_FILE', 1, 2],
    ['a lone device-only default', '[{"dst":"default","dev":"wg0"}]', 'IPROUTE_FAMILY', 1, 9],
    ['text after the list', '[]\nhello', 'IPROUTE_NOT_JSON', 2, 1],
  ])('%s', (_what, text, code, line, col) => {
    const { diagnostics } = parseIpRoute(text, 'r.json');
    expect(diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])).toContainEqual([code, line, col]);
  });

  it('warns about routes of other tables and multipath routes', () => {
    const { diagnostics } = parseIpRoute('[{"dst":"10.0.0.0/8","dev":"eth0","table":"100"},{"dst":"default","nexthops":[{"gateway":"10.0.0.1","dev":"eth0"},{"gateway":"10.0.0.2","dev":"eth1"}]}]', 'r.json');
    expect(diagnostics.map((d) => [d.severity, d.code])).toEqual([['warning', 'IPROUTE_MULTIPATH'], ['warning', 'IPROUTE_OTHER_TABLE']]);
  });
});

describe('bridge -j link and sysctl -a', () => {
  it('reads bridge ports', () => {
    expect(parseBridgeLink(BRIDGE, 'b.json').ports).toEqual([{ name: 'vp1', bridge: 'br0', state: 'forwarding' }]);
    expect(parseBridgeLink('[{"ifname":"vp1"}]', 'b.json').diagnostics.map((d) => d.code)).toEqual(['IPROUTE_MISSING_FIELD']);
  });

  it('reads sysctl -a, skipping what sysctl wrote to stderr, and reports bad lines', () => {
    const text = 'net.ipv4.conf.all.rp_filter = 2\nnet.ipv4.tcp_rmem = 4096\t131072\t6291456\nsysctl: permission denied on key \'fs.protected_hardlinks\'\nnet.ipv4.conf.eth0/100.rp_filter = 1\n  garbage here\n';
    const { values, diagnostics } = parseSysctls(text, 'sysctl.txt');
    expect([...values]).toEqual([['net.ipv4.conf.all.rp_filter', '2'], ['net.ipv4.tcp_rmem', '4096\t131072\t6291456'], ['net.ipv4.conf.eth0/100.rp_filter', '1']]);
    expect(diagnostics.map((d) => [d.severity, d.code, d.span?.line, d.span?.col])).toEqual([['warning', 'SYSCTL_MESSAGE', 3, 1], ['error', 'SYSCTL_SYNTAX', 5, 3]]);
  });
});

describe('the node value from a description', () => {
  it('takes interfaces, bridges, routes and sysctls from the files', () => {
    const sink = new DiagnosticSink();
    const node = nodeFromDumps(
      {
        iptables: [{ family: 'ipv4', file: 'r', text: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n' }],
        interfaces: [],
        description: { ipAddr: { file: 'a', text: ADDR }, ipRoutes: [{ file: 'r4', text: ROUTE4 }], bridgeLinks: { file: 'b', text: BRIDGE }, sysctls: { file: 's', text: 'net.ipv4.conf.all.rp_filter = 1\n' } },
      },
      sink,
    );
    expect(sink.items).toEqual([]);
    expect(node!.bridges).toEqual([{ name: 'br0', ports: ['vp1'] }]);
    expect(node!.interfaces.map((i) => i.name)).toEqual(['lo', 'br0', 'vp1']);
    expect(addressesOf(node!.interfaces[1]).map((a) => a.secondary)).toEqual([false, true, false]);
    expect(node!.routes.map((r) => `${r.to} ${r.type} ${r.table}`)).toEqual(['0.0.0.0/0 unicast main', '10.1.0.0/24 unicast main', '10.9.0.0/16 blackhole main', '10.1.0.1/32 local local']);
    expect(node!.sysctls.get('net.ipv4.conf.all.rp_filter')).toBe('1');
  });

  it('reports a bad description file and builds no node', () => {
    const sink = new DiagnosticSink();
    const node = nodeFromDumps({ iptables: [], interfaces: [], description: { ipAddr: { file: 'a.json', text: '[{"ifindex":1}]' } } }, sink);
    expect(node).toBeNull();
    expect(sink.errors.map((e) => [e.file, e.code])).toEqual([['a.json', 'IPROUTE_MISSING_FIELD']]);
  });
});
