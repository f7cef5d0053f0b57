// The source address the kernel picks for a packet leaving by an interface: what MASQUERADE
// writes. IPv4: nf_nat_masquerade_ipv4 asks inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE),
// nexthop being the route's gateway or else the destination (rt_nexthop). IPv6:
// nf_nat_masquerade_ipv6 asks ipv6_dev_get_saddr(out, daddr), RFC 6724's source address
// selection.
import type { Family } from '../iptables/ir.js';
import { cidrContains, type Ip } from '../net/index.js';
import type { Fib, IfAddr } from './fib.js';

/**
 * inet_select_addr(dev, dst, RT_SCOPE_UNIVERSE) (net/ipv4/devinet.c): the first primary address
 * of `dev` of global scope whose subnet holds `dst`, else its first primary global address; with
 * none (lo holds only 127.0.0.1, of host scope, even with route_localnet, which lowers it only to
 * link scope), the first primary address of global scope on any interface, in the kernel's
 * interface order (in_dev_select_addr). 0.0.0.0 (null) when the node has none.
 */
export function inetSelectAddr(fib: Fib, dev: string, dst: Ip): Ip | null {
  let first: IfAddr | null = null;
  for (const a of fib.addresses) {
    if (a.iface !== dev || a.secondary || a.scope !== 'global') continue;
    if (cidrContains(a.net, dst)) return a.addr;
    first ??= a;
  }
  if (first) return first.addr;
  for (const itf of fib.interfaces) {
    for (const a of fib.addresses) if (a.iface === itf.name && !a.secondary && a.scope === 'global') return a.addr;
  }
  return null;
}

/** __ipv6_addr_src_scope: 1 node-local (multicast), 2 link-local (fe80::/10, and ::1), 5 site-local, 14 global. */
function v6Scope(a: bigint): number {
  if (a >> 120n === 0xffn) return Number((a >> 112n) & 0xfn);
  if (a === 1n) return 2;
  if (a >> 118n === 0x3fan) return 2;
  if (a >> 118n === 0x3fbn) return 5;
  return 14;
}

/** The default policy table's labels (RFC 6724 section 2.1, net/ipv6/addrlabel.c). */
const LABELS: readonly (readonly [bigint, number, number])[] = [
  [1n, 128, 0],
  [0n, 96, 3],
  [0xffffn << 32n, 96, 4],
  [0x2001n << 112n, 32, 6],
  [(0x2001n << 112n) | (0x10n << 96n), 28, 7],
  [0x2002n << 112n, 16, 2],
  [0x3ffen << 112n, 16, 12],
  [0xfecn << 116n, 10, 11],
  [0xfcn << 120n, 7, 5],
  [0n, 0, 1],
];

function label(a: bigint): number {
  let best = -1;
  let out = 1;
  for (const [net, len, l] of LABELS) {
    if (len > best && (len === 0 || a >> BigInt(128 - len) === net >> BigInt(128 - len))) {
      best = len;
      out = l;
    }
  }
  return out;
}

function commonPrefix(a: bigint, b: bigint): number {
  let x = a ^ b;
  let n = 128;
  while (x > 0n) {
    x >>= 1n;
    n--;
  }
  return n;
}

/**
 * ipv6_dev_get_saddr (net/ipv6/addrconf.c): the candidates are the addresses of every interface
 * (only the outgoing one's for a link-local or multicast destination), compared rule by rule:
 * the destination itself, an appropriate scope (the smallest at least the destination's), not
 * deprecated, on the outgoing interface, the same label, the longest common prefix (up to the
 * candidate's prefix length). The first of equals stays.
 */
export function ipv6SelectAddr(fib: Fib, dev: string, dst: bigint): bigint | null {
  const dstScope = v6Scope(dst);
  const onlyDev = dst >> 120n === 0xffn || dstScope <= 2;
  const dstLabel = label(dst);
  const score = (a: IfAddr): number[] => {
    const s = v6Scope(a.addr as bigint);
    return [
      a.addr === dst ? 1 : 0,
      s >= dstScope ? -s : s - 128,
      a.deprecated ? 0 : 1,
      a.iface === dev ? 1 : 0,
      label(a.addr as bigint) === dstLabel ? 1 : 0,
      Math.min(commonPrefix(a.addr as bigint, dst), a.net.prefix),
    ];
  };
  let best: IfAddr | null = null;
  let bestScore: number[] = [];
  for (const itf of fib.interfaces) {
    if (onlyDev && itf.name !== dev) continue;
    for (const a of fib.addresses) {
      if (a.iface !== itf.name) continue;
      const v = a.addr as bigint;
      if (v === 0n || v >> 120n === 0xffn) continue;
      const sc = score(a);
      if (best === null || better(sc, bestScore)) {
        best = a;
        bestScore = sc;
      }
    }
  }
  return best ? (best.addr as bigint) : null;
}

function better(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return false;
}

/** The address MASQUERADE writes for a packet to `dst` leaving by `dev`, whose route's gateway is `gateway`. */
export function masqueradeSource(fib: Fib, family: Family, dev: string, dst: Ip, gateway: Ip | null): Ip | null {
  return family === 'ipv4' ? inetSelectAddr(fib, dev, gateway ?? dst) : ipv6SelectAddr(fib, dev, dst as bigint);
}
