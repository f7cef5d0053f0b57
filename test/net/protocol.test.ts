// Protocol names and numbers as iptables 1.8.9 resolves and prints them (xtables_chain_protos, then
// Debian's /etc/protocols); the printed names are what `iptables-save` showed for `-p N`.
import { describe, expect, it } from 'vitest';
import { IPPROTO, protocolHasPorts, protocolName, protocolNumber } from '../../src/net/index.js';

// name -> number, every name `iptables -p NAME` accepted on this project's kernel.
const ACCEPTED: readonly [string, number][] = [
  ['all', 0], ['ip', 0], ['hopopt', 0], ['icmp', 1], ['igmp', 2], ['ggp', 3], ['ipencap', 4], ['st', 5], ['tcp', 6], ['egp', 8],
  ['igp', 9], ['pup', 12], ['udp', 17], ['hmp', 20], ['xns-idp', 22], ['rdp', 27], ['iso-tp4', 29], ['dccp', 33], ['xtp', 36],
  ['ddp', 37], ['idpr-cmtp', 38], ['ipv6', 41], ['ipv6-route', 43], ['ipv6-frag', 44], ['idrp', 45], ['rsvp', 46], ['gre', 47],
  ['esp', 50], ['ah', 51], ['skip', 57], ['icmpv6', 58], ['ipv6-icmp', 58], ['ipv6-nonxt', 59], ['ipv6-opts', 60], ['rspf', 73],
  ['vmtp', 81], ['eigrp', 88], ['ospf', 89], ['ax.25', 93], ['ipip', 94], ['etherip', 97], ['encap', 98], ['pim', 103],
  ['ipcomp', 108], ['vrrp', 112], ['l2tp', 115], ['isis', 124], ['sctp', 132], ['fc', 133], ['mobility-header', 135],
  ['ipv6-mh', 135], ['mh', 135], ['udplite', 136], ['mpls-in-ip', 137], ['manet', 138], ['hip', 139], ['shim6', 140],
  ['wesp', 141], ['rohc', 142], ['ethernet', 143], ['mptcp', 262],
];

// number -> what iptables-save printed.
const PRINTED: readonly [number, string | null][] = [
  [1, 'icmp'], [3, 'ggp'], [6, 'tcp'], [7, null], [22, 'xns-idp'], [39, null], [58, 'ipv6-icmp'], [93, 'ax.25'],
  [132, 'sctp'], [135, 'mobility-header'], [137, 'mpls-in-ip'], [143, 'ethernet'], [200, null], [255, null],
];

describe('protocols', () => {
  it.each(ACCEPTED)('%s is %i', (name, n) => {
    expect(protocolNumber(name)).toBe(n);
  });

  it('knows no names iptables refuses (idp, mpls, upper case)', () => {
    expect(protocolNumber('idp')).toBeNull();
    expect(protocolNumber('mpls')).toBeNull();
    expect(protocolNumber('TCP')).toBeNull();
  });

  it.each(PRINTED)('%i prints as %s', (n, name) => {
    expect(protocolName(n)).toBe(name);
  });

  it('prints 0 as all', () => {
    expect(protocolName(0)).toBe('all');
  });

  it.each([
    [IPPROTO.TCP, true],
    [IPPROTO.UDP, true],
    [IPPROTO.SCTP, true],
    [IPPROTO.DCCP, true],
    [IPPROTO.UDPLITE, true],
    [IPPROTO.ICMP, false],
    [IPPROTO.ICMPV6, false],
    [47, false],
  ])('protocol %i has ports: %s', (n, ports) => {
    expect(protocolHasPorts(n)).toBe(ports);
  });
});
