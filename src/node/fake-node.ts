// kube-proxy's fake node (NewFakeProxier in pkg/proxy/iptables/proxier_test.go): the interfaces
// its unit tests' packet tracer assumes, for rulesets traced without a cluster (TestTracePacket).
import type { NodeInterface } from './node.js';

export const FAKE_NODE_INTERFACES: readonly NodeInterface[] = [
  { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
  { name: 'eth0', addresses: ['192.168.0.2/24', '192.168.1.2/24', '192.168.99.11/24', '2001:db8::1/64', '2001:db8:1::2/64'] },
];

/** kube-proxy's iptables mode sets route_localnet for localhost NodePorts (on by default). */
export const FAKE_NODE_SYSCTLS: ReadonlyMap<string, string> = new Map([['net.ipv4.conf.all.route_localnet', '1']]);
