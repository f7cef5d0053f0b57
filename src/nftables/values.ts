// What nft reads differently from src/net (which owns addresses, networks, ports and protocol
// numbers for every stage, and which the rest of this reader uses): dotted quads the way
// getaddrinfo reads them, nft's numbers (decimal or 0x hex, up to 64 bits) and nft's times.
import { scanIPv4 } from '../net/index.js';

/**
 * A dotted quad as nft reads it: nft hands the text to getaddrinfo, hence inet_aton(3), so an
 * octet written with a leading zero is octal (`172.30.0.041` is 172.30.0.33, checked against
 * nft 1.0.6; `09` is no address). src/net reads such octets as decimal (kube-proxy's reading) or
 * refuses them (inet_pton's): both differ. A listing never has leading zeros.
 */
export function parseNftIPv4(text: string): number | null {
  if (!/(^|\.)0[0-9]/.test(text)) {
    const v = scanIPv4(text, 0, text.length, false);
    return v < 0 ? null : v;
  }
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    const octet = part.length > 1 && part.startsWith('0') ? (/^[0-7]+$/.test(part) ? parseInt(part, 8) : NaN) : /^[0-9]{1,3}$/.test(part) ? Number(part) : NaN;
    if (!(octet <= 255)) return null;
    value = value * 256 + octet;
  }
  return value;
}

/**
 * An unsigned integer as nft's scanner reads it: decimal, or hexadecimal with `0x`. Null when it is
 * not one or does not fit 2^53 (nft's values are at most 64 bits; kpsim reads marks, ports, handles,
 * counters and sizes, all far below).
 */
export function parseUnsigned(text: string): number | null {
  if (text.length === 0) return null;
  let v: number;
  if (text.length > 2 && text.charCodeAt(0) === 48 && (text.charCodeAt(1) | 32) === 120) {
    if (!/^0[xX][0-9a-fA-F]+$/.test(text)) return null;
    v = parseInt(text.slice(2), 16);
  } else {
    if (!/^[0-9]+$/.test(text)) return null;
    v = Number(text);
  }
  return Number.isSafeInteger(v) ? v : null;
}

const TIME_UNITS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/**
 * nft's time format (`time_parse` in nftables' datatype.c): `1d2h3m4s5ms`, units in that order,
 * each at most once; a bare number is seconds. Milliseconds, or null when malformed.
 */
export function parseTime(text: string): number | null {
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const re = /([0-9]+)(ms|d|h|m|s)/y;
  let total = 0;
  let at = 0;
  let lastRank = -1;
  const rank = ['d', 'h', 'm', 's', 'ms'];
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return null;
    const r = rank.indexOf(m[2]);
    if (r <= lastRank) return null;
    lastRank = r;
    total += Number(m[1]) * TIME_UNITS[m[2]];
    at = re.lastIndex;
  }
  return Number.isSafeInteger(total) ? total : null;
}
