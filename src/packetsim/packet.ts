// The simulated packet. Fields are mutable on purpose: a walk owns its packet and copies it
// when it forks, so NAT and MARK rewrite in place.
import type { Family } from '../iptables/ir.js';
import { protocolHasPorts, protocolNumber, type Ip } from '../net/index.js';

/** The protocols a simulated packet may have (their numbers: src/net). */
export type PacketProtocol = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6';

/** The protocol number of a simulated packet's protocol. */
export function protocolOf(p: PacketProtocol): number {
  return protocolNumber(p)!;
}

export function hasPorts(p: PacketProtocol): boolean {
  return protocolHasPorts(protocolOf(p));
}

export type Origin = 'local' | 'remote';

export interface Packet {
  family: Family;
  protocol: PacketProtocol;
  proto: number;
  src: Ip;
  dst: Ip;
  sport: number;
  dport: number;
  inIface: string | null;
  outIface: string | null;
  mark: number;
  /** TCP flags of this segment (SYN for a connection's first packet). */
  tcpFlags: number;
  /** IPv4 TTL or IPv6 hop limit as the packet is now (the node decrements it when forwarding). */
  ttl: number;
  /** IPv4 TOS or IPv6 traffic class byte: DSCP in the upper six bits. */
  tos: number;
  /** IPv4 total length or IPv6 payload length plus its header, in bytes; null when not known. */
  length: number | null;
  /** Arrived on a bridge port with br_netfilter on: the skb carries nf_bridge info (xt_physdev). */
  viaBridge: boolean;
  /** The bridge port it arrived on (physindev); null when not via a bridge or the port is unknown. */
  physIn: string | null;
  /** The frame is addressed to another host on the bridge, not to the bridge itself: the bridge forwards it unless DNAT sends it elsewhere. */
  l2Forward: boolean;
  /** The bridge forwards it (br_nf_forward_ip set physoutdev). */
  bridged: boolean;
  /** The bridge port it leaves by (physoutdev); null when not bridged or the port is unknown. */
  physOut: string | null;
  /** IPVS has handled the packet (skb->ipvs_property): what -m ipvs reads; null: it has not. */
  ipvs: IpvsMark | null;
}

/** What IPVS leaves on a packet it sends on, as xt_ipvs sees it. */
export interface IpvsMark {
  /** The virtual service of the packet's IPVS connection (ip_vs_conn vaddr, vport). */
  readonly vaddr: Ip;
  readonly vport: number;
  /** The connection's forwarding method (kube-proxy's is always MASQ). */
  readonly method: 'MASQ' | 'GATE' | 'IPIP';
  /**
   * Whether xt_ipvs finds the connection for this packet (conn_out_get, addresses inverted): yes
   * for a client's packet IPVS forwarded, no for a reply IPVS rewrote.
   */
  readonly found: boolean;
}

/**
 * What a packet's socket and the clock say, as far as the trace is told (null: not told): for
 * -m owner and -m cgroup on a packet this node sends, -m socket on one it receives, -m time.
 */
export interface PacketMeta {
  readonly uid: number | null;
  readonly gid: number | null;
  /** Supplementary groups of the sending process (-m owner --suppl-groups). */
  readonly groups: readonly number[] | null;
  /** The local socket that takes this packet, if any (-m socket; -m cgroup on a received packet). */
  readonly socket: SocketKind | null;
  /** The sending socket's cgroup v2 path (`/system.slice/ssh.service`) and net_cls class id. */
  readonly cgroup: string | null;
  readonly classid: number | null;
  /** Seconds since the epoch (UTC) when the packet passes (-m time). */
  readonly time: number | null;
}

/**
 * The local socket a packet belongs to, as xt_socket finds it: none; one bound to the packet's
 * own address (an open connection, or a listener on that address); or a listener on any address
 * (xt_socket ignores those unless --nowildcard). `transparent`: the socket has IP_TRANSPARENT.
 */
export interface SocketKind {
  readonly bound: 'none' | 'address' | 'wildcard';
  readonly transparent: boolean;
}

/** `none`, `bound`, `wildcard`, `transparent` (bound) or `transparent-wildcard`, as the CLI and flows spell it. */
export const SOCKET_KINDS: Readonly<Record<string, SocketKind>> = {
  none: { bound: 'none', transparent: false },
  bound: { bound: 'address', transparent: false },
  wildcard: { bound: 'wildcard', transparent: false },
  transparent: { bound: 'address', transparent: true },
  'transparent-wildcard': { bound: 'wildcard', transparent: true },
};

export const NO_META: PacketMeta = { uid: null, gid: null, groups: null, socket: null, cgroup: null, classid: null, time: null };

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export function copyPacket(p: Packet): Packet {
  return {
    family: p.family,
    protocol: p.protocol,
    proto: p.proto,
    src: p.src,
    dst: p.dst,
    sport: p.sport,
    dport: p.dport,
    inIface: p.inIface,
    outIface: p.outIface,
    mark: p.mark,
    tcpFlags: p.tcpFlags,
    ttl: p.ttl,
    tos: p.tos,
    length: p.length,
    viaBridge: p.viaBridge,
    physIn: p.physIn,
    l2Forward: p.l2Forward,
    bridged: p.bridged,
    physOut: p.physOut,
    ipvs: p.ipvs,
  };
}
