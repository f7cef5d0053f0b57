// How kube-proxy's IPVS mode treats packets differently from its iptables mode, each with the
// upstream code that makes it so (pkg/proxy/ipvs/proxier.go, pkg/proxy/iptables/proxier.go). A
// mode migration's diff (kpsim diff cluster.yaml cluster.yaml --left-mode iptables --right-mode
// ipvs) names these for every difference they explain and flags any other; test/diff checks that
// golden/kpsim's clusters show these and nothing else.
import { every, hostOf, localhostNodePortLeftAlone, onlyInRef, sameButRounding, sourceOn, type KnownContext, type KnownDifference } from './known.js';
import type { OutcomeShare } from './behaviour.js';
import type { StructuralDifference } from './structural.js';

const EXTERNAL_KINDS = new Set(['nodePort', 'loadBalancerIP', 'externalIP', 'external']);

function externalLocal(k: KnownContext): boolean {
  return k.c.entries.some((e) => EXTERNAL_KINDS.has(e.kind) && e.port.externalPolicy === 'Local');
}

const unchanged = (k: KnownContext, side: 'ref' | 'other') => (o: OutcomeShare) => o.source === sourceOn(k, side);

function onlyInOther(d: StructuralDifference, refIsLeft: boolean, what: 'port' | 'entry' | 'endpoint'): boolean {
  return d.kind === `${what}-${refIsLeft ? 'extra' : 'missing'}`;
}

function refValue(d: StructuralDifference, refIsLeft: boolean): string | null {
  return refIsLeft ? d.left : d.right;
}

function otherValue(d: StructuralDifference, refIsLeft: boolean): string | null {
  return refIsLeft ? d.right : d.left;
}

export const IPVS_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: 'ipvs-unserved-ports-rejected',
    title: "new connections to a port or protocol a service address does not serve are REJECTed; iptables mode routes them on untouched",
    why: "IPVS mode binds every service address to kube-ipvs0, so the node takes packets for any port of it, and KUBE-IPVS-FILTER (\"kubernetes ipvs access filter\", pkg/proxy/ipvs/proxier.go writeIptablesRules) lets through only the address:ports of KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP, KUBE-LOAD-BALANCER and KUBE-HEALTH-CHECK-NODE-PORT, rejecting new connections to the rest of KUBE-IPVS-IPS; in iptables mode a service address is not local and only its service ports are captured",
    normalize: (k, ref, other) => (k.c.entries.length === 0 && k.c.serviceAddress && every(other, (o) => o.verdict === 'REJECT') && every(ref, (o) => o.verdict === 'ACCEPT') ? [ref, ref] : null),
    structural: () => false,
  },
  {
    id: 'ipvs-no-localhost-nodeports',
    title: 'no NodePorts on 127.0.0.0/8: a connection from the node to 127.0.0.1:<nodePort> is not sent to the endpoints',
    why: "IPVS mode creates NodePort virtual servers on the node's addresses without loopback (pkg/proxy/ipvs/proxier.go: the node addresses from GetAllLocalAddressesExcept(kube-ipvs0), loopback filtered); localhostNodePorts is iptables mode's (pkg/proxy/iptables/proxier.go: route_localnet and the KUBE-NODEPORTS rules for 127.0.0.0/8)",
    normalize: (k, ref, other) => (localhostNodePortLeftAlone(k, other) ? [ref, ref] : null),
    structural: (d, refIsLeft) => onlyInRef(d, refIsLeft, 'entry') && d.what.includes('on localhost'),
  },
  {
    id: 'ipvs-exact-shares',
    title: "endpoints get exactly equal shares (1/3 each) instead of iptables mode's 31-bit statistic splits",
    why: "IPVS's rr/wrr schedulers spread new connections by weight, kube-proxy writes weight 1 (pkg/proxy/ipvs/proxier.go syncEndpoint); iptables mode's `-m statistic --probability p` is stored as lround(2^31 p) (libxt_statistic.c), so three endpoints get 715827883/2147483648 and 1431655765/4294967296 twice",
    normalize: (_k, ref, other) => sameButRounding(ref, other),
    structural: (d) => d.kind === 'share-changed',
  },
  {
    id: 'ipvs-hairpin-local-endpoints-only',
    title: "an endpoint of another node that arrives here and is balanced back to itself is not masqueraded",
    why: "iptables mode's KUBE-SEP chain masquerades an endpoint's own traffic back to it (`-s <endpoint> -j KUBE-MARK-MASQ`) for every endpoint; IPVS mode's KUBE-LOOP-BACK set (\"for solving hairpin purpose\") holds only this node's endpoints (pkg/proxy/ipvs/proxier.go syncProxyRules). Only a pod of another node whose service traffic is routed through this node meets it",
    normalize: (k, ref, other) => {
      if (k.c.source.address === null) return null;
      const src = sourceOn(k, 'ref');
      const host = hostOf(src);
      let changed = false;
      const fixed = ref.map((o) => {
        if (o.verdict !== 'ACCEPT' || hostOf(o.destination) !== host || o.source === src) return o;
        changed = true;
        return { ...o, source: src, masquerade: false };
      });
      return changed ? [fixed, other] : null;
    },
    structural: () => false,
  },
  {
    id: 'ipvs-local-policy-for-all-sources',
    title: "externalTrafficPolicy Local applies to pods and the node too, and none of that traffic is masqueraded",
    why: "iptables mode's KUBE-EXT chain sends local pods (\"pod traffic for ... external destinations\") and the node itself (\"route LOCAL traffic ...\", masqueraded) to all endpoints whatever the policy (pkg/proxy/iptables/proxier.go); IPVS mode has one virtual server per address with the Local policy's endpoints for every source, and KUBE-NODE-PORT / KUBE-LOAD-BALANCER RETURN Local-policy traffic before KUBE-MARK-MASQ (the -LOCAL sets, pkg/proxy/ipvs/proxier.go ipsetWithIptablesChain)",
    // Unmasqueraded, unless IPVS's own hairpin rule (KUBE-LOOP-BACK) masquerades an endpoint sent back to itself.
    normalize: (k, ref, other) =>
      externalLocal(k) && every(ref, (o) => o.verdict === 'ACCEPT') && every(other, (o) => o.verdict === 'ACCEPT' && (unchanged(k, 'other')(o) || hostOf(o.destination) === hostOf(sourceOn(k, 'other')))) ? [ref, ref] : null,
    structural: () => false,
  },
  {
    id: 'ipvs-local-policy-without-local-endpoints',
    title: "externalTrafficPolicy Local with no endpoint on this node: external traffic goes to the other nodes' endpoints, unmasqueraded, instead of being dropped",
    why: "iptables mode DROPs it in filter KUBE-EXTERNAL-SERVICES (\"has no local endpoints\"); IPVS mode gives the virtual server all endpoints (pkg/proxy/ipvs/proxier.go syncEndpoint, kubernetes PR 97081: \"Allow access from local PODs even if no local endpoints exist. Traffic from an external source will be routed but the reply will have the POD address and will be discarded\")",
    normalize: (k, ref, other) => (externalLocal(k) && every(ref, (o) => o.verdict === 'DROP') && every(other, (o) => o.verdict === 'ACCEPT' && unchanged(k, 'other')(o)) ? [ref, ref] : null),
    structural: (d, refIsLeft) =>
      (d.kind === 'entry-changed' && refValue(d, refIsLeft) === 'DROP' && otherValue(d, refIsLeft) === 'endpoints (Local policy)') ||
      (onlyInOther(d, refIsLeft, 'endpoint') && d.what.includes('(Local policy)')),
  },
  {
    id: 'ipvs-rejects-without-local-endpoints',
    title: 'internalTrafficPolicy Local with no endpoint on this node: new connections to the cluster IP are REJECTed instead of DROPped',
    why: "iptables mode DROPs them in filter KUBE-SERVICES (\"has no local endpoints\"); IPVS mode keeps the virtual server with no real server (CategorizeEndpoints gives no cluster endpoints for an internal-only Local policy) and IPVS refuses the connection (ip_vs_leave: TCP RST / ICMP port unreachable)",
    normalize: (k, ref, other) => (k.c.entries.some((e) => e.kind === 'clusterIP') && every(ref, (o) => o.verdict === 'DROP') && every(other, (o) => o.verdict === 'REJECT') ? [ref, ref] : null),
    structural: (d, refIsLeft) => d.kind === 'entry-changed' && d.what.startsWith('cluster IP') && refValue(d, refIsLeft) === 'DROP' && otherValue(d, refIsLeft) === 'REJECT',
  },
  {
    id: 'ipvs-nodeport-number-on-every-address',
    title: "traffic to a NodePort's number on a local address nodePortAddresses leaves out is still marked for masquerading",
    why: "IPVS mode matches NodePort traffic by port number alone (bitmap:port sets KUBE-NODE-PORT-<PROTO> in KUBE-NODE-PORT, reached for every local destination: pkg/proxy/ipvs/proxier.go writeIptablesRules), though only the selected addresses have virtual servers; iptables mode writes NodePort rules for the selected addresses only",
    normalize: (k, ref, other) =>
      k.c.entries.some((e) => e.kind === 'nodePort') && every(ref, (o) => o.verdict === 'ACCEPT' && o.delivery === 'local') && every(other, (o) => o.verdict === 'ACCEPT' && o.delivery === 'local' && o.masquerade) ? [ref, ref] : null,
    structural: () => false,
  },
];
