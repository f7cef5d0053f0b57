// Where a person reads each rule (src/node/listing.ts): a compiled node's rules are numbered and
// spelled as `kpsim compile` prints them (--format save, the iptables.save artefact), a dump's as
// the dump writes them. Checked rule by rule against the real texts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster } from '../../src/model/load.js';
import { MODES } from '../../src/modes.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { simpleInterfaces, type Node } from '../../src/node/node.js';

/** Every rule and chain declaration of the node's IPv4 tables, as the listing shows them, against `text`'s lines. */
function checkAgainst(node: Node, text: string): number {
  const lines = text.split('\n');
  const state = node.netfilter.get('ipv4')!;
  const listing = node.listings!.get('ipv4')!;
  let n = 0;
  for (const [table, chains] of state.tables) {
    for (const [chain, c] of chains) {
      const decl = listing.chain(table, chain);
      expect(decl, `${table} ${chain}`).not.toBeNull();
      expect(lines[decl!.line - 1].startsWith(`:${chain} `)).toBe(true);
      c.rules.forEach((_, i) => {
        const l = listing.rule(table, chain, i)!;
        expect(lines[l.line - 1], `${table} ${chain} rule ${i + 1}`).toBe(l.text);
        expect(l.text.startsWith(`-A ${chain} `)).toBe(true);
        n++;
      });
    }
  }
  return n;
}

function compiled(mode: string, file: string) {
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink);
  const c = MODES.find((m) => m.name === mode)!.compile(cluster, {}, sink)!;
  expect(sink.errors).toEqual([]);
  return c;
}

describe('rule listings', () => {
  it.each([
    ['iptables', 'examples/cluster.yaml'],
    ['iptables', 'golden/kpsim/session-affinity-within-timeout/cluster.yaml'],
    ['ipvs', 'examples/cluster.yaml'],
  ])('%s mode, %s: every rule is the line of kpsim compile\'s iptables.save it says', (mode, file) => {
    const c = compiled(mode, file);
    const save = c.artefacts().find((a) => a.file === 'iptables.save')!.text;
    expect(checkAgainst(c.node(), save)).toBeGreaterThan(10);
    expect(c.node().listings!.get('ipv4')!.file).toBe('iptables.save');
  });

  it("a dump's rules are its own lines, spelled as it spells them", () => {
    const text = '# a comment\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n-A FORWARD   -p tcp  --dport 80 -j X\n\n-A X -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n';
    const sink = new DiagnosticSink();
    const node = nodeFromDumps({ iptables: [{ family: 'ipv4', file: 'node.rules', text }], interfaces: simpleInterfaces([]) }, sink)!;
    expect(checkAgainst(node, text)).toBe(2);
    expect(node.listings!.get('ipv4')!.rule('filter', 'FORWARD', 0)).toEqual({ line: 7, text: '-A FORWARD   -p tcp  --dport 80 -j X' });
    expect(node.listings!.get('ipv4')!.chain('filter', 'FORWARD')).toEqual({ line: 4, text: ':FORWARD DROP [0:0]' });
  });
});
