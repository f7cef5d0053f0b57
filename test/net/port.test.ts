// Ports and ranges in the spellings iptables, ipset and ipvsadm use.
import { describe, expect, it } from 'vitest';
import { formatPortRange, inPortRanges, parsePort, parsePortOrService, parsePortRange } from '../../src/net/index.js';

describe('parsePort', () => {
  it.each([
    ['0', 0],
    ['80', 80],
    ['65535', 65535],
    ['080', 80],
  ])('reads %s', (text, port) => {
    expect(parsePort(text)).toBe(port);
  });

  it.each(['', '65536', '-1', '0x50', '8 0', 'http'])('refuses %j', (text) => {
    expect(parsePort(text)).toBeNull();
  });

  it('resolves service names only where asked, and only real ones', () => {
    expect(parsePortOrService('ssh')).toBe(22);
    expect(parsePortOrService('https')).toBe(443);
    expect(parsePortOrService('toString')).toBeNull();
    expect(parsePortOrService('22')).toBe(22);
  });
});

describe('parsePortRange', () => {
  it.each([
    ['a single port', '80', ':', false, [80, 80]],
    ['a range', '1000:2000', ':', false, [1000, 2000]],
    ['a dash range', '1000-2000', '-', false, [1000, 2000]],
    ['an open start', ':1024', ':', true, [0, 1024]],
    ['an open end', '1024:', ':', true, [1024, 65535]],
    ['both ends open', ':', ':', true, [0, 65535]],
    ['one port as a range', '5:5', ':', false, [5, 5]],
  ] as const)('%s: %s', (_name, text, sep, openEnds, range) => {
    expect(parsePortRange(text, sep, parsePort, openEnds)).toEqual(range);
  });

  it.each([
    ['a reversed range', '2000:1000', ':', true],
    ['an open start without open ends', ':1024', ':', false],
    ['the wrong separator', '1000-2000', ':', true],
    ['a port over 65535', '1:70000', ':', true],
  ] as const)('refuses %s: %s', (_name, text, sep, openEnds) => {
    expect(parsePortRange(text, sep, parsePort, openEnds)).toBeNull();
  });

  it('formats and tests ranges', () => {
    expect(formatPortRange([80, 80], ':')).toBe('80');
    expect(formatPortRange([1, 2], '-')).toBe('1-2');
    expect(inPortRanges([[80, 80], [1000, 2000]], 1500)).toBe(true);
    expect(inPortRanges([[80, 80], [1000, 2000]], 81)).toBe(false);
  });
});
