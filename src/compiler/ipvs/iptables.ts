// The iptables side of IPVS mode: kube-proxy's restore input (writeIptablesRules in
// pkg/proxy/ipvs/proxier.go) and the jump rules it inserts into the built-in chains
// (createAndLinkKubeChain). IPVS does the DNAT; these rules mark for masquerade, SNAT,
// filter and accept, each keyed on an ipset rather than one rule per service.
import type { Family } from '../../iptables/ir.js';
import type { IptablesWords } from '../iptables/spell-settings.js';
import type { ClusterIPMasquerade } from '../plan-traffic.js';
import { SET_INFO_BY_KEY, setName, type SetKey } from './ipsets.js';
import type { NoNodeAccess } from './services.js';

/** iptablesChains: declared (and so flushed) on every sync, in this order. */
export const IPVS_CHAINS = {
  nat: ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'],
  filter: ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER'],
} as const;

export interface JumpRule {
  readonly table: 'nat' | 'filter';
  readonly from: string;
  readonly to: string;
  readonly comment: string;
}

/** iptablesJumpChain: each is EnsureRule(Prepend), so later entries end up above earlier ones in the same chain. */
export const JUMP_RULES: readonly JumpRule[] = [
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING', comment: 'kubernetes postrouting rules' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD', comment: 'kubernetes forwarding rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-NODE-PORT', comment: 'kubernetes health check rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-PROXY-FIREWALL', comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-PROXY-FIREWALL', comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-IPVS-FILTER', comment: 'kubernetes ipvs access filter' },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-IPVS-OUT-FILTER', comment: 'kubernetes ipvs access filter' },
];

/** The host setup as restore text (`-I` = EnsureRule Prepend), applied once before the first sync. */
export function renderJumpSetup(): string {
  let s = '';
  for (const table of ['nat', 'filter'] as const) {
    s += `*${table}\n`;
    for (const c of IPVS_CHAINS[table]) s += `:${c} - [0:0]\n`;
    for (const j of JUMP_RULES) if (j.table === table) s += `-I ${j.from} -m comment --comment "${j.comment}" -j ${j.to}\n`;
    s += 'COMMIT\n';
  }
  return s;
}

/**
 * ipsetWithIptablesChain: one rule per non-empty set, in this order. The NodePort LOCAL sets come
 * before their normal sets so that externalTrafficPolicy Local ports RETURN before being marked.
 */
const SET_RULES: readonly { set: SetKey; table: 'nat' | 'filter'; from: string; to: string; match: string; proto?: string }[] = [
  { set: 'loopBack', table: 'nat', from: 'KUBE-POSTROUTING', to: 'MASQUERADE', match: 'dst,dst,src' },
  { set: 'loadBalancer', table: 'nat', from: 'KUBE-SERVICES', to: 'KUBE-LOAD-BALANCER', match: 'dst,dst' },
  { set: 'loadBalancerLocal', table: 'nat', from: 'KUBE-LOAD-BALANCER', to: 'RETURN', match: 'dst,dst' },
  { set: 'nodePortLocalTCP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', match: 'dst', proto: 'tcp' },
  { set: 'nodePortTCP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', match: 'dst', proto: 'tcp' },
  { set: 'nodePortLocalUDP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', match: 'dst', proto: 'udp' },
  { set: 'nodePortUDP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', match: 'dst', proto: 'udp' },
  { set: 'nodePortLocalSCTP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', match: 'dst,dst', proto: 'sctp' },
  { set: 'nodePortSCTP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', match: 'dst,dst', proto: 'sctp' },
  { set: 'loadBalancerFW', table: 'filter', from: 'KUBE-PROXY-FIREWALL', to: 'KUBE-SOURCE-RANGES-FIREWALL', match: 'dst,dst' },
  { set: 'loadBalancerSourceCIDR', table: 'filter', from: 'KUBE-SOURCE-RANGES-FIREWALL', to: 'RETURN', match: 'dst,dst,src' },
  { set: 'loadBalancerSourceIP', table: 'filter', from: 'KUBE-SOURCE-RANGES-FIREWALL', to: 'RETURN', match: 'dst,dst,src' },
];

export interface IptablesInputs {
  readonly family: Family;
  /** The mark and the local-traffic detector in iptables words. */
  readonly words: IptablesWords;
  /** The cluster-IP masquerade the iptables mode would write too (clusterIPMasquerade). */
  readonly clusterIPMasquerade: ClusterIPMasquerade | null;
  readonly randomFully: boolean;
  readonly nonEmpty: (set: SetKey) => boolean;
  readonly noNodeAccess: readonly NoNodeAccess[];
}

/** kube-proxy's restore input: nat chains, nat rules, filter chains, filter rules (applied with --noflush). */
export function renderIpvsRestore(x: IptablesInputs): string {
  const nat: string[] = [];
  const filter: string[] = [];
  const name = (k: SetKey) => setName(k, x.family);
  const comment = (k: SetKey) => `-m comment --comment "${SET_INFO_BY_KEY[k].comment}"`;
  const matchSet = (k: SetKey, dirs: string) => `-m set --match-set ${name(k)} ${dirs}`;

  // Connections from localhost never go through a service here (ip_vs does not handle them).
  nat.push(`-A KUBE-SERVICES -s ${x.family === 'ipv6' ? '::1/128' : '127.0.0.0/8'} -j RETURN`);
  for (const r of SET_RULES) {
    if (!x.nonEmpty(r.set)) continue;
    const line = `-A ${r.from}${r.proto ? ` -p ${r.proto}` : ''} ${comment(r.set)} ${matchSet(r.set, r.match)} -j ${r.to}`;
    (r.table === 'nat' ? nat : filter).push(line);
  }
  if (x.nonEmpty('clusterIP')) {
    const head = `-A KUBE-SERVICES ${comment('clusterIP')} -m set --match-set ${name('clusterIP')}`;
    if (x.clusterIPMasquerade === 'all') nat.push(`${head} dst,dst -j KUBE-MARK-MASQ`);
    else if (x.clusterIPMasquerade === 'notLocal') nat.push(`${head} dst,dst ${x.words.ifNotLocal} -j KUBE-MARK-MASQ`);
    // No detector: masquerade node-originated traffic whose source is a VIP (kube-ipvs0 holds
    // every VIP, so the kernel may pick one as the source address when connecting to another).
    else nat.push(`${head} src,dst -j KUBE-MARK-MASQ`);
  }
  // externalIPRules: accept traffic from off the machine (not from a bridge port, not locally
  // sourced), and traffic to external IPs the node itself holds.
  const externalAccept = (k: SetKey) => {
    const head = `-A KUBE-SERVICES ${comment(k)} ${matchSet(k, 'dst,dst')}`;
    nat.push(`${head} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`);
    nat.push(`${head} -m addrtype --dst-type LOCAL -j ACCEPT`);
  };
  if (x.nonEmpty('externalIP')) {
    nat.push(`-A KUBE-SERVICES ${comment('externalIP')} ${matchSet('externalIP', 'dst,dst')} -j KUBE-MARK-MASQ`);
    externalAccept('externalIP');
  }
  if (x.nonEmpty('externalIPLocal')) externalAccept('externalIPLocal');
  nat.push('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
  nat.push('-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ');
  filter.push('-A KUBE-SOURCE-RANGES-FIREWALL -j DROP');
  // kubernetes issue 119656: from the node, source and destination are both the LB IP.
  for (const e of x.noNodeAccess) filter.push(`-A KUBE-IPVS-OUT-FILTER -s ${e.ip} -m ipvs --vaddr ${e.ip} --vproto ${e.protocol} --vport ${e.port} -j DROP`);
  // acceptIPVSTraffic: the end of KUBE-SERVICES, so other rules cannot block IPVS traffic.
  for (const k of ['clusterIP', 'loadBalancer'] as const) if (x.nonEmpty(k)) nat.push(`-A KUBE-SERVICES ${matchSet(k, 'dst,dst')} -j ACCEPT`);
  const mark = x.words.mark;
  filter.push(`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filter.push('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  filter.push(`-A KUBE-NODE-PORT ${comment('healthCheckNodePort')} ${matchSet('healthCheckNodePort', 'dst')} -j ACCEPT`);
  // kubernetes issue 72236: VIPs on kube-ipvs0 must not expose the node's other ports.
  for (const [k, dirs] of [['loadBalancer', 'dst,dst'], ['clusterIP', 'dst,dst'], ['externalIP', 'dst,dst'], ['externalIPLocal', 'dst,dst'], ['healthCheckNodePort', 'dst']] as const) {
    filter.push(`-A KUBE-IPVS-FILTER ${matchSet(k, dirs)} -j RETURN`);
  }
  filter.push(`-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW ${matchSet('ipvsIPs', 'dst')} -j REJECT`);
  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`);
  // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`);
  nat.push(`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${x.randomFully ? ' --random-fully' : ''}`);
  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);

  const chains = (t: 'nat' | 'filter') => IPVS_CHAINS[t].map((c) => `:${c} - [0:0]\n`).join('');
  return `*nat\n${chains('nat')}${nat.join('\n')}\nCOMMIT\n*filter\n${chains('filter')}${filter.join('\n')}\nCOMMIT\n`;
}
