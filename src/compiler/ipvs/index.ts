// The IPVS-mode pipeline: plan -> virtual servers, ipsets, kube-ipvs0 addresses, iptables rules,
// and the node settings kube-proxy changes (NewProxier in pkg/proxy/ipvs/proxier.go).
import type { DiagnosticSink } from '../../diag/diagnostic.js';
import type { IpsetDump } from '../../ipset/ir.js';
import type { IpvsTable, VirtualServer } from '../../ipvs/ir.js';
import { isLoopback, parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../../net/index.js';
import type { Cluster } from '../../model/types.js';
import { spellSettings } from '../iptables/spell-settings.js';
import { planServices, type ServicePortPlan } from '../plan.js';
import { clusterIPMasquerade } from '../plan-traffic.js';
import { proxierSettings, type CompileOptions, type ProxierSettings } from '../settings.js';
import { buildSets } from './ipsets.js';
import { renderIpvsRestore } from './iptables.js';
import { emitServicePort, emptyServiceState, type IpvsSettings } from './services.js';

export const DUMMY_DEVICE = 'kube-ipvs0';

/** A sysctl kube-proxy sets at start-up, and why. */
export interface Sysctl {
  readonly name: string;
  readonly value: number;
  readonly why: string;
}

export interface IpvsNodeFacts {
  readonly scheduler: string;
  readonly strictARP: boolean;
  readonly sysctls: readonly Sysctl[];
  /** ipvs.excludeCIDRs of this family: virtual servers inside them survive the stale-service cleanup. */
  readonly excludeCIDRs: readonly ParsedCIDR[];
  /** ipvsadm --set tcp tcpfin udp, when any is configured (0 keeps the kernel's value). */
  readonly timeouts: { readonly tcp: number; readonly tcpFin: number; readonly udp: number } | null;
}

export interface IpvsCompiled {
  readonly settings: ProxierSettings;
  readonly plans: readonly ServicePortPlan[];
  readonly ipvs: IpvsTable;
  readonly ipsets: IpsetDump;
  /** Addresses on kube-ipvs0, sorted. */
  readonly dummyAddresses: readonly string[];
  /** kube-proxy's iptables-restore input (applied with --noflush after the host setup). */
  readonly restore: string;
  readonly node: IpvsNodeFacts;
}

function compareIP(a: string, b: string): number {
  const x = parseIP(a);
  const y = parseIP(b);
  if (x && y && x.family === y.family) return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareServices(a: VirtualServer, b: VirtualServer): number {
  return compareIP(a.address, b.address) || a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0);
}

const isLinkLocal6 = (ip: ParsedIP) => ip.family === 'ipv6' && ip.value >> 118n === 0x3fan;

/** The node's addresses kube-proxy's netlink handle reports: this family, no loopback, no IPv6 link-local, not on kube-ipvs0. */
function nodeAddresses(s: ProxierSettings): ParsedIP[] {
  const ips = s.node?.interfaces ? s.node.interfaces.filter((i) => i.name !== DUMMY_DEVICE).flatMap((i) => i.ips) : s.localAddresses;
  const seen = new Set<string>();
  return ips.filter((ip) => {
    if (ip.family !== s.family || isLoopback(ip) || isLinkLocal6(ip) || seen.has(ip.text)) return false;
    seen.add(ip.text);
    return true;
  });
}

export function ipvsNodeFacts(cluster: Cluster, s: ProxierSettings, sink: DiagnosticSink): IpvsNodeFacts {
  const cfg = cluster.config.ipvs;
  const sysctls: Sysctl[] = [
    { name: 'net.ipv4.vs.conntrack', value: 1, why: 'IPVS keeps conntrack entries so iptables NAT (masquerade) applies to IPVS traffic' },
    { name: 'net.ipv4.vs.expire_nodest_conn', value: 1, why: 'connections to a removed real server are expired, not kept' },
    { name: 'net.ipv4.vs.expire_quiescent_template', value: 1, why: 'persistence templates to a weight-0 real server expire' },
    { name: 'net.ipv4.ip_forward', value: 1, why: 'the node forwards traffic to real servers on other nodes' },
  ];
  if (cfg.strictARP) {
    sysctls.push({ name: 'net.ipv4.conf.all.arp_ignore', value: 1, why: 'strictARP: answer ARP only for addresses on the receiving interface, so kube-ipvs0 VIPs are not announced' });
    sysctls.push({ name: 'net.ipv4.conf.all.arp_announce', value: 2, why: 'strictARP: use the best local address of the outgoing interface in ARP requests, never a VIP' });
  }
  const excludeCIDRs: ParsedCIDR[] = [];
  for (const text of cfg.excludeCIDRs) {
    const c = parseCIDR(text.trim());
    if (!c) sink.error('CFG_BAD_VALUE', `ipvs.excludeCIDRs: '${text}' is not a CIDR`, cluster.config.origin?.file ?? null, cluster.config.origin?.span ?? null);
    else if (c.family === s.family) excludeCIDRs.push(c);
  }
  const t = { tcp: cfg.tcpTimeoutSeconds, tcpFin: cfg.tcpFinTimeoutSeconds, udp: cfg.udpTimeoutSeconds };
  return { scheduler: cfg.scheduler || 'rr', strictARP: cfg.strictARP, sysctls, excludeCIDRs, timeouts: t.tcp || t.tcpFin || t.udp ? t : null };
}

export function compileIpvsCluster(cluster: Cluster, opts: CompileOptions, sink: DiagnosticSink): IpvsCompiled {
  const settings = proxierSettings(cluster, opts, sink);
  const plans = planServices(cluster, settings);
  const node = ipvsNodeFacts(cluster, settings, sink);
  return compileIpvs(plans, settings, node);
}

export function compileIpvs(plans: readonly ServicePortPlan[], s: ProxierSettings, node: IpvsNodeFacts): IpvsCompiled {
  const addrs = nodeAddresses(s);
  // NodePort virtual servers: every node address, or those nodePortAddresses selects (no loopback).
  const nodePortIPs = (s.nodePortIPs === null ? addrs : s.nodePortIPs.filter((ip) => ip.family === s.family && !isLoopback(ip))).map((ip) => ip.text);
  const is: IpvsSettings = {
    family: s.family,
    scheduler: node.scheduler,
    nodeAddresses: new Set(addrs.map((ip) => ip.text)),
    nodePortIPs: [...new Set(nodePortIPs)],
  };
  const st = emptyServiceState();
  for (const p of plans) emitServicePort(st, is, p);
  st.entries.set('ipvsIPs', st.bindAddresses);
  const nonEmpty = (k: Parameters<typeof st.entries.get>[0]) => (st.entries.get(k)?.size ?? 0) > 0;
  const restore = renderIpvsRestore({
    family: s.family,
    words: spellSettings(s),
    clusterIPMasquerade: clusterIPMasquerade(s),
    randomFully: s.randomFully,
    nonEmpty,
    noNodeAccess: st.noNodeAccess,
  });
  return {
    settings: s,
    plans,
    ipvs: { services: [...st.services.values()].sort(compareServices) },
    ipsets: { sets: buildSets(st.entries, s.family) },
    dummyAddresses: [...st.bindAddresses].sort(compareIP),
    restore,
    node,
  };
}
