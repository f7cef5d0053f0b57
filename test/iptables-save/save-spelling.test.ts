// The save spelling straight from a compile's bytes (save-spelling.ts, render-save.ts
// renderSaveAfterBytes, modes.ts renderNodeSave) against the way through the node value: the compile's
// restore text read into the IR, applied to the host setup's kernel state and printed
// (renderNodeSaveViaNode, what trace's node holds). Byte for byte on every golden case and on
// generated clusters of every service type, policy and family; the fast path must take
// kube-proxy's per-service rules (else the test proves nothing of it), and every line it takes
// must read as the general reader and printer spell it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileCluster, type Compiled } from '../../src/compiler/index.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { saveSpellingOfLine } from '../../src/iptables-save/render-save.js';
import { SaveSpeller } from '../../src/iptables-save/save-spelling.js';
import { loadCluster } from '../../src/model/load.js';
import { renderNodeSave, renderNodeSaveViaNode } from '../../src/modes.js';
import { ByteSink } from '../../src/util/byte-sink.js';
import { generateCluster } from '../differential/generate.js';
import { clusterFiles, GOLDEN } from './golden-clusters.js';

/** Every iptables-mode golden cluster that compiles. */
const goldens = clusterFiles(GOLDEN)
  .filter((f) => !f.includes('kube-proxy-ipvs') && !f.includes('kpsim-ipvs'))
  .map((file) => ({ name: file.slice(GOLDEN.length + 1), file }));

function compileFile(file: string): Compiled | null {
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink);
  if (sink.hasErrors) return null;
  const c = compileCluster(cluster, {}, sink);
  return sink.hasErrors ? null : c;
}

/** Respells `lines` with the fast path, counting what it hands to the general one. */
function respell(lines: readonly string[], table: string, family: Family) {
  const general: string[] = [];
  const speller = new SaveSpeller(family, (line) => {
    general.push(line);
    return saveSpellingOfLine(line, table, family);
  });
  const bytes = Buffer.from(lines.map((l) => l + '\n').join(''));
  const out = new ByteSink(16);
  speller.spell(bytes, 0, bytes.length, out);
  return { text: out.take(), general, fast: speller.fast };
}

describe('compile --format save straight from the compile equals the way through the node value', () => {
  it('has golden cases', () => expect(goldens.length).toBeGreaterThan(40));

  it.each(goldens)('$name', ({ file }) => {
    const c = compileFile(file);
    if (!c) return;
    expect(renderNodeSave(c)).toBe(renderNodeSaveViaNode(c));
  });

  it.each(Array.from({ length: 120 }, (_, i) => i + 1))('generated cluster, seed %i', (seed) => {
    const g = generateCluster(seed);
    const sink = new DiagnosticSink();
    const c = compileCluster(g.cluster, {}, sink);
    expect(sink.errors).toEqual([]);
    expect(renderNodeSave(c)).toBe(renderNodeSaveViaNode(c));
  });
});

describe('the fast path', () => {
  it("takes kube-proxy's per-service rules, and spells them as the general printer does", () => {
    let fast = 0;
    const general = new Set<string>();
    for (let seed = 1; seed <= 60; seed++) {
      const g = generateCluster(seed);
      if (g.family !== 'ipv4') continue;
      const c = compileCluster(g.cluster, {}, new DiagnosticSink());
      for (const t of [c.iptables.data.filter, c.iptables.data.nat]) {
        const lines = c.restore
          .split('\n')
          .slice(c.restore.split('\n').indexOf(`*${t.name}`))
          .filter((l, i, all) => l.startsWith('-A ') && all.slice(0, i).lastIndexOf('COMMIT') < 0);
        const r = respell(lines, t.name, 'ipv4');
        expect(r.text).toBe(lines.map((l) => saveSpellingOfLine(l, t.name, 'ipv4') + '\n').join(''));
        fast += r.fast;
        for (const l of r.general) general.add(l.replace(/KUBE-[A-Z]+-[A-Z0-9]{16}/g, 'KUBE-X').replace(/[0-9]+/g, 'N'));
      }
    }
    expect(fast).toBeGreaterThan(1000);
    // What it leaves to the general printer is kube-proxy's few fixed rules (marks, conntrack, masquerade, firewall).
    for (const l of general) expect(l).toMatch(/ -m (mark|conntrack) | -j (MARK|MASQUERADE)( |$)|KUBE-PROXY-FIREWALL|--to-destination|-m set /);
  });

  // Each line: the fast path either takes it or not, and the text is the general printer's either way.
  const cases: [string, string, Family, 'fast' | 'general'][] = [
    ['nat', '-A KUBE-SEP-X -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.1.2.3:8080', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j KUBE-SVC-X', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SVC-X ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p udp -m udp --dport 53 -j KUBE-MARK-MASQ', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SVC-X -m comment --comment "a -> b" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-Y', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SVC-X -m statistic --probability 0.5 --mode random -j KUBE-SEP-Y', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SVC-X -m recent --name KUBE-SEP-Y --rcheck --seconds 10800 --reap -j KUBE-SEP-Y', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SEP-Y -m recent --name KUBE-SEP-Y --set -m sctp -p sctp -j DNAT --to-destination 10.1.2.3:9', 'ipv4', 'fast'],
    ['filter', '-A KUBE-EXTERNAL-SERVICES -m comment --comment "x has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30001 -j REJECT', 'ipv4', 'fast'],
    ['filter', '-A KUBE-EXTERNAL-SERVICES -m addrtype --src-type LOCAL --dst-type LOCAL -j DROP', 'ipv4', 'fast'],
    ['nat', '-A KUBE-NODEPORTS -m comment --comment x -m tcp -p tcp -d 127.0.0.0/8 --dport 30001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-X', 'ipv4', 'fast'],
    ['nat', '-A KUBE-FW-X -m comment --comment "other traffic will be dropped"', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SVC-X', 'ipv4', 'fast'],
    ['filter', '-A KUBE-FORWARD -j ACCEPT', 'ipv4', 'fast'],
    ['filter', '-A KUBE-FORWARD -m comment --comment "" -j RETURN', 'ipv4', 'fast'],
    // Not of the fast path's forms: the general reader and printer.
    ['nat', '-A KUBE-SVC-X ! -s 10.244.1.0/16 -j KUBE-MARK-MASQ', 'ipv4', 'general'], // host bits: the kernel masks them
    ['nat', '-A KUBE-SVC-X -s 0.0.0.0/0 -j KUBE-MARK-MASQ', 'ipv4', 'general'],
    ['nat', '-A KUBE-SVC-X -d 10.1.1.1/32 -j KUBE-MARK-MASQ', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SVC-X -m comment --comment "it\'s" -j KUBE-MARK-MASQ', 'ipv4', 'general'],
    ['nat', '-A KUBE-SVC-X  -j KUBE-MARK-MASQ', 'ipv4', 'general'],
    ['nat', '-A KUBE-SEP-X -m tcp -p tcp -j DNAT --to-destination [fd00::1]:80', 'ipv6', 'general'],
    ['nat', '-A KUBE-SERVICES -m tcp -p tcp -d fd00::10 --dport 80 -j KUBE-SVC-X', 'ipv6', 'general'],
    ['nat', '-A KUBE-SVC-X -m recent --name KUBE-SEP-Y --rcheck --seconds 10800 --reap -j KUBE-SEP-Y', 'ipv6', 'general'],
    ['nat', '-A KUBE-SVC-X -p tcp --dport 80 -j KUBE-SEP-Y', 'ipv4', 'general'], // tcp loaded implicitly
    ['nat', '-A KUBE-SVC-X -m tcp --dport 080 -j KUBE-SEP-Y', 'ipv4', 'general'],
    ['nat', '-A KUBE-SVC-X -m statistic --mode nth --every 2 -j KUBE-SEP-Y', 'ipv4', 'general'],
    ['nat', '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000', 'ipv4', 'general'],
    ['nat', '-A KUBE-SVC-X -m comment --comment a -m comment --comment b -j KUBE-SEP-Y', 'ipv4', 'fast'],
    ['nat', '-A KUBE-SVC-X -m comment --comment a --comment b -j KUBE-SEP-Y', 'ipv4', 'general'],
    ['filter', '-A KUBE-FORWARD -j REJECT', 'ipv6', 'fast'],
    ['nat', '-A KUBE-SVC-X -g KUBE-SEP-Y', 'ipv4', 'general'],
    ['nat', '-A KUBE-SVC-X -j MASQUERADE', 'ipv4', 'general'],
    ['nat', '-A KUBE-EXT-X -m comment --comment "pod traffic" ! -o veth+ -i cbr0 -j KUBE-SVC-X', 'ipv4', 'fast'],
    ['nat', '-A KUBE-EXT-X -i "cbr0" -j KUBE-SVC-X', 'ipv4', 'general'],
  ];
  it.each(cases)('%s %s (%s: %s)', (table, line, family, way) => {
    const r = respell([line], table, family);
    expect(r.text).toBe(saveSpellingOfLine(line, table, family) + '\n');
    expect(r.general.length === 0 ? 'fast' : 'general').toBe(way);
  });
});
