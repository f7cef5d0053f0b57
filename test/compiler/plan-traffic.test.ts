// The plan's decisions per service shape (syncProxyRules in pkg/proxy/iptables/proxier.go, the
// same in pkg/proxy/nftables/proxier.go): which chains a service port gets, where each entry
// point's traffic goes, what the filter stage does without endpoints, and the masquerading.
import { describe, expect, it } from 'vitest';
import { natFirewall } from '../../src/compiler/iptables/emit-service.js';
import { detectorMatch, spellSettings } from '../../src/compiler/iptables/spell-settings.js';
import type { EndpointInfo } from '../../src/compiler/plan.js';
import { planTraffic, type PortFacts, type TrafficPlan } from '../../src/compiler/plan-traffic.js';
import type { LocalDetector, ProxierSettings } from '../../src/compiler/settings.js';
import { parseCIDR, parseIP } from '../../src/net/index.js';
import { endpointInfo } from './endpoint-info.js';

const ep = (ip: string, isLocal: boolean) => endpointInfo(ip, 80, isLocal, isLocal ? 'node' : 'other');
const LOCAL = ep('10.0.1.1', true);
const REMOTE = ep('10.0.2.1', false);
const POD_CIDR: LocalDetector = { kind: 'cidr', cidr: parseCIDR('10.0.0.0/8')! };

function settings(over: Partial<ProxierSettings> = {}): ProxierSettings {
  return {
    family: 'ipv4',
    nodeName: 'node',
    node: null,
    nodeIP: parseIP('192.168.0.2'),
    masqueradeMark: 0x4000,
    masqueradeAll: false,
    localhostNodePorts: true,
    nodePortIPs: null,
    localDetector: POD_CIDR,
    randomFully: true,
    nfacct: true,
    tcpBeLiberal: false,
    loadBalancerIPMode: true,
    nodeLabels: {},
    localAddresses: [],
    ...over,
  };
}

interface Shape {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  /** internalTrafficPolicy / externalTrafficPolicy Local. */
  itpLocal?: boolean;
  etpLocal?: boolean;
  externalIPs?: number;
  sourceRanges?: string[];
  endpoints: EndpointInfo[];
}

/** The facts a planner would derive, with CategorizeEndpoints' lists for ready endpoints. */
function facts(sh: Shape): PortFacts {
  const type = sh.type ?? 'ClusterIP';
  const lbs = type === 'LoadBalancer' ? ['1.2.3.4'] : [];
  const nodePort = type === 'ClusterIP' ? 0 : 30080;
  const externallyAccessible = nodePort !== 0 || lbs.length > 0 || (sh.externalIPs ?? 0) > 0;
  const etpLocal = !!sh.etpLocal && externallyAccessible;
  const itpLocal = !!sh.itpLocal;
  const usesCluster = !itpLocal || externallyAccessible;
  const usesLocal = itpLocal || etpLocal;
  return {
    nodePort,
    loadBalancerVIPs: lbs,
    sourceRanges: (sh.sourceRanges ?? []).map((c) => parseCIDR(c)!),
    internalPolicyLocal: itpLocal,
    externalPolicyLocal: etpLocal,
    externallyAccessible,
    clusterEndpoints: usesCluster ? sh.endpoints : [],
    localEndpoints: usesLocal ? sh.endpoints.filter((e) => e.isLocal) : [],
    hasEndpoints: sh.endpoints.length > 0,
  };
}

/** The decisions as one comparable line per field. */
function summary(t: TrafficPlan) {
  const cap = (c: { jump: string | null; verdict: string | null } | null) => (c ? `${c.jump ?? '-'}/${c.verdict ?? '-'}` : 'none');
  return {
    chains: [t.clusterChain && 'cluster', t.localChain && 'local', t.externalChain && 'external', t.firewall && 'firewall'].filter(Boolean).join(','),
    external: t.externalChain?.map((r) => (r.kind === 'policy' ? `policy:${r.chain}` : r.kind)).join(',') ?? 'none',
    clusterIP: cap(t.clusterIP),
    externalIPs: cap(t.externalIPs),
    loadBalancerIPs: cap(t.loadBalancerIPs),
    nodePort: cap(t.nodePort),
    masquerade: t.clusterIPMasquerade ?? 'none',
  };
}

describe('plan: chains, captures and verdicts per service shape', () => {
  it.each<[string, Shape, ReturnType<typeof summary>]>([
    [
      'ClusterIP with endpoints',
      { endpoints: [LOCAL, REMOTE] },
      { chains: 'cluster', external: 'none', clusterIP: 'cluster/-', externalIPs: 'external/-', loadBalancerIPs: 'external/-', nodePort: 'none', masquerade: 'notLocal' },
    ],
    [
      'ClusterIP without endpoints: REJECT, no chains',
      { endpoints: [] },
      { chains: '', external: 'none', clusterIP: '-/reject', externalIPs: '-/reject', loadBalancerIPs: '-/reject', nodePort: 'none', masquerade: 'none' },
    ],
    [
      'internalTrafficPolicy Local with a local endpoint: the Local split only',
      { itpLocal: true, endpoints: [LOCAL, REMOTE] },
      { chains: 'local', external: 'none', clusterIP: 'local/-', externalIPs: 'external/-', loadBalancerIPs: 'external/-', nodePort: 'none', masquerade: 'notLocal' },
    ],
    [
      'internalTrafficPolicy Local, endpoints elsewhere only: DROP, no chains',
      { itpLocal: true, endpoints: [REMOTE] },
      { chains: '', external: 'none', clusterIP: '-/drop', externalIPs: 'external/-', loadBalancerIPs: 'external/-', nodePort: 'none', masquerade: 'none' },
    ],
    [
      'NodePort, Cluster policy: EXT masquerades everything, then the Cluster split',
      { type: 'NodePort', endpoints: [LOCAL, REMOTE] },
      { chains: 'cluster,external', external: 'masquerade,policy:cluster', clusterIP: 'cluster/-', externalIPs: 'external/-', loadBalancerIPs: 'external/-', nodePort: 'external/-', masquerade: 'notLocal' },
    ],
    [
      'NodePort without endpoints: REJECT at every entry, no EXT',
      { type: 'NodePort', endpoints: [] },
      { chains: '', external: 'none', clusterIP: '-/reject', externalIPs: '-/reject', loadBalancerIPs: '-/reject', nodePort: '-/reject', masquerade: 'none' },
    ],
    [
      'externalTrafficPolicy Local with a local endpoint: short-circuits, then the Local split',
      { type: 'LoadBalancer', etpLocal: true, endpoints: [LOCAL, REMOTE] },
      {
        chains: 'cluster,local,external',
        external: 'podsToCluster,masqueradeNode,nodeToCluster,policy:local',
        clusterIP: 'cluster/-',
        externalIPs: 'external/-',
        loadBalancerIPs: 'external/-',
        nodePort: 'external/-',
        masquerade: 'notLocal',
      },
    ],
    [
      'externalTrafficPolicy Local, no local endpoint: EXT keeps its short-circuits, external traffic is dropped',
      { type: 'LoadBalancer', etpLocal: true, endpoints: [REMOTE] },
      {
        chains: 'cluster,external',
        external: 'podsToCluster,masqueradeNode,nodeToCluster',
        clusterIP: 'cluster/-',
        externalIPs: 'external/drop',
        loadBalancerIPs: 'external/drop',
        nodePort: 'external/drop',
        masquerade: 'notLocal',
      },
    ],
    [
      'both policies Local, no local endpoint: internal and external dropped',
      { type: 'NodePort', itpLocal: true, etpLocal: true, endpoints: [REMOTE] },
      { chains: 'cluster,external', external: 'podsToCluster,masqueradeNode,nodeToCluster', clusterIP: '-/drop', externalIPs: 'external/drop', loadBalancerIPs: 'external/drop', nodePort: 'external/drop', masquerade: 'none' },
    ],
    [
      'a ClusterIP service with external IPs is externally accessible',
      { externalIPs: 1, endpoints: [REMOTE] },
      { chains: 'cluster,external', external: 'masquerade,policy:cluster', clusterIP: 'cluster/-', externalIPs: 'external/-', loadBalancerIPs: 'external/-', nodePort: 'none', masquerade: 'notLocal' },
    ],
    [
      'LoadBalancer with source ranges: a firewall',
      { type: 'LoadBalancer', sourceRanges: ['203.0.113.0/25'], endpoints: [REMOTE] },
      { chains: 'cluster,external,firewall', external: 'masquerade,policy:cluster', clusterIP: 'cluster/-', externalIPs: 'external/-', loadBalancerIPs: 'external/-', nodePort: 'external/-', masquerade: 'notLocal' },
    ],
    [
      'LoadBalancer with source ranges and no endpoints: the firewall still applies (nftables checks it before DNAT)',
      { type: 'LoadBalancer', sourceRanges: ['203.0.113.0/25'], endpoints: [] },
      { chains: 'firewall', external: 'none', clusterIP: '-/reject', externalIPs: '-/reject', loadBalancerIPs: '-/reject', nodePort: '-/reject', masquerade: 'none' },
    ],
    [
      'source ranges without an LB IP: no firewall',
      { type: 'NodePort', sourceRanges: ['203.0.113.0/25'], endpoints: [REMOTE] },
      { chains: 'cluster,external', external: 'masquerade,policy:cluster', clusterIP: 'cluster/-', externalIPs: 'external/-', loadBalancerIPs: 'external/-', nodePort: 'external/-', masquerade: 'notLocal' },
    ],
  ])('%s', (_name, shape, want) => {
    expect(summary(planTraffic(facts(shape), settings()))).toEqual(want);
  });
});

describe('plan: a policy chain needs its policy in use, not only endpoints', () => {
  // CategorizeEndpoints leaves the list of an unused policy empty; usesClusterPolicyChain and
  // usesLocalPolicyChain check the policy as well (UsesClusterEndpoints / UsesLocalEndpoints).
  it.each<[string, Partial<PortFacts>, string]>([
    ['Cluster endpoints listed, only the Local internal policy in use', { internalPolicyLocal: true }, 'local'],
    ['Local internal policy, externally accessible: both policies in use', { internalPolicyLocal: true, externallyAccessible: true, nodePort: 30080 }, 'cluster,local,external'],
    ['local endpoints listed, both policies Cluster', {}, 'cluster'],
    ['local endpoints listed, external Local but not externally accessible', { externalPolicyLocal: true }, 'cluster'],
    ['local endpoints listed, external Local and accessible', { externalPolicyLocal: true, externallyAccessible: true, nodePort: 30080 }, 'cluster,local,external'],
  ])('%s', (_name, over, chains) => {
    const base = facts({ endpoints: [LOCAL] });
    const t = planTraffic({ ...base, clusterEndpoints: [LOCAL], localEndpoints: [LOCAL], ...over }, settings());
    expect(summary(t).chains).toBe(chains);
  });
});

describe('plan: masquerading follows the proxier settings', () => {
  it.each<[string, Partial<ProxierSettings>, Shape, string, string]>([
    ['masqueradeAll marks all cluster-IP traffic', { masqueradeAll: true }, { endpoints: [REMOTE] }, 'all', 'none'],
    ['masqueradeAll wins over a detector', { masqueradeAll: true, localDetector: POD_CIDR }, { endpoints: [REMOTE] }, 'all', 'none'],
    ['no detector, no masqueradeAll: no cluster-IP masquerade', { localDetector: null }, { endpoints: [REMOTE] }, 'none', 'none'],
    ['no detector: pod traffic is not short-circuited', { localDetector: null }, { type: 'NodePort', etpLocal: true, endpoints: [LOCAL] }, 'none', 'masqueradeNode,nodeToCluster,policy:local'],
    [
      'an interface detector short-circuits like a CIDR one',
      { localDetector: { kind: 'interface', name: 'cbr0' } },
      { type: 'NodePort', etpLocal: true, endpoints: [LOCAL] },
      'notLocal',
      'podsToCluster,masqueradeNode,nodeToCluster,policy:local',
    ],
  ])('%s', (_name, over, shape, masquerade, external) => {
    const got = summary(planTraffic(facts(shape), settings(over)));
    expect([got.masquerade, got.external]).toEqual([masquerade, external]);
  });
});

describe('plan: loadBalancerSourceRanges', () => {
  it.each<[string, string[], string | null, boolean | null]>([
    ['a range holding the node IP lets the LB IPs in as sources', ['203.0.113.0/25', '192.168.0.0/24'], '192.168.0.2', true],
    ['ranges without the node IP keep them out', ['203.0.113.0/25'], '192.168.0.2', false],
    ['no node IP: LB IPs are not allowed', ['192.168.0.0/24'], null, false],
    ['an IPv6 range never holds the IPv4 node IP', ['::/0'], '192.168.0.2', false],
    ['no ranges: no firewall', [], '192.168.0.2', null],
  ])('%s', (_name, ranges, nodeIP, allow) => {
    const t = planTraffic(facts({ type: 'LoadBalancer', sourceRanges: ranges, endpoints: [REMOTE] }), settings({ nodeIP: nodeIP ? parseIP(nodeIP) : null }));
    expect(t.firewall?.allowLoadBalancerIPs ?? null).toBe(allow);
    if (t.firewall) expect(t.firewall.sources.map((c) => c.text)).toEqual(ranges);
  });

  it('iptables keeps KUBE-FW only where the LB capture jumps: with endpoints', () => {
    const shape: Shape = { type: 'LoadBalancer', sourceRanges: ['203.0.113.0/25'], endpoints: [REMOTE] };
    expect(natFirewall(planTraffic(facts(shape), settings()))).not.toBeNull();
    expect(natFirewall(planTraffic(facts({ ...shape, endpoints: [] }), settings()))).toBeNull();
  });
});

describe('iptables spelling of the mode-neutral settings', () => {
  it.each<[LocalDetector, string]>([
    [POD_CIDR, '-s 10.0.0.0/8'],
    [{ kind: 'cidr', cidr: parseCIDR('fd00:10::/64')! }, '-s fd00:10::/64'],
    [{ kind: 'interface', name: 'cbr0' }, '-i cbr0'],
    [{ kind: 'interfacePrefix', prefix: 'veth' }, '-i veth+'],
  ])('%o', (d, want) => expect(detectorMatch(d)).toBe(want));

  it('spells the mark and both senses of the detector once', () => {
    expect(spellSettings(settings({ masqueradeMark: 0x20 }))).toEqual({ mark: '0x20', ifLocal: '-s 10.0.0.0/8', ifNotLocal: '! -s 10.0.0.0/8' });
    expect(spellSettings(settings({ localDetector: null }))).toEqual({ mark: '0x4000', ifLocal: null, ifNotLocal: null });
  });
});
