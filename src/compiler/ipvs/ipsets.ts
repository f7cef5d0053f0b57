// The ipsets of kube-proxy's IPVS mode (ipsetInfo in pkg/proxy/ipvs/proxier.go, names and comments
// in pkg/proxy/ipvs/ipset.go), created up front on every sync in this order, and how their
// create lines read (createSet in pkg/proxy/ipvs/ipset/ipset.go: hash types get `family
// hashsize 1024 maxelem 65536`, bitmap:port `range 0-65535`; the comment is not passed to ipset).
import type { Family } from '../../iptables/ir.js';
import type { IpSet, SetOption } from '../../ipset/ir.js';

export const SET = {
  loopBack: 'KUBE-LOOP-BACK',
  clusterIP: 'KUBE-CLUSTER-IP',
  externalIP: 'KUBE-EXTERNAL-IP',
  externalIPLocal: 'KUBE-EXTERNAL-IP-LOCAL',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  loadBalancerFW: 'KUBE-LOAD-BALANCER-FW',
  loadBalancerLocal: 'KUBE-LOAD-BALANCER-LOCAL',
  loadBalancerSourceIP: 'KUBE-LOAD-BALANCER-SOURCE-IP',
  loadBalancerSourceCIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  nodePortTCP: 'KUBE-NODE-PORT-TCP',
  nodePortLocalTCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  nodePortUDP: 'KUBE-NODE-PORT-UDP',
  nodePortLocalUDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  nodePortSCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  nodePortLocalSCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  healthCheckNodePort: 'KUBE-HEALTH-CHECK-NODE-PORT',
  ipvsIPs: 'KUBE-IPVS-IPS',
} as const;

export type SetKey = keyof typeof SET;

export type IpvsSetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export interface SetInfo {
  readonly key: SetKey;
  readonly type: IpvsSetType;
  readonly comment: string;
}

/** ipsetInfo, in kube-proxy's order (which is also `ipset save`'s: creation order). */
export const SET_INFO: readonly SetInfo[] = [
  { key: 'loopBack', type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { key: 'clusterIP', type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { key: 'externalIP', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { key: 'externalIPLocal', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { key: 'loadBalancer', type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { key: 'loadBalancerFW', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { key: 'loadBalancerLocal', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { key: 'loadBalancerSourceIP', type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { key: 'loadBalancerSourceCIDR', type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { key: 'nodePortTCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { key: 'nodePortLocalTCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { key: 'nodePortUDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { key: 'nodePortLocalUDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { key: 'nodePortSCTP', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  { key: 'nodePortLocalSCTP', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  { key: 'healthCheckNodePort', type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { key: 'ipvsIPs', type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

export const SET_INFO_BY_KEY: Readonly<Record<SetKey, SetInfo>> = Object.fromEntries(SET_INFO.map((s) => [s.key, s])) as Record<SetKey, SetInfo>;

/**
 * NewIPSet: the IPv6 proxier's sets are `KUBE-6-...`, cut to ipset's 31-character limit
 * (`KUBE-6-LOAD-BALANCER-SOURCE-CID`, `KUBE-6-NODE-PORT-LOCAL-SCTP-HAS`); IPv4 names are unchanged.
 */
export function setName(key: SetKey, family: Family): string {
  const base = SET[key];
  if (family === 'ipv4') return base;
  return base.replace('KUBE-', 'KUBE-6-').slice(0, 31);
}

export function createOptions(type: IpvsSetType, family: Family): SetOption[] {
  if (type === 'bitmap:port') return [{ name: 'range', value: '0-65535' }];
  return [
    { name: 'family', value: family === 'ipv4' ? 'inet' : 'inet6' },
    { name: 'hashsize', value: '1024' },
    { name: 'maxelem', value: '65536' },
  ];
}

/** The sets as `ipset save` shows them after the sync, entries sorted (the kernel's hash order is arbitrary). */
export function buildSets(entries: ReadonlyMap<SetKey, ReadonlySet<string>>, family: Family): IpSet[] {
  return SET_INFO.map((info) => {
    const list = [...(entries.get(info.key) ?? [])];
    if (info.type === 'bitmap:port') list.sort((a, b) => Number(a) - Number(b));
    else list.sort();
    return {
      name: setName(info.key, family),
      type: info.type,
      family: info.type === 'bitmap:port' ? null : family,
      options: createOptions(info.type, family),
      entries: list.map((text) => ({ text, parts: [], options: [], span: null })),
      span: null,
    };
  });
}
