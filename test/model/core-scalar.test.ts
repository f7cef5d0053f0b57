// coreScalar resolves a plain scalar as the `yaml` library's core schema does: checked against
// the library on fixed spellings and on random strings of digits, signs, dots, letters and the
// characters of the special values (the digits-only shortcut included).
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { coreScalar, NOT_CORE } from '../../src/model/core-scalar.js';
import { mulberry32 } from '../../src/util/rng.js';

const resolved = (s: string) => {
  const v = coreScalar(s);
  return v === NOT_CORE ? s : v;
};

describe('coreScalar', () => {
  it.each(['0', '00', '007', '0123', '1', '80', '65535', '123456789012345678901234567890', '-1', '+1', '0o17', '0x1F', '1.5', '1e3', '.inf', '-.Inf', '.nan', 'null', 'Null', '~', 'true', 'False', 'TRUE', 'x1', '1x', '08', '1_000'])('%s', (s) => {
    expect(Object.is(resolved(s), parse(s)) || resolved(s) === parse(s)).toBe(true);
  });

  it('agrees with the yaml library on random plain scalars', () => {
    const rand = mulberry32(99);
    const chars = '0123456789012345678901234567890+-.eEoxXabfnlstru~_';
    for (let n = 0; n < 5000; n++) {
      let s = '';
      for (let k = 1 + Math.floor(rand() * 8); k > 0; k--) s += chars[Math.floor(rand() * chars.length)];
      let expected: unknown;
      try {
        expected = parse(s);
      } catch {
        continue;
      }
      if (typeof expected === 'object' && expected !== null) continue;
      const got = resolved(s);
      expect(Object.is(got, expected) || got === expected, `${s}: ${String(got)} vs ${String(expected)}`).toBe(true);
    }
  });
});
