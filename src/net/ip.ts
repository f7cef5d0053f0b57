// Addresses as numbers: IPv4 as an unsigned 32-bit `number`, IPv6 as a 128-bit `bigint`. Rules,
// sets and packets are per family, so whoever holds an `Ip` knows which of the two it is. IPv4 is
// read and printed here without allocating (a 10k-service dump holds ~100k addresses, and the
// simulator compares them per packet); IPv6 is read by ip-address.
import { Address6 } from 'ip-address';
import type { Family } from './family.js';

export type Ip = number | bigint;

/**
 * The dotted quad `src[start, end)` as an unsigned 32-bit number, or -1 when it is not one: four
 * decimal octets 0-255. Strict (`sloppy` false), an octet has no leading zero, as inet_pton and
 * ip-address's Address4 read them and iptables-save writes them. Sloppy, an octet of up to three
 * digits is read as decimal ("010" is 10), as kube-proxy reads API fields (netutils.ParseIPSloppy).
 */
export function scanIPv4(src: string, start: number, end: number, sloppy: boolean): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (!sloppy && digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + part;
}

/**
 * Where a strict dotted quad (scanIPv4's, not sloppy) that starts at `src[start]` ends, before
 * `end`, or -1 when none starts there: for readers that check `A.B.C.D/N` or `A.B.C.D:PORT` in
 * one pass over the source text.
 */
export function ipv4End(src: string, start: number, end: number): number {
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || src.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    let v = 0;
    let digits = 0;
    while (i < end && digits < 4) {
      const c = src.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (digits > 0 && v === 0) return -1; // a leading zero
      v = v * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || v > 255) return -1;
  }
  return i;
}

/** A dotted quad as an unsigned 32-bit number (scanIPv4 on the whole text). */
export function parseIPv4(text: string, sloppy = false): number | null {
  const v = scanIPv4(text, 0, text.length, sloppy);
  return v < 0 ? null : v;
}

const IPV6_CHARS = /^[0-9a-fA-F:.]+$/;

/**
 * An IPv6 address (`::1`, `fd00::a:1`, `::ffff:1.2.3.4`) as a 128-bit number: inet_pton's
 * grammar, as ip-address reads it; no zone (`%eth0`), prefix or brackets.
 */
export function parseIPv6(text: string): bigint | null {
  if (!IPV6_CHARS.test(text) || text.indexOf(':') < 0) return null;
  try {
    return new Address6(text).bigInt();
  } catch {
    return null;
  }
}

/** An address of a known family. */
export function parseAddress(text: string, family: Family, sloppy = false): Ip | null {
  return family === 'ipv4' ? parseIPv4(text, sloppy) : parseIPv6(text);
}

/** `a.b.c.d`. */
export function formatIPv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function groupsOf(v: bigint): number[] {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  return g;
}

/** The first longest run of two or more zero groups, as [start, length], or [-1, 0] (RFC 5952 4.2). */
function zeroRun(g: readonly number[]): [number, number] {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  return best < 0 ? [-1, 0] : [best, bestLen];
}

const hexGroups = (xs: readonly number[]) => xs.map((x) => x.toString(16)).join(':');

/**
 * RFC 5952 text in hex groups only: lower case, no leading zeros, the first longest run of zero
 * groups compressed to `::` (`::ffff:102:304`). kpsim's own output and the model print this, as
 * ip-address's correctForm and Go's net.IP.String (for addresses not mapped from IPv4) do.
 */
export function formatIPv6(v: bigint): string {
  const g = groupsOf(v);
  const [at, len] = zeroRun(g);
  if (at < 0) return hexGroups(g);
  return `${hexGroups(g.slice(0, at))}::${hexGroups(g.slice(at + len))}`;
}

/** An address in its family's canonical text (formatIPv4, formatIPv6). */
export function formatIp(addr: Ip, family: Family): string {
  return family === 'ipv4' ? formatIPv4(addr as number) : formatIPv6(addr as bigint);
}

/**
 * An address as glibc's inet_ntop prints it, which is what iptables-save shows: formatIPv6, except
 * that an address whose first 96 bits are zero (`::1.2.3.4`, not `::` or `::1`: those compress
 * further) or that is mapped from IPv4 (`::ffff:1.2.3.4`) ends in a dotted quad (inet_ntop6).
 */
export function formatIpKernel(addr: Ip, family: Family): string {
  if (family === 'ipv4') return formatIPv4(addr as number);
  const v = addr as bigint;
  const g = groupsOf(v);
  const [at, len] = zeroRun(g);
  if (at === 0 && (len === 6 || (len === 5 && g[5] === 0xffff))) return `::${len === 5 ? 'ffff:' : ''}${formatIPv4(Number(v & 0xffffffffn))}`;
  if (at < 0) return hexGroups(g);
  return `${hexGroups(g.slice(0, at))}::${hexGroups(g.slice(at + len))}`;
}

/** `ip:port`, IPv6 as `[ip]:port`, the way kube-proxy writes endpoints; the address alone without a port. */
export function formatHostPort(addr: Ip, port: number | null, family: Family): string {
  const a = formatIp(addr, family);
  if (port === null) return a;
  return family === 'ipv6' ? `[${a}]:${port}` : `${a}:${port}`;
}

/** The netmask of an IPv4 prefix length, as an unsigned 32-bit number. */
export function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

const ALL_ONES_V6 = (1n << 128n) - 1n;

/** The netmask of an IPv6 prefix length. */
export function v6Mask(prefix: number): bigint {
  return ALL_ONES_V6 ^ ((1n << BigInt(128 - prefix)) - 1n);
}

/** The address with its host bits (those past `prefix`) cleared. */
export function maskIp(addr: Ip, prefix: number, family: Family): Ip {
  if (family === 'ipv4') return ((addr as number) & v4Mask(prefix)) >>> 0;
  return (addr as bigint) & v6Mask(prefix);
}

/**
 * The prefix length of a netmask written as an address (`255.255.0.0` is 16), or null when its
 * ones are not contiguous (iptables refuses `255.0.255.0`).
 */
export function prefixOfMask(mask: Ip, family: Family): number | null {
  if (family === 'ipv4') {
    const m = mask as number;
    const prefix = m === 0 ? 0 : 32 - Math.log2(0x100000000 - m);
    return Number.isInteger(prefix) ? prefix : null;
  }
  const m = mask as bigint;
  let ones = 0;
  while (ones < 128 && (m >> BigInt(127 - ones)) & 1n) ones++;
  return m === v6Mask(ones) ? ones : null;
}

/** Whether an address is the unspecified address (0.0.0.0, ::): Go's net.IP.IsUnspecified. */
export function isUnspecified(ip: { readonly family: Family; readonly value: Ip }): boolean {
  return ip.family === 'ipv4' ? ip.value === 0 : ip.value === 0n;
}

/** Whether an address is a loopback address (127.0.0.0/8, ::1): given as a number of a family, or as a value that carries both. */
export function isLoopback(ip: { readonly family: Family; readonly value: Ip }): boolean;
export function isLoopback(addr: Ip, family: Family): boolean;
export function isLoopback(a: Ip | { readonly family: Family; readonly value: Ip }, family?: Family): boolean {
  if (typeof a === 'object') return isLoopback(a.value, a.family);
  return family === 'ipv4' ? (a as number) >>> 24 === 127 : a === 1n;
}
