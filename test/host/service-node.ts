// The topology a kube-proxy kernel test needs: the node (where the rules are loaded), a client
// side holding every remote source address, and a pods side holding every endpoint address, both
// routed through the node. Each side hangs off the node by its own veth pair with a small link
// network; the interesting addresses are host addresses (/32, /128) on top, so any mix of node
// IPs, pod IPs and outside clients can be reproduced without subnet overlaps deciding routing.
//
//   client (clientAddrs)  169.254.1.2 --eth0-- 169.254.1.1  node (nodeAddrs on eth0)
//   pods (endpointAddrs)  169.254.2.2 --eth0-- 169.254.2.1  node (pods0, or podsIfname)
//   (IPv6: fd00:ffff:1::/64 and fd00:ffff:2::/64); the node's default route points to the client.
import type { Namespace } from './netns.js';
import { withTopology, type TopologySpec } from './topology.js';

export interface ServiceNodeSpec {
  /** The node's own addresses (node IPs, and e.g. externalIPs configured on it), IPv4 or IPv6. */
  readonly nodeAddrs: readonly string[];
  /** Sources of remote traffic: pods on other nodes, outside clients. */
  readonly clientAddrs: readonly string[];
  /** Endpoint (pod) addresses that the node's DNAT sends traffic to. */
  readonly endpointAddrs: readonly string[];
  /**
   * The node's interface toward the pods side (default `pods0`): a bridge or veth name when the
   * rules detect local traffic by interface (BridgeInterface `cbr0`, InterfaceNamePrefix `veth`).
   */
  readonly podsIfname?: string;
  /**
   * Client-side addresses that serve flows (servers on the outside world that pods or the node
   * connect to): responders listen on the client side too when a flow goes to one of them.
   */
  readonly remoteServers?: readonly string[];
}

export type ServiceNodeSide = 'node' | 'client' | 'pods';

export interface ServiceNode {
  readonly node: Namespace;
  readonly client: Namespace;
  readonly pods: Namespace;
  /** Where a packet from `addr` starts: the node for its own addresses, pods for endpoint addresses, else the client side. */
  sideOf(addr: string): ServiceNodeSide;
  ns(side: ServiceNodeSide): Namespace;
}

/** The node's interface toward the client side, and toward the pods side unless the spec names one. */
export const CLIENT_IFNAME = 'eth0';
export const DEFAULT_PODS_IFNAME = 'pods0';

const LINK = {
  client: { node4: '169.254.1.1', peer4: '169.254.1.2', node6: 'fd00:ffff:1::1', peer6: 'fd00:ffff:1::2', nodeIf: CLIENT_IFNAME },
  pods: { node4: '169.254.2.1', peer4: '169.254.2.2', node6: 'fd00:ffff:2::1', peer6: 'fd00:ffff:2::2', nodeIf: DEFAULT_PODS_IFNAME },
} as const;

const host = (addr: string) => (addr.includes(':') ? `${addr}/128` : `${addr}/32`);

/**
 * The node namespace withServiceNode builds, as kpsim's node facts (interfaces and their
 * addresses, routes beyond the connected ones), without building it: for checking kpsim against
 * answers the kernel gave on such a node when no kernel is at hand.
 */
export function serviceNodeFacts(spec: ServiceNodeSpec): { interfaces: { name: string; addresses: string[] }[]; routes: { to: string; dev: string }[] } {
  const pods = spec.podsIfname ?? LINK.pods.nodeIf;
  return {
    interfaces: [
      { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
      { name: CLIENT_IFNAME, addresses: [`${LINK.client.node4}/30`, `${LINK.client.node6}/64`, ...spec.nodeAddrs.map(host)] },
      { name: pods, addresses: [`${LINK.pods.node4}/30`, `${LINK.pods.node6}/64`] },
    ],
    routes: [
      { to: 'default', dev: CLIENT_IFNAME },
      ...spec.clientAddrs.map((a) => ({ to: host(a), dev: CLIENT_IFNAME })),
      ...spec.endpointAddrs.map((a) => ({ to: host(a), dev: pods })),
    ],
  };
}

/** Builds the three namespaces, runs fn, and deletes them afterwards, whatever happens. */
export function withServiceNode<T>(spec: ServiceNodeSpec, fn: (n: ServiceNode) => Promise<T>): Promise<T> {
  // The node's default route leads to the client side (the rest of the world), so service IPs
  // that only exist in its rules are routable before DNAT, as on a real node.
  const routes: NonNullable<TopologySpec['routes']>[number][] = [
    { ns: 'node', to: 'default', via: LINK.client.peer4 },
    { ns: 'node', to: 'default', via: LINK.client.peer6 },
  ];
  for (const side of ['client', 'pods'] as const) {
    const l = LINK[side];
    routes.push({ ns: side, to: 'default', via: l.node4 }, { ns: side, to: 'default', via: l.node6 });
    for (const addr of side === 'client' ? spec.clientAddrs : spec.endpointAddrs) {
      routes.push({ ns: 'node', to: host(addr), via: addr.includes(':') ? l.peer6 : l.peer4 });
    }
  }
  const topology: TopologySpec = {
    namespaces: ['node', 'client', 'pods'],
    links: (['client', 'pods'] as const).map((side) => ({
      a: { ns: 'node', ifname: side === 'pods' ? (spec.podsIfname ?? LINK.pods.nodeIf) : LINK[side].nodeIf, addrs: [`${LINK[side].node4}/30`, `${LINK[side].node6}/64`, ...(side === 'client' ? spec.nodeAddrs.map(host) : [])] },
      b: { ns: side, ifname: 'eth0', addrs: [`${LINK[side].peer4}/30`, `${LINK[side].peer6}/64`, ...(side === 'client' ? spec.clientAddrs : spec.endpointAddrs).map(host)] },
    })),
    routes,
    // kube-proxy's node: forwarding on, and route_localnet for localhost NodePorts.
    sysctls: { node: { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1, 'net.ipv4.conf.all.route_localnet': 1 } },
  };
  return withTopology(topology, (t) => {
    const sides = { node: t.ns('node'), client: t.ns('client'), pods: t.ns('pods') };
    return fn({
      ...sides,
      ns: (side) => sides[side],
      sideOf: (addr) => (spec.nodeAddrs.includes(addr) ? 'node' : spec.endpointAddrs.includes(addr) ? 'pods' : 'client'),
    });
  });
}
