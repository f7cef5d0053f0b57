// Networks: an address with a prefix length, host bits cleared (what the kernel stores for
// `-s 10.0.0.1/8`: 10.0.0.0/8). Read from `A`, `A/N` or `A/MASK` as iptables accepts them.
import { familyBits, type Family } from './family.js';
import { formatIp, maskIp, parseAddress, prefixOfMask, v4Mask, v6Mask, type Ip } from './ip.js';

export interface Cidr {
  readonly family: Family;
  /** The network address: host bits cleared. */
  readonly network: Ip;
  readonly prefix: number;
}

const DECIMAL = /^[0-9]+$/;

/**
 * `A` (a single host), `A/N`, or `A/MASK` with a contiguous netmask written as an address
 * (`10.0.0.0/255.0.0.0`, as iptables' xtables_ipparse_any accepts): null when the address, the
 * length or the mask is not one of the family. Host bits are cleared.
 */
export function parseCidr(text: string, family: Family, sloppy = false): Cidr | null {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash), family, sloppy);
  if (addr === null) return null;
  const prefix = slash < 0 ? familyBits(family) : prefixOf(text.slice(slash + 1), family);
  if (prefix === null) return null;
  return { family, network: maskIp(addr, prefix, family), prefix };
}

/** A prefix length (decimal, at most the family's width) or a contiguous netmask written as an address. */
export function prefixOf(text: string, family: Family): number | null {
  if (DECIMAL.test(text)) {
    const n = Number(text);
    return n <= familyBits(family) ? n : null;
  }
  const mask = parseAddress(text, family);
  return mask === null ? null : prefixOfMask(mask, family);
}

/**
 * Whether the network holds the address: a number of the network's family, or a value carrying its
 * own family (an address of the other family is never inside).
 */
export function cidrContains(c: Cidr, ip: { readonly family: Family; readonly value: Ip }): boolean;
export function cidrContains(c: Cidr, addr: Ip): boolean;
export function cidrContains(c: Cidr, a: Ip | { readonly family: Family; readonly value: Ip }): boolean {
  if (typeof a === 'object') return a.family === c.family && cidrContains(c, a.value);
  if (c.family === 'ipv4') return ((a as number) & v4Mask(c.prefix)) >>> 0 === c.network;
  return ((a as bigint) & v6Mask(c.prefix)) === c.network;
}

/** cidrContains for one network, compiled once (a rule's `-s`/`-d`, a set's member). */
export function cidrTest(c: Cidr): (addr: Ip) => boolean {
  if (c.family === 'ipv4') {
    const mask = v4Mask(c.prefix);
    const net = c.network as number;
    if (c.prefix === 32) return (a) => a === net;
    return (a) => ((a as number) & mask) >>> 0 === net;
  }
  const mask = v6Mask(c.prefix);
  const net = c.network as bigint;
  if (c.prefix === 128) return (a) => a === net;
  return (a) => ((a as bigint) & mask) === net;
}

/** `network/prefix` in canonical text. */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.network, c.family)}/${c.prefix}`;
}
