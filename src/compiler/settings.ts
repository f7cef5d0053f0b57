// The facts one kube-proxy instance (one node, one IP family) works from: what NewProxier and
// its arguments compute from the configuration, the Node and the host, before any Service is seen.
import type { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import { cidrContains, isLoopback, isUnspecified, parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../net/index.js';
import type { Cluster, KubeNode } from '../model/types.js';

export interface CompileOptions {
  readonly node?: string;
  readonly family?: Family;
  readonly clusterCIDR?: string;
  readonly masqueradeAll?: boolean;
  readonly nodeIP?: string;
  /** Host facts kube-proxy probes at start-up; the Node's kpsim.io/host-features wins over these defaults. */
  readonly randomFully?: boolean;
  readonly nfacct?: boolean;
}

/**
 * How kube-proxy recognises traffic from local pods (pkg/proxy/util/localdetector.go:
 * NewDetectLocalByCIDR, NewDetectLocalByBridgeInterface, NewDetectLocalByInterfaceNamePrefix).
 * Each mode spells it: iptables `-s 10.0.0.0/8`, `-i cbr0`, `-i veth+`; nftables `ip saddr
 * 10.0.0.0/8`, `iifname "cbr0"`, `iifname "veth*"`.
 */
export type LocalDetector =
  /** detectLocalMode ClusterCIDR (the clusterCIDR of this family) or NodeCIDR (the Node's podCIDR). */
  | { readonly kind: 'cidr'; readonly cidr: ParsedCIDR }
  /** detectLocalMode BridgeInterface: packets that arrive on this interface. */
  | { readonly kind: 'interface'; readonly name: string }
  /** detectLocalMode InterfaceNamePrefix: packets that arrive on any interface whose name starts so. */
  | { readonly kind: 'interfacePrefix'; readonly prefix: string };

export interface ProxierSettings {
  readonly family: Family;
  readonly nodeName: string;
  readonly node: KubeNode | null;
  readonly nodeIP: ParsedIP | null;
  /** `1 << masqueradeBit`, the packet mark that asks KUBE-POSTROUTING / masquerading to SNAT. */
  readonly masqueradeMark: number;
  readonly masqueradeAll: boolean;
  readonly localhostNodePorts: boolean;
  /** null: every local address (`-m addrtype --dst-type LOCAL`); else the node IPs that match. */
  readonly nodePortIPs: readonly ParsedIP[] | null;
  readonly localDetector: LocalDetector | null;
  readonly randomFully: boolean;
  readonly nfacct: boolean;
  readonly tcpBeLiberal: boolean;
  readonly loadBalancerIPMode: boolean;
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Every address configured on the node, for `--dst-type LOCAL` in the simulator. */
  readonly localAddresses: readonly ParsedIP[];
}

/** The mark of masqueradeBit (0-31) as an unsigned 32-bit number. */
export function masqueradeMark(bit: number): number {
  return (1 << bit) >>> 0;
}

export function selectNode(cluster: Cluster, opts: CompileOptions, sink: DiagnosticSink): { name: string; node: KubeNode | null } {
  const wanted = opts.node ?? (cluster.config.hostnameOverride || undefined);
  if (wanted !== undefined) {
    const node = cluster.nodes.find((n) => n.name === wanted) ?? null;
    if (!node && opts.node !== undefined) {
      const known = cluster.nodes.map((n) => n.name).join(', ') || 'none';
      sink.error('CMP_UNKNOWN_NODE', `--node ${opts.node}: no Node of that name (Nodes: ${known})`, null, null);
    }
    return { name: wanted, node };
  }
  if (cluster.nodes.length === 1) return { name: cluster.nodes[0].name, node: cluster.nodes[0] };
  if (cluster.nodes.length === 0) sink.error('CMP_NO_NODE', 'no Node in the input: name the node with --node NAME or give its Node object', null, null);
  else sink.error('CMP_NO_NODE', `${cluster.nodes.length} Nodes in the input (${cluster.nodes.map((n) => n.name).join(', ')}): choose one with --node NAME`, null, null);
  return { name: '', node: null };
}

/** kube-proxy's primary family: the bind address's if it is set, else the node IP's. */
export function primaryFamily(cluster: Cluster, node: KubeNode | null, opts: CompileOptions): Family {
  if (opts.family) return opts.family;
  const bind = parseIP(cluster.config.bindAddress);
  if (bind && !isUnspecified(bind)) return bind.family;
  if (bind && bind.family === 'ipv6') return 'ipv6';
  const ip = opts.nodeIP ? parseIP(opts.nodeIP) : node?.internalIPs[0] ?? node?.externalIPs[0];
  return ip?.family ?? 'ipv4';
}

export function proxierSettings(cluster: Cluster, opts: CompileOptions, sink: DiagnosticSink): ProxierSettings {
  const cfg = cluster.config;
  // Say what a missing configuration means, once: kube-proxy's defaults, and with an empty
  // clusterCIDR no local-traffic detector, so traffic from outside the pods is not masqueraded.
  if (cfg.origin === null) {
    const noCidr = (cfg.detectLocalMode === 'ClusterCIDR' || cfg.detectLocalMode === '') && !cfg.clusterCIDR && !opts.clusterCIDR;
    sink.warning('CFG_DEFAULTS', `no KubeProxyConfiguration in the input: kube-proxy's defaults are in use (mode iptables, masqueradeBit 14${noCidr ? '; clusterCIDR empty, so traffic from outside the pod range is not masqueraded: give --cluster-cidr or a configuration' : ''})`, null, null);
  }
  const { name, node } = selectNode(cluster, opts, sink);
  const family = primaryFamily(cluster, node, opts);

  let nodeIP: ParsedIP | null = null;
  if (opts.nodeIP) {
    nodeIP = parseIP(opts.nodeIP);
    if (!nodeIP) sink.error('CMP_BAD_FLAG', `--node-ip '${opts.nodeIP}' is not an IP address`, null, null);
  } else if (node) {
    // The fake proxier keeps its IPv4 node IP even in IPv6 mode; a real one uses its family's.
    nodeIP = node.internalIPs.find((ip) => ip.family === family) ?? node.internalIPs[0] ?? null;
  }

  const interfaces = node?.interfaces ?? null;
  const localAddresses: ParsedIP[] = interfaces
    ? interfaces.flatMap((i) => i.ips)
    : [...(node?.internalIPs ?? []), ...(node?.externalIPs ?? []), ...(nodeIP ? [nodeIP] : [])];

  // NewNodePortAddresses: the CIDRs of this family; none means "all local addresses".
  const npCIDRs: ParsedCIDR[] = [];
  for (const text of cfg.nodePortAddresses) {
    if (text === 'primary') {
      if (nodeIP && nodeIP.family === family) npCIDRs.push(parseCIDR(`${nodeIP.text}/${family === 'ipv4' ? 32 : 128}`)!);
      continue;
    }
    const c = parseCIDR(text);
    if (!c) sink.error('CFG_BAD_VALUE', `nodePortAddresses: '${text}' is not a CIDR`, cfg.origin?.file ?? null, cfg.origin?.span ?? null);
    else if (c.family === family) npCIDRs.push(c);
  }
  // A zero CIDR (0.0.0.0/0, ::/0) also means "all"; loopback counts when the network address is
  // a loopback address or the CIDR holds 127.0.0.0 (NewNodePortAddresses).
  const matchAll = npCIDRs.length === 0 || npCIDRs.some((c) => c.prefix === 0);
  const loop4 = parseIP('127.0.0.0')!;
  const containsIPv4Loopback =
    family === 'ipv4' && (matchAll || npCIDRs.some((c) => cidrContains(c, loop4) || isLoopback(c.network, c.family)));
  const localhostNodePorts = cfg.localhostNodePorts && containsIPv4Loopback;

  let nodePortIPs: ParsedIP[] | null = null;
  if (!matchAll) {
    const allAddrs: ParsedIP[] = interfaces ? interfaces.flatMap((i) => i.ips) : localAddresses;
    const seen = new Set<string>();
    nodePortIPs = [];
    for (const c of npCIDRs) {
      for (const ip of allAddrs) {
        if (cidrContains(c, ip) && !seen.has(ip.text)) {
          seen.add(ip.text);
          nodePortIPs.push(ip);
        }
      }
    }
    nodePortIPs = nodePortIPs.filter((ip) => !isLoopback(ip) || (family === 'ipv4' && localhostNodePorts));
  }

  return {
    family,
    nodeName: name,
    node,
    nodeIP,
    masqueradeMark: masqueradeMark(cfg.masqueradeBit),
    masqueradeAll: opts.masqueradeAll ?? cfg.masqueradeAll,
    localhostNodePorts,
    nodePortIPs,
    localDetector: localDetector(cluster, node, family, opts, sink),
    randomFully: node?.hostFeatures.randomFully ?? opts.randomFully ?? true,
    nfacct: node?.hostFeatures.nfacct ?? opts.nfacct ?? true,
    tcpBeLiberal: cfg.tcpBeLiberal,
    loadBalancerIPMode: cfg.featureGates.LoadBalancerIPMode ?? true,
    nodeLabels: node?.labels ?? {},
    localAddresses,
  };
}

function localDetector(cluster: Cluster, node: KubeNode | null, family: Family, opts: CompileOptions, sink: DiagnosticSink): LocalDetector | null {
  const cfg = cluster.config;
  switch (cfg.detectLocalMode) {
    case 'ClusterCIDR':
    case '': {
      const text = opts.clusterCIDR ?? cfg.clusterCIDR;
      const cidrs = text.split(',').map((s) => s.trim()).filter(Boolean);
      for (const c of cidrs) {
        const cidr = parseCIDR(c);
        if (!cidr) sink.error('CFG_BAD_VALUE', `clusterCIDR '${c}' is not a CIDR`, cfg.origin?.file ?? null, cfg.origin?.span ?? null);
        else if (cidr.family === family) return { kind: 'cidr', cidr };
      }
      return null;
    }
    case 'NodeCIDR': {
      const cidr = node?.podCIDRs.find((c) => c.family === family);
      if (!cidr) {
        sink.warning('CMP_NO_POD_CIDR', `detectLocalMode NodeCIDR but Node ${node?.name ?? '?'} has no ${family} podCIDR: no local-traffic detection`, null, null);
        return null;
      }
      return { kind: 'cidr', cidr };
    }
    case 'BridgeInterface':
      if (!cfg.bridgeInterface) return null;
      return { kind: 'interface', name: cfg.bridgeInterface };
    case 'InterfaceNamePrefix':
      if (!cfg.interfaceNamePrefix) return null;
      return { kind: 'interfacePrefix', prefix: cfg.interfaceNamePrefix };
  }
}
