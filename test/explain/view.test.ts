// The service view each mode reads from a node (src/explain): entry points, splits with their
// exact shares, policies, names from comments and, for dumps without them, from the objects'
// recomputed hashes; and one item explained.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explainItem } from '../../src/explain/item.js';
import { nodeJson } from '../../src/explain/json.js';
import { nodeStory, NO_FILES } from '../../src/explain/story.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { caseText, compiled, dumpNode, lineOf, row, withoutComments } from './nodes.js';

const FILES = { iptables: 'node.rules', ipsets: 'ipset.save', ipvs: 'ipvsadm.save', nftables: null };
const iptables = row('iptables');

function viewOf(name: string, transform: (t: string) => string = (t) => t, names = false) {
  const text = transform(caseText(name, 'node.rules'));
  const node = dumpNode(text);
  return { text, node, view: iptables.services(node, 'ipv4', names ? compiled(name).names : null) };
}

describe('the iptables view of a node', () => {
  it('reads a service port: its cluster IP, its split with the kernel\'s exact shares, its masquerade rule', () => {
    const { view, text } = viewOf('three-endpoint-split');
    expect(view.ports.map((p) => p.name)).toEqual(['shop/web:http']);
    const p = view.ports[0];
    expect(p.nameFrom).toBe('comment');
    expect(p.entries.map((e) => [e.kind, e.protocol, e.address, e.port, e.outcome.kind, e.at.span?.line])).toEqual([['clusterIP', 'TCP', '10.96.0.190', 80, 'endpoints', lineOf(text, /^-A KUBE-SERVICES -d 10.96.0.190/)]]);
    expect(p.splits).toHaveLength(1);
    expect(p.splits[0].policy).toBe('Cluster');
    expect(p.splits[0].endpoints.map((e) => [`${e.address}:${e.port}`, fractionText(e.share!)])).toEqual([
      ['10.244.1.190:8080', '715827883/2147483648'],
      ['10.244.2.191:8080', '1431655765/4294967296'],
      ['10.244.2.192:8080', '1431655765/4294967296'],
    ]);
    expect(p.splits[0].fallThrough).toBeNull();
    expect(p.notes.join('\n')).toContain('not from 10.244.0.0/16');
  });

  it('reads externalTrafficPolicy Local: the KUBE-EXT chain\'s policy jump, the Local split, the NodePorts (localhost too)', () => {
    const { view } = viewOf('etp-local-with-local-endpoint');
    const p = view.ports[0];
    expect(p.externalPolicy).toBe('Local');
    expect(p.internalPolicy).toBe('Cluster');
    expect(p.splits.map((s) => [s.policy, s.endpoints.map((e) => e.address)])).toEqual([
      ['Cluster', ['10.244.1.20', '10.244.2.20']],
      ['Local', ['10.244.1.20']],
    ]);
    expect(p.entries.filter((e) => e.kind === 'nodePort').map((e) => [e.port, e.localhost ?? false])).toEqual([
      [30080, true],
      [30080, false],
    ]);
  });

  it('reads a Local policy without local endpoints: no policy jump, external traffic dropped by the filter table', () => {
    const p = viewOf('etp-local-no-local-endpoints').view.ports[0];
    expect(p.externalPolicy).toBe('Local');
    expect(p.entries.filter((e) => e.outcome.kind === 'verdict').map((e) => [e.kind, e.outcome.kind === 'verdict' && e.outcome.verdict])).toEqual([
      ['loadBalancerIP', 'DROP'],
      ['nodePort', 'DROP'],
    ]);
  });

  it('reads a port with no endpoints from the filter table alone', () => {
    const p = viewOf('no-endpoints-reject').view.ports[0];
    expect(p.name).toBe('shop/web:http');
    expect(p.hash).toBeNull();
    expect(p.entries.map((e) => [e.kind, e.outcome.kind === 'verdict' && e.outcome.verdict])).toEqual([
      ['clusterIP', 'REJECT'],
      ['nodePort', 'REJECT'],
    ]);
  });

  it('reads session affinity and source ranges', () => {
    expect(viewOf('session-affinity-within-timeout').view.ports[0].affinitySeconds).toBe(60);
    expect(viewOf('lb-source-ranges-from-node').view.ports[0].sourceRanges).toEqual(['203.0.113.0/25']);
  });

  it('without comments (kube-proxy above 1000 endpoints) ties a port together by its hash, and names it from the objects', () => {
    const bare = viewOf('multi-port', withoutComments).view;
    expect(bare.ports.map((p) => p.name)).toEqual([null, null]);
    expect(bare.ports.every((p) => p.key.startsWith('hash:') && p.splits.length === 1 && p.entries.length === 1)).toBe(true);
    const named = viewOf('multi-port', withoutComments, true).view;
    expect(named.ports.map((p) => [p.name, p.nameFrom])).toEqual([
      ['shop/web:http', 'objects'],
      ['shop/web:metrics', 'objects'],
    ]);
    // The same ports as with comments, endpoint for endpoint.
    const commented = viewOf('multi-port').view;
    expect(named.ports.map((p) => p.splits[0].endpoints.map((e) => `${e.address}:${e.port}`))).toEqual(commented.ports.map((p) => p.splits[0].endpoints.map((e) => `${e.address}:${e.port}`)));
  });

  it('names a stale endpoint chain from the objects even though nothing jumps to it', () => {
    const { names } = compiled('three-endpoint-split');
    const sep = [...names.byEndpointChain.entries()].find(([, v]) => v.endpoint === '10.244.2.192:8080')![0];
    const text = withoutComments(caseText('three-endpoint-split', 'node.rules')).replace(new RegExp(`^-A KUBE-SVC-\\S+ -j ${sep}$`, 'm'), '-A KUBE-SVC-67NZLRHBNDSAWJRO -j KUBE-SEP-4ZSP25TBVKJOXROB');
    const node = dumpNode(text);
    const bare = iptables.services(node, 'ipv4', null);
    expect(bare.orphans.map((o) => o.id)).toEqual([`nat ${sep}`]);
    const named = iptables.services(node, 'ipv4', names);
    expect(named.orphans).toEqual([]);
    expect(named.ports[0].pieces.map((x) => x.id)).toContain(`nat ${sep}`);
  });
});

describe('the iptables view of older kube-proxy dumps (test/fixtures/dumps)', () => {
  const fixture = (name: string) => {
    const text = readFileSync(`test/fixtures/dumps/${name}`, 'utf8');
    return { text, view: iptables.services(dumpNode(text), 'ipv4', null) };
  };

  it("reads KUBE-XLB (before 1.24) as the Local external chain holding this node's split", () => {
    const { view, text } = fixture('flannel-kube-proxy-v1.20.iptables');
    const p = view.ports.find((x) => x.name === 'web/shop:http')!;
    expect(p.externalPolicy).toBe('Local');
    expect(p.splits.map((s) => [s.policy, s.via, s.endpoints.map((e) => `${e.address}:${e.port}`)])).toEqual([
      ['Cluster', 'KUBE-SVC-ZGZYMXMCLJDNVEPS', ['10.244.1.9:8080', '10.244.2.5:8080', '10.244.3.6:8080']],
      ['Local', 'KUBE-XLB-ZGZYMXMCLJDNVEPS', ['10.244.2.5:8080']],
    ]);
    expect(p.entries.find((e) => e.kind === 'nodePort')!.outcome).toEqual({ kind: 'chain', chain: 'KUBE-XLB-ZGZYMXMCLJDNVEPS' });
    // Its short-circuits for the node and for pods are told as the external chain's.
    expect(p.notes.filter((n) => n.startsWith('external: '))).toHaveLength(4);
    expect(p.pieces.find((x) => x.id === 'nat KUBE-XLB-ZGZYMXMCLJDNVEPS')?.at?.span?.line).toBe(lineOf(text, /^:KUBE-XLB-ZGZYMXMCLJDNVEPS/));
  });

  it('reads KUBE-FW as written: no source ranges (every source passes), or KUBE-MARK-DROP for the rest', () => {
    const { view } = fixture('kube-proxy-iptables-v1.10.iptables-legacy');
    const http = view.ports.find((x) => x.name === 'default/nginx-ingress:http')!;
    expect(http.sourceRanges).toEqual([]);
    expect(http.notes).toContain('load balancer: every source passes KUBE-FW-JGDVJDMGHQCGZYMW (no loadBalancerSourceRanges)');
    const https = view.ports.find((x) => x.name === 'default/nginx-ingress:https')!;
    expect(https.sourceRanges).toEqual(['203.0.113.0/24']);
    expect(https.notes.find((n) => n.startsWith('load balancer: only'))).toContain("marked to be dropped (KUBE-MARK-DROP; kubelet's KUBE-FIREWALL drops it)");
    // The unnamed port as kube-proxy of that era spelled it.
    expect(view.ports.map((x) => x.name)).toContain('default/redis:');
    // kube-proxy 1.31: the rest is dropped by filter KUBE-PROXY-FIREWALL.
    const modern = fixture('kube-proxy-iptables-v1.31.iptables').view.ports.find((x) => x.name === 'shop/frontend:http')!;
    expect(modern.notes.find((n) => n.startsWith('load balancer: only'))).toContain('dropped by filter KUBE-PROXY-FIREWALL');
  });

  it('without comments, an entry into a KUBE-FW chain is a load-balancer IP', () => {
    const p = viewOf('lb-source-ranges-include-node', withoutComments).view.ports[0];
    expect(p.entries.find((e) => e.address === '198.51.100.21')!.kind).toBe('loadBalancerIP');
  });
});

describe('the IPVS view of a node', () => {
  it('reads virtual servers as entry points, grouped into a service port by their real servers, named from the objects', () => {
    const c = compiled('nodeport', 'ipvs', 'golden/kpsim-ipvs');
    const bare = row('ipvs').services(c.node, 'ipv4', null);
    expect(bare.ports).toHaveLength(1);
    expect(bare.ports[0].name).toBeNull();
    expect(bare.ports[0].entries.map((e) => [e.kind, e.address, e.port])).toEqual([
      ['clusterIP', '10.96.0.30', 80],
      ['nodePort', '192.168.10.11', 30080],
    ]);
    expect(bare.ports[0].splits[0].endpoints.map((e) => fractionText(e.share!))).toEqual(['1/2', '1/2']);
    const named = row('ipvs').services(c.node, 'ipv4', c.names);
    expect(named.ports[0].name).toBe('shop/web:p');
  });
});

describe('explaining one item', () => {
  const { view, node, text } = viewOf('three-endpoint-split');
  it('a chain: whose it is and what each rule does', () => {
    const e = explainItem(view, node, 'ipv4', 'KUBE-SVC-67NZLRHBNDSAWJRO', null, FILES)!;
    expect(e.kind).toBe('chain');
    expect(e.ports.map((p) => p.name)).toEqual(['shop/web:http']);
    expect(e.lines[0]).toMatch(/Cluster-policy endpoint split .* of shop\/web:http/);
    expect(e.lines).toHaveLength(5);
  });

  it('a rule, by its line in the dump or as table:chain:N', () => {
    const line = lineOf(text, /^-A KUBE-SEP-GMCUMTIJ55LBH63B -p tcp/);
    const byLine = explainItem(view, node, 'ipv4', `node.rules:${line}`, null, FILES)!;
    expect(byLine.title).toBe(`nat KUBE-SEP-GMCUMTIJ55LBH63B rule 2 (node.rules:${line}:1)`);
    expect(byLine.lines[0]).toContain('is sent to 10.244.2.192:8080 (DNAT)');
    expect(byLine.ports.map((p) => p.name)).toEqual(['shop/web:http']);
    expect(explainItem(view, node, 'ipv4', 'nat:KUBE-SEP-GMCUMTIJ55LBH63B:rule:2', null, FILES)!.title).toBe(byLine.title);
  });

  it('a destination and a static chain', () => {
    expect(explainItem(view, node, 'ipv4', '10.96.0.190:80', null, FILES)!.ports.map((p) => p.name)).toEqual(['shop/web:http']);
    expect(explainItem(view, node, 'ipv4', '10.96.0.191:80', null, FILES)!.ports).toEqual([]);
    expect(explainItem(view, node, 'ipv4', 'KUBE-MARK-MASQ', null, FILES)!.lines[0]).toContain('masquerade bit');
  });

  it('a chain the node lacks: whose it would be, from the objects', () => {
    const { names } = compiled('multi-port');
    const hash = [...names.byHash.entries()].find(([, v]) => v.name === 'shop/web:metrics')![0];
    expect(explainItem(view, node, 'ipv4', `KUBE-SVC-${hash}`, names, FILES)!.title).toContain('would belong to shop/web:metrics');
    expect(explainItem(view, node, 'ipv4', 'NO-SUCH-CHAIN', null, FILES)).toBeNull();
  });

  it('an IPVS set element: which port it belongs to', () => {
    const c = compiled('nodeport', 'ipvs', 'golden/kpsim-ipvs');
    const v = row('ipvs').services(c.node, 'ipv4', c.names);
    const e = explainItem(v, c.node, 'ipv4', 'KUBE-CLUSTER-IP 10.96.0.30,tcp:80', c.names, NO_FILES)!;
    expect(e.kind).toBe('set element');
    expect(e.title).toContain('in the set');
    expect(e.ports.map((p) => p.name)).toEqual(['shop/web:p']);
  });
});

describe('the story and the JSON', () => {
  it('tells every port with its positions, and the JSON carries exact fractions', () => {
    const { view } = viewOf('three-endpoint-split');
    const story = nodeStory(view, FILES);
    expect(story).toContain('shop/web:http  TCP  ClusterIP');
    expect(story).toMatch(/10\.244\.1\.190:8080 +0\.3333333335 +715827883\/2147483648 +KUBE-SEP-VVPBSSYR66K7GAQW +node\.rules:66:1/);
    const json = nodeJson(view, FILES) as { ports: { splits: { endpoints: { share: { fraction: string } }[] }[] }[] };
    expect(json.ports[0].splits[0].endpoints[0].share.fraction).toBe('715827883/2147483648');
  });
});
