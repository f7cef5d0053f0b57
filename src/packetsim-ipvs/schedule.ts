// Which real server IPVS picks for a new connection, as a distribution (net/netfilter/ipvs/
// ip_vs_*.c). The simulator hooks this in at LOCAL_IN / LOCAL_OUT after the filter chains: a
// packet to a virtual service (address, port, protocol) that no connection entry knows yet gets
// one of these outcomes, its destination rewritten to the real server, and continues to
// POSTROUTING where kube-proxy's masquerade rules apply.
//
// - rr, wrr, lc, wlc, sed, nq, lblc, lblcr, fo, ovf: in steady state with equal, idle servers
//   every scheduler spreads new connections in proportion to the weights (rr ignores them, but
//   kube-proxy always writes weight 1); weight-0 servers are quiescent and get nothing. `fo`
//   (weighted failover) sends everything to the first server of highest weight.
// - sh / dh: a 256-bucket table filled with the servers in order, each taking `weight`
//   consecutive buckets (ip_vs_sh_reassign), indexed by hash_32 of the source (sh) or destination
//   (dh) address; with sh-port (FlagSourceHash) the source port is added to the key.
// - mh (Maglev, maglev.ts): the kernel's own lookup table (4093 slots with the default
//   CONFIG_IP_VS_MH_TAB_INDEX) built from the servers in the table's order, indexed by the
//   hsiphash of the source address (and source port with mh-port); a quiescent server keeps its
//   slots, so its clients get no server, or with mh-fallback the kernel's rehash of the address.
// - Persistence (flag 0x1): a client's later connections within `timeout` seconds go to the
//   server its first one got (a template entry keyed by client address).
import type { RealServer, VirtualServer } from '../ipvs/ir.js';
import { SERVICE_FLAGS } from '../ipvs/ir.js';
import { parseIP } from '../net/index.js';
import { mhLookup, mhTable, type MhDest } from './maglev.js';

export interface Share {
  readonly server: RealServer;
  /** Exact share as numerator / denominator (weights are integers). */
  readonly numerator: number;
  readonly denominator: number;
}

export type Choice =
  | { readonly kind: 'shares'; readonly shares: readonly Share[] }
  | { readonly kind: 'fixed'; readonly server: RealServer; readonly why: string }
  /** No usable real server: the kernel answers a TCP SYN with a RST, otherwise drops (ip_vs_leave). */
  | { readonly kind: 'none' }
  | { readonly kind: 'unsupported'; readonly reason: string };

const PROPORTIONAL: ReadonlySet<string> = new Set(['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'ovf']);

export interface Client {
  /** Source and destination as 32-bit (IPv4) or folded 128-bit (IPv6) numbers, host order. */
  readonly source: bigint;
  readonly sourcePort: number;
  readonly destination: bigint;
  readonly ipv6: boolean;
}

export function choose(vs: VirtualServer, client: Client): Choice {
  const usable = vs.realServers.filter((r) => r.weight > 0);
  if (usable.length === 0) return { kind: 'none' };
  if (PROPORTIONAL.has(vs.scheduler)) {
    const total = usable.reduce((n, r) => n + (vs.scheduler === 'rr' ? 1 : r.weight), 0);
    return { kind: 'shares', shares: usable.map((r) => ({ server: r, numerator: vs.scheduler === 'rr' ? 1 : r.weight, denominator: total })) };
  }
  if (vs.scheduler === 'fo') {
    const best = usable.reduce((a, b) => (b.weight > a.weight ? b : a));
    return { kind: 'fixed', server: best, why: 'fo: the first server of highest weight' };
  }
  if (vs.scheduler === 'sh' || vs.scheduler === 'dh') {
    const byPort = vs.scheduler === 'sh' && (vs.flags & SERVICE_FLAGS.sched2) !== 0;
    const addr = vs.scheduler === 'sh' ? client.source : client.destination;
    const server = hashBucket(vs.realServers, fold(addr, client.ipv6), byPort ? client.sourcePort : 0);
    if (!server || server.weight === 0) return { kind: 'none' };
    return { kind: 'fixed', server, why: `${vs.scheduler}: hash of the ${vs.scheduler === 'sh' ? 'source' : 'destination'} address${byPort ? ' and source port' : ''}` };
  }
  if (vs.scheduler === 'mh') return maglev(vs, client);
  return { kind: 'unsupported', reason: `scheduler ${vs.scheduler} is deterministic per client but not modelled` };
}

/** The mh lookup table of a server list (null: the kernel refuses it), built once per list. */
const mhTables = new WeakMap<readonly RealServer[], Int32Array | null>();

function maglev(vs: VirtualServer, client: Client): Choice {
  const servers = vs.realServers;
  let table = mhTables.get(servers);
  if (table === undefined) {
    const dests: MhDest[] = [];
    for (const r of servers) {
      const ip = parseIP(r.address);
      if (!ip) return { kind: 'unsupported', reason: `mh: real server address ${r.address} is not an IP address` };
      // The kernel's destination list is what ip_vs_mh_permutate walks: the newest server first
      // (list_add_rcu in __ip_vs_update_dest). ipvsadm prints that order only for `-L --nosort`;
      // otherwise, `-S` (ipvsadm-save) included, it sorts by address and port. The table's order
      // is taken as the list's: an assumption for a saved dump or kpsim's own compilation (kube-
      // proxy adds a service's servers in no fixed order), exact when the order is the list's.
      // last_weight: a server of weight 0 is taken as quiesced from weight 1 (kube-proxy writes
      // weight 1 and sets 0 for a terminating endpoint); the dump does not show its earlier weight.
      dests.push({ addr: fold(BigInt(ip.value), ip.family === 'ipv6'), port: r.port, lastWeight: r.weight > 0 ? r.weight : 1 });
    }
    table = mhTable(dests);
    mhTables.set(servers, table);
  }
  if (!table) return { kind: 'unsupported', reason: `mh: ${servers.length} real servers, more than the kernel's table has slots` };
  const byPort = (vs.flags & SERVICE_FLAGS.sched2) !== 0;
  const fallback = (vs.flags & SERVICE_FLAGS.sched1) !== 0;
  // Overload (IP_VS_DEST_F_OVERLOAD, the upper threshold reached) needs connection counts: idle servers are never overloaded.
  const pick = mhLookup(table, (i) => servers[i].weight > 0, fold(client.source, client.ipv6), byPort ? client.sourcePort : 0, fallback);
  if (!pick) return { kind: 'none' };
  const key = `the source address${byPort ? ' and port' : ''}`;
  const moved = pick.slot === pick.first ? '' : ` (its own slot ${pick.first} is a quiescent server's: mh-fallback rehashed)`;
  return { kind: 'fixed', server: servers[pick.dest], why: `mh: Maglev table of ${table.length} slots (servers in listed order), slot ${pick.slot} by the hash of ${key}${moved}` };
}

const TAB_BITS = 8;
const TAB_SIZE = 1 << TAB_BITS;
const GOLDEN_RATIO_32 = 0x61c88647;

/** IPv6 keys fold the four 32-bit words with XOR (ip_vs_sh_hashkey). */
function fold(addr: bigint, ipv6: boolean): number {
  if (!ipv6) return Number(addr & 0xffffffffn);
  let x = 0n;
  for (let i = 0n; i < 4n; i++) x ^= (addr >> (32n * i)) & 0xffffffffn;
  return Number(x);
}

/** hash_32(val, bits) from include/linux/hash.h. */
function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** ip_vs_sh_reassign's table: servers in order, each taking `weight` consecutive buckets (weight 0 counts as 1 bucket then is skipped at lookup). */
export function bucketTable(servers: readonly RealServer[]): (RealServer | null)[] {
  const table: (RealServer | null)[] = [];
  let p = 0;
  let count = 0;
  for (let i = 0; i < TAB_SIZE; i++) {
    if (servers.length === 0) {
      table.push(null);
      continue;
    }
    const s = servers[p];
    table.push(s);
    if (++count >= Math.max(1, s.weight)) {
      p = (p + 1) % servers.length;
      count = 0;
    }
  }
  return table;
}

function hashBucket(servers: readonly RealServer[], key: number, port: number): RealServer | null {
  return bucketTable(servers)[hash32((port + key) >>> 0, TAB_BITS) % TAB_SIZE];
}
