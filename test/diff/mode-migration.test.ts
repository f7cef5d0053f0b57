// A mode migration (iptables -> IPVS, iptables -> nftables) of every golden/kpsim cluster, and of
// every golden/kpsim-nftables cluster (those have ServiceCIDRs, and a node with two addresses): the
// diff must show exactly the documented differences of the other mode (src/diff/known-ipvs.ts,
// src/diff/known-nftables.ts, README "kpsim diff"), each class and structural difference explained
// by one of them, and no other. The tables say which ones each cluster shows; they were reviewed
// case by case against kube-proxy's proxiers.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { behaviouralDiff } from '../../src/diff/behaviour.js';
import { classifyStructural } from '../../src/diff/known.js';
import { IPVS_DIFFERENCES } from '../../src/diff/known-ipvs.js';
import type { KnownDifference } from '../../src/diff/known.js';
import { NFTABLES_DIFFERENCES } from '../../src/diff/known-nftables.js';
import { structuralDiff } from '../../src/diff/structural.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nameBook } from '../../src/explain/names.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { loadCluster } from '../../src/model/load.js';
import { compiled, row, side } from '../explain/nodes.js';

const IPVS_EXPECTED: Readonly<Record<string, string>> = {
  'detect-local-bridge-interface': 'ipvs-unserved-ports-rejected',
  'detect-local-cluster-cidr': 'ipvs-unserved-ports-rejected',
  'detect-local-interface-name-prefix': 'ipvs-unserved-ports-rejected',
  'detect-local-node-cidr': 'ipvs-unserved-ports-rejected',
  'detect-local-none': 'ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'dual-stack': 'ipvs-unserved-ports-rejected',
  'etp-local-health-check-nodeport': 'ipvs-local-policy-for-all-sources, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'etp-local-no-local-endpoints': 'ipvs-hairpin-local-endpoints-only, ipvs-local-policy-without-local-endpoints, ipvs-local-policy-for-all-sources, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'etp-local-node-to-nodeport': 'ipvs-hairpin-local-endpoints-only, ipvs-local-policy-without-local-endpoints, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'etp-local-with-local-endpoint': 'ipvs-hairpin-local-endpoints-only, ipvs-local-policy-for-all-sources, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'external-ips': 'ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'hairpin-pod-to-own-service': 'ipvs-unserved-ports-rejected',
  'headless-and-externalname': '',
  'ipv6-nodeport': 'ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'itp-local-no-local-endpoints': 'ipvs-rejects-without-local-endpoints, ipvs-unserved-ports-rejected',
  'itp-local': 'ipvs-unserved-ports-rejected',
  'lb-ipmode-proxy': 'ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'lb-source-ranges-from-node': 'ipvs-hairpin-local-endpoints-only, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'lb-source-ranges-include-node': 'ipvs-hairpin-local-endpoints-only, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'legacy-endpoints': 'ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'localhost-nodeport-disabled': 'ipvs-unserved-ports-rejected',
  'localhost-nodeport': 'ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'masquerade-all': 'ipvs-unserved-ports-rejected',
  'multi-port': 'ipvs-unserved-ports-rejected',
  'named-port-remapped': 'ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'no-endpoints-reject': 'ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'nodeport-addresses': 'ipvs-nodeport-number-on-every-address, ipvs-unserved-ports-rejected',
  'only-terminating-endpoints': 'ipvs-hairpin-local-endpoints-only, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'pod-to-own-node-nodeport': 'ipvs-hairpin-local-endpoints-only, ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'ready-and-terminating-endpoints': 'ipvs-unserved-ports-rejected',
  'sctp-service': 'ipvs-no-localhost-nodeports, ipvs-unserved-ports-rejected',
  'session-affinity-expired': 'ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'session-affinity-within-timeout': 'ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'terminating-not-serving': 'ipvs-unserved-ports-rejected',
  'three-endpoint-split': 'ipvs-exact-shares, ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'topology-aware-hints': 'ipvs-hairpin-local-endpoints-only, ipvs-unserved-ports-rejected',
  'udp-dns': 'ipvs-unserved-ports-rejected',
};

const NFTABLES_EXPECTED: Readonly<Record<string, string>> = {
  'detect-local-bridge-interface': 'nftables-clusterip-wrong-port-rejected',
  'detect-local-cluster-cidr': 'nftables-clusterip-wrong-port-rejected',
  'detect-local-interface-name-prefix': 'nftables-clusterip-wrong-port-rejected',
  'detect-local-node-cidr': 'nftables-clusterip-wrong-port-rejected',
  'detect-local-none': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'dual-stack': 'nftables-clusterip-wrong-port-rejected',
  'etp-local-health-check-nodeport': 'nftables-no-localhost-nodeports, nftables-no-health-check-nodeport-rule, nftables-clusterip-wrong-port-rejected',
  'etp-local-no-local-endpoints': 'nftables-no-localhost-nodeports, nftables-no-health-check-nodeport-rule, nftables-clusterip-wrong-port-rejected',
  'etp-local-node-to-nodeport': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'etp-local-with-local-endpoint': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'external-ips': 'nftables-clusterip-wrong-port-rejected',
  'hairpin-pod-to-own-service': 'nftables-clusterip-wrong-port-rejected',
  'headless-and-externalname': '',
  'ipv6-nodeport': 'nftables-clusterip-wrong-port-rejected',
  'itp-local': 'nftables-clusterip-wrong-port-rejected',
  'itp-local-no-local-endpoints': 'nftables-clusterip-wrong-port-rejected',
  'lb-ipmode-proxy': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'lb-source-ranges-from-node': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'lb-source-ranges-include-node': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'legacy-endpoints': 'nftables-clusterip-wrong-port-rejected',
  'localhost-nodeport': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'localhost-nodeport-disabled': 'nftables-clusterip-wrong-port-rejected',
  'masquerade-all': 'nftables-own-masquerade-all, nftables-clusterip-wrong-port-rejected',
  'multi-port': 'nftables-clusterip-wrong-port-rejected',
  'named-port-remapped': 'nftables-clusterip-wrong-port-rejected',
  'no-endpoints-reject': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'nodeport-addresses': 'nftables-clusterip-wrong-port-rejected',
  'only-terminating-endpoints': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'pod-to-own-node-nodeport': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'ready-and-terminating-endpoints': 'nftables-clusterip-wrong-port-rejected',
  'sctp-service': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected',
  'session-affinity-expired': 'nftables-clusterip-wrong-port-rejected',
  'session-affinity-within-timeout': 'nftables-clusterip-wrong-port-rejected',
  'terminating-not-serving': 'nftables-clusterip-wrong-port-rejected',
  'three-endpoint-split': 'nftables-clusterip-wrong-port-rejected',
  'topology-aware-hints': 'nftables-clusterip-wrong-port-rejected',
  'udp-dns': 'nftables-clusterip-wrong-port-rejected',
};

// The same scenarios with ServiceCIDR objects (nftables mode drops their unallocated addresses), and
// nodeport-primary-ip-only, whose node has a second address.
const NFTABLES_EXPECTED_NFT_CASES: Readonly<Record<string, string>> = {
  'clusterip-wrong-port-and-unallocated': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'detect-local-bridge-interface': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'detect-local-cluster-cidr': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'detect-local-interface-name-prefix': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'detect-local-node-cidr': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'detect-local-none': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'dual-stack': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'etp-local-health-check-nodeport': 'nftables-no-localhost-nodeports, nftables-no-health-check-nodeport-rule, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'etp-local-no-local-endpoints': 'nftables-no-localhost-nodeports, nftables-no-health-check-nodeport-rule, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'etp-local-node-to-nodeport': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'etp-local-with-local-endpoint': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'external-ips': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'hairpin-pod-to-own-service': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'headless-and-externalname': 'nftables-unallocated-clusterip-dropped',
  'ipv6-nodeport': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'itp-local': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'itp-local-no-local-endpoints': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'lb-ipmode-proxy': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'lb-source-ranges-from-node': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'lb-source-ranges-include-node': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'legacy-endpoints': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'localhost-nodeport': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'masquerade-all': 'nftables-own-masquerade-all, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'multi-port': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'named-port-remapped': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'no-endpoints-reject': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'nodeport-addresses': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'nodeport-primary-ip-only': 'nftables-no-localhost-nodeports, nftables-nodeports-on-primary-ip-only, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'only-terminating-endpoints': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'pod-to-own-node-nodeport': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'ready-and-terminating-endpoints': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'sctp-service': 'nftables-no-localhost-nodeports, nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'session-affinity-expired': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'session-affinity-within-timeout': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'terminating-not-serving': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'three-endpoint-split': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'topology-aware-hints': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
  'udp-dns': 'nftables-clusterip-wrong-port-rejected, nftables-unallocated-clusterip-dropped',
};

function migration(dir: string, mode: 'ipvs' | 'nftables', expected: Readonly<Record<string, string>>, documented: readonly KnownDifference[]): void {
  describe(`kpsim diff of a mode migration, iptables -> ${mode}, of ${dir}'s clusters`, () => {
    const cases = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

    it(`covers every ${dir} case`, () => {
      expect(cases.sort()).toEqual(Object.keys(expected).sort());
    });

    it.each(cases)('%s shows exactly its documented differences', (name) => {
      const a = compiled(name, 'iptables', dir);
      const b = compiled(name, mode, dir);
      const left = side('iptables', a.node, 'iptables', a.names, a.family);
      const right = side(mode, b.node, mode, b.names, b.family);
      const structural = structuralDiff(left.view, right.view, { pieces: false }).map((d) => ({ d, known: classifyStructural(d, left, right) }));
      const behaviour = behaviouralDiff(left, right, a.family);
      const undocumented = [...structural.filter((s) => s.known.length === 0).map((s) => `${s.d.kind} ${s.d.what}`), ...behaviour.differences.filter((c) => c.known.length === 0).map((c) => `${c.destinationText} from ${c.packet.sourceIP}`)];
      expect(undocumented).toEqual([]);
      // Every class decided on both sides (IPVS mode's node sending to a load-balancer IP outside
      // its source ranges meets KUBE-IPVS-OUT-FILTER's -m ipvs).
      expect(behaviour.undecided).toEqual([]);
      const ids = new Set([...structural.flatMap((s) => s.known), ...behaviour.differences.flatMap((c) => c.known)].map((k) => k.id));
      const order = documented.map((k) => k.id);
      expect([...ids].sort((x, y) => order.indexOf(x) - order.indexOf(y)).join(', ')).toBe(
        expected[name]
          .split(', ')
          .filter(Boolean)
          .sort((x, y) => order.indexOf(x) - order.indexOf(y))
          .join(', '),
      );
    });
  });
}

migration('golden/kpsim', 'ipvs', IPVS_EXPECTED, IPVS_DIFFERENCES);
migration('golden/kpsim', 'nftables', NFTABLES_EXPECTED, NFTABLES_DIFFERENCES);
migration('golden/kpsim-nftables', 'nftables', NFTABLES_EXPECTED_NFT_CASES, NFTABLES_DIFFERENCES);

describe('modes compared', () => {
  it('says nothing is documented between two modes neither of which is iptables, or within one mode', () => {
    const b = compiled('three-endpoint-split', 'ipvs');
    const l = side('a', b.node, 'ipvs', b.names);
    const r = side('b', b.node, 'ipvs', b.names);
    expect(behaviouralDiff(l, r, 'ipv4').differences).toEqual([]);
    const n = compiled('three-endpoint-split', 'nftables');
    const between = behaviouralDiff(l, side('n', n.node, 'nftables', n.names), 'ipv4').differences;
    expect(between.length).toBeGreaterThan(0);
    expect(between.every((c) => c.known.length === 0)).toBe(true);
  });
});

describe('a difference nftables mode does not explain', () => {
  it('is flagged as undocumented: an endpoint chain that DNATs to another port', () => {
    const a = compiled('three-endpoint-split', 'iptables');
    const b = compiled('three-endpoint-split', 'nftables');
    const t = b.node.nftables!.tables.get('ip kube-proxy')!;
    const ep = t.chains.get('endpoint-OFLYLSRH-shop/web/tcp/http__10.244.1.190/8080')!;
    const dnat = ep.rules.at(-1)!;
    ep.rules = [...ep.rules.slice(0, -1), { ...dnat, stmts: dnat.stmts.map((s) => (s.kind === 'nat' ? { ...s, port: { kind: 'value', value: { kind: 'number', text: '9090', value: 9090 } } } : s)) }];
    const d = behaviouralDiff(side('iptables', a.node, 'iptables', a.names), side('nftables', b.node, 'nftables', b.names), 'ipv4');
    const toService = d.differences.filter((c) => c.destinationText === 'tcp 10.96.0.190:80');
    expect(toService.length).toBeGreaterThan(0);
    expect(toService.every((c) => c.known.length === 0)).toBe(true);
  });

  it("four endpoints: numgen's shares against the statistic rules' (documented), each outcome's probability exact on both sides", () => {
    const file = 'golden/kpsim/three-endpoint-split/cluster.yaml';
    const text = readFileSync(file, 'utf8').replace('- addresses: ["10.244.2.192"]', '- addresses: ["10.244.2.193"]\n  conditions: {ready: true, serving: true, terminating: false}\n  nodeName: worker-2\n- addresses: ["10.244.2.192"]');
    const sink = new DiagnosticSink();
    const cluster = loadCluster([{ name: file, text }], sink);
    const [ipt, nft] = (['iptables', 'nftables'] as const).map((m) => row(m).compile(cluster, {}, sink)!);
    const left = side('iptables', ipt.node(), 'iptables', nameBook(ipt.plans));
    const right = side('nftables', nft.node(), 'nftables', nameBook(nft.plans));
    const shares = structuralDiff(left.view, right.view, { pieces: false }).filter((d) => d.kind === 'share-changed');
    // 1/4 exactly with numgen; the second statistic rule is stored as lround(2^31/3) = 715827883.
    expect(shares.map((d) => `${d.what}: ${d.left} | ${d.right} [${classifyStructural(d, left, right).map((k) => k.id)}]`)).toEqual([
      'endpoint 10.244.2.191:8080 (Cluster policy): 2147483649/8589934592 | 1/4 [nftables-numgen-shares]',
      'endpoint 10.244.2.192:8080 (Cluster policy): 4294967295/17179869184 | 1/4 [nftables-numgen-shares]',
      'endpoint 10.244.2.193:8080 (Cluster policy): 4294967295/17179869184 | 1/4 [nftables-numgen-shares]',
    ]);
    const c = behaviouralDiff(left, right, 'ipv4').differences.find((x) => x.destinationText === 'tcp 10.96.0.190:80')!;
    expect(c.known.map((k) => k.id)).toEqual(['nftables-numgen-shares']);
    expect(c.right.map((o) => fractionText(o.probability))).toEqual(['1/4', '1/4', '1/4', '1/4']);
  });
});

describe('a difference IPVS mode does not explain', () => {
  it('is flagged as undocumented: a virtual server that lost a real server', () => {
    const a = compiled('three-endpoint-split', 'iptables');
    const b = compiled('three-endpoint-split', 'ipvs');
    const ipvs = b.node.ipvs!;
    const broken = { ...b.node, ipvs: { ...ipvs, services: ipvs.services.map((v) => ({ ...v, realServers: v.realServers.slice(1) })) } };
    const d = behaviouralDiff(side('iptables', a.node, 'iptables', a.names), side('ipvs', broken, 'ipvs', b.names), 'ipv4');
    const toService = d.differences.filter((c) => c.destinationText === 'tcp 10.96.0.190:80');
    expect(toService.length).toBeGreaterThan(0);
    expect(toService.every((c) => c.known.length === 0)).toBe(true);
  });
});
