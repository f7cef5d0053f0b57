// IPVS's Maglev hashing scheduler `mh` (net/netfilter/ipvs/ip_vs_mh.c), step by step as the
// kernel runs it:
//
// - The lookup table has IP_VS_MH_TAB_SIZE slots, a prime chosen by CONFIG_IP_VS_MH_TAB_INDEX
//   (8..17, default 12 -> 4093 slots; IP_VS_MH_TAB_BITS = index / 2 = 6).
// - Keys are constants, not random (generate_hash_secret): hash1 = {2654435761, 2654435761},
//   hash2 = {2654446892, 2654446892}. A key hashes the u32 offset + port + address (IPv6: the
//   four words XORed), all in host order, with hsiphash (hsiphash.ts).
// - ip_vs_mh_permutate: per destination, in the service's destination list order, offset =
//   hash1(addr, port) % size, skip = hash2(addr, port) % (size - 1) + 1, and turns =
//   (last_weight / gcd) >> rshift, at least 1 for a non-zero last weight, where gcd is that of
//   the non-zero last weights (ip_vs_mh_gcd_weight) and rshift = fls(max / gcd) - TAB_BITS when
//   positive (ip_vs_mh_shift_weight). No non-zero last weight: the table stays empty.
// - ip_vs_mh_populate: round after round over the destinations, each one with turns >= 1 takes
//   `turns` slots, each the next free one of its preference list offset, offset + skip, ... (mod
//   size), until every slot is taken.
// - ip_vs_mh_schedule: slot hash1(source address, port) % size, the port being the source port
//   with mh-port (IP_VS_SVC_F_SCHED2) and 0 otherwise. A destination that is unavailable (weight
//   <= 0, or overloaded past its upper threshold) gives no destination, unless mh-fallback
//   (IP_VS_SVC_F_SCHED1): then ip_vs_mh_get_fallback tries the slots hash1(addr, port, offset) for
//   offset = (ihash + k) % size, k = 0, 1, ..., stopping at an empty slot.
//
// last_weight is the destination's latest non-zero weight (its weight when it was added, even 0;
// __ip_vs_update_dest keeps it when the weight is later set to 0), so a quiesced destination
// keeps its slots and its clients get no destination (or the fallback).
import { hsiphashU32, type HsiphashKey } from './hsiphash.js';

/** Available prime table sizes, CONFIG_IP_VS_MH_TAB_INDEX 8..17. */
const PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;

/** CONFIG_IP_VS_MH_TAB_INDEX when the kernel configuration does not set it (Kconfig default too). */
export const MH_TAB_INDEX = 12;

export const MH_HASH1: HsiphashKey = [2654435761n, 2654435761n];
export const MH_HASH2: HsiphashKey = [2654446892n, 2654446892n];

export function mhTableSize(tabIndex = MH_TAB_INDEX): number {
  const size = PRIMES[tabIndex - 8];
  if (size === undefined) throw new RangeError(`CONFIG_IP_VS_MH_TAB_INDEX ${tabIndex} is not in 8..17`);
  return size;
}

export interface MhDest {
  /** Address as a host-order u32 (IPv6 folded: the four words XORed). */
  readonly addr: number;
  readonly port: number;
  /** The latest non-zero weight (or the weight it was added with). */
  readonly lastWeight: number;
}

/** ip_vs_mh_hashkey: hsiphash of the u32 offset + port + address. */
export function mhHashKey(addr: number, port: number, key: HsiphashKey, offset: number): number {
  return hsiphashU32((offset + port + addr) >>> 0, key);
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** fls(): the position of the highest set bit, 1-based; 0 for 0. */
const fls = (x: number): number => (x <= 0 ? 0 : 32 - Math.clz32(x));

/** Per destination: its first preference, its step through the table and its slots per round. */
export interface MhSetup {
  readonly offset: number;
  readonly skip: number;
  readonly turns: number;
}

/** ip_vs_mh_gcd_weight, ip_vs_mh_shift_weight and ip_vs_mh_permutate; null when no last weight is positive (gcd < 1). */
export function mhPermutate(dests: readonly MhDest[], tabIndex = MH_TAB_INDEX): MhSetup[] | null {
  const size = mhTableSize(tabIndex);
  let g = 0;
  let max = 0;
  for (const d of dests) {
    if (d.lastWeight > 0) g = g > 0 ? gcd(d.lastWeight, g) : d.lastWeight;
    if (d.lastWeight > max) max = d.lastWeight;
  }
  if (g < 1) return null;
  const rshift = Math.max(0, fls(Math.trunc(max / g)) - (tabIndex >> 1));
  return dests.map((d) => ({
    offset: mhHashKey(d.addr, d.port, MH_HASH1, 0) % size,
    skip: (mhHashKey(d.addr, d.port, MH_HASH2, 0) % (size - 1)) + 1,
    turns: Math.trunc(d.lastWeight / g) >> rshift || (d.lastWeight !== 0 ? 1 : 0),
  }));
}

/**
 * The populated lookup table (ip_vs_mh_populate): per slot the index of its destination in
 * `dests`, or -1 for an empty slot (no destination has a positive last weight). Null when the
 * kernel refuses the service: more destinations than slots (ip_vs_mh_reassign, -EINVAL).
 */
export function mhTable(dests: readonly MhDest[], tabIndex = MH_TAB_INDEX): Int32Array | null {
  const size = mhTableSize(tabIndex);
  if (dests.length > size) return null;
  const table = new Int32Array(size).fill(-1);
  const setup = mhPermutate(dests, tabIndex);
  if (!setup) return table;
  const perm = setup.map((s) => s.offset);
  let n = 0;
  for (;;) {
    for (let i = 0; i < setup.length; i++) {
      const { skip, turns } = setup[i];
      // A destination added with weight 0 takes no slots.
      for (let t = 0; t < turns; t++) {
        let c = perm[i];
        while (table[c] !== -1) {
          c += skip;
          if (c >= size) c -= size;
        }
        perm[i] = c;
        table[c] = i;
        if (++n === size) return table;
      }
    }
  }
}

export interface MhPick {
  /** Index of the destination in the table's `dests`. */
  readonly dest: number;
  /** The slot it was found in. */
  readonly slot: number;
  /** The source's own slot (ihash); differs from `slot` when mh-fallback moved on. */
  readonly first: number;
}

/**
 * ip_vs_mh_get / ip_vs_mh_get_fallback: the destination for a source address (folded u32) and
 * port (0 without mh-port); null is "no destination available".
 */
export function mhLookup(table: Int32Array, available: (dest: number) => boolean, addr: number, port: number, fallback: boolean): MhPick | null {
  const size = table.length;
  const first = mhHashKey(addr, port, MH_HASH1, 0) % size;
  const d = table[first];
  if (d < 0) return null;
  if (available(d)) return { dest: d, slot: first, first };
  if (!fallback) return null;
  for (let k = 0; k < size; k++) {
    const slot = mhHashKey(addr, port, MH_HASH1, (k + first) % size) % size;
    const e = table[slot];
    if (e < 0) return null;
    if (available(e)) return { dest: e, slot, first };
  }
  return null;
}
