// The IPVS table as data: virtual services and their real servers, what `ipvsadm-save -n` prints
// and `ipvsadm-restore` reads (ipvsadm(8)). Fields follow the kernel's ip_vs_service_user /
// ip_vs_dest_user and kube-proxy's VirtualServer / RealServer (pkg/proxy/ipvs/util/ipvs.go).
import type { Family, Span } from '../iptables/ir.js';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP';

/** Service flags (include/uapi/linux/ip_vs.h). The kernel also reports HASHED, which kube-proxy masks off. */
export const SERVICE_FLAGS = {
  persistent: 0x1,
  hashed: 0x2,
  onePacket: 0x4,
  sched1: 0x8,
  sched2: 0x10,
  sched3: 0x20,
} as const;

/** Forwarding method of a real server: `-m` masquerading (NAT, kube-proxy's only one), `-g` direct routing, `-i` IPIP tunnel. */
export type ForwardMethod = 'masq' | 'route' | 'tunnel';

export interface RealServer {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly forward: ForwardMethod;
  /** Connection thresholds `-x` / `-y`; 0 = none. */
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  readonly span: Span | null;
}

export interface VirtualServer {
  readonly family: Family;
  readonly address: string;
  readonly port: number;
  readonly protocol: IpvsProtocol;
  readonly scheduler: string;
  /** Without HASHED: what kube-proxy writes and reads back (FlagPersistent 0x1, FlagSourceHash 0x10). */
  readonly flags: number;
  /** Persistence timeout in seconds; meaningful with the persistent flag. */
  readonly timeout: number;
  /** Persistence netmask as a prefix length (32 / 128 = per client address, the default). */
  readonly netmaskPrefix: number;
  readonly realServers: readonly RealServer[];
  readonly span: Span | null;
}

export interface IpvsTable {
  readonly services: readonly VirtualServer[];
}

/** `ip:port`, `[ip]:port` for IPv6: kube-proxy's VirtualServer/RealServer address string. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** kube-proxy's VirtualServer.String(): `ip:port/PROTO`, the key of the IPVS table. */
export function serviceKey(vs: Pick<VirtualServer, 'address' | 'port' | 'protocol'>): string {
  return `${hostPort(vs.address, vs.port)}/${vs.protocol}`;
}

/** The names ipvsadm gives the scheduler flag bits, per scheduler (`-b sh-fallback,sh-port`). */
export function schedulerFlagNames(scheduler: string): readonly [string, string, string] {
  if (scheduler === 'sh') return ['sh-fallback', 'sh-port', 'flag-3'];
  if (scheduler === 'mh') return ['mh-fallback', 'mh-port', 'flag-3'];
  return ['flag-1', 'flag-2', 'flag-3'];
}
