// How kube-proxy's nftables mode treats packets differently from its iptables mode, each with the
// upstream code that makes it so (pkg/proxy/nftables/proxier.go, cmd/kube-proxy/app/server_linux.go):
// the differences golden/kpsim-nftables/README.md documents. A mode migration's diff (kpsim diff
// cluster.yaml cluster.yaml --left-mode iptables --right-mode nftables) names these for every
// difference they explain and flags any other; test/diff checks that the clusters of golden/kpsim
// and golden/kpsim-nftables show these and nothing else.
import type { Family } from '../net/index.js';
import { parseAddress } from '../net/index.js';
import type { Node } from '../node/node.js';
import type { Expr } from '../nftables/ir.js';
import { tableKey, type NftStateTable } from '../nftables/state.js';
import { keyParts, partMatches } from '../packetsim-nft/sets.js';
import { KUBE_PROXY_TABLE } from '../explain/nftables-view.js';
import { nftVerdictOf } from '../explain/nft-facts.js';
import type { ServicePortView } from '../explain/view.js';
import { every, hostOf, localhostNodePortLeftAlone, onlyInRef, sameButRounding, sourceOn, type KnownContext, type KnownDifference, type Outcomes } from './known.js';

function familyOf(k: KnownContext): Family {
  return k.c.packet.destIP.includes(':') ? 'ipv6' : 'ipv4';
}

function kubeProxyTable(node: Node, family: Family): NftStateTable | undefined {
  return node.nftables?.tables.get(tableKey(family === 'ipv6' ? 'ip6' : 'ip', KUBE_PROXY_TABLE));
}

/** Whether `e` (a value, a prefix, an anonymous set) holds the address. */
function holds(e: Expr, address: number | bigint): boolean {
  const keys = e.kind === 'set' ? e.elements.map((el) => el.key) : [e];
  return keys.some((key) => {
    const m = keyParts(key);
    return typeof m !== 'string' && m.length === 1 && partMatches(m[0], address);
  });
}

/** The packet's destination is in the other node's named set (cluster-ips, nodeport-ips); null when the set is absent. */
function inSet(k: KnownContext, set: string): boolean | null {
  const family = familyOf(k);
  const s = kubeProxyTable(k.other.node, family)?.sets.get(set);
  const a = parseAddress(k.c.packet.destIP, family);
  if (!s || a === null) return null;
  return s.elements.some((el) => holds(el.key, a));
}

/** The packet's destination is in a service CIDR cluster-ips-check drops (`ip daddr { 10.96.0.0/12 } drop`). */
function inDroppedServiceCIDR(k: KnownContext): boolean {
  const family = familyOf(k);
  const a = parseAddress(k.c.packet.destIP, family);
  const chain = kubeProxyTable(k.other.node, family)?.chains.get('cluster-ips-check');
  if (!chain || a === null) return false;
  return chain.rules.some((r) => nftVerdictOf(r)?.verdict === 'drop' && r.stmts.some((s) => s.kind === 'match' && s.left.kind === 'payload' && s.left.field === 'daddr' && (s.op === 'implicit' || s.op === 'eq') && holds(s.right, a)));
}

/** Every outcome on the other side: delivered to the node itself, its destination as sent (no NodePort DNAT). */
function leftAloneLocally(k: KnownContext, other: Outcomes): boolean {
  return every(other, (o) => o.verdict === 'ACCEPT' && o.delivery === 'local' && hostOf(o.destination) === k.c.packet.destIP);
}

/**
 * The port's split chain masquerades every packet to its cluster IP: a masquerade rule naming the
 * destination and nothing of the source (masqueradeAll; `! -s CLUSTER-CIDR` / `ip saddr != ...`
 * is the local-traffic detector's).
 */
function masqueradesAll(p: ServicePortView): boolean {
  return p.pieces.some((x) => x.kind === 'chain' && x.lines().some((l) => /KUBE-MARK-MASQ|jump mark-for-masquerade/.test(l) && /(^| )(-d |ip6? daddr )/.test(l) && !/(-s |saddr |-i |iifname )/.test(l)));
}

/** One side's outcomes as if the packet kept its source (masqueradeAll taken out). */
function unmasqueraded(k: KnownContext, side: 'ref' | 'other', list: Outcomes): Outcomes {
  return list.map((o) => (o.masquerade ? { ...o, source: sourceOn(k, side), masquerade: false } : o));
}

export const NFTABLES_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: 'nftables-clusterip-wrong-port-rejected',
    title: 'new connections to a port or protocol a cluster IP does not serve are REJECTed; iptables mode routes them on untouched',
    why: 'cluster-ips-check\'s `ip daddr @cluster-ips reject` ("Reject traffic to invalid ports of ClusterIPs"), jumped to for new connections from filter-forward and filter-output (pkg/proxy/nftables/proxier.go setupNFTables), so clients fail fast; in iptables mode a cluster IP is not local and only its service ports are captured',
    normalize: (k, ref, other) => (k.c.entries.length === 0 && inSet(k, 'cluster-ips') === true && every(other, (o) => o.verdict === 'REJECT') && every(ref, (o) => o.verdict === 'ACCEPT') ? [ref, ref] : null),
    structural: () => false,
  },
  {
    id: 'nftables-unallocated-clusterip-dropped',
    title: 'new connections to an address of a service CIDR that no Service holds are DROPped; iptables mode routes them on untouched',
    why: 'cluster-ips-check\'s `ip daddr { SERVICE-CIDRS } drop` ("Drop traffic to unallocated ClusterIPs"), the ranges from the ServiceCIDR objects (pkg/proxy/nftables/proxier.go OnServiceCIDRsChanged, setupNFTables); iptables mode has no rule for them',
    normalize: (k, ref, other) => (k.c.entries.length === 0 && inSet(k, 'cluster-ips') === false && inDroppedServiceCIDR(k) && every(other, (o) => o.verdict === 'DROP') && every(ref, (o) => o.verdict === 'ACCEPT') ? [ref, ref] : null),
    structural: () => false,
  },
  {
    id: 'nftables-nodeports-on-primary-ip-only',
    title: "with nodePortAddresses empty, NodePorts answer on the node's primary IP only; iptables mode answers on every local address",
    why: 'nftables mode\'s platform default for an empty nodePortAddresses is ["primary"] (cmd/kube-proxy/app/server_linux.go platformApplyDefaults): `nodeport-ips` holds the node\'s primary IP and `services` looks up service-nodeports only for it; iptables mode\'s KUBE-NODEPORTS is reached for every local destination (`--dst-type LOCAL`)',
    normalize: (k, ref, other) => {
      const loopback = k.c.packet.destIP.startsWith('127.') || k.c.packet.destIP === '::1';
      return !loopback && k.c.entries.some((e) => e.kind === 'nodePort') && inSet(k, 'nodeport-ips') === false && leftAloneLocally(k, other) ? [ref, ref] : null;
    },
    structural: () => false,
  },
  {
    id: 'nftables-no-localhost-nodeports',
    title: 'no NodePorts on 127.0.0.0/8: a connection from the node to 127.0.0.1:<nodePort> is not sent to the endpoints',
    why: 'nftables mode leaves loopback addresses out of the NodePort addresses ("localhost NodePorts are not supported", pkg/proxy/nftables/proxier.go: `ip daddr != 127.0.0.0/8`, and loopback addresses dropped from nodePortAddresses); localhostNodePorts and route_localnet are iptables mode\'s (pkg/proxy/iptables/proxier.go)',
    normalize: (k, ref, other) => (localhostNodePortLeftAlone(k, other) ? [ref, ref] : null),
    structural: (d, refIsLeft) => onlyInRef(d, refIsLeft, 'entry') && d.what.includes('on localhost'),
  },
  {
    id: 'nftables-own-masquerade-all',
    title: "masqueradeAll is nftables mode's own setting: traffic to a cluster IP is masqueraded in one mode and not the other",
    why: 'nftables mode reads masqueradeAll and masqueradeBit from the configuration\'s `nftables:` section, iptables mode from `iptables:` (cmd/kube-proxy/app/server_linux.go, src/compiler/nftables/index.ts nftablesConfig); a configuration that sets one only masquerades every packet to a cluster IP (the split chain\'s `ip daddr CLUSTER-IP jump mark-for-masquerade` without a source condition) in that mode',
    normalize: (k, ref, other) => {
      const refSide = k.refIsLeft ? 'left' : 'right';
      const entries = k.c.entries.filter((e) => e.kind === 'clusterIP');
      const refAll = entries.some((e) => e.side === refSide && masqueradesAll(e.port));
      const otherAll = entries.some((e) => e.side !== refSide && masqueradesAll(e.port));
      if (entries.length === 0 || refAll === otherAll) return null;
      return [refAll ? unmasqueraded(k, 'ref', ref) : ref, otherAll ? unmasqueraded(k, 'other', other) : other];
    },
    structural: () => false,
  },
  {
    id: 'nftables-no-health-check-nodeport-rule',
    title: "no rule for a healthCheckNodePort: the probe reaches kube-proxy's health server untouched, where iptables mode ACCEPTs it explicitly",
    why: 'iptables mode writes `-A KUBE-NODEPORTS -m tcp -p tcp --dport <healthCheckNodePort> -j ACCEPT` in the filter table ("health check node port", pkg/proxy/iptables/proxier.go); nftables mode writes nothing for it (its filter chains accept by policy), so the packet is delivered either way',
    normalize: () => null,
    structural: (d, refIsLeft) => onlyInRef(d, refIsLeft, 'entry') && d.what.startsWith('health-check NodePort'),
  },
  {
    id: 'nftables-numgen-shares',
    title: "endpoints get numgen's shares (reciprocal_scale of one 32-bit draw) instead of iptables mode's 31-bit statistic splits",
    why: '`numgen random mod N` draws reciprocal_scale(get_random_u32(), N): endpoint i gets (ceil((i+1)*2^32/N) - ceil(i*2^32/N)) / 2^32 (net/netfilter/nft_numgen.c); iptables mode\'s `-m statistic --probability p` rules are stored as lround(2^31 p) each (libxt_statistic.c) and tried in turn. Both are within 2^-28 of 1/N; for some N they differ in the last bits',
    normalize: (_k, ref, other) => sameButRounding(ref, other),
    structural: (d) => d.kind === 'share-changed',
  },
];
