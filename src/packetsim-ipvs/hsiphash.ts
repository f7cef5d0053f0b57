// The kernel's hsiphash (include/linux/siphash.h, lib/siphash.c) as a 64-bit kernel (x86_64)
// computes it: there hsiphash_key_t is two unsigned longs and "HalfSipHash" is really SipHash-1-3
// on 64-bit words (one compression round per 8-byte word, three finalization rounds), its 64-bit
// result (v0 ^ v1) ^ (v2 ^ v3) truncated to the u32 the function returns. A 32-bit kernel runs the
// true HalfSipHash-1-3 and gives other values; that build is not modelled. IPVS's mh scheduler
// hashes one u32 with it (ip_vs_mh_hashkey).

/** hsiphash_key_t on a 64-bit kernel: two u64 words. */
export type HsiphashKey = readonly [bigint, bigint];

const MASK = (1n << 64n) - 1n;
// "somepseudorandomlygeneratedbytes" (SIPHASH_CONST_0..3).
const C0 = 0x736f6d6570736575n;
const C1 = 0x646f72616e646f6dn;
const C2 = 0x6c7967656e657261n;
const C3 = 0x7465646279746573n;

const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

/** The SipHash state: v0..v3. */
type State = [bigint, bigint, bigint, bigint];

/** SIPHASH_PERMUTATION, one SipRound. */
function round(v: State): void {
  let [a, b, c, d] = v;
  a = (a + b) & MASK;
  b = rotl(b, 13n) ^ a;
  a = rotl(a, 32n);
  c = (c + d) & MASK;
  d = rotl(d, 16n) ^ c;
  a = (a + d) & MASK;
  d = rotl(d, 21n) ^ a;
  c = (c + b) & MASK;
  b = rotl(b, 17n) ^ c;
  c = rotl(c, 32n);
  v[0] = a;
  v[1] = b;
  v[2] = c;
  v[3] = d;
}

function compress(v: State, m: bigint): void {
  v[3] ^= m;
  round(v);
  v[0] ^= m;
}

function finish(v: State, b: bigint): number {
  compress(v, b);
  v[2] ^= 0xffn;
  round(v);
  round(v);
  round(v);
  return Number((v[0] ^ v[1] ^ v[2] ^ v[3]) & 0xffffffffn);
}

const start = (key: HsiphashKey): State => [C0 ^ key[0], C1 ^ key[1], C2 ^ key[0], C3 ^ key[1]];

/** hsiphash(data, len, key): the message's 8-byte words little-endian, the tail and the length in the last word. */
export function hsiphash(data: Uint8Array, key: HsiphashKey): number {
  const v = start(key);
  const whole = data.length - (data.length % 8);
  for (let i = 0; i < whole; i += 8) {
    let m = 0n;
    for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(data[i + j]);
    compress(v, m);
  }
  let b = BigInt(data.length & 0xff) << 56n;
  for (let j = whole; j < data.length; j++) b |= BigInt(data[j]) << BigInt(8 * (j - whole));
  return finish(v, b);
}

/**
 * hsiphash of one u32 in memory (hsiphash(&v, 4, key), as ip_vs_mh_hashkey calls it; on a
 * little-endian machine also hsiphash_1u32(v, key)): the value and the length 4 share the only word.
 */
export function hsiphashU32(value: number, key: HsiphashKey): number {
  return finish(start(key), (4n << 56n) | BigInt(value >>> 0));
}
