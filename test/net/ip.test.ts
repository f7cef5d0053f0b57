// Addresses as numbers: reading (strict and sloppy), RFC 5952 and inet_ntop printing, masks.
import { Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { formatHostPort, formatIp, formatIpKernel, formatIPv6, ipv4End, isLoopback, isUnspecified, maskIp, parseAddress, parseIPv4, parseIPv6, prefixOfMask, scanIPv4, v4Mask, v6Mask } from '../../src/net/index.js';

describe('parseIPv4', () => {
  it.each([
    ['a host', '10.0.0.1', 0x0a000001],
    ['all zeros', '0.0.0.0', 0],
    ['all ones', '255.255.255.255', 0xffffffff],
    ['three-digit octets', '192.168.99.22', 0xc0a86316],
  ])('reads %s in both modes: %s', (_name, text, value) => {
    expect(parseIPv4(text)).toBe(value);
    expect(parseIPv4(text, true)).toBe(value);
  });

  it.each([
    ['empty', ''],
    ['three octets', '1.2.3'],
    ['five octets', '1.2.3.4.5'],
    ['an empty octet', '1..2.3'],
    ['a leading dot', '.1.2.3'],
    ['a trailing dot', '1.2.3.'],
    ['an octet over 255', '256.0.0.1'],
    ['a letter', '1.2.3.4a'],
    ['a sign', '1.2.3.-4'],
    ['four digits', '1.2.3.1000'],
    ['a space', ' 1.2.3.4'],
    ['four digits with a leading zero', '1.2.3.0255'],
    ['a prefix', '1.2.3.4/32'],
  ])('refuses %s in both modes: %j', (_name, text) => {
    expect(parseIPv4(text)).toBeNull();
    expect(parseIPv4(text, true)).toBeNull();
  });

  it.each([
    ['010.0.0.1', 0x0a000001],
    ['192.168.099.022', 0xc0a86316],
    ['1.2.3.000', 0x01020300],
  ])('reads leading zeros as decimal only when sloppy: %s', (text, value) => {
    expect(parseIPv4(text)).toBeNull();
    expect(parseIPv4(text, true)).toBe(value);
  });

  it('scans a quad inside a longer text without slicing it', () => {
    const src = '-d 10.1.2.3/32';
    expect(scanIPv4(src, 3, 11, false)).toBe(0x0a010203);
    expect(scanIPv4(src, 3, 12, false)).toBe(-1);
  });

  it.each([
    ['a quad before a prefix', '10.1.2.3/32', 8],
    ['a quad before a port', '10.1.2.3:80', 8],
    ['a whole quad', '255.255.255.255', 15],
    ['a leading zero', '10.01.2.3/32', -1],
    ['an octet over 255', '10.1.2.256', -1],
    ['three octets', '10.1.2/8', -1],
    ['four digits', '10.1.2.3000', -1],
  ])('finds where a strict quad ends: %s', (_name, text, at) => {
    expect(ipv4End(text, 0, text.length)).toBe(at);
    if (at > 0) expect(scanIPv4(text, 0, at, false)).toBeGreaterThanOrEqual(0);
  });
});

describe('parseIPv6', () => {
  it.each([
    ['loopback', '::1', 1n],
    ['unspecified', '::', 0n],
    ['compressed in the middle', 'fd00::a:1', 0xfd00_0000_0000_0000_0000_0000_000a_0001n],
    ['upper case', 'FD00::A:1', 0xfd00_0000_0000_0000_0000_0000_000a_0001n],
    ['IPv4-mapped', '::ffff:1.2.3.4', 0xffff_0102_0304n],
    ['IPv4-compatible', '::1.2.3.4', 0x0102_0304n],
    ['full', '1:2:3:4:5:6:7:8', 0x0001_0002_0003_0004_0005_0006_0007_0008n],
    ['compressed at the end', '1:2:3:4:5:6:7::', 0x0001_0002_0003_0004_0005_0006_0007_0000n],
  ])('reads %s: %s', (_name, text, value) => {
    expect(parseIPv6(text)).toBe(value);
    expect(parseAddress(text, 'ipv6')).toBe(value);
  });

  it.each([
    ['a zone', 'fe80::1%eth0'],
    ['brackets', '[::1]'],
    ['a prefix', '::1/128'],
    ['two compressions', '1::2::3'],
    ['nine groups', '1:2:3:4:5:6:7:8:9'],
    ['a five-digit group', '00000::1'],
    ['an IPv4 address', '1.2.3.4'],
    ['a bad embedded quad', '::ffff:256.1.1.1'],
    ['a leading zero in the embedded quad', '::ffff:01.2.3.4'],
    ['a space', ' ::1'],
  ])('refuses %s: %j', (_name, text) => {
    expect(parseIPv6(text)).toBeNull();
  });
});

describe('formatIPv6 (RFC 5952, hex groups)', () => {
  it.each([
    ['loopback', 1n, '::1'],
    ['unspecified', 0n, '::'],
    ['the first of two equal runs is compressed', 0x0001_0000_0000_0001_0001_0000_0000_0001n, '1::1:1:0:0:1'],
    ['the longer run wins over the first', 0x0001_0000_0001_0000_0000_0000_0001_0000n, '1:0:1::1:0'],
    ['a single zero group is not compressed', 0x0001_0000_0001_0001_0001_0001_0001_0001n, '1:0:1:1:1:1:1:1'],
    ['no leading zeros, lower case', 0x2001_0db8_0000_0000_0000_0000_0002_0001n, '2001:db8::2:1'],
    ['a run at the end', 0xfe80n << 112n, 'fe80::'],
    ['IPv4-mapped stays in hex', 0xffff_0102_0304n, '::ffff:102:304'],
  ])('%s', (_name, value, text) => {
    expect(formatIPv6(value)).toBe(text);
    expect(formatIp(value, 'ipv6')).toBe(text);
  });

  it("agrees with ip-address's correctForm on addresses with zero runs of every length", () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      let v = 0n;
      for (let g = 0; g < 8; g++) v = (v << 16n) | BigInt(next() % 3 === 0 ? 0 : next() % 3 === 0 ? next() % 16 : next() % 0x10000);
      expect(formatIPv6(v)).toBe(Address6.fromBigInt(v).correctForm());
    }
  });
});

describe('formatIpKernel (inet_ntop, what iptables-save prints)', () => {
  // Each row as ip6tables-save v1.8.9 printed it on this project's kernel.
  it.each([
    ['IPv4-mapped', '::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['IPv4-compatible', '::1.2.3.4', '::1.2.3.4'],
    ['the mapped network', '::ffff:0:0', '::ffff:0.0.0.0'],
    ['seven zero groups are not a quad', '::2', '::2'],
    ['loopback', '::1', '::1'],
    ['the first run of two', '1:0:0:1:1:0:0:1', '1::1:1:0:0:1'],
    ['mapped with a small quad', '::ffff:0.0.0.1', '::ffff:0.0.0.1'],
  ])('%s: %s', (_name, text, printed) => {
    expect(formatIpKernel(parseIPv6(text)!, 'ipv6')).toBe(printed);
  });

  it('prints IPv4 as a dotted quad', () => {
    expect(formatIpKernel(0x0a000001, 'ipv4')).toBe('10.0.0.1');
  });
});

describe('masks and loopback', () => {
  it.each([
    ['/0', 0, 0],
    ['/8', 8, 0xff000000],
    ['/31', 31, 0xfffffffe],
    ['/32', 32, 0xffffffff],
  ])('v4Mask %s', (_name, prefix, mask) => {
    expect(v4Mask(prefix)).toBe(mask);
    expect(prefixOfMask(mask, 'ipv4')).toBe(prefix);
  });

  it.each([
    ['/0', 0],
    ['/64', 64],
    ['/127', 127],
    ['/128', 128],
  ])('v6Mask %s round-trips through prefixOfMask', (_name, prefix) => {
    expect(prefixOfMask(v6Mask(prefix), 'ipv6')).toBe(prefix);
  });

  it.each([
    ['ipv4 holes', 0xff00ff00, 'ipv4'],
    ['ipv4 ones at the end', 0x000000ff, 'ipv4'],
    ['ipv6 holes', (v6Mask(64) ^ (1n << 100n)), 'ipv6'],
  ] as const)('refuses a netmask with %s', (_name, mask, family) => {
    expect(prefixOfMask(mask, family)).toBeNull();
  });

  it('clears host bits', () => {
    expect(maskIp(0x0a0b0c0d, 8, 'ipv4')).toBe(0x0a000000);
    expect(maskIp(0x0a0b0c0d, 0, 'ipv4')).toBe(0);
    expect(maskIp(0x0a0b0c0d, 32, 'ipv4')).toBe(0x0a0b0c0d);
    expect(maskIp(parseIPv6('fd00::1:2')!, 112, 'ipv6')).toBe(parseIPv6('fd00::1:0'));
  });

  it.each([
    ['127.0.0.1', 'ipv4', true],
    ['127.255.0.9', 'ipv4', true],
    ['128.0.0.1', 'ipv4', false],
    ['::1', 'ipv6', true],
    ['::2', 'ipv6', false],
  ] as const)('isLoopback %s', (text, family, loop) => {
    const addr = parseAddress(text, family)!;
    expect(isLoopback(addr, family)).toBe(loop);
    expect(isLoopback({ family, value: addr })).toBe(loop);
  });

  it.each([
    ['0.0.0.0', 'ipv4', true],
    ['0.0.0.1', 'ipv4', false],
    ['::', 'ipv6', true],
    ['::1', 'ipv6', false],
  ] as const)('isUnspecified %s', (text, family, unspecified) => {
    expect(isUnspecified({ family, value: parseAddress(text, family)! })).toBe(unspecified);
  });

  it('formats host and port the way kube-proxy writes endpoints', () => {
    expect(formatHostPort(0x0a000001, 80, 'ipv4')).toBe('10.0.0.1:80');
    expect(formatHostPort(1n, 80, 'ipv6')).toBe('[::1]:80');
    expect(formatHostPort(1n, null, 'ipv6')).toBe('::1');
  });
});
