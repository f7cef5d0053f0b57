// The address plan of a generated cluster, per family, chosen to fit the judge's topology
// (test/host/service-node.ts): the node namespace holds the node's own addresses as host addresses
// on eth0 (its link to the client side, which is also its default route); the client namespace
// holds every remote source (pods on other nodes, outside clients); the pods namespace holds every
// endpoint address and every local pod that sends. Nothing here may fall in the topology's link
// networks (169.254.1.0/30, 169.254.2.0/30, fd00:ffff:1::/64, fd00:ffff:2::/64), and the pools
// are disjoint, so where an address lives decides the side a packet starts from.
import type { Family } from '../../src/model/types.js';

export interface AddressPlan {
  readonly family: Family;
  /** kube-proxy's clusterCIDR (every pod of the cluster). */
  readonly clusterCIDR: string;
  /** Node name -> its podCIDR. The first node is the one kube-proxy runs on. */
  readonly podCIDRs: readonly string[];
  /** The local node's InternalIPs; the first is kube-proxy's node IP. */
  readonly nodeIPs: readonly string[];
  /** Remote nodes' InternalIPs (objects only, never placed in the topology). */
  readonly remoteNodeIPs: readonly string[];
  /** An external IP that is also configured on the node (kube-proxy's tests use 192.168.99.11). */
  readonly heldExternalIP: string;
  /** The node's link addresses in the topology, with prefix: they are local addresses too. */
  readonly linkAddrs: { readonly eth0: string; readonly pods0: string };
  readonly loopback: string;
  /** Pod address `host` (1-250) of node `node`. */
  pod(node: number, host: number): string;
  clusterIP(i: number): string;
  externalIP(i: number): string;
  lbIP(i: number): string;
  /** Outside clients: `inside` lies in `sourceRange`, `outside` does not. */
  readonly client: { readonly inside: string; readonly outside: string; readonly sourceRange: string };
  /** Other source ranges that may appear: one covering the node IPs, one covering the pods, one matching nothing. */
  readonly otherRanges: { readonly nodes: string; readonly pods: string; readonly nothing: string };
  /** A cluster IP no Service holds. */
  readonly unusedClusterIP: string;
  /** nodePortAddresses variants: [label, CIDR list]. */
  readonly nodePortAddressChoices: readonly (readonly [string, readonly string[]])[];
  /** The prefix length of a host address. */
  readonly hostBits: 32 | 128;
}

const hex = (n: number) => n.toString(16);

export const IPV4_PLAN: AddressPlan = {
  family: 'ipv4',
  clusterCIDR: '10.0.0.0/8',
  podCIDRs: ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24'],
  nodeIPs: ['192.168.0.2', '192.168.1.2'],
  remoteNodeIPs: ['192.168.0.3', '192.168.0.4'],
  heldExternalIP: '192.168.99.11',
  linkAddrs: { eth0: '169.254.1.1/30', pods0: '169.254.2.1/30' },
  loopback: '127.0.0.1',
  pod: (node, host) => `10.${node + 1}.0.${host}`,
  clusterIP: (i) => `172.30.${i >> 8}.${(i & 255) + 1}`,
  externalIP: (i) => `192.168.99.${20 + i}`,
  lbIP: (i) => `198.51.100.${10 + i}`,
  client: { inside: '203.0.113.2', outside: '203.0.113.130', sourceRange: '203.0.113.0/25' },
  otherRanges: { nodes: '192.168.0.0/16', pods: '10.0.0.0/8', nothing: '198.18.0.0/15' },
  unusedClusterIP: '172.30.255.254',
  nodePortAddressChoices: [
    ['node subnet', ['192.168.0.0/24']],
    ['second address', ['192.168.1.0/24']],
    ['node and loopback', ['192.168.0.2/32', '127.0.0.0/8']],
    ['primary', ['primary']],
    ['everything', ['0.0.0.0/0']],
    ['both families', ['192.168.0.0/16', '2001:db8::/64']],
  ],
  hostBits: 32,
};

export const IPV6_PLAN: AddressPlan = {
  family: 'ipv6',
  clusterCIDR: 'fd00:10::/48',
  podCIDRs: ['fd00:10:0:1::/64', 'fd00:10:0:2::/64', 'fd00:10:0:3::/64'],
  nodeIPs: ['2001:db8::2', '2001:db8:1::2'],
  remoteNodeIPs: ['2001:db8::3', '2001:db8::4'],
  heldExternalIP: '2001:db8:99::11',
  linkAddrs: { eth0: 'fd00:ffff:1::1/64', pods0: 'fd00:ffff:2::1/64' },
  loopback: '::1',
  pod: (node, host) => `fd00:10:0:${node + 1}::${hex(host)}`,
  clusterIP: (i) => `fd00:30::${hex(i + 1)}`,
  externalIP: (i) => `2001:db8:99::${hex(0x20 + i)}`,
  lbIP: (i) => `2001:db8:100::${hex(0x10 + i)}`,
  client: { inside: '2001:db8:200::2', outside: '2001:db8:200:0:8000::2', sourceRange: '2001:db8:200::/65' },
  otherRanges: { nodes: '2001:db8::/47', pods: 'fd00:10::/48', nothing: '2001:db8:f00::/48' },
  unusedClusterIP: 'fd00:30::ffff',
  nodePortAddressChoices: [
    ['node subnet', ['2001:db8::/64']],
    ['second address', ['2001:db8:1::/64']],
    ['node and loopback', ['2001:db8::2/128', '::1/128']],
    ['primary', ['primary']],
    ['everything', ['::/0']],
    ['both families', ['2001:db8::/47', '192.168.0.0/16']],
  ],
  hostBits: 128,
};

export const PLANS: Readonly<Record<Family, AddressPlan>> = { ipv4: IPV4_PLAN, ipv6: IPV6_PLAN };

/** The other family's plan, for the odd foreign-family value kube-proxy must skip. */
export function otherPlan(plan: AddressPlan): AddressPlan {
  return plan.family === 'ipv4' ? IPV6_PLAN : IPV4_PLAN;
}

/** Pod host numbers: endpoints and sending local pods use 10-79; remote pods that only send, 200-219. */
export const ENDPOINT_HOSTS = { first: 10, count: 70 } as const;
export const REMOTE_CLIENT_HOSTS = { first: 200, count: 20 } as const;
