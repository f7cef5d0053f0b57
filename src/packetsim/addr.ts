// Addresses as numbers, parsed once: IPv4 as an unsigned 32-bit `number`, IPv6 as a 128-bit
// `bigint`. Rules are compiled per family, so a matcher always knows which of the two it holds;
// the hot path never parses text.
import type { Family } from '../iptables/ir.js';
import { dottedQuad } from '../iptables/ipv4.js';

export type Ip = number | bigint;

export interface Cidr {
  readonly family: Family;
  readonly network: Ip;
  readonly prefix: number;
}

/** A dotted quad (octets of up to three digits, leading zeros allowed) as an unsigned 32-bit number. */
export function parseIPv4(text: string): number | null {
  const v = dottedQuad(text, true);
  return v < 0 ? null : v;
}

export function parseIPv6(text: string): bigint | null {
  if (text.includes('.')) {
    // IPv4-suffixed form (::ffff:1.2.3.4).
    const at = text.lastIndexOf(':');
    const v4 = parseIPv4(text.slice(at + 1));
    if (v4 === null) return null;
    const hi = parseIPv6(text.slice(0, at + 1) + '0:0');
    return hi === null ? null : hi | BigInt(v4);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  let v = 0n;
  for (const g of [...head, ...new Array<number>(fill).fill(0), ...tail]) v = (v << 16n) | BigInt(g);
  return v;
}

export function familyOfText(text: string): Family {
  return text.includes(':') ? 'ipv6' : 'ipv4';
}

export function parseIp(text: string, family: Family): Ip | null {
  return family === 'ipv4' ? parseIPv4(text) : parseIPv6(text);
}

/** `A`, `A/N` or `A/MASK` (dotted masks as iptables accepts them). Host bits are masked off. */
export function parseCidr(text: string, family: Family): Cidr | null {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseIp(addrText, family);
  if (addr === null) return null;
  const bits = family === 'ipv4' ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (/^\d+$/.test(p)) prefix = Number(p);
    else if (family === 'ipv4') {
      const m = parseIPv4(p);
      if (m === null) return null;
      prefix = 32 - Math.log2(0x100000000 - m);
      if (!Number.isInteger(prefix)) return null;
    } else return null;
    if (prefix < 0 || prefix > bits) return null;
  }
  return { family, network: maskIp(addr, prefix, family), prefix };
}

export function maskIp(addr: Ip, prefix: number, family: Family): Ip {
  if (family === 'ipv4') return prefix === 0 ? 0 : ((addr as number) & (~0 << (32 - prefix))) >>> 0;
  return (addr as bigint) & v6Mask(prefix);
}

export function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

export function v6Mask(prefix: number): bigint {
  return ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
}

export function cidrContains(c: Cidr, addr: Ip): boolean {
  if (c.family === 'ipv4') return ((addr as number) & v4Mask(c.prefix)) >>> 0 === c.network;
  return ((addr as bigint) & v6Mask(c.prefix)) === c.network;
}

/** A compiled membership test, built once per rule. */
export function cidrTest(c: Cidr): (addr: Ip) => boolean {
  if (c.family === 'ipv4') {
    const mask = v4Mask(c.prefix);
    const net = c.network as number;
    if (c.prefix === 32) return (a) => a === net;
    return (a) => ((a as number) & mask) >>> 0 === net;
  }
  const mask = v6Mask(c.prefix);
  const net = c.network as bigint;
  return (a) => ((a as bigint) & mask) === net;
}

export function formatIp(addr: Ip, family: Family): string {
  if (family === 'ipv4') {
    const a = addr as number;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  const v = addr as bigint;
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on a tie.
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
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** `ip:port`, IPv6 as `[ip]:port`, the way kube-proxy writes endpoints. */
export function formatHostPort(addr: Ip, port: number | null, family: Family): string {
  const a = formatIp(addr, family);
  if (port === null) return a;
  return family === 'ipv6' ? `[${a}]:${port}` : `${a}:${port}`;
}

export function isLoopback(addr: Ip, family: Family): boolean {
  return family === 'ipv4' ? (addr as number) >>> 24 === 127 : addr === 1n;
}
