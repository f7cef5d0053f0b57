// The one dotted-quad reader the iptables-save reader and the simulator share: the two modes agree
// everywhere except on leading zeros.
import { describe, expect, it } from 'vitest';
import { dottedQuad } from '../../src/iptables/ipv4.js';

describe('dottedQuad', () => {
  it.each([
    ['10.0.0.1', 0x0a000001],
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['192.168.99.22', 0xc0a86316],
  ])('reads %s in both modes', (text, value) => {
    expect(dottedQuad(text, false)).toBe(value);
    expect(dottedQuad(text, true)).toBe(value);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '256.0.0.1', '1.2.3.4a', '1.2.3.-4', '1.2.3.1000', ' 1.2.3.4', '1.2.3.0255'])(
    'refuses %j in both modes',
    (text) => {
      expect(dottedQuad(text, false)).toBe(-1);
      expect(dottedQuad(text, true)).toBe(-1);
    },
  );

  it('reads leading zeros only when asked to (an octet of up to three digits)', () => {
    for (const [text, value] of [['010.0.0.1', 0x0a000001], ['192.168.099.022', 0xc0a86316], ['1.2.3.000', 0x01020300]] as const) {
      expect(dottedQuad(text, false)).toBe(-1);
      expect(dottedQuad(text, true)).toBe(value);
    }
  });
});
