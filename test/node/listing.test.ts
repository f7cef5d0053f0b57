// Where a person reads each rule (src/node/listing.ts, extension-listing.ts): a compiled node's
// rules are numbered and spelled as `kpsim compile` prints them (--format save: the iptables.save,
// nftables.txt and ipvsadm.save artefacts), a dump's as the dump writes them. Checked rule by rule
// (nftables: chain by chain, IPVS: server by server) against the real texts.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster } from '../../src/model/load.js';
import { MODES } from '../../src/modes.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { HOOK_LISTINGS } from '../../src/node/extension-listing.js';
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

  /** Every chain (its policy line for a base chain) and rule of the nftables listing, against `text`'s lines. */
  function checkNft(node: Node, text: string): number {
    const lines = text.split('\n');
    const listing = node.hookListings!.get(HOOK_LISTINGS.nftables)!;
    let n = 0;
    for (const [table, t] of node.nftables!.tables) {
      for (const [chain, c] of t.chains) {
        const head = listing.chain(table, chain)!;
        expect(lines[head.line - 1].trim(), `${table} ${chain}`).toBe(head.text);
        expect(head.text).toBe(c.hook ? head.text : `chain ${chain} {`);
        if (c.hook) expect(head.text).toMatch(/^type \w+ hook \w+ priority .*; policy (accept|drop);$/);
        const block = listing.block!(table, chain)!;
        c.rules.forEach((_, i) => {
          const l = listing.rule(table, chain, i)!;
          expect(lines[l.line - 1].trim(), `${table} ${chain} rule ${i + 1}`).toBe(l.text);
          expect(block.rules[i]).toEqual(l);
          n++;
        });
        expect(listing.rule(table, chain, c.rules.length)).toBeNull();
      }
    }
    return n;
  }

  const NFT_CASES = readdirSync('golden/kpsim-nftables', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `golden/kpsim-nftables/${d.name}/cluster.yaml`);
  it.each(NFT_CASES)("nftables mode, %s: every chain and rule is the line of kpsim compile's nftables.txt it says", (file) => {
    const c = compiled('nftables', file);
    const listed = c.artefacts().find((a) => a.file === 'nftables.txt')!.text;
    expect(checkNft(c.node(), listed)).toBeGreaterThan(10);
    expect(c.node().hookListings!.get(HOOK_LISTINGS.nftables)!.file).toBe('nftables.txt');
  });

  it("an nft dump's chains and rules are its own lines (every table of `nft list ruleset`)", () => {
    const file = 'test/fixtures/nft/node-mixed.nft';
    const text = readFileSync(file, 'utf8');
    const sink = new DiagnosticSink();
    const node = nodeFromDumps({ iptables: [], nft: { file, text }, interfaces: simpleInterfaces(['192.168.0.2']) }, sink)!;
    expect(checkNft(node, text)).toBeGreaterThan(100);
    expect(node.hookListings!.get(HOOK_LISTINGS.nftables)!.chain('ip mangle', 'FORWARD')).toEqual({ line: 13, text: 'type filter hook forward priority mangle; policy accept;' });
  });

  it.each(['examples/cluster.yaml', 'golden/kpsim-ipvs/session-affinity/cluster.yaml'])("IPVS mode, %s: every virtual and real server is the line of kpsim compile's ipvsadm.save it says", (file) => {
    const c = compiled('ipvs', file);
    const lines = c.artefacts().find((a) => a.file === 'ipvsadm.save')!.text.split('\n');
    const listing = c.node().hookListings!.get(HOOK_LISTINGS.ipvs)!;
    let n = 0;
    for (const vs of c.node().ipvs!.services) {
      const key = `${vs.address.includes(':') ? `[${vs.address}]` : vs.address}:${vs.port}/${vs.protocol}`;
      const head = listing.chain('ipvs', key)!;
      expect(lines[head.line - 1]).toBe(head.text);
      expect(head.text).toMatch(/^-A /);
      vs.realServers.forEach((rs, i) => {
        const l = listing.rule('ipvs', key, i)!;
        expect(lines[l.line - 1]).toBe(l.text);
        expect(l.text).toContain(` -r ${rs.address}:${rs.port} `);
        n++;
      });
    }
    expect(n).toBeGreaterThan(2);
  });

  it("an ipvsadm-save dump's servers are its own lines", () => {
    const file = 'golden/kpsim-ipvs/session-affinity/ipvsadm.save';
    const text = readFileSync(file, 'utf8');
    const sink = new DiagnosticSink();
    const node = nodeFromDumps({ iptables: [], ipvs: { file, text }, interfaces: simpleInterfaces(['192.168.10.11']) }, sink)!;
    const listing = node.hookListings!.get(HOOK_LISTINGS.ipvs)!;
    expect(listing.chain('ipvs', '10.96.0.20:9000/TCP')).toEqual({ line: 1, text: '-A -t 10.96.0.20:9000 -s rr -p 600' });
    expect(listing.rule('ipvs', '10.96.0.20:9000/TCP', 2)).toEqual({ line: 4, text: '-a -t 10.96.0.20:9000 -r 10.244.2.8:9000 -m -w 1' });
    expect(listing.file).toBe(file);
  });
});
