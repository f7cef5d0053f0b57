// Connection tracking as the simulator needs it: one entry per connection with its original and
// reply tuples (nf_conntrack_tuple_hash[2]), the NAT status bits (IPS_SRC_NAT / IPS_DST_NAT), which
// manips are initialised (nf_nat_initialized: the nat table runs only for the first packet of a
// connection), whether a reply was seen (IPS_SEEN_REPLY: ESTABLISHED), the connmark, and expiry.
import { IPPROTO, type Ip } from '../net/index.js';
import type { Packet } from './packet.js';

export interface Tuple {
  src: Ip;
  sport: number;
  dst: Ip;
  dport: number;
}

export interface Conn {
  readonly id: number;
  readonly proto: number;
  /** The original tuple never changes (NAT rewrites the reply tuple): copies share it. */
  readonly orig: Readonly<Tuple>;
  reply: Tuple;
  dnat: boolean;
  snat: boolean;
  /** The source NAT came from MASQUERADE. */
  masqueraded: boolean;
  dstManipDone: boolean;
  srcManipDone: boolean;
  seenReply: boolean;
  confirmed: boolean;
  untracked: boolean;
  /**
   * How conntrack saw the packet that made the entry, when not as a plain new connection (kpsim trace
   * --state): `related` is an expected connection (ctinfo IP_CT_RELATED: --ctstate RELATED until a
   * reply is seen); `invalid` is a packet conntrack could not track (nf_conntrack_in attaches no
   * entry: --ctstate INVALID, no NAT, nothing confirmed; set with `untracked`).
   */
  related: boolean;
  invalid: boolean;
  mark: number;
  /** Absolute time (seconds) after which the entry is gone. */
  expires: number;
}

export type Direction = 'original' | 'reply';

export function tupleKey(proto: number, src: Ip, sport: number, dst: Ip, dport: number): string {
  return `${proto}|${src}|${sport}|${dst}|${dport}`;
}

export function packetKey(p: Packet): string {
  return tupleKey(p.proto, p.src, p.sport, p.dst, p.dport);
}

let nextId = 1;

/** A fresh, unconfirmed entry for a packet with no existing connection (init_conntrack). */
export function newConn(p: Packet): Conn {
  return {
    id: nextId++,
    proto: p.proto,
    orig: { src: p.src, sport: p.sport, dst: p.dst, dport: p.dport },
    reply: { src: p.dst, sport: p.dport, dst: p.src, dport: p.sport },
    dnat: false,
    snat: false,
    masqueraded: false,
    dstManipDone: false,
    srcManipDone: false,
    seenReply: false,
    confirmed: false,
    untracked: false,
    related: false,
    invalid: false,
    mark: 0,
    expires: Infinity,
  };
}

export function copyConn(c: Conn): Conn {
  // Spelled out: a literal with a fixed shape is much cheaper than a spread on the hot path.
  return {
    id: c.id,
    proto: c.proto,
    orig: c.orig,
    reply: { src: c.reply.src, sport: c.reply.sport, dst: c.reply.dst, dport: c.reply.dport },
    dnat: c.dnat,
    snat: c.snat,
    masqueraded: c.masqueraded,
    dstManipDone: c.dstManipDone,
    srcManipDone: c.srcManipDone,
    seenReply: c.seenReply,
    confirmed: c.confirmed,
    untracked: c.untracked,
    related: c.related,
    invalid: c.invalid,
    mark: c.mark,
    expires: c.expires,
  };
}

/**
 * Another connection of the same shape as `c` (the flow cache's answer for a packet of the same
 * class, flow-cache.ts): a new id (one per connection: the walks of one packet share it) and the
 * tuples given.
 */
export function sameShape(c: Conn, id: number, orig: Tuple, reply: Tuple): Conn {
  return { ...copyConn(c), id, orig, reply };
}

/** A fresh connection id (newConn's counter). */
export function connId(): number {
  return nextId++;
}

/**
 * Timeouts from the kernel's defaults (nf_conntrack_proto_tcp.c: SYN_SENT 120 s, ESTABLISHED
 * 5 days; nf_conntrack_proto_udp.c: 30 s unreplied, 120 s replied; ICMP 30 s).
 */
export function timeoutSeconds(c: Conn): number {
  switch (c.proto) {
    case IPPROTO.TCP:
    case IPPROTO.SCTP:
      return c.seenReply ? 432000 : 120;
    case IPPROTO.UDP:
      return c.seenReply ? 120 : 30;
    default:
      return 30;
  }
}
