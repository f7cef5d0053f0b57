// Addresses, prefixes, numbers, ports and protocol numbers read from nft text. This is the one file
// of the nftables reader that parses such values; it is to be replaced by src/net (one module for
// every stage) once that lands on main. Everything here is a pure function of a string.
//
// IPv4 addresses are unsigned 32-bit `number`s and IPv6 addresses 128-bit `bigint`s, as the packet
// simulator holds them (src/packetsim/addr.ts).

/**
 * A dotted quad as nft reads it (getaddrinfo, hence inet_aton(3)): four octets 0-255, and an octet
 * written with a leading zero is octal (`172.30.0.041` is 172.30.0.33; `09` is no address). nft
 * hands what it cannot read as an address to the resolver; a listing never holds names.
 */
export function parseIPv4(text: string): number | null {
  let value = 0;
  let octets = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 46 /* . */) continue;
    const part = text.slice(start, i);
    if (part.length === 0 || part.length > 4 || octets === 4) return null;
    const octet = part.length > 1 && part.charCodeAt(0) === 48 ? (/^[0-7]+$/.test(part) ? parseInt(part, 8) : NaN) : /^[0-9]+$/.test(part) ? Number(part) : NaN;
    if (!(octet <= 255)) return null;
    value = value * 256 + octet;
    octets++;
    start = i + 1;
  }
  return octets === 4 ? value : null;
}

/**
 * RFC 4291 text: eight groups, one `::`, or a dotted-quad tail (`::ffff:1.2.3.4`). The same reading
 * as src/packetsim/addr.ts parseIPv6 (a reader may not import the simulator): both go to src/net.
 */
export function parseIPv6(text: string): bigint | null {
  if (text.length < 2 || text.length > 45) return null;
  let tail: number | null = null;
  let body = text;
  if (text.includes('.')) {
    const at = text.lastIndexOf(':');
    tail = parseIPv4(text.slice(at + 1));
    if (tail === null) return null;
    body = text.slice(0, at + 1) + '0:0';
  }
  const halves = body.split('::');
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
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !rest) return null;
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  let v = 0n;
  for (const g of [...head, ...new Array<number>(fill).fill(0), ...rest]) v = (v << 16n) | BigInt(g);
  if (tail !== null) v = (v & ~0xffffffffn) | BigInt(tail);
  return v;
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

/** A port: 0-65535. */
export function isPort(n: number): boolean {
  return n >= 0 && n <= 65535;
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

/** Protocol numbers by the names nft reads (/etc/protocols, as nft's inet_protocol type resolves them). */
export const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['hopopt', 0],
  ['icmp', 1],
  ['igmp', 2],
  ['ggp', 3],
  ['ipencap', 4],
  ['st', 5],
  ['tcp', 6],
  ['egp', 8],
  ['igp', 9],
  ['pup', 12],
  ['udp', 17],
  ['hmp', 20],
  ['xns-idp', 22],
  ['rdp', 27],
  ['iso-tp4', 29],
  ['dccp', 33],
  ['xtp', 36],
  ['ddp', 37],
  ['idpr-cmtp', 38],
  ['ipv6', 41],
  ['ipv6-route', 43],
  ['ipv6-frag', 44],
  ['idrp', 45],
  ['rsvp', 46],
  ['gre', 47],
  ['esp', 50],
  ['ah', 51],
  ['skip', 57],
  ['ipv6-icmp', 58],
  ['icmpv6', 58],
  ['ipv6-nonxt', 59],
  ['ipv6-opts', 60],
  ['rspf', 73],
  ['vmtp', 81],
  ['eigrp', 88],
  ['ospf', 89],
  ['ax.25', 93],
  ['ipip', 94],
  ['etherip', 97],
  ['encap', 98],
  ['pim', 103],
  ['ipcomp', 108],
  ['comp', 108],
  ['vrrp', 112],
  ['l2tp', 115],
  ['isis', 124],
  ['sctp', 132],
  ['fc', 133],
  ['mobility-header', 135],
  ['udplite', 136],
  ['mpls-in-ip', 137],
  ['manet', 138],
  ['hip', 139],
  ['shim6', 140],
  ['wesp', 141],
  ['rohc', 142],
  ['ethernet', 143],
]);

/** Service names nft may print or read for ports (a few from /etc/services; listings print numbers). */
export const SERVICE_PORTS: ReadonlyMap<string, number> = new Map([
  ['ftp-data', 20],
  ['ftp', 21],
  ['ssh', 22],
  ['telnet', 23],
  ['smtp', 25],
  ['domain', 53],
  ['bootps', 67],
  ['bootpc', 68],
  ['tftp', 69],
  ['http', 80],
  ['pop3', 110],
  ['ntp', 123],
  ['imap2', 143],
  ['snmp', 161],
  ['bgp', 179],
  ['ldap', 389],
  ['https', 443],
  ['submission', 587],
  ['imaps', 993],
  ['pop3s', 995],
  ['mysql', 3306],
  ['postgresql', 5432],
]);

/** The family of an address literal the lexer found (it tells IPv4 and IPv6 apart by form). */
export type AddressFamily = 'ipv4' | 'ipv6';

export function parseAddress(text: string, family: AddressFamily): number | bigint | null {
  return family === 'ipv4' ? parseIPv4(text) : parseIPv6(text);
}

/** The address with its host bits cleared, for a prefix of `length` bits. */
export function networkOf(address: number | bigint, length: number, family: AddressFamily): number | bigint {
  if (family === 'ipv4') {
    const a = address as number;
    if (length === 0) return 0;
    const mask = length >= 32 ? 0xffffffff : (0xffffffff << (32 - length)) >>> 0;
    return (a & mask) >>> 0;
  }
  const a = address as bigint;
  const mask = length === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - length)) - 1n);
  return a & mask;
}
