// Nodes for the explain, diff and lint tests: golden cases compiled in a mode, their dumps read
// back (mutated as a test needs), names from their objects.
import { readFileSync } from 'node:fs';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nameBook, type NameBook } from '../../src/explain/names.js';
import type { Family } from '../../src/iptables/ir.js';
import { loadCluster } from '../../src/model/load.js';
import { MODES, type ModeRow } from '../../src/modes.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { guessFamily } from '../../src/iptables-save/parse.js';
import { simpleInterfaces, type Node } from '../../src/node/node.js';
import type { DiffSide } from '../../src/diff/behaviour.js';

export const NODE_IP = '192.168.10.11';

export function row(name: string): ModeRow {
  return MODES.find((m) => m.name === name)!;
}

export function caseText(name: string, file: string): string {
  return readFileSync(`golden/kpsim/${name}/${file}`, 'utf8');
}

/** A golden case's objects compiled in a mode: the node, and names from its plans. */
export function compiled(name: string, mode = 'iptables', dir = 'golden/kpsim'): { node: Node; names: NameBook; row: ModeRow; family: Family } {
  const file = `${dir}/${name}/cluster.yaml`;
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink);
  const r = row(mode);
  const c = r.compile(cluster, {}, sink);
  if (!c) throw new Error(`${file}: ${sink.items.map((d) => d.message).join('; ')}`);
  return { node: c.node(), names: nameBook(c.plans), row: r, family: c.settings.family };
}

/** iptables-save text read as a node's dump (the node at NODE_IP); throws on parse errors. */
export function dumpNode(text: string, opts: { file?: string; family?: Family; lenient?: boolean; ipsets?: string; ipvs?: string; mode?: string } = {}): Node {
  const sink = new DiagnosticSink();
  const family = opts.family ?? guessFamily(text);
  const n = nodeFromDumps(
    {
      iptables: [{ family, file: opts.file ?? 'node.rules', text, noflush: opts.lenient }],
      ipsets: opts.ipsets ? { file: 'ipset.save', text: opts.ipsets } : null,
      ipvs: opts.ipvs ? { file: 'ipvsadm.save', text: opts.ipvs } : null,
      interfaces: simpleInterfaces([family === 'ipv4' ? NODE_IP : 'fd00:10:1::11']),
    },
    sink,
  );
  if (!n) throw new Error(sink.items.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`).join('; '));
  return row(opts.mode ?? 'iptables').completeDumpNode(n);
}

/** `nft list ruleset` text read as a node's dump (the node at NODE_IP); throws on errors and on what nft would refuse. */
export function nftNode(text: string, opts: { file?: string; family?: Family } = {}): Node {
  const sink = new DiagnosticSink();
  const family = opts.family ?? 'ipv4';
  const n = nodeFromDumps({ iptables: [], nft: { file: opts.file ?? 'node.nft', text }, ipsets: null, ipvs: null, interfaces: simpleInterfaces([family === 'ipv4' ? NODE_IP : 'fd00:10:1::11']) }, sink);
  if (!n || sink.items.length) throw new Error(sink.items.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`).join('; '));
  return n;
}

/** A golden/kpsim-nftables case's file. */
export function nftCaseText(name: string, file = 'nftables.txt'): string {
  return readFileSync(`golden/kpsim-nftables/${name}/${file}`, 'utf8');
}

export function side(label: string, node: Node, mode: string, names: NameBook | null, family: Family = 'ipv4'): DiffSide {
  const r = row(mode);
  return { label, node, view: r.services(node, family, names), mode: r.name, extensions: r.extensions(node, family, { rotate: false }), known: r.knownDifferences };
}

/** kube-proxy above largeClusterEndpointsThreshold: no per-endpoint comments. Here: no comments at all. */
export function withoutComments(text: string): string {
  return text.replace(/ -m comment --comment (?:"[^"]*"|\S+)/g, '');
}

/** The text with the first line matching `re` replaced (or deleted when `by` is null); throws when none matches. */
export function edit(text: string, re: RegExp, by: string | null | ((line: string) => string)): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  if (i < 0) throw new Error(`no line matches ${re}`);
  if (by === null) lines.splice(i, 1);
  else lines[i] = typeof by === 'string' ? by : by(lines[i]);
  return lines.join('\n');
}

/** 1-based line of the first line matching `re`. */
export function lineOf(text: string, re: RegExp): number {
  return text.split('\n').findIndex((l) => re.test(l)) + 1;
}
