// kpsim diff of nftables nodes, on mutations of golden/kpsim-nftables listings: the same ruleset
// reordered and spelled otherwise (kube-proxy's transaction against the node's listing) is no
// difference at all, and the slicing sees it without tracing; a changed DNAT port, a deleted split
// element and a stale chain each show as structural differences, and where packets fare otherwise,
// as classes with exact probabilities on both sides.
import { describe, expect, it } from 'vitest';
import { behaviouralDiff, type DiffSide } from '../../src/diff/behaviour.js';
import type { Node } from '../../src/node/node.js';
import { compiled, nftCaseText, nftNode, side } from '../explain/nodes.js';
import { classes, diffOf, kinds } from './lines.js';

function nftSide(label: string, node: Node): DiffSide {
  return side(label, node, 'nftables', null);
}

function diff(a: Node, b: Node): ReturnType<typeof diffOf> {
  return diffOf(nftSide('left', a), nftSide('right', b));
}

/** The table's blocks (sets, maps, chains) in reverse order: the same ruleset to nft. */
function reordered(text: string): string {
  const lines = text.split('\n');
  const head = lines.slice(0, 2).join('\n');
  const body = lines.slice(2, lines.lastIndexOf('}')).join('\n');
  return `${head}\n${body.split('\n\n').reverse().join('\n\n')}\n}\n`;
}

const SPLIT = nftCaseText('three-endpoint-split');

describe('diff of nftables nodes', () => {
  it('kube-proxy\'s transaction against the listing, reordered: no difference, nothing even traced', () => {
    const c = compiled('lb-source-ranges-from-node', 'nftables', 'golden/kpsim-nftables');
    const listing = nftCaseText('lb-source-ranges-from-node');
    const shuffled = reordered(listing);
    expect(shuffled).not.toBe(listing);
    expect(shuffled.indexOf('chain services {')).toBeLessThan(shuffled.indexOf('map service-ips {'));
    // The compile is the transaction's spelling (`mark set mark or 0x4000`), the listing the kernel's.
    expect(nftCaseText('lb-source-ranges-from-node', 'nft.txt')).toContain('mark set mark or 0x4000');
    for (const right of [nftNode(listing), nftNode(shuffled)]) {
      const d = diff(c.node, right);
      expect(kinds(d.structural)).toEqual([]);
      expect(d.behaviour.differences).toEqual([]);
      expect(d.behaviour.differingParts).toBe(0);
      expect(d.all.differences).toEqual([]);
      expect(d.all.classes).toBeGreaterThan(20);
    }
  });

  it('a changed DNAT port: the endpoint moves, and packets arrive at the new port', () => {
    const mutated = SPLIT.replace('dnat to 10.244.2.192:8080', 'dnat to 10.244.2.192:9090');
    const d = diff(nftNode(SPLIT), nftNode(mutated));
    expect(kinds(d.structural)).toEqual([
      'endpoint-missing shop/web:http endpoint 10.244.2.192:8080 (Cluster policy)',
      'endpoint-extra shop/web:http endpoint 10.244.2.192:9090 (Cluster policy)',
      'piece-changed shop/web:http chain kube-proxy endpoint-2JRYBSDK-shop/web/tcp/http__10.244.2.192/8080 (line 2 of 2 vs 2)',
    ]);
    expect(d.structural[2].right).toBe('meta l4proto tcp dnat to 10.244.2.192:9090');
    expect(classes(d.behaviour).find((c) => c.startsWith('tcp 10.96.0.190:80 from 203.0.113.99'))).toBe(
      'tcp 10.96.0.190:80 from 203.0.113.99: ' +
        '715827883/2147483648 ACCEPT 192.168.10.11:40000->10.244.1.190:8080, 1431655765/4294967296 ACCEPT 192.168.10.11:40000->10.244.2.191:8080, 1431655765/4294967296 ACCEPT 192.168.10.11:40000->10.244.2.192:8080 | ' +
        '715827883/2147483648 ACCEPT 192.168.10.11:40000->10.244.1.190:8080, 1431655765/4294967296 ACCEPT 192.168.10.11:40000->10.244.2.191:8080, 1431655765/4294967296 ACCEPT 192.168.10.11:40000->10.244.2.192:9090',
    );
    expect(new Set(d.behaviour.differences.map((c) => c.destinationText))).toEqual(new Set(['tcp 10.96.0.190:80']));
    expect(classes(d.all)).toEqual(classes(d.behaviour));
  });

  it("a deleted split element: the endpoint is missing, its chain stale, and numgen's share of it falls through un-DNATed (then rejected by cluster-ips-check)", () => {
    const mutated = SPLIT.replace(/, 1 : goto endpoint-SW4XSTA3-[^,}]+/, '');
    const d = diff(nftNode(SPLIT), nftNode(mutated));
    expect(kinds(d.structural)).toEqual([
      'endpoint-missing shop/web:http endpoint 10.244.2.191:8080 (Cluster policy)',
      'piece-stale shop/web:http chain kube-proxy endpoint-SW4XSTA3-shop/web/tcp/http__10.244.2.191/8080',
      'piece-changed shop/web:http chain kube-proxy service-KHN6ECMT-shop/web/tcp/http (line 2 of 2 vs 2)',
    ]);
    const fromOutside = classes(d.behaviour).find((c) => c.startsWith('tcp 10.96.0.190:80 from 203.0.113.99'))!;
    expect(fromOutside.split(' | ')[1]).toBe('715827883/2147483648 ACCEPT 192.168.10.11:40000->10.244.1.190:8080, 1431655765/4294967296 ACCEPT 192.168.10.11:40000->10.244.2.192:8080, 1431655765/4294967296 REJECT 203.0.113.99:40000->10.96.0.190:80');
  });

  it('a stale chain: one side has a chain nothing sends to, and no packet fares otherwise', () => {
    const stale = SPLIT.replace('\tchain service-KHN6ECMT', '\tchain endpoint-AAAAAAAA-shop/web/tcp/http__10.244.9.9/8080 {\n\t\tmeta l4proto tcp dnat to 10.244.9.9:8080\n\t}\n\n\tchain service-KHN6ECMT');
    const d = diff(nftNode(SPLIT), nftNode(stale));
    expect(kinds(d.structural)).toEqual(['piece-stale shop/web:http chain kube-proxy endpoint-AAAAAAAA-shop/web/tcp/http__10.244.9.9/8080']);
    expect([d.structural[0].left, d.structural[0].right]).toEqual([null, 'present, reached by nothing']);
    expect(d.all.differences).toEqual([]);
  });

  it('an unallocated address of the service CIDR is a destination of its own', () => {
    const a = compiled('clusterip-wrong-port-and-unallocated', 'iptables', 'golden/kpsim-nftables');
    const b = compiled('clusterip-wrong-port-and-unallocated', 'nftables', 'golden/kpsim-nftables');
    const d = behaviouralDiff(side('iptables', a.node, 'iptables', a.names), side('nftables', b.node, 'nftables', b.names), 'ipv4');
    const unallocated = d.differences.filter((c) => c.destinationLabel === 'no service');
    expect(new Set(unallocated.map((c) => c.destinationText))).toEqual(new Set(['tcp 10.96.0.1:80']));
    expect(unallocated.every((c) => c.right.every((o) => o.verdict === 'DROP') && c.known.map((k) => k.id).join() === 'nftables-unallocated-clusterip-dropped')).toBe(true);
  });
});
