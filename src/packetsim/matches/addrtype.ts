// addrtype (xt_addrtype.c). IPv4 (inet_addr_type): 0.0.0.0/8 and 255.255.255.255 are BROADCAST,
// 224.0.0.0/4 MULTICAST, addresses in the local table LOCAL (or BROADCAST for a subnet
// broadcast), everything else UNICAST; the match holds when the address's type is one of those
// listed. IPv6 (match_type6) checks each listed type: MULTICAST and UNICAST by address class,
// LOCAL by the local routes.
import type { Family, OptionArg } from '../../iptables/ir.js';
import type { Ip } from '../../net/index.js';
import { READS, type CMatch, type Walk } from '../types.js';
import { listOf, negated, ValueError } from './values.js';

const TYPES = {
  UNSPEC: 1, UNICAST: 2, LOCAL: 4, BROADCAST: 8, ANYCAST: 16, MULTICAST: 32, BLACKHOLE: 64,
  UNREACHABLE: 128, PROHIBIT: 256, THROW: 512, NAT: 1024, XRESOLVE: 2048,
} as const;

function v4Type(w: Walk, a: number, dev: string | null): number {
  if (a >>> 24 === 0 || a === 0xffffffff) return TYPES.BROADCAST;
  if (a >>> 28 === 0xe) return TYPES.MULTICAST;
  const env = w.ctx.env;
  if (dev === null ? env.isLocal(a) : env.isLocalOn(a, dev)) return TYPES.LOCAL;
  if (env.isBroadcast(a)) return TYPES.BROADCAST;
  return TYPES.UNICAST;
}

function v6Matches(w: Walk, a: bigint, mask: number, dev: string | null): boolean {
  const multicast = a >> 120n === 0xffn;
  if (mask & TYPES.MULTICAST && !multicast) return false;
  if (mask & TYPES.UNICAST && (multicast || a === 0n)) return false;
  if (mask & TYPES.UNSPEC && a !== 0n) return false;
  if (mask & (TYPES.LOCAL | TYPES.ANYCAST | TYPES.UNREACHABLE)) {
    const env = w.ctx.env;
    const local = dev === null ? env.isLocal(a) : env.isLocalOn(a, dev);
    return (mask & TYPES.LOCAL) !== 0 && local;
  }
  return true;
}

export function compileAddrtype(opts: readonly OptionArg[], family: Family): CMatch[] {
  let limitIn = false;
  let limitOut = false;
  for (const o of opts) {
    const n = o.name;
    if (n === 'limit-iface-in') limitIn = true;
    if (n === 'limit-iface-out') limitOut = true;
  }
  const out: CMatch[] = [];
  for (const opt of opts) {
    const name = opt.name;
    if (name === 'limit-iface-in' || name === 'limit-iface-out') continue;
    if (name !== 'src-type' && name !== 'dst-type') throw new ValueError(`unknown addrtype option ${opt.spelling}`, opt);
    let mask = 0;
    for (const t of listOf(opt)) {
      const u = t.toUpperCase();
      if (!(u in TYPES)) throw new ValueError(`unknown address type ${t}`, opt);
      mask |= TYPES[u as keyof typeof TYPES];
    }
    const neg = negated(opt);
    const isSrc = name === 'src-type';
    const dev = (w: Walk) => (limitIn ? w.pkt.inIface : limitOut ? w.pkt.outIface : null);
    const pick = isSrc ? (w: Walk): Ip => w.pkt.src : (w: Walk): Ip => w.pkt.dst;
    const test =
      family === 'ipv4'
        ? (w: Walk) => ((v4Type(w, pick(w) as number, dev(w)) & mask) !== 0) !== neg
        : (w: Walk) => v6Matches(w, pick(w) as bigint, mask, dev(w)) !== neg;
    // The address it types, and the interface it is limited to: the node's addresses are fixed
    // (a --dst-type test says nothing of the source, so the flow cache may answer past it).
    const reads = (isSrc ? READS.SRC : READS.DST) | (limitIn ? READS.IIF : limitOut ? READS.OIF : 0);
    out.push({ kind: 'test', pure: true, test, reads });
  }
  return out;
}
