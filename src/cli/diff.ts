// `kpsim diff LEFT RIGHT`: what differs between two nodes, structurally per service port and in
// behaviour per packet class. Each side is a node's dumps (iptables-save text, `nft list ruleset`,
// or a folder as `kpsim compile -o DIR` writes) or cluster objects compiled on the fly in a mode (--left-mode,
// --right-mode, or --mode for both; the compile flags apply to both). Exit 0 when equal, 1 when
// different, 2 on usage errors and on input that cannot be read (as diff(1): "different" must mean
// different to a CI script).
import type { Command } from 'commander';
import { classifyStructural } from '../diff/known.js';
import { structuralDiff } from '../diff/structural.js';
import { behaviouralDiff, type DiffSide } from '../diff/behaviour.js';
import { SameChains } from '../diff/slice.js';
import { diffJson, diffText, isEqual, type DiffResult, type SideInfo } from '../diff/report.js';
import { nameBook, type NameBook } from '../explain/names.js';
import { NO_FILES } from '../explain/story.js';
import type { Family } from '../iptables/ir.js';
import type { Node, NodeInterface } from '../node/node.js';
import { action, emit, InputError, printDiagnostics, UsageError } from './common.js';
import { addClusterFlags, chooseMode, compileLoaded, loadClusterInputs } from './load-cluster.js';
import { collect, interfacesFromFlags, isDumpPath, loadDump, namesFromObjects, type DumpFlags } from './node-input.js';

interface DiffFlags extends DumpFlags {
  leftMode?: string;
  rightMode?: string;
  leftIpvs?: string;
  leftIpsets?: string;
  rightIpvs?: string;
  rightIpsets?: string;
  json?: boolean;
  structural: boolean;
  behaviour: boolean;
  output?: string;
}

export function registerDiff(program: Command): void {
  const cmd = program
    .command('diff')
    .description('what differs between two nodes: structurally per Service port, and in behaviour per packet class with exact probabilities (exit 0 equal, 1 different, 2 trouble)')
    .argument('<left>', "the reference: cluster objects (compiled for --node in --left-mode) or a node's dumps (iptables-save text, `nft list ruleset` text, or a folder as kpsim compile -o DIR writes)")
    .argument('<right>', 'the other side, the same way')
    .option('--left-mode <mode>', 'the proxy mode of the left side (default: --mode, else the configuration\'s / the dumps\')')
    .option('--right-mode <mode>', 'the proxy mode of the right side')
    .option('--left-ipvs <file>', "the left node's `ipvsadm-save -n` output")
    .option('--left-ipsets <file>', "the left node's `ipset save` output")
    .option('--right-ipvs <file>', "the right node's `ipvsadm-save -n` output")
    .option('--right-ipsets <file>', "the right node's `ipset save` output")
    .option('--interfaces <spec>', "the node's interfaces for dump sides, `lo=127.0.0.1/8 eth0=192.168.0.2/24` (default: the compiled side's, or --node-ip)")
    .option('--objects <path>', "names for dump sides without kube-proxy's comments (default: the compiled side's objects; repeatable)", collect)
    .option('--no-structural', 'skip the structural comparison')
    .option('--no-behaviour', 'skip the behavioural comparison')
    .option('--json', 'the report as JSON')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  kpsim diff cluster.yaml node.rules --node worker-1
  kpsim diff before.rules after.rules --node-ip 192.168.0.2
  kpsim diff cluster.yaml cluster.yaml --left-mode iptables --right-mode ipvs
  kpsim diff cluster.yaml cluster.yaml --left-mode iptables --right-mode nftables
  kpsim diff cluster.yaml node.nft --node worker-1
  kpsim diff cluster.yaml node.rules --json`,
    );
  addClusterFlags(cmd).action(
    action(async (left: string, right: string, flags: DiffFlags) => {
      try {
        return runDiff(left, right, flags);
      } catch (e) {
        // diff(1): trouble is 2, so that 1 always means "different".
        if (e instanceof InputError) throw new UsageError(e.message || 'unreadable input');
        throw e;
      }
    }),
  );
}

interface Built {
  info: SideInfo;
  readonly side: DiffSide;
  readonly names: NameBook | null;
}

/** A side compiled from cluster objects. */
function compiledSide(path: string, mode: string | undefined, flags: DiffFlags, family: Family | undefined): Built & { family: Family; node: Node } {
  const f = { ...flags, mode };
  const loaded = loadClusterInputs([path], f);
  const compiled = compileLoaded(loaded, f, family);
  const fam = compiled.settings.family;
  const node = compiled.node();
  const names = nameBook(compiled.plans);
  const row = loaded.row;
  return {
    family: fam,
    node,
    names,
    info: { label: path, mode: row.name, origin: `compiled for ${compiled.settings.nodeName || 'the node'}`, files: NO_FILES },
    side: { label: path, node, view: row.services(node, fam, names), mode: row.name, extensions: row.extensions(node, fam, { rotate: false }), known: row.knownDifferences },
  };
}

/** A side read from a node's dumps; names from --objects, else from the other side's objects. */
function dumpSide(path: string, which: 'left' | 'right', flags: DiffFlags, family: Family | undefined, interfaces: readonly NodeInterface[] | null, names: NameBook | null): Built & { family: Family } {
  const f: DumpFlags = {
    ...flags,
    mode: (which === 'left' ? flags.leftMode : flags.rightMode) ?? flags.mode,
    ipvs: which === 'left' ? flags.leftIpvs : flags.rightIpvs,
    ipsets: which === 'left' ? flags.leftIpsets : flags.rightIpsets,
    family,
  };
  const d = loadDump(path, f, { interfaces });
  const book = namesFromObjects(flags, d.row, d.family) ?? names;
  return {
    family: d.family,
    names: book,
    info: { label: path, mode: d.row.name, origin: 'dump', files: d.files },
    side: { label: path, node: d.node, view: d.row.services(d.node, d.family, book), mode: d.row.name, extensions: d.row.extensions(d.node, d.family, { rotate: false }), known: d.row.knownDifferences },
  };
}

function runDiff(left: string, right: string, flags: DiffFlags): number {
  for (const m of [flags.leftMode, flags.rightMode]) if (m !== undefined) chooseMode(m, null);
  if (flags.family !== undefined && flags.family !== 'ipv4' && flags.family !== 'ipv6') throw new UsageError(`--family must be ipv4 or ipv6, not '${flags.family}'`);
  const dumps = [isDumpPath(left), isDumpPath(right)];
  let family = flags.family as Family | undefined;
  const sides: (Built & { family: Family; node?: Node })[] = [];
  // Compiled sides first: their family, interfaces and names serve the dump sides.
  const order = dumps[0] && !dumps[1] ? [1, 0] : [0, 1];
  for (const i of order) {
    const path = i === 0 ? left : right;
    const mode = (i === 0 ? flags.leftMode : flags.rightMode) ?? flags.mode;
    if (!dumps[i]) {
      const s = compiledSide(path, mode, flags, family);
      family ??= s.family;
      sides[i] = s;
      continue;
    }
    const other = sides.find((s) => s?.node);
    // A compiled side's interfaces are the node's facts; kube-ipvs0 is what IPVS mode adds, which a dump side's mode adds again if it needs it.
    const interfaces = interfacesFromFlags(flags) ?? other?.node?.interfaces.filter((x) => x.name !== 'kube-ipvs0') ?? null;
    if (!interfaces) {
      printDiagnostics([{ severity: 'warning', code: 'DIFF_NO_NODE_ADDRESS', message: `${path}: no node address: give --node-ip or --interfaces, or packets to the node's own addresses (NodePorts among them) are taken for forwarded ones`, file: null, span: null }], []);
    }
    const s = dumpSide(path, i === 0 ? 'left' : 'right', flags, family, interfaces, other?.names ?? null);
    family ??= s.family;
    sides[i] = s;
  }
  const [a, b] = sides;
  // One path on both sides (a mode migration): the labels say which side is which.
  if (a.info.label === b.info.label) {
    const tag = a.info.mode !== b.info.mode ? [a.info.mode, b.info.mode] : ['left', 'right'];
    a.info = { ...a.info, label: `${a.info.label} [${tag[0]}]` };
    b.info = { ...b.info, label: `${b.info.label} [${tag[1]}]` };
  }
  if (a.family !== b.family) throw new UsageError(`${left} is ${a.family} and ${right} is ${b.family}; give --family`);
  // Which chains both nodes wrote alike: asked once, by the structural and the behavioural diff.
  const same = new SameChains(a.side.node, b.side.node, a.family);
  const structural = flags.structural ? structuralDiff(a.side.view, b.side.view, { pieces: a.side.mode === b.side.mode, sameChain: (id) => same.sameId(id) }) : null;
  const result: DiffResult = {
    family: a.family,
    left: a.info,
    right: b.info,
    structural,
    structuralKnown: structural && a.side.mode !== b.side.mode ? structural.map((d) => classifyStructural(d, a.side, b.side)) : null,
    behaviour: flags.behaviour ? behaviouralDiff(a.side, b.side, a.family, { same }) : null,
  };
  emit(flags.output, flags.json ? JSON.stringify(diffJson(result), null, 1) + '\n' : diffText(result));
  return isEqual(result) ? 0 : 1;
}
