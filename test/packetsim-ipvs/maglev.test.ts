// The mh scheduler's lookup table and lookup (src/packetsim-ipvs/maglev.ts) against what
// net/netfilter/ipvs/ip_vs_mh.c does, traced by hand from its loops: slot counts follow from the
// round-robin of `turns` per destination, the first claims of a small table from the offsets and
// skips (whose hash, hsiphash, is checked against the kernel's vectors in hsiphash.test.ts).
import { describe, expect, it } from 'vitest';
import { MH_HASH1, mhHashKey, mhLookup, mhPermutate, mhTable, mhTableSize, type MhDest } from '../../src/packetsim-ipvs/maglev.js';

const dest = (addr: number, lastWeight = 1, port = 8080): MhDest => ({ addr, port, lastWeight });
const A = dest(0x0af40207); // 10.244.2.7:8080
const B = dest(0x0af40208); // 10.244.2.8:8080
const C = dest(0x0af40105); // 10.244.1.5:8080

function counts(t: Int32Array | null): Record<string, number> {
  const c: Record<string, number> = {};
  for (const x of t!) c[x] = (c[x] ?? 0) + 1;
  return c;
}

describe('mh table size', () => {
  it('CONFIG_IP_VS_MH_TAB_INDEX 12 (the default) is 4093 slots; 8 is 251, 17 is 131071', () => {
    expect(mhTableSize()).toBe(4093);
    expect(mhTableSize(8)).toBe(251);
    expect(mhTableSize(17)).toBe(131071);
    expect(() => mhTableSize(18)).toThrow(RangeError);
  });
});

describe('mh permutation and population (ip_vs_mh_permutate, ip_vs_mh_populate)', () => {
  it('one destination fills every slot', () => {
    expect(counts(mhTable([A]))).toEqual({ 0: 4093 });
  });

  it('two of equal weight alternate one slot each round: 4093 is odd, the first gets one more', () => {
    expect(counts(mhTable([A, B]))).toEqual({ 0: 2047, 1: 2046 });
    expect(counts(mhTable([A, B, C]))).toEqual({ 0: 1365, 1: 1364, 2: 1364 });
  });

  it('weights are turns per round after dividing by their gcd: 2:1 and 4:2 alike take 2 + 1 a round (1364 rounds and one slot)', () => {
    expect(counts(mhTable([dest(A.addr, 2), B]))).toEqual({ 0: 2729, 1: 1364 });
    expect(counts(mhTable([dest(A.addr, 4), dest(B.addr, 2)]))).toEqual({ 0: 2729, 1: 1364 });
  });

  it('large weights are shifted: 1 and 100, fls(100) = 7 > 6 bits, shift 1: turns 1 (never 0) and 50, 80 rounds of 51 and 13 slots', () => {
    const s = mhPermutate([A, dest(B.addr, 100)])!;
    expect(s.map((x) => x.turns)).toEqual([1, 50]);
    expect(counts(mhTable([A, dest(B.addr, 100)]))).toEqual({ 0: 81, 1: 4012 });
  });

  it('a destination added with weight 0 takes no slot; with no positive weight the table is empty', () => {
    expect(counts(mhTable([A, dest(B.addr, 0), C]))).toEqual({ 0: 2047, 2: 2046 });
    expect(counts(mhTable([dest(A.addr, 0)]))).toEqual({ '-1': 4093 });
    expect(counts(mhTable([]))).toEqual({ '-1': 4093 });
  });

  it('251 slots, hand-traced: offsets and skips, then the claims round by round, a taken slot skipped', () => {
    const s = mhPermutate([A, B], 8)!;
    // offset = hash1 % 251, skip = hash2 % 250 + 1.
    expect(s).toEqual([
      { offset: 17, skip: 107, turns: 1 },
      { offset: 244, skip: 15, turns: 1 },
    ]);
    const t = mhTable([A, B], 8)!;
    // Rounds 1-5: A takes 17, 124, 231, 87 (= 338 - 251), 194; B takes 244, 8 (= 259 - 251), 23, 38, 53.
    expect([17, 124, 231, 87, 194].map((i) => t[i])).toEqual([0, 0, 0, 0, 0]);
    expect([244, 8, 23, 38, 53].map((i) => t[i])).toEqual([1, 1, 1, 1, 1]);
    // B's 7th preference is 83 (8 + 5 * 15), taken in round 7; A reaches 83 only as its 11th
    // (17 + 10 * 107 = 1087 = 4 * 251 + 83), so A's 11th round steps on to 190 (1194 - 4 * 251).
    expect(t[83]).toBe(1);
    expect(t[190]).toBe(0);
    expect(counts(t)).toEqual({ 0: 126, 1: 125 });
  });

  it('the order of the destination list matters: the first one wins the contested slots', () => {
    const ab = mhTable([A, B])!;
    const ba = mhTable([B, A])!;
    let differ = 0;
    for (let i = 0; i < ab.length; i++) if (ab[i] !== 1 - ba[i]) differ++;
    expect(differ).toBeGreaterThan(0);
  });
});

describe('mh lookup (ip_vs_mh_get, ip_vs_mh_get_fallback)', () => {
  const table = mhTable([A, B, C])!;
  const all = () => true;

  it('a source goes to the destination of slot hash1(addr, port) % 4093, the same every time', () => {
    for (let i = 0; i < 32; i++) {
      const addr = 0x0af40100 + i;
      const slot = mhHashKey(addr, 0, MH_HASH1, 0) % 4093;
      const pick = mhLookup(table, all, addr, 0, false);
      expect(pick).toEqual({ dest: table[slot], slot, first: slot });
      expect(mhLookup(table, all, addr, 0, false)).toEqual(pick);
    }
  });

  it('different sources spread over all destinations', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 64; i++) seen.add(mhLookup(table, all, 0x0a000000 + i, 0, false)!.dest);
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it('an unavailable destination: no destination, or with fallback the first available of the rehashed slots', () => {
    const up = (d: number) => d !== 1;
    let tried = 0;
    for (let i = 0; i < 200 && tried < 8; i++) {
      const addr = 0x0a000000 + i;
      const first = mhHashKey(addr, 0, MH_HASH1, 0) % 4093;
      if (table[first] !== 1) continue;
      tried++;
      expect(mhLookup(table, up, addr, 0, false)).toBeNull();
      // The kernel's loop: offset k = 0, 1, ... -> slot hash1(addr, 0, (first + k) % 4093) % 4093.
      let k = 0;
      let slot = -1;
      do slot = mhHashKey(addr, 0, MH_HASH1, (first + k++) % 4093) % 4093;
      while (table[slot] === 1);
      expect(mhLookup(table, up, addr, 0, true)).toEqual({ dest: table[slot], slot, first });
    }
    expect(tried).toBe(8);
  });

  it('nothing available: no destination, with or without fallback; an empty table: none', () => {
    expect(mhLookup(table, () => false, 0x0a000001, 0, true)).toBeNull();
    expect(mhLookup(mhTable([])!, all, 0x0a000001, 0, true)).toBeNull();
  });
});
