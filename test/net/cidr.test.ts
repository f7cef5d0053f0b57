// Networks: A, A/N, A/MASK; host bits cleared; membership, compiled or not.
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrTest, formatCidr, parseAddress, parseCidr, parseIP, prefixOf, type Family } from '../../src/net/index.js';

describe('parseCidr', () => {
  it.each([
    ['a host is /32', '10.0.0.1', 'ipv4', '10.0.0.1/32'],
    ['a prefix', '10.0.0.0/8', 'ipv4', '10.0.0.0/8'],
    ['host bits cleared', '10.1.2.3/8', 'ipv4', '10.0.0.0/8'],
    ['/0', '1.2.3.4/0', 'ipv4', '0.0.0.0/0'],
    ['/32', '1.2.3.4/32', 'ipv4', '1.2.3.4/32'],
    ['a dotted mask', '10.1.0.0/255.255.0.0', 'ipv4', '10.1.0.0/16'],
    ['the zero mask', '10.1.0.0/0.0.0.0', 'ipv4', '0.0.0.0/0'],
    ['an IPv6 host is /128', 'fd00::1', 'ipv6', 'fd00::1/128'],
    ['/128', 'fd00::1/128', 'ipv6', 'fd00::1/128'],
    ['IPv6 host bits cleared', 'fd00::1:2/64', 'ipv6', 'fd00::/64'],
    ['an IPv6 mask', 'fd00::/ffff:ffff::', 'ipv6', 'fd00::/32'],
    ['IPv4-mapped', '::ffff:1.2.3.4/128', 'ipv6', '::ffff:102:304/128'],
  ] as const)('%s: %s', (_name, text, family, canonical) => {
    const c = parseCidr(text, family);
    expect(c).not.toBeNull();
    expect(formatCidr(c!)).toBe(canonical);
  });

  it.each([
    ['a non-contiguous mask', '10.0.0.0/255.0.255.0', 'ipv4'],
    ['a mask with ones at the end', '10.0.0.0/0.0.0.255', 'ipv4'],
    ['/33', '10.0.0.0/33', 'ipv4'],
    ['/129', '::/129', 'ipv6'],
    ['an empty length', '10.0.0.0/', 'ipv4'],
    ['a negative length', '10.0.0.0/-1', 'ipv4'],
    ['the other family', '10.0.0.0/8', 'ipv6'],
    ['an IPv6 address in IPv4', '::1', 'ipv4'],
    ['leading zeros (strict)', '010.0.0.0/8', 'ipv4'],
  ] as const)('refuses %s: %s', (_name, text, family) => {
    expect(parseCidr(text, family)).toBeNull();
  });

  it('reads leading zeros when sloppy', () => {
    expect(formatCidr(parseCidr('010.0.0.0/8', 'ipv4', true)!)).toBe('10.0.0.0/8');
  });

  it('reads a prefix length or a mask', () => {
    expect(prefixOf('24', 'ipv4')).toBe(24);
    expect(prefixOf('255.255.255.0', 'ipv4')).toBe(24);
    expect(prefixOf('33', 'ipv4')).toBeNull();
    expect(prefixOf('x', 'ipv4')).toBeNull();
  });
});

describe('cidrContains and cidrTest', () => {
  const rows: [string, string, string, Family, boolean][] = [
    ['inside', '10.0.0.0/8', '10.200.1.1', 'ipv4', true],
    ['outside', '10.0.0.0/8', '11.0.0.1', 'ipv4', false],
    ['/0 holds everything', '0.0.0.0/0', '255.255.255.255', 'ipv4', true],
    ['/32 holds itself', '10.0.0.1/32', '10.0.0.1', 'ipv4', true],
    ['/32 holds nothing else', '10.0.0.1/32', '10.0.0.2', 'ipv4', false],
    ['the top bit', '128.0.0.0/1', '200.0.0.1', 'ipv4', true],
    ['IPv6 inside', 'fd00::/64', 'fd00::ffff', 'ipv6', true],
    ['IPv6 outside', 'fd00::/64', 'fd00:0:0:1::1', 'ipv6', false],
    ['IPv6 /0', '::/0', 'ffff::1', 'ipv6', true],
    ['IPv6 /128', '::1/128', '::1', 'ipv6', true],
  ];
  it.each(rows)('%s: %s holds %s', (_name, cidr, addr, family, inside) => {
    const c = parseCidr(cidr, family)!;
    const a = parseAddress(addr, family)!;
    expect(cidrContains(c, a)).toBe(inside);
    expect(cidrTest(c)(a)).toBe(inside);
    expect(cidrContains(c, parseIP(addr)!)).toBe(inside);
  });

  it('an address of the other family is never inside', () => {
    expect(cidrContains(parseCidr('::/0', 'ipv6')!, parseIP('10.0.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0', 'ipv4')!, parseIP('::1')!)).toBe(false);
  });
});
