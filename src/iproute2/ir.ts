// What iproute2's JSON says about a node, read once: links with their addresses (`ip -j addr`),
// routes (`ip -j route`, `ip -6 -j route`, `... show table all`), bridge ports (`bridge -j link`).
import type { Family } from '../net/index.js';

/** An address's or route's scope (rtnetlink.h RT_SCOPE_*: global/universe 0, site 200, link 253, host 254, nowhere 255). */
export type AddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

export const SCOPE_NUMBERS: Readonly<Record<AddressScope, number>> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** A route type (rtnetlink.h RTN_*), as `ip route` names it. */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'nat';

export const ROUTE_TYPES: readonly RouteType[] = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'];

export interface IpAddr {
  readonly family: Family;
  /** `ADDR/LEN`. */
  readonly cidr: string;
  readonly scope: AddressScope;
  readonly secondary: boolean;
  /** Deprecated or tentative (IPv6): not preferred as a source. */
  readonly deprecated: boolean;
}

export interface IpLink {
  readonly index: number;
  readonly name: string;
  readonly flags: readonly string[];
  /** The device this one is enslaved to (a bridge, a bond, a VRF). */
  readonly master: string | null;
  /** `ip -d`: linkinfo.info_kind (`bridge`, `veth`, ...) and info_slave_kind. */
  readonly kind: string | null;
  readonly slaveKind: string | null;
  readonly addrs: readonly IpAddr[];
}

export interface IpRoute {
  readonly family: Family;
  /** `default` or `ADDR/LEN`. */
  readonly to: string;
  readonly type: RouteType;
  readonly dev: string | null;
  readonly gateway: string | null;
  readonly src: string | null;
  readonly metric: number;
  /** `main` unless the dump says another (`local`, a number or a name from rt_tables). */
  readonly table: string;
  readonly scope: AddressScope;
}

export interface BridgePort {
  readonly name: string;
  readonly bridge: string;
  /** STP state: forwarding, blocking, disabled, ... */
  readonly state: string | null;
}
