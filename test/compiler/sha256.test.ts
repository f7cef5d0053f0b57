import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hash16 } from '../../src/compiler/hash.js';
import { sha256Ascii } from '../../src/compiler/sha256.js';
import { mulberry32 } from '../../src/util/rng.js';

const hex = (words: Int32Array) => Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, '0')).join('');

describe('sha256Ascii', () => {
  // Every padding case: the length and the 0x80 byte in one block, the length in the next, block boundaries.
  it.each(Array.from({ length: 200 }, (_, n) => n))('equals node:crypto for %i characters', (n) => {
    const rand = mulberry32(n + 1);
    const text = Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(rand() * 95))).join('');
    expect(hex(sha256Ascii(text)!)).toBe(hash('sha256', text, 'hex'));
  });

  it('hashes parts as their concatenation', () => {
    for (const [a, b, c] of [['ns/svc:p', 'tcp', '10.0.0.1:80'], ['x'.repeat(63), 'y', ''], ['', 'z'.repeat(64), 'w'.repeat(56)], ['', '', '']]) {
      expect(hex(sha256Ascii(a, b, c)!)).toBe(hash('sha256', a + b + c, 'hex'));
    }
  });

  it('declines text outside ASCII', () => {
    expect(sha256Ascii('ns/svc:p', 'tcp', '\u00e9')).toBeNull();
    expect(sha256Ascii('ns/caf\u00e9:http')).toBeNull();
  });
});

describe('hash16', () => {
  it.each(['', 'ns1/svc1:p80tcp', 'ns1/svc1:p80tcp10.180.0.1:80', 'ns/caf\u00e9:httptcp', 'ns/\u{1f600}:p', 'x'.repeat(300)])('is base32 of node:crypto SHA-256 for %j', (text) => {
    const d = hash('sha256', text, 'buffer');
    let bits = '';
    for (const b of d.subarray(0, 10)) bits += b.toString(2).padStart(8, '0');
    const want = Array.from({ length: 16 }, (_, i) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[parseInt(bits.slice(5 * i, 5 * i + 5), 2)]).join('');
    expect(hash16(text)).toBe(want);
  });
});
