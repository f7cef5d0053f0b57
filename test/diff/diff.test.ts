// kpsim diff on mutations of golden rulesets: each structural kind and each behavioural difference
// with the exact probabilities on both sides, no difference at all for equal rulesets spelled or
// ordered differently, and the slicing (which destinations are traced) checked against tracing
// every destination.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { behaviouralDiff, type DiffSide } from '../../src/diff/behaviour.js';
import { structuralDiff } from '../../src/diff/structural.js';
import type { NameBook } from '../../src/explain/names.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { caseText, compiled, dumpNode, edit, side, withoutComments } from '../explain/nodes.js';
import { classes, diffOf, kinds } from './lines.js';

function sides(a: string, b: string, names: NameBook | null = null): [DiffSide, DiffSide] {
  return [side('left', dumpNode(a), 'iptables', names), side('right', dumpNode(b), 'iptables', names)];
}

function diff(a: string, b: string, names: NameBook | null = null): ReturnType<typeof diffOf> {
  return diffOf(...sides(a, b, names));
}

const SPLIT = caseText('three-endpoint-split', 'node.rules');
const THIRD = 715827883n;
const SCALE = 2n ** 31n;

describe('structural and behavioural diff', () => {
  it('a deleted endpoint jump: the endpoint is missing, the others\' shares change, its chain is stale, and packets go elsewhere', () => {
    const mutated = edit(SPLIT, /-j KUBE-SEP-4ZSP25TBVKJOXROB$/, null);
    const d = diff(SPLIT, mutated);
    expect(kinds(d.structural)).toEqual([
      'endpoint-missing shop/web:http endpoint 10.244.2.191:8080 (Cluster policy)',
      'share-changed shop/web:http endpoint 10.244.2.192:8080 (Cluster policy)',
      'piece-changed shop/web:http chain nat KUBE-SVC-67NZLRHBNDSAWJRO (line 3 of 4 vs 3)',
      'piece-stale shop/web:http chain nat KUBE-SEP-4ZSP25TBVKJOXROB',
    ]);
    expect([d.structural[3].left, d.structural[3].right]).toEqual(['reached', 'present, reached by nothing']);
    // Without comments nothing but the left side ties the chain to the port: stale all the same.
    const bare = diff(withoutComments(SPLIT), withoutComments(mutated));
    expect(kinds(bare.structural).filter((k) => k.startsWith('piece-stale'))).toEqual(['piece-stale hash:67NZLRHBNDSAWJRO chain nat KUBE-SEP-4ZSP25TBVKJOXROB']);
    // The last endpoint rule now takes all that the first leaves: (2^31 - 715827883) / 2^31.
    expect(d.structural[1].left).toBe('1431655765/4294967296');
    expect(d.structural[1].right).toBe(`${SCALE - THIRD}/${SCALE}`);
    const fromOutside = classes(d.behaviour).find((c) => c.startsWith('tcp 10.96.0.190:80 from 203.0.113.99'));
    expect(fromOutside).toBe(
      'tcp 10.96.0.190:80 from 203.0.113.99: ' +
        '715827883/2147483648 ACCEPT 192.168.10.11:40000->10.244.1.190:8080, 1431655765/4294967296 ACCEPT 192.168.10.11:40000->10.244.2.191:8080, 1431655765/4294967296 ACCEPT 192.168.10.11:40000->10.244.2.192:8080 | ' +
        `715827883/2147483648 ACCEPT 192.168.10.11:40000->10.244.1.190:8080, ${SCALE - THIRD}/${SCALE} ACCEPT 192.168.10.11:40000->10.244.2.192:8080`,
    );
    // Every class to the cluster IP differs (each meets the split); nothing else does.
    expect(new Set(d.behaviour.differences.map((c) => c.destinationText))).toEqual(new Set(['tcp 10.96.0.190:80']));
    expect(classes(d.all)).toEqual(classes(d.behaviour));
  });

  it('a stale chain: a chain only the right has and nothing reaches, no behavioural difference', () => {
    const stale = edit(SPLIT, /^:KUBE-SVC-67NZLRHBNDSAWJRO/, (l) => `${l}\n:KUBE-SEP-STALESTALESTALE2 - [0:0]`).replace('COMMIT\n', 'COMMIT\n');
    const withRules = edit(stale, /^-A KUBE-SVC-67NZLRHBNDSAWJRO ! -s/, (l) => `-A KUBE-SEP-STALESTALESTALE2 -p tcp -m tcp -j DNAT --to-destination 10.244.9.9:8080\n${l}`);
    const d = diff(SPLIT, withRules);
    expect(kinds(d.structural)).toEqual(['piece-stale - chain nat KUBE-SEP-STALESTALESTALE2']);
    expect([d.structural[0].left, d.structural[0].right]).toEqual([null, 'present, reached by nothing']);
    expect(d.behaviour.differences).toEqual([]);
    expect(d.behaviour.differingParts).toBe(0);
    expect(d.all.differences).toEqual([]);
  });

  it('a changed DNAT port: the endpoint moves, and packets arrive at the new port', () => {
    const mutated = SPLIT.replace('--to-destination 10.244.2.192:8080', '--to-destination 10.244.2.192:8081');
    const d = diff(SPLIT, mutated);
    expect(kinds(d.structural)).toEqual([
      'endpoint-missing shop/web:http endpoint 10.244.2.192:8080 (Cluster policy)',
      'endpoint-extra shop/web:http endpoint 10.244.2.192:8081 (Cluster policy)',
      'piece-changed shop/web:http chain nat KUBE-SEP-GMCUMTIJ55LBH63B (line 2 of 2 vs 2)',
    ]);
    const c = d.behaviour.differences.find((x) => x.packet.sourceIP === '203.0.113.99')!;
    expect(c.left.find((o) => o.destination.startsWith('10.244.2.192'))!.destination).toBe('10.244.2.192:8080');
    expect(c.right.find((o) => o.destination.startsWith('10.244.2.192'))!.destination).toBe('10.244.2.192:8081');
    expect(fractionText(c.right.find((o) => o.destination.startsWith('10.244.2.192'))!.probability)).toBe('1431655765/4294967296');
    expect(classes(d.all)).toEqual(classes(d.behaviour));
  });

  it('a reordered, respelled but equal ruleset: no difference at all', () => {
    const base = caseText('udp-dns', 'node.rules');
    const lines = base.split('\n');
    // Swap the two services' KUBE-SERVICES rules, reverse the nat chain declarations, respell a match.
    const a = lines.findIndex((l) => l.includes('kube-dns:dns cluster IP'));
    [lines[a], lines[a + 1]] = [lines[a + 1], lines[a]];
    const decl = lines.map((l, i) => [l, i] as const).filter(([l, i]) => l.startsWith(':KUBE-') && i > lines.indexOf('*nat'));
    const order = decl.map(([, i]) => i);
    [...decl].reverse().forEach(([l], k) => (lines[order[k]] = l));
    const respelled = lines.join('\n').replace('-d 10.96.0.10/32 -p udp', '-d 10.96.0.10 -p udp').replace('-m udp --dport 53 -j KUBE-SVC', '-m udp --destination-port 53 -j KUBE-SVC');
    expect(respelled).not.toBe(base);
    const d = diff(base, respelled);
    expect(d.structural).toEqual([]);
    expect(d.behaviour.differences).toEqual([]);
    expect(d.behaviour.differingParts).toBe(0);
    expect(d.all.differences).toEqual([]);
    expect(d.all.traced).toBeGreaterThan(0);
  });

  it('a dropped endpoint: the objects (left) against the node (right) show the node\'s extra endpoint', () => {
    const objects = compiled('three-endpoint-split');
    const yaml = caseText('three-endpoint-split', 'cluster.yaml').replace(/- addresses: \["10\.244\.2\.192"\]\n.*\n.*\n/, '');
    const dropped = compiledFromYaml(yaml);
    const l = side('objects', dropped.node, 'iptables', dropped.names);
    const r = side('node', dumpNode(SPLIT), 'iptables', objects.names);
    expect(kinds(structuralDiff(l.view, r.view, { pieces: true }))).toEqual([
      'share-changed shop/web:http endpoint 10.244.1.190:8080 (Cluster policy)',
      'share-changed shop/web:http endpoint 10.244.2.191:8080 (Cluster policy)',
      'endpoint-extra shop/web:http endpoint 10.244.2.192:8080 (Cluster policy)',
      'piece-changed shop/web:http chain nat KUBE-SVC-67NZLRHBNDSAWJRO (line 2 of 3 vs 4)',
      'piece-extra shop/web:http chain nat KUBE-SEP-GMCUMTIJ55LBH63B',
    ]);
    const b = behaviouralDiff(l, r, 'ipv4');
    const c = b.differences.find((x) => x.packet.sourceIP === '203.0.113.99')!;
    expect(c.left.map((o) => `${fractionText(o.probability)} ${o.destination}`)).toEqual(['1/2 10.244.1.190:8080', '1/2 10.244.2.191:8080']);
    expect(c.right.map((o) => o.destination)).toEqual(['10.244.1.190:8080', '10.244.2.191:8080', '10.244.2.192:8080']);
  });

  it('an IPVS node against its own dumps: equal, and no destination even needs tracing (tables in either load order)', () => {
    const c = compiled('nodeport', 'ipvs', 'golden/kpsim-ipvs');
    const dir = 'golden/kpsim-ipvs/nodeport';
    const dump = dumpNode(readFileSync(`${dir}/iptables.save`, 'utf8'), { mode: 'ipvs', ipsets: readFileSync(`${dir}/ipset.save`, 'utf8'), ipvs: readFileSync(`${dir}/ipvsadm.save`, 'utf8') });
    const l = side('objects', c.node, 'ipvs', c.names);
    const r = side('node', dump, 'ipvs', c.names);
    expect([...c.node.netfilter.get('ipv4')!.tables.keys()]).not.toEqual([...dump.netfilter.get('ipv4')!.tables.keys()]);
    const b = behaviouralDiff(l, r, 'ipv4');
    expect(b.differences).toEqual([]);
    expect(b.differingParts).toBe(0);
    expect(b.destinations).toBeGreaterThan(0);
  });

  it('a large-cluster dump without comments equals the commented one, and is named from the objects', () => {
    const { names } = compiled('multi-port');
    const base = caseText('multi-port', 'node.rules');
    const d = diff(base, withoutComments(base), names);
    expect(d.structural).toEqual([]);
    expect(d.behaviour.differences).toEqual([]);
    const [, r] = sides(base, withoutComments(base), names);
    expect(r.view.ports.map((p) => [p.name, p.nameFrom])).toEqual([
      ['shop/web:http', 'objects'],
      ['shop/web:metrics', 'objects'],
    ]);
  });
});

import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nameBook } from '../../src/explain/names.js';
import { loadCluster } from '../../src/model/load.js';
import { row } from '../explain/nodes.js';

function compiledFromYaml(text: string) {
  const sink = new DiagnosticSink();
  const c = row('iptables').compile(loadCluster([{ name: 'cluster.yaml', text }], sink), {}, sink)!;
  return { node: c.node(), names: nameBook(c.plans) };
}
