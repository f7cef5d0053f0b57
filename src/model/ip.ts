// IP and CIDR parsing the way kube-proxy does it (netutils.ParseIPSloppy / ParseCIDRSloppy):
// IPv4 octets with leading zeros are read as decimal ("192.168.099.022" -> 192.168.99.22, where
// an API server would refuse them), addresses and networks print in canonical form, and a CIDR's
// host bits are masked off ("10.0.0.1/8" -> "10.0.0.0/8"). The arithmetic is ip-address's.
import { Address4, Address6 } from 'ip-address';
import type { Family } from '../iptables/ir.js';

export interface ParsedIP {
  readonly family: Family;
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  readonly text: string;
  readonly value: bigint;
  /** The input was accepted only sloppily (leading zeros). */
  readonly sloppy: boolean;
}

export interface ParsedCIDR {
  readonly family: Family;
  /** Canonical network text, host bits masked: `10.0.0.0/8`. */
  readonly text: string;
  readonly network: bigint;
  readonly prefix: number;
  readonly sloppy: boolean;
}

const V4_SLOPPY = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

// Dotted quads are read here rather than by ip-address, which refuses leading zeros; this is
// also the hot path of planning (one call per endpoint).
function v4(text: string): ParsedIP | null {
  const m = V4_SLOPPY.exec(text);
  if (!m) return null;
  const a = +m[1];
  const b = +m[2];
  const c = +m[3];
  const d = +m[4];
  if (a > 255 || b > 255 || c > 255 || d > 255) return null;
  const built = `${a}.${b}.${c}.${d}`;
  // Keep the input string when it is canonical already: it is flat, the template result a rope.
  const canonical = built === text ? text : built;
  return { family: 'ipv4', text: canonical, value: BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d), sloppy: canonical !== text };
}

export function parseIP(text: string): ParsedIP | null {
  if (text.includes('/')) return null;
  const a = v4(text);
  if (a) return a;
  if (!text.includes(':') || !Address6.isValid(text) || text.includes('%')) return null;
  const b = new Address6(text);
  return { family: 'ipv6', text: b.correctForm(), value: b.bigInt(), sloppy: false };
}

export function parseCIDR(text: string): ParsedCIDR | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const ipText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const prefix = Number.parseInt(lenText, 10);
  const ip = parseIP(ipText);
  if (!ip) return null;
  const bits = ip.family === 'ipv4' ? 32 : 128;
  if (prefix > bits) return null;
  const hostBits = BigInt(bits - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  const netText = ip.family === 'ipv4' ? Address4.fromBigInt(network).correctForm() : Address6.fromBigInt(network).correctForm();
  return { family: ip.family, text: `${netText}/${prefix}`, network, prefix, sloppy: ip.sloppy || lenText !== String(prefix) };
}

export function cidrContains(cidr: ParsedCIDR, ip: ParsedIP): boolean {
  if (cidr.family !== ip.family) return false;
  const hostBits = BigInt((cidr.family === 'ipv4' ? 32 : 128) - cidr.prefix);
  return ip.value >> hostBits === cidr.network >> hostBits;
}

export function familyOf(text: string): Family | null {
  return parseIP(text)?.family ?? parseCIDR(text)?.family ?? null;
}

export function isLoopback(ip: ParsedIP): boolean {
  return ip.family === 'ipv4' ? ip.value >> 24n === 127n : ip.value === 1n;
}
