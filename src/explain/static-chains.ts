// The chains kube-proxy (and kubelet) keep whatever the Services: `table name` -> what each is for.
// kube-proxy creates some of them on every sync even when nothing jumps to them.
/** kube-proxy's (and kubelet's) fixed chains: what each is for (pkg/proxy/iptables/proxier.go iptablesJumpChains, pkg/proxy/ipvs/proxier.go). */
export const STATIC_CHAINS: Readonly<Record<string, string>> = {
  'nat KUBE-SERVICES': "kube-proxy's entry chain, jumped to from PREROUTING and OUTPUT: one rule per service address captures its traffic (iptables mode), or the sets of service addresses (IPVS mode); the last rule sends traffic for local addresses on to the NodePorts",
  'filter KUBE-SERVICES': 'REJECTs new connections to cluster IPs of service ports with no endpoints (connection refused instead of a timeout)',
  'filter KUBE-EXTERNAL-SERVICES': 'REJECTs (no endpoints) or DROPs (no local endpoints, Local policy) new connections to external IPs, load-balancer IPs and NodePorts',
  'nat KUBE-NODEPORTS': 'one rule per NodePort (per protocol), reached by packets to a local address',
  'filter KUBE-NODEPORTS': "ACCEPTs the health-check NodePorts of LoadBalancer services with externalTrafficPolicy Local (kube-proxy's health-check server answers there)",
  'nat KUBE-MARK-MASQ': 'sets the masquerade bit of the packet mark; KUBE-POSTROUTING masquerades packets that carry it',
  'nat KUBE-POSTROUTING': 'masquerades (SNAT to the outgoing address) packets carrying the masquerade bit, clearing the bit first',
  'filter KUBE-FORWARD': 'ACCEPTs forwarded packets kube-proxy marked and packets of established connections; DROPs packets conntrack finds INVALID',
  'filter KUBE-PROXY-FIREWALL': 'DROPs traffic to load-balancer IPs from sources outside loadBalancerSourceRanges',
  'filter KUBE-FIREWALL': 'DROPs packets to 127.0.0.0/8 that did not come from it (they could only arrive through route_localnet, which localhost NodePorts turn on)',
  'mangle KUBE-PROXY-CANARY': "an empty chain kube-proxy watches: when it disappears, the table was flushed and kube-proxy resyncs",
  'filter KUBE-PROXY-CANARY': "an empty chain kube-proxy watches: when it disappears, the table was flushed and kube-proxy resyncs",
  'nat KUBE-PROXY-CANARY': "an empty chain kube-proxy watches: when it disappears, the table was flushed and kube-proxy resyncs",
  'mangle KUBE-KUBELET-CANARY': "kubelet's canary chain (kubelet watches it as kube-proxy watches KUBE-PROXY-CANARY)",
  'mangle KUBE-IPTABLES-HINT': "kubelet's hint to containerised iptables users: it exists in the iptables backend (nf_tables or legacy) the node's rules are in; empty, nothing jumps to it",
  'nat KUBE-MARK-DROP': "kubelet's legacy drop mark (0x8000), unused by current kube-proxy",
  'filter KUBE-IPVS-FILTER': 'IPVS mode: lets packets to service address:ports in kube-proxy\'s sets through and REJECTs new connections to other ports of addresses on kube-ipvs0',
  'filter KUBE-IPVS-OUT-FILTER': "IPVS mode: the node's own packets to service addresses",
  'nat KUBE-NODE-PORT': 'IPVS mode: marks NodePort traffic for masquerading (the sets KUBE-NODE-PORT-<PROTO>)',
  'filter KUBE-NODE-PORT': 'IPVS mode: ACCEPTs the health-check NodePorts',
  'nat KUBE-LOAD-BALANCER': 'IPVS mode: marks load-balancer traffic for masquerading',
  'nat KUBE-FIREWALL': 'IPVS mode: load-balancer source ranges (KUBE-LOAD-BALANCER-SOURCE-CIDR); others are marked to drop',
  'filter KUBE-SOURCE-RANGES-FIREWALL': 'IPVS mode: DROPs load-balancer traffic from outside the source ranges',
};

