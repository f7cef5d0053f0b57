// The nftables view of a node (src/explain/nftables-view.ts): kube-proxy's table read back into
// service ports, from golden/kpsim-nftables' listings (what `nft list table ip kube-proxy` shows)
// and from kpsim's own compile (the knftables transaction): captures from the verdict maps, numgen
// splits with reciprocal_scale's exact shares, affinity, source ranges, traffic policies, names from
// the chain names; and one item explained.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explainItem } from '../../src/explain/item.js';
import { portJson } from '../../src/explain/json.js';
import { nodeStory, NO_FILES } from '../../src/explain/story.js';
import type { ServicePortView } from '../../src/explain/view.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { compiled, lineOf, nftCaseText, nftNode, row } from './nodes.js';

const FILES = { ...NO_FILES, nftables: 'node.nft' };
const nftables = row('nftables');

function viewOf(name: string, transform: (t: string) => string = (t) => t) {
  const text = transform(nftCaseText(name));
  const family = name === 'ipv6-nodeport' ? 'ipv6' : 'ipv4';
  const node = nftNode(text, { family });
  return { text, node, family, view: nftables.services(node, family, null) } as const;
}

function entries(p: ServicePortView): string[] {
  return p.entries.map((e) => `${e.kind} ${e.protocol} ${e.address ?? '*'}:${e.port} -> ${e.outcome.kind === 'verdict' ? e.outcome.verdict : e.outcome.kind === 'endpoints' ? `${e.outcome.policy} ${e.outcome.via}` : e.outcome.kind === 'chain' ? e.outcome.chain : 'ACCEPT'}`);
}

describe('the nftables view of a node', () => {
  it("reads a service port from its chain names and service-ips, the split with numgen's exact shares", () => {
    const { view, text } = viewOf('three-endpoint-split');
    expect(view.mode).toBe('nftables');
    expect(view.ports.map((p) => [p.name, p.nameFrom, p.protocol, p.hash])).toEqual([['shop/web:http', 'chain', 'TCP', 'KHN6ECMT']]);
    const p = view.ports[0];
    expect(entries(p)).toEqual(['clusterIP TCP 10.96.0.190:80 -> Cluster service-KHN6ECMT-shop/web/tcp/http']);
    expect(p.entries[0].at.span?.line).toBe(lineOf(text, /10\.96\.0\.190 \. tcp \. 80 : goto/));
    // reciprocal_scale(u32, 3): ceil(2^32/3) = 1431655766 for value 0, 1431655765 for each of the others.
    expect(p.splits.map((s) => [s.policy, s.via, s.fallThrough])).toEqual([['Cluster', 'service-KHN6ECMT-shop/web/tcp/http', null]]);
    expect(p.splits[0].endpoints.map((e) => [`${e.address}:${e.port}`, fractionText(e.share!)])).toEqual([
      ['10.244.1.190:8080', '715827883/2147483648'],
      ['10.244.2.191:8080', '1431655765/4294967296'],
      ['10.244.2.192:8080', '1431655765/4294967296'],
    ]);
    expect(p.internalPolicy).toBe('Cluster');
    expect(p.notes.join('\n')).toContain('ip saddr != 10.244.0.0/16 jump mark-for-masquerade');
    expect(p.pieces.map((x) => x.id)).toEqual([
      '@cluster-ips 10.96.0.190',
      '@service-ips 10.96.0.190 . tcp . 80',
      'kube-proxy endpoint-2JRYBSDK-shop/web/tcp/http__10.244.2.192/8080',
      'kube-proxy endpoint-OFLYLSRH-shop/web/tcp/http__10.244.1.190/8080',
      'kube-proxy endpoint-SW4XSTA3-shop/web/tcp/http__10.244.2.191/8080',
      'kube-proxy service-KHN6ECMT-shop/web/tcp/http',
    ]);
    expect(p.pieces.some((x) => x.stale)).toBe(false);
  });

  it('reads externalTrafficPolicy Local: the external chain, both splits, the NodePort on nodeport-ips', () => {
    const p = viewOf('etp-local-with-local-endpoint').view.ports[0];
    expect(p.externalPolicy).toBe('Local');
    expect(p.splits.map((s) => [s.policy, s.endpoints.map((e) => e.address)])).toEqual([
      ['Cluster', ['10.244.1.20', '10.244.2.20']],
      ['Local', ['10.244.1.20']],
    ]);
    expect(entries(p).filter((e) => e.startsWith('nodePort'))).toEqual(['nodePort TCP 192.168.10.11:30080 -> external-UZIZZOKK-edge/ingress/tcp/http']);
    expect(p.notes.filter((n) => n.startsWith('external:'))).toHaveLength(4);
  });

  it('reads the no-endpoint maps: drop for a Local policy without local endpoints, reject without endpoints', () => {
    const local = viewOf('etp-local-no-local-endpoints').view.ports[0];
    expect(entries(local).filter((e) => e.endsWith('DROP'))).toEqual(['external TCP 198.51.100.10:80 -> DROP', 'nodePort TCP 192.168.10.11:30080 -> DROP']);
    expect(local.externalPolicy).toBe('Local');
    const none = viewOf('no-endpoints-reject').view.ports[0];
    expect(entries(none)).toEqual(['clusterIP TCP 10.96.0.180:80 -> REJECT', 'nodePort TCP 192.168.10.11:30080 -> REJECT']);
    expect(none.name).toBe('shop/web:http');
    expect(none.nameFrom).toBe('comment');
  });

  it('reads session affinity from the affinity sets, and source ranges from the firewall chain', () => {
    const aff = viewOf('session-affinity-within-timeout').view.ports[0];
    expect(aff.affinitySeconds).toBe(60);
    expect(aff.pieces.filter((x) => x.id.startsWith('@affinity-'))).toHaveLength(2);
    const fw = viewOf('lb-source-ranges-from-node').view.ports[0];
    expect(fw.sourceRanges).toEqual(['203.0.113.0/25']);
    expect(entries(fw)).toContain('loadBalancerIP TCP 198.51.100.20:80 -> external-DNRKWW5E-edge/lb/tcp/http');
    expect(fw.notes.at(-1)).toContain('only sources in 203.0.113.0/25 pass firewall-DNRKWW5E-edge/lb/tcp/http');
  });

  it('reads an IPv6 table: endpoint addresses from the DNAT, the chain names\' dotted addresses', () => {
    const { view } = viewOf('ipv6-nodeport');
    const p = view.ports[0];
    expect(p.splits[0].endpoints.map((e) => `${e.address} ${e.port} ${fractionText(e.share!)}`)).toEqual(['fd00:244:0:1::5 8080 1/2', 'fd00:244:0:2::7 8080 1/2']);
    expect(entries(p)).toEqual(['clusterIP TCP fd00:96::10:80 -> Cluster service-XLOBWYCZ-shop/web6/tcp/http', 'nodePort TCP fd00:10:1::11:30080 -> external-XLOBWYCZ-shop/web6/tcp/http']);
  });

  it('finds a deleted split element: a share falls through, the endpoint chain is stale', () => {
    const { view } = viewOf('three-endpoint-split', (t) => t.replace(/, 1 : goto endpoint-SW4XSTA3-[^,}]+/, ''));
    const p = view.ports[0];
    expect(p.splits[0].endpoints.map((e) => e.address)).toEqual(['10.244.1.190', '10.244.2.192']);
    expect(fractionText(p.splits[0].fallThrough!)).toBe('1431655765/4294967296');
    expect(p.pieces.filter((x) => x.stale).map((x) => x.id)).toEqual(['kube-proxy endpoint-SW4XSTA3-shop/web/tcp/http__10.244.2.191/8080']);
    expect(nodeStory(view, FILES)).toContain('falls through service-KHN6ECMT-shop/web/tcp/http');
  });

  // kube-proxy's transaction (what kpsim compiles) and the node's listing spell rules differently
  // (`mark set mark or 0x4000` / `meta mark set meta mark | 0x00004000`) and order objects otherwise: one view.
  const cases = readdirSync('golden/kpsim-nftables', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  it.each(cases)('%s: the listing and the compile read alike', (name) => {
    const c = compiled(name, 'nftables', 'golden/kpsim-nftables');
    const fromCompile = nftables.services(c.node, c.family, null);
    const fromListing = viewOf(name).view;
    const bare = (p: ServicePortView) => JSON.stringify(portJson(p, NO_FILES), (k, v) => (k === 'at' ? undefined : v));
    expect(fromListing.ports.map(bare)).toEqual(fromCompile.ports.map(bare));
    expect(fromListing.ports.flatMap((p) => p.pieces.map((x) => [x.id, x.lines()]))).toEqual(fromCompile.ports.flatMap((p) => p.pieces.map((x) => [x.id, x.lines()])));
    expect(fromListing.other.map((x) => [x.id, x.lines()])).toEqual(fromCompile.other.map((x) => [x.id, x.lines()]));
  });

  it('names the same service ports as iptables mode does for the same objects', () => {
    for (const name of cases) {
      const a = compiled(name, 'iptables', 'golden/kpsim-nftables');
      const b = compiled(name, 'nftables', 'golden/kpsim-nftables');
      const names = (v: { ports: readonly ServicePortView[] }) => v.ports.map((p) => p.name).sort();
      expect([name, names(nftables.services(b.node, b.family, null))]).toEqual([name, names(row('iptables').services(a.node, a.family, null))]);
    }
  });
});

describe('one item of an nftables node explained', () => {
  const { node, view, text } = viewOf('lb-source-ranges-from-node');
  const item = (x: string) => explainItem(view, node, 'ipv4', x, null, FILES);

  it('a per-service chain: its role, its port, its rules with their lines', () => {
    const e = item('firewall-DNRKWW5E-edge/lb/tcp/http')!;
    expect(e.kind).toBe('chain');
    expect(e.lines[0]).toContain('the load-balancer source-range check (loadBalancerSourceRanges), before DNAT of edge/lb:http');
    expect(e.lines[1]).toContain(`ip saddr != 203.0.113.0/25 drop  -> drops it  node.nft:${lineOf(text, /ip saddr != 203\.0\.113\.0\/25 drop/)}:3`);
    expect(e.ports.map((p) => p.name)).toEqual(['edge/lb:http']);
  });

  it("kube-proxy's own chain, a rule by its line, a map element, a map", () => {
    expect(item('services')!.lines[0]).toContain("kube-proxy's chain: the dispatch");
    const rule = item(String(lineOf(text, /ip saddr != 203\.0\.113\.0\/25 drop/)))!;
    expect([rule.kind, rule.title, rule.lines[1]]).toEqual(['rule', `ip kube-proxy firewall-DNRKWW5E-edge/lb/tcp/http rule 1 (node.nft:${lineOf(text, /ip saddr != 203\.0\.113\.0\/25 drop/)}:3)`, 'belongs to edge/lb:http']);
    const el = item('firewall-ips 198.51.100.20 . tcp . 80')!;
    expect(el.title).toBe('firewall-ips 198.51.100.20 . tcp . 80: in the map (goto firewall-DNRKWW5E-edge/lb/tcp/http); address . protocol . port -> the firewall chain: load-balancer IPs with loadBalancerSourceRanges');
    expect(item('service-ips 198.51.100.99 . tcp . 80')!.title).toContain('NOT in the map');
    expect(item('service-ips')!.title).toBe('map service-ips (2 elements): address . protocol . port -> the service port chain: cluster IPs, external IPs, load-balancer IPs');
    expect(item('service-AAAAAAAA-shop/gone/tcp/http')!.title).toContain('not on this node');
    expect(item('nothing-here')).toBeNull();
  });
});
