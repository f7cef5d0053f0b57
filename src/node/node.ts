// The node after kube-proxy ran, as one value: its netfilter tables per family (what
// iptables-save / ip6tables-save print), its ipsets, its IPVS table, its interfaces with their
// addresses, its routes and sysctls. Built in one place (assemble.ts) from either a compile's
// artefacts or a node's own dumps; the simulator reads only this value and never knows which.
// Like Batfish's vendor-independent model: where the configuration came from is not its concern.
import type { Family } from '../iptables/ir.js';
import type { KernelState } from '../iptables/state.js';
import type { IpsetDump } from '../ipset/ir.js';
import type { IpvsTable } from '../ipvs/ir.js';
import type { NftState } from '../nftables/state.js';

export interface NodeInterface {
  readonly name: string;
  /** `ADDR/LEN`, either family. */
  readonly addresses: readonly string[];
}

export interface NodeRoute {
  /** `default` or a CIDR. */
  readonly to: string;
  readonly dev: string;
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
  /** Routes beyond the connected ones (one per interface address); none: a default route through the first non-loopback interface. */
  readonly routes: readonly NodeRoute[];
  readonly sysctls: ReadonlyMap<string, string>;
}

/** lo with the loopback addresses, and the given node IPs on eth0 (a /24 or /64 unless a prefix is given). */
export function simpleInterfaces(nodeIPs: readonly string[]): NodeInterface[] {
  return [
    { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', addresses: nodeIPs.map((ip) => (ip.includes('/') ? ip : ip.includes(':') ? `${ip}/64` : `${ip}/24`)) },
  ];
}
