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
}

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
  };
}
