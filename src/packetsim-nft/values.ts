// nftables expressions read from a walk, as the kernel's expressions load a register
// (net/netfilter/nft_payload.c, nft_meta.c, nft_ct.c, nft_fib*.c, nft_numgen.c, nft_hash.c,
// nft_bitwise.c): each compiles once into a getter. A getter returns undefined where the kernel's
// expression breaks (NFT_BREAK: the rule does not match): a `tcp dport` of a UDP packet (nft
// puts a `meta l4proto tcp` dependency before it), an `ip saddr` of an IPv6 packet in an inet
// table, a `ct mark` of a packet with no connection.
//
// Values: addresses as numbers (IPv4, unsigned) or bigints (IPv6), ports, protocols, marks and
// flags as numbers, interface names as strings. Interfaces are numbered as the node value lists
// them (lo first, as the kernel numbers lo 1).
import type { Family } from '../net/index.js';
import { CT_DIRECTION_KEYS, CT_KEYS, META_KEYS, PAYLOAD_FIELDS, type DataType } from '../nftables/datatypes.js';
import type { BinaryOp, Expr, HashExpr, NumgenExpr } from '../nftables/ir.js';
import type { NodeEnv } from '../packetsim/env.js';
import type { Walk } from '../packetsim/types.js';

export type Val = number | bigint | string;

/** Values a fork chose (numgen random, an unseeded jhash), by slot. */
export type Regs = readonly number[];

/**
 * A value read for a walk. `src`, when given, stands for the packet's IPv4 source address: the
 * flow cache asks an expression that reads the source again of another one (SourceRead 1).
 */
export type Getter = (w: Walk, regs: Regs, src?: number) => Val | undefined;

/**
 * What a value reads of the packet's source, for the flow cache (src/packetsim/flow-cache.ts): 0
 * nothing; 1 the IPv4 source address, and only through the getter (its `src` argument stands for
 * it), so a recorded trace can ask the expression again of another source, as the cache asks
 * iptables' `-s` checks again; 2 what the cache cannot ask again (the source port, the source side
 * of the connection's tuples).
 */
export type SourceRead = 0 | 1 | 2;

/** What reads both of them reads. */
export function bothRead(a: SourceRead, b: SourceRead): SourceRead {
  return a > b ? a : b;
}

/**
 * A value the rule draws before the statement that reads it (run.ts): a random one it forks on
 * (outcomes 0..mod-1, each `offset` added), or a `numgen inc` counter kept in the world between
 * packets (`id` names it there).
 */
export type Draw =
  | { readonly kind: 'random'; readonly slot: number; readonly mod: number; readonly offset: number; readonly what: string }
  | { readonly kind: 'counter'; readonly slot: number; readonly mod: number; readonly offset: number; readonly id: string };

export type CompiledExpr =
  | { readonly kind: 'get'; readonly get: Getter; readonly type: DataType | null; readonly src: SourceRead }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface ExprContext {
  readonly family: Family;
  /** The interface index of a name (0: none). */
  ifindex(name: string): number;
  /** Draws the rule being compiled makes, in order. */
  readonly draws: Draw[];
  /** Allocates a slot for a draw or counter of the rule being compiled. */
  nextSlot(): number;
  /** A unique id for a numgen inc counter. */
  counterId(): string;
}

const unknown = (reason: string): CompiledExpr => ({ kind: 'unknown', reason });
const get = (g: Getter, type: DataType | null, src: SourceRead = 0): CompiledExpr => ({ kind: 'get', get: g, type, src });

/** IPPROTO numbers of the protocols whose header has ports first (the `th` view). */
const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 33, 132, 136]);
const PAYLOAD_PROTOCOLS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, udplite: 136, sctp: 132, dccp: 33 };

/** The kernel's NF_CT_STATE_*_BIT values (nf_conntrack_common.h). */
const CT_STATE = { INVALID: 1, ESTABLISHED: 2, RELATED: 4, NEW: 8, UNTRACKED: 64 } as const;
/** enum ip_conntrack_status bits kpsim's connections have. */
const CT_STATUS = { SEEN_REPLY: 2, ASSURED: 4, CONFIRMED: 8, SRC_NAT: 16, DST_NAT: 32 } as const;

/** `ct state`: NF_CT_STATE_BIT(ctinfo); before conntrack saw the packet, invalid (nft_ct_get_eval). */
export function ctState(w: Walk): number {
  if (w.conn.untracked) return CT_STATE.UNTRACKED;
  if (!w.ctAttached) return CT_STATE.INVALID;
  return w.dir === 'reply' || w.conn.seenReply ? CT_STATE.ESTABLISHED : CT_STATE.NEW;
}

function ctStatus(w: Walk): number {
  const c = w.conn;
  let bits = 0;
  if (c.seenReply) bits |= CT_STATUS.SEEN_REPLY | CT_STATUS.ASSURED;
  if (c.confirmed) bits |= CT_STATUS.CONFIRMED;
  if (c.snat) bits |= CT_STATUS.SRC_NAT;
  if (c.dnat) bits |= CT_STATUS.DST_NAT;
  return bits;
}

/** A connection the packet belongs to: conntrack attached, not untracked. */
function tracked(w: Walk): boolean {
  return w.ctAttached && !w.conn.untracked;
}

/** RTN_* of an address (fib ... type): local, broadcast, multicast or unicast, as inet_addr_type sees it. */
function addrType(env: NodeEnv, family: Family, addr: number | bigint, dev: string | null): number {
  if (family === 'ipv4') {
    const a = addr as number;
    if (a >>> 24 === 0 || a === 0xffffffff) return 3;
    if (a >>> 28 === 0xe) return 5;
    if (dev === null ? env.isLocal(a) : env.isLocalOn(a, dev)) return 2;
    if (env.isBroadcast(a)) return 3;
    return 1;
  }
  const a = addr as bigint;
  if (a >> 120n === 0xffn) return 5;
  if (dev === null ? env.isLocal(a) : env.isLocalOn(a, dev)) return 2;
  return 1;
}

function payload(protocol: string, field: string, c: ExprContext): CompiledExpr {
  const type = PAYLOAD_FIELDS[protocol]?.[field] ?? null;
  const v4 = c.family === 'ipv4';
  switch (protocol) {
    case 'ip':
    case 'ip6': {
      // `ip` fields of an IPv6 packet (an inet table): the nfproto dependency fails.
      if ((protocol === 'ip') !== v4) return get(() => undefined, type);
      if (field === 'saddr') return get((w, _regs, src) => src ?? w.pkt.src, type, 1);
      if (field === 'daddr') return get((w) => w.pkt.dst, type);
      if (field === 'protocol' || field === 'nexthdr') return get((w) => w.pkt.proto, type);
      if (field === 'version') return get(() => (v4 ? 4 : 6), type);
      return unknown(`${protocol} ${field} is not modelled (the simulated packet has no such field)`);
    }
    case 'th':
      // The transport header's first words, whatever the protocol (no dependency): ports for the
      // protocols that have them; ICMP's type, code and checksum are not modelled.
      if (field === 'sport') return get((w) => (PORT_PROTOCOLS.has(w.pkt.proto) ? w.pkt.sport : undefined), type, 2);
      if (field === 'dport') return get((w) => (PORT_PROTOCOLS.has(w.pkt.proto) ? w.pkt.dport : undefined), type);
      break;
    case 'tcp':
    case 'udp':
    case 'udplite':
    case 'sctp':
    case 'dccp': {
      const proto = PAYLOAD_PROTOCOLS[protocol];
      if (field === 'sport') return get((w) => (w.pkt.proto === proto ? w.pkt.sport : undefined), type, 2);
      if (field === 'dport') return get((w) => (w.pkt.proto === proto ? w.pkt.dport : undefined), type);
      if (protocol === 'tcp' && field === 'flags') return get((w) => (w.pkt.proto === 6 ? w.pkt.tcpFlags : undefined), type);
      break;
    }
    case 'icmp':
    case 'icmpv6': {
      // The simulated ICMP packet is an echo request.
      const proto = protocol === 'icmp' ? 1 : 58;
      if (field === 'type') return get((w) => (w.pkt.proto === proto ? (proto === 1 ? 8 : 128) : undefined), type);
      if (field === 'code') return get((w) => (w.pkt.proto === proto ? 0 : undefined), type);
      break;
    }
    default:
      break;
  }
  return unknown(`${protocol} ${field} is not modelled (the simulated packet has no such field)`);
}

function meta(key: string, c: ExprContext): CompiledExpr {
  const type = META_KEYS[key] ?? null;
  const v4 = c.family === 'ipv4';
  switch (key) {
    case 'l4proto':
      return get((w) => w.pkt.proto, type);
    case 'nfproto':
      return get(() => (v4 ? 2 : 10), type);
    case 'protocol':
      return get(() => (v4 ? 0x0800 : 0x86dd), type);
    case 'mark':
      return get((w) => w.pkt.mark, type);
    // No device (iif in OUTPUT, oif before routing): "" and 0, as nft_meta_store_ifname/ifindex write.
    case 'iifname':
      return get((w) => w.pkt.inIface ?? '', type);
    case 'oifname':
      return get((w) => w.pkt.outIface ?? '', type);
    case 'iif':
      return get((w) => (w.pkt.inIface === null ? 0 : c.ifindex(w.pkt.inIface)), type);
    case 'oif':
      return get((w) => (w.pkt.outIface === null ? 0 : c.ifindex(w.pkt.outIface)), type);
    case 'pkttype':
      // PACKET_HOST, or BROADCAST / MULTICAST by the destination address.
      return get((w) => {
        const t = addrType(w.ctx.env, c.family, w.pkt.dst, null);
        return t === 3 ? 1 : t === 5 ? 2 : 0;
      }, type);
    default:
      return unknown(`meta ${key} is not modelled`);
  }
}

function ct(e: Extract<Expr, { kind: 'ct' }>, c: ExprContext): CompiledExpr {
  if (e.direction) {
    const type = CT_DIRECTION_KEYS[e.key] ?? null;
    if (e.family && (e.family === 'ip') !== (c.family === 'ipv4')) return get(() => undefined, type);
    // The original tuple as it was; the reply tuple as NAT left it (nf_conntrack_tuple).
    const tuple = (w: Walk) => (e.direction === 'original' ? w.conn.orig : w.conn.reply);
    // The packet's source is the original tuple's source and the reply tuple's destination.
    const src = (side: 'source' | 'destination'): SourceRead => ((side === 'source') === (e.direction === 'original') ? 2 : 0);
    switch (e.key) {
      case 'saddr':
        return get((w) => (tracked(w) ? tuple(w).src : undefined), c.family === 'ipv6' ? 'ipv6_addr' : 'ipv4_addr', src('source'));
      case 'daddr':
        return get((w) => (tracked(w) ? tuple(w).dst : undefined), c.family === 'ipv6' ? 'ipv6_addr' : 'ipv4_addr', src('destination'));
      case 'proto-src':
        return get((w) => (tracked(w) ? tuple(w).sport : undefined), type, src('source'));
      case 'proto-dst':
        return get((w) => (tracked(w) ? tuple(w).dport : undefined), type, src('destination'));
      case 'protocol':
        return get((w) => (tracked(w) ? w.conn.proto : undefined), type);
      case 'l3proto':
        return get((w) => (tracked(w) ? (c.family === 'ipv4' ? 2 : 10) : undefined), type);
      default:
        return unknown(`ct ${e.direction} ${e.key} is not modelled`);
    }
  }
  const type = CT_KEYS[e.key] ?? null;
  switch (e.key) {
    case 'state':
      return get(ctState, type);
    case 'status':
      return get((w) => (tracked(w) ? ctStatus(w) : undefined), type);
    case 'direction':
      return get((w) => (tracked(w) ? (w.dir === 'reply' ? 1 : 0) : undefined), type);
    case 'mark':
      return get((w) => (tracked(w) ? w.conn.mark : undefined), type);
    case 'l3proto':
      return get((w) => (tracked(w) ? (c.family === 'ipv4' ? 2 : 10) : undefined), type);
    case 'protocol':
      return get((w) => (tracked(w) ? w.conn.proto : undefined), type);
    default:
      return unknown(`ct ${e.key} is not modelled`);
  }
}

/**
 * `fib saddr|daddr [. iif|oif] type|oif|oifname` (nft_fib4.c / nft_fib6.c): the address's type,
 * or the interface a route to it leaves by; with `iif` (`oif`) only that interface counts, so
 * `fib saddr . iif oif` is the interface when the reverse path goes back out the incoming one, else 0.
 */
function fib(e: Extract<Expr, { kind: 'fib' }>, c: ExprContext): CompiledExpr {
  const saddr = e.flags.includes('saddr');
  const addr: ((w: Walk, src: number | undefined) => number | bigint) | null = saddr ? (w, src) => src ?? w.pkt.src : e.flags.includes('daddr') ? (w) => w.pkt.dst : null;
  if (!addr) return unknown(`fib ${e.flags.join(' . ')} needs saddr or daddr`);
  if (e.flags.includes('mark')) return unknown('fib with mark is not modelled (no policy routing)');
  const dev = e.flags.includes('iif') ? (w: Walk) => w.pkt.inIface : e.flags.includes('oif') ? (w: Walk) => w.pkt.outIface : () => null;
  const reads: SourceRead = saddr ? 1 : 0;
  switch (e.result) {
    case 'type':
      return get((w, _regs, src) => addrType(w.ctx.env, c.family, addr(w, src), dev(w)), 'fib_addrtype', reads);
    case 'oif':
    case 'oifname': {
      const name = (w: Walk, src: number | undefined): string | null => {
        const a = addr(w, src);
        const out = w.ctx.env.routeDev(a);
        const only = dev(w);
        return out === null || (only !== null && out !== only && !(out === 'lo' && w.ctx.env.isLocalOn(a, only))) ? null : only ?? out;
      };
      if (e.result === 'oifname') return get((w, _regs, src) => name(w, src) ?? '', 'ifname', reads);
      return get((w, _regs, src) => {
        const n = name(w, src);
        return n === null ? 0 : c.ifindex(n);
      }, 'iface_index', reads);
    }
    default:
      return unknown(`fib ${e.result} is not modelled`);
  }
}

/**
 * `numgen random mod N [offset K]`: a draw the rule forks on (run.ts, exact shares);
 * `numgen inc`: a counter kept between packets, its first value 0 (nft_ng_inc_init starts it at N-1).
 */
function numgen(e: NumgenExpr, c: ExprContext): CompiledExpr {
  const mod = e.mod.value;
  const offset = e.offset?.value ?? 0;
  if (mod < 1) return unknown(`numgen mod ${mod}`);
  const slot = c.nextSlot();
  if (e.mode === 'random') c.draws.push({ kind: 'random', slot, mod, offset, what: `numgen random mod ${mod}${offset ? ` offset ${offset}` : ''}` });
  else c.draws.push({ kind: 'counter', slot, mod, offset, id: c.counterId() });
  return get((_w, regs) => regs[slot], 'integer');
}

function hash(e: HashExpr, c: ExprContext): CompiledExpr {
  if (e.function !== 'jhash' || !e.expr) return unknown(`${e.function} is not modelled`);
  const mod = e.mod.value;
  const offset = e.offset?.value ?? 0;
  if (mod < 1) return unknown(`jhash mod ${mod}`);
  if (e.seed === null) {
    // The kernel draws the seed at load (get_random_bytes): over seeds, each bucket's share is
    // reciprocal_scale's, as for numgen random.
    const slot = c.nextSlot();
    c.draws.push({ kind: 'random', slot, mod, offset, what: `jhash mod ${mod} (seed drawn at load)` });
    return get((_w, regs) => regs[slot], 'integer');
  }
  const parts = (e.expr.kind === 'concat' ? e.expr.parts : [e.expr]).map((p) => compileExpr(p, c));
  const bad = parts.find((p) => p.kind === 'unknown');
  if (bad) return bad;
  const got = parts as Extract<CompiledExpr, { kind: 'get' }>[];
  const getters = got.map((p) => p.get);
  const types = got.map((p) => p.type);
  const seed = e.seed.value >>> 0;
  return get((w, regs, src) => {
    const vals: Val[] = [];
    for (const g of getters) {
      const v = g(w, regs, src);
      if (v === undefined) return undefined;
      vals.push(v);
    }
    return reciprocalScale(jhash(registerBytes(vals, types), seed), mod) + offset;
  }, 'integer', got.reduce<SourceRead>((r, p) => bothRead(r, p.src), 0));
}

/** reciprocal_scale: `(val * n) >> 32`, the bucket of a 32-bit value. */
export function reciprocalScale(val: number, n: number): number {
  return Number((BigInt(val >>> 0) * BigInt(n)) >> 32n);
}

/**
 * A value's bytes as the kernel's registers hold them (network order); in a concatenation each
 * part is padded to 32 bits (nft's netlink_padded_len), and the hash reads them all.
 */
function registerBytes(vals: readonly Val[], types: readonly (DataType | null)[]): Uint8Array {
  const out: number[] = [];
  vals.forEach((v, i) => {
    const t = types[i];
    let bytes: number[];
    if (typeof v === 'bigint') bytes = Array.from({ length: 16 }, (_, k) => Number((v >> BigInt(8 * (15 - k))) & 0xffn));
    else if (typeof v === 'string') bytes = Array.from({ length: 16 }, (_, k) => (k < v.length ? v.charCodeAt(k) & 0xff : 0));
    else if (t === 'inet_service' || t === 'ether_type') bytes = [(v >> 8) & 0xff, v & 0xff];
    else if (t === 'inet_proto' || t === 'nf_proto' || t === 'pkt_type' || t === 'ct_dir') bytes = [v & 0xff];
    else bytes = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    if (vals.length > 1) while (bytes.length % 4) bytes.push(0);
    out.push(...bytes);
  });
  return Uint8Array.from(out);
}

/** Bob Jenkins' lookup3 hash as include/linux/jhash.h computes it (32-bit words read little-endian). */
export function jhash(k: Uint8Array, initval: number): number {
  let a = (0xdeadbeef + k.length + initval) >>> 0;
  let b = a;
  let c = a;
  const rol = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const word = (i: number) => (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24)) >>> 0;
  let i = 0;
  let len = k.length;
  while (len > 12) {
    a = (a + word(i)) >>> 0;
    b = (b + word(i + 4)) >>> 0;
    c = (c + word(i + 8)) >>> 0;
    // __jhash_mix
    a = (a - c) >>> 0; a = (a ^ rol(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 4)) >>> 0; b = (b + a) >>> 0;
    len -= 12;
    i += 12;
  }
  if (len === 0) return c;
  // The last block's bytes, added as in the kernel's fall-through switch.
  for (let j = len - 1; j >= 0; j--) {
    const v = (k[i + j] << (8 * (j % 4))) >>> 0;
    if (j >= 8) c = (c + v) >>> 0;
    else if (j >= 4) b = (b + v) >>> 0;
    else a = (a + v) >>> 0;
  }
  // __jhash_final
  c = (c ^ b) >>> 0; c = (c - rol(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 24)) >>> 0;
  return c;
}

function binaryOp(op: BinaryOp, a: Val, b: Val): Val | undefined {
  if (typeof a === 'string' || typeof b === 'string') return undefined;
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = BigInt(a);
    const y = BigInt(b);
    switch (op) {
      case 'and': return x & y;
      case 'or': return x | y;
      case 'xor': return x ^ y;
      case 'lshift': return (x << y) & ((1n << 128n) - 1n);
      case 'rshift': return x >> y;
    }
  }
  const x = a as number;
  const y = b as number;
  switch (op) {
    case 'and': return (x & y) >>> 0;
    case 'or': return (x | y) >>> 0;
    case 'xor': return (x ^ y) >>> 0;
    case 'lshift': return (x << y) >>> 0;
    case 'rshift': return x >>> y;
  }
}

/** A constant's value (the right side of a binary operation, a mark): null when it is not one. */
export function constant(e: Expr): Val | null {
  if (e.kind === 'paren') return constant(e.expr);
  if (e.kind !== 'value') return null;
  const v = e.value;
  switch (v.kind) {
    case 'number':
      return v.value;
    case 'ipv4':
      return v.address >>> 0;
    case 'ipv6':
      return v.address;
    case 'symbol':
    case 'list':
      return v.value;
    case 'string':
      return v.value;
    default:
      return null;
  }
}

/** An expression that loads a value from the packet, its connection or the node. */
export function compileExpr(e: Expr, c: ExprContext): CompiledExpr {
  switch (e.kind) {
    case 'payload':
      return payload(e.protocol, e.field, c);
    case 'meta':
      return meta(e.key, c);
    case 'ct':
      return ct(e, c);
    case 'fib':
      return fib(e, c);
    case 'numgen':
      return numgen(e, c);
    case 'hash':
      return hash(e, c);
    case 'paren':
      return compileExpr(e.expr, c);
    case 'binary': {
      const left = compileExpr(e.left, c);
      if (left.kind === 'unknown') return left;
      const k = constant(e.right);
      if (k === null) {
        const right = compileExpr(e.right, c);
        if (right.kind === 'unknown') return right;
        const l = left.get;
        const r = right.get;
        return get((w, regs, src) => {
          const a = l(w, regs, src);
          const b = r(w, regs, src);
          return a === undefined || b === undefined ? undefined : binaryOp(e.op, a, b);
        }, left.type, bothRead(left.src, right.src));
      }
      const l = left.get;
      return get((w, regs, src) => {
        const a = l(w, regs, src);
        return a === undefined ? undefined : binaryOp(e.op, a, k);
      }, left.type, left.src);
    }
    case 'value': {
      const k = constant(e);
      return k === null ? unknown(`${e.value.kind} value is not modelled here`) : get(() => k, null);
    }
    default:
      return unknown(`${e.kind} expression is not a value here`);
  }
}
