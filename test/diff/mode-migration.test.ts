// A mode migration (iptables -> IPVS) of every golden/kpsim cluster: the diff must show exactly the
// documented differences of IPVS mode (src/diff/known-ipvs.ts, README "kpsim diff"), each class and
// structural difference explained by one of them, and no other. The table says which ones each
// cluster shows; it was reviewed case by case against kube-proxy's two proxiers.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { behaviouralDiff } from '../../src/diff/behaviour.js';
import { classifyStructural } from '../../src/diff/known.js';
import { IPVS_DIFFERENCES } from '../../src/diff/known-ipvs.js';
import { structuralDiff } from '../../src/diff/structural.js';
import { compiled, side } from '../explain/nodes.js';

const EXPECTED: Readonly<Record<string, string>> = {
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

describe('kpsim diff of a mode migration, iptables -> ipvs', () => {
  const cases = readdirSync('golden/kpsim', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

  it('covers every golden/kpsim case', () => {
    expect(cases.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(cases)('%s shows exactly its documented differences', (name) => {
    const a = compiled(name, 'iptables');
    const b = compiled(name, 'ipvs');
    const left = side('iptables', a.node, 'iptables', a.names, a.family);
    const right = side('ipvs', b.node, 'ipvs', b.names, b.family);
    const structural = structuralDiff(left.view, right.view, { pieces: false }).map((d) => ({ d, known: classifyStructural(d, left, right) }));
    const behaviour = behaviouralDiff(left, right, a.family);
    const undocumented = [...structural.filter((s) => s.known.length === 0).map((s) => `${s.d.kind} ${s.d.what}`), ...behaviour.differences.filter((c) => c.known.length === 0).map((c) => `${c.destinationText} from ${c.packet.sourceIP}`)];
    expect(undocumented).toEqual([]);
    const ids = new Set([...structural.flatMap((s) => s.known), ...behaviour.differences.flatMap((c) => c.known)].map((k) => k.id));
    const order = IPVS_DIFFERENCES.map((k) => k.id);
    expect([...ids].sort((x, y) => order.indexOf(x) - order.indexOf(y)).join(', ')).toBe(
      EXPECTED[name]
        .split(', ')
        .filter(Boolean)
        .sort((x, y) => order.indexOf(x) - order.indexOf(y))
        .join(', '),
    );
  });

  it('says nothing is documented between two modes neither of which is iptables, or within one mode', () => {
    const b = compiled('three-endpoint-split', 'ipvs');
    const l = side('a', b.node, 'ipvs', b.names);
    const r = side('b', b.node, 'ipvs', b.names);
    expect(behaviouralDiff(l, r, 'ipv4').differences).toEqual([]);
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
