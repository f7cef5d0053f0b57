// kube-proxy's reading of API fields: family found, sloppy IPv4, canonical text, host bits cleared.
import { Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { familyOf, parseCIDR, parseIP } from '../../src/net/index.js';

describe('parseIP', () => {
  it.each([
    ['a canonical quad', '10.0.0.1', 'ipv4', '10.0.0.1', false],
    ['leading zeros', '192.168.099.022', 'ipv4', '192.168.99.22', true],
    ['a zero octet written 000', '10.0.000.1', 'ipv4', '10.0.0.1', true],
    ['IPv6 in full', '2001:0DB8:0000:0000:0000:0000:0000:0001', 'ipv6', '2001:db8::1', false],
    ['IPv4-mapped', '::ffff:1.2.3.4', 'ipv6', '::ffff:102:304', false],
  ] as const)('%s: %s', (_name, text, family, canonical, sloppy) => {
    const ip = parseIP(text)!;
    expect(ip.family).toBe(family);
    expect(ip.text).toBe(canonical);
    expect(ip.sloppy).toBe(sloppy);
  });

  it('keeps the input string when it is canonical', () => {
    const text = ['10', '0', '0', '1'].join('.');
    expect(parseIP(text)!.text).toBe(text);
  });

  it('carries IPv4 as a number and IPv6 as a bigint', () => {
    expect(parseIP('10.0.0.1')!.value).toBe(0x0a000001);
    expect(parseIP('::1')!.value).toBe(1n);
  });

  it.each(['', '10.0.0.1/32', '10.0.0', '1.2.3.256', 'fe80::1%eth0', '[::1]', 'x'])('refuses %j', (text) => {
    expect(parseIP(text)).toBeNull();
  });

  it.each(['fd00::1', '::', '1:0:0:1:1:0:0:1', 'FE80::0:0:0:1', '2001:db8:0:0:1:0:0:1'])("prints IPv6 %s as ip-address's correctForm", (text) => {
    expect(parseIP(text)!.text).toBe(new Address6(text).correctForm());
  });
});

describe('parseCIDR', () => {
  it.each([
    ['canonical', '10.0.0.0/8', 'ipv4', '10.0.0.0/8', 8, false],
    ['host bits cleared', '10.1.2.3/8', 'ipv4', '10.0.0.0/8', 8, false],
    ['a sloppy address', '010.0.0.0/8', 'ipv4', '10.0.0.0/8', 8, true],
    ['a sloppy length', '10.0.0.0/08', 'ipv4', '10.0.0.0/8', 8, true],
    ['/0', '0.0.0.0/0', 'ipv4', '0.0.0.0/0', 0, false],
    ['/32', '1.2.3.4/32', 'ipv4', '1.2.3.4/32', 32, false],
    ['IPv6', 'fd00::1/64', 'ipv6', 'fd00::/64', 64, false],
    ['/128', '::1/128', 'ipv6', '::1/128', 128, false],
  ] as const)('%s: %s', (_name, text, family, canonical, prefix, sloppy) => {
    const c = parseCIDR(text)!;
    expect(c.family).toBe(family);
    expect(c.text).toBe(canonical);
    expect(c.prefix).toBe(prefix);
    expect(c.sloppy).toBe(sloppy);
  });

  it.each([
    ['no length', '10.0.0.0'],
    ['/33', '10.0.0.0/33'],
    ['/129', '::/129'],
    ['a mask (API fields take lengths only)', '10.0.0.0/255.0.0.0'],
    ['a four-digit length', '10.0.0.0/0008'],
    ['a bad address', '10.0.0/8'],
  ])('refuses %s: %s', (_name, text) => {
    expect(parseCIDR(text)).toBeNull();
  });

  it('finds the family of an address or CIDR', () => {
    expect(familyOf('10.0.0.1')).toBe('ipv4');
    expect(familyOf('fd00::/8')).toBe('ipv6');
    expect(familyOf('nope')).toBeNull();
  });
});
