// The node after kube-proxy ran, as one value: its netfilter tables per family (what
// iptables-save / ip6tables-save print), its ipsets, its IPVS table, its interfaces with their
// addresses, its bridges, its routes and sysctls. Built in one place (assemble.ts) from either a
// compile's artefacts or a node's own dumps (`ip -j addr`, `ip -j route`, `bridge -j link`,
// `sysctl -a`); the simulator reads only this value and never knows which.
// Like Batfish's vendor-independent model: where the configuration came from is not its concern.
import type { Family } from '../iptables/ir.js';
import type { KernelState } from '../iptables/state.js';
import type { IpsetDump } from '../ipset/ir.js';
import type { IpvsTable } from '../ipvs/ir.js';
import type { Listings, RuleListing } from './listing.js';
import type { AddressScope, RouteType } from '../iproute2/ir.js';
import { maskIp, parseAddress } from '../net/index.js';

export type { AddressScope, RouteType } from '../iproute2/ir.js';

/** One address of an interface, as `ip -j addr` shows it. */
export interface NodeAddress {
  /** `ADDR/LEN`. */
  readonly cidr: string;
  readonly scope: AddressScope;
  /** IPv4: not the first address of its subnet on the interface (IFA_F_SECONDARY); never picked as a source. */
  readonly secondary: boolean;
  /** IPv6: deprecated (preferred lifetime over) or still tentative: avoided as a source (RFC 6724 rule 3). */
  readonly deprecated: boolean;
}
import type { NftState } from '../nftables/state.js';

export interface NodeInterface {
  readonly name: string;
  /** `ADDR/LEN`, either family, in the kernel's order (the primary address of a subnet first). */
  readonly addresses: readonly string[];
  /** The addresses with their scope and flags (`ip -j addr`); absent: defaults by address (addressesOf). */
  readonly addressInfo?: readonly NodeAddress[];
  /** The interface index (`ifindex`); the kernel's interface order when absent is the list's order. */
  readonly index?: number;
  /** `flags` of `ip link`: LOOPBACK, UP, ... (absent: lo is LOOPBACK, every interface UP). */
  readonly flags?: readonly string[];
  /** The bridge this interface is a port of (`master`), if any. */
  readonly master?: string | null;
}


export interface NodeRoute {
  /** `default` or a CIDR. */
  readonly to: string;
  /** The output interface; null for routes without one (blackhole, unreachable, prohibit). */
  readonly dev: string | null;
  readonly type?: RouteType;
  /** The next hop (`via`); none: the destination is on the link. */
  readonly gateway?: string | null;
  /** The preferred source address (`src`, prefsrc). */
  readonly src?: string | null;
  readonly metric?: number;
  /** `main` (the default), `local`, or another table (used only by policy rules). */
  readonly table?: string;
  readonly scope?: AddressScope;
}

/** A bridge and its ports (`bridge -j link`, or `master` in `ip -j addr`). */
export interface NodeBridge {
  readonly name: string;
  readonly ports: readonly string[];
}

export interface Node {
  /** The netfilter tables (iptables' view) per family, as the kernel holds them. */
  readonly netfilter: ReadonlyMap<Family, KernelState>;
  /** `ipset save`: sets of both families (each set says its own). */
  readonly ipsets: IpsetDump | null;
  /** `ipvsadm-save -n`: virtual servers of both families. */
  readonly ipvs: IpvsTable | null;
  /**
   * The nftables tables of every family (`nft list ruleset`), as the kernel holds them: kube-proxy's
   * `ip`/`ip6 kube-proxy` in nftables mode, and any other table (Calico's, Docker's, firewalld's).
   * Absent: the node value was built without nftables (iptables and IPVS modes).
   */
  readonly nftables?: NftState;
  readonly interfaces: readonly NodeInterface[];
  /**
   * The routing tables as `ip route` shows them (main, and local when `table all` was dumped). A
   * family with no route at all gets the connected routes of its addresses and a default route
   * through the first non-loopback interface (the shortcuts --node-ip and --interfaces).
   */
  readonly routes: readonly NodeRoute[];
  /** Bridges with their ports (br_netfilter: `-m physdev`); empty when none. */
  readonly bridges?: readonly NodeBridge[];
  /** `sysctl -a`: keys as printed (`net.ipv4.conf.eth0.rp_filter`), values as text. */
  readonly sysctls: ReadonlyMap<string, string>;
  /**
   * Per family, where a person reads each rule of `netfilter` (listing.ts): the dump's own lines, or
   * `kpsim compile`'s output for a compiled node. Absent: rules are shown as the IR spells them.
   */
  readonly listings?: Listings;
  /**
   * Where a person reads what the hook extensions run (extension-listing.ts), by HOOK_LISTINGS key:
   * the nftables tables, the IPVS table; as dumped, or as `kpsim compile` writes them.
   */
  readonly hookListings?: ReadonlyMap<string, RuleListing>;
}

/** lo with the loopback addresses, and the given node IPs on eth0 (a /24 or /64 unless a prefix is given). */
export function simpleInterfaces(nodeIPs: readonly string[]): NodeInterface[] {
  return [
    { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', addresses: nodeIPs.map((ip) => (ip.includes('/') ? ip : ip.includes(':') ? `${ip}/64` : `${ip}/24`)) },
  ];
}

/**
 * An interface's addresses with scope and flags: as dumped, or the kernel's defaults for an
 * address added without options (`ip addr add`): 127.0.0.0/8 and ::1 host scope, fe80::/10 link
 * scope (ipv6_addr_scope), everything else global; IPv4 addresses in a subnet already on the
 * interface are secondary (__inet_insert_ifa).
 */
export function addressesOf(itf: NodeInterface): readonly NodeAddress[] {
  if (itf.addressInfo) return itf.addressInfo;
  const seen: { net: number; len: number }[] = [];
  return itf.addresses.map((cidr) => {
    const [addr, lenText] = cidr.split('/');
    const v6 = addr.includes(':');
    const lower = addr.toLowerCase();
    const scope: AddressScope = v6 ? (lower === '::1' ? 'host' : /^fe[89ab]/.test(lower) ? 'link' : 'global') : addr.startsWith('127.') ? 'host' : 'global';
    let secondary = false;
    if (!v6) {
      const len = Number(lenText ?? 32);
      const ip = parseAddress(addr, 'ipv4', true);
      const net = ip === null ? -1 : (maskIp(ip, len, 'ipv4') as number);
      secondary = seen.some((s) => s.len === len && s.net === net);
      seen.push({ net, len });
    }
    return { cidr, scope, secondary, deprecated: false };
  });
}

