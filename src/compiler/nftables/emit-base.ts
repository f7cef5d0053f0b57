// The objects every nftables-mode node has, whatever its Services (setupNFTables in
// pkg/proxy/nftables/proxier.go), in the shape kube-proxy's unit tests assert at 81810de
// (golden/kube-proxy-nftables, the base rules of every nft.txt):
//
// * the dispatch: `services` looks packets up in the verdict maps `service-ips`
//   (address . protocol . port) and, for the node's NodePort addresses, `service-nodeports`;
// * the filter checks, before DNAT in prerouting/output (`firewall-check`: loadBalancerSourceRanges)
//   and at priority 0 in input/forward/output (`service-endpoints-check`,
//   `nodeport-endpoints-check`: drop or reject what has no endpoint; `cluster-ips-check`: reject a
//   wrong port of a ClusterIP, drop an address of a service CIDR no Service holds);
// * masquerading: `mark-for-masquerade` sets the mark bit, `masquerading` in postrouting clears
//   it and masquerades (always `fully-random`).
import type { NftWords } from './words.js';
import type { Transaction } from './transaction.js';

/** The addresses NodePorts listen on: null means every local address but loopback (MatchAll). */
export interface BaseFacts {
  readonly nodePortIPs: readonly string[] | null;
  /** This family's service CIDRs (ServiceCIDR objects), canonical. */
  readonly serviceCIDRs: readonly string[];
}

const ADDR_PROTO_PORT = (w: NftWords) => `${w.addrType} . inet_proto . inet_service : verdict`;
const PROTO_PORT = 'inet_proto . inet_service : verdict';

export function emitBase(tx: Transaction, w: NftWords, facts: BaseFacts): void {
  const ip = w.ipX;
  const matchAll = facts.nodePortIPs === null;

  tx.set({ map: false, name: 'cluster-ips', type: w.addrType, flags: [], timeoutSeconds: null, comment: 'Active ClusterIPs' });
  // With every address taking NodePorts the set is not made (kube-proxy adds and deletes it).
  if (!matchAll) tx.set({ map: false, name: 'nodeport-ips', type: w.addrType, flags: [], timeoutSeconds: null, comment: 'IPs that accept NodePort traffic' });
  const map = (name: string, type: string, comment: string) => tx.set({ map: true, name, type, flags: [], timeoutSeconds: null, comment });
  map('firewall-ips', ADDR_PROTO_PORT(w), 'destinations that are subject to LoadBalancerSourceRanges');
  map('no-endpoint-nodeports', PROTO_PORT, 'vmap to drop or reject packets to service nodeports with no endpoints');
  map('no-endpoint-services', ADDR_PROTO_PORT(w), 'vmap to drop or reject packets to services with no endpoints');
  map('service-ips', ADDR_PROTO_PORT(w), 'ClusterIP, ExternalIP and LoadBalancer IP traffic');
  map('service-nodeports', PROTO_PORT, 'NodePort traffic');

  tx.chain('cluster-ips-check');
  // Filtering sees destinations before DNAT (dstnat - 10), then at the filter priority.
  tx.chain('filter-prerouting-pre-dnat', { type: 'filter', hook: 'prerouting', priority: -110 });
  tx.chain('filter-output-pre-dnat', { type: 'filter', hook: 'output', priority: -110 });
  tx.chain('filter-forward', { type: 'filter', hook: 'forward', priority: 0 });
  tx.chain('filter-input', { type: 'filter', hook: 'input', priority: 0 });
  tx.chain('filter-output', { type: 'filter', hook: 'output', priority: 0 });
  tx.chain('firewall-check');
  tx.chain('mark-for-masquerade');
  tx.chain('masquerading');
  tx.chain('nat-output', { type: 'nat', hook: 'output', priority: -100 });
  tx.chain('nat-postrouting', { type: 'nat', hook: 'postrouting', priority: 100 });
  tx.chain('nat-prerouting', { type: 'nat', hook: 'prerouting', priority: -100 });
  tx.chain('nodeport-endpoints-check');
  tx.chain('reject-chain', null, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  tx.chain('services');
  tx.chain('service-endpoints-check');

  tx.rule('cluster-ips-check', `${ip} daddr @cluster-ips reject`, 'Reject traffic to invalid ports of ClusterIPs');
  // kube-proxy joins the service CIDRs with "," (OnServiceCIDRsChanged); none, no rule.
  if (facts.serviceCIDRs.length > 0) tx.rule('cluster-ips-check', `${ip} daddr { ${facts.serviceCIDRs.join(',')} } drop`, 'Drop traffic to unallocated ClusterIPs');
  // nftablesJumpChains: rejecting needs the input, forward or output hook, so the endpoint
  // checks are not jumped to from prerouting.
  tx.rule('filter-prerouting-pre-dnat', 'ct state new jump firewall-check');
  tx.rule('filter-forward', 'ct state new jump service-endpoints-check');
  tx.rule('filter-forward', 'ct state new jump cluster-ips-check');
  tx.rule('filter-input', 'ct state new jump nodeport-endpoints-check');
  tx.rule('filter-input', 'ct state new jump service-endpoints-check');
  tx.rule('filter-output', 'ct state new jump service-endpoints-check');
  tx.rule('filter-output-pre-dnat', 'ct state new jump firewall-check');
  tx.rule('filter-output', 'ct state new jump cluster-ips-check');
  tx.rule('firewall-check', `${ip} daddr . meta l4proto . th dport vmap @firewall-ips`);
  tx.rule('mark-for-masquerade', `mark set mark or ${w.mark}`);
  tx.rule('masquerading', `mark and ${w.mark} == 0 return`);
  tx.rule('masquerading', `mark set mark xor ${w.mark}`);
  tx.rule('masquerading', 'masquerade fully-random');
  tx.rule('nat-output', 'jump services');
  tx.rule('nat-postrouting', 'jump masquerading');
  tx.rule('nat-prerouting', 'jump services');
  // NodePorts: on the nodeport-ips set, or on every local address but loopback (no localhost NodePorts).
  const nodePortDest = matchAll ? w.noLocalhost : `${ip} daddr @nodeport-ips`;
  tx.rule('nodeport-endpoints-check', `${nodePortDest} meta l4proto . th dport vmap @no-endpoint-nodeports`);
  tx.rule('reject-chain', 'reject');
  tx.rule('services', `${ip} daddr . meta l4proto . th dport vmap @service-ips`);
  tx.rule('services', `${matchAll ? `fib daddr type local ${w.noLocalhost}` : `${ip} daddr @nodeport-ips`} meta l4proto . th dport vmap @service-nodeports`);
  tx.rule('service-endpoints-check', `${ip} daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  for (const a of facts.nodePortIPs ?? []) tx.element('nodeport-ips', [a]);
}
