// A node from its dumps, for explain, diff and lint: an iptables-save file (with `--ipsets` and, in
// IPVS mode, `--ipvs`), `nft list ruleset` output (nftables mode; told apart by its content), or a
// folder as `kpsim compile -o DIR` writes one (iptables.save, ipset.save, ipvsadm.save,
// kube-ipvs0.addrs; or nftables.txt). Read with the parser's diagnostics (file:line:col,
// exit 1); names for dumps without kube-proxy's comments come from `--objects`, compiled with the
// same flags as `kpsim compile`.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSink } from '../diag/diagnostic.js';
import { nameBook, type NameBook } from '../explain/names.js';
import type { SourceNames } from '../explain/story.js';
import type { Family } from '../iptables/ir.js';
import { guessFamily } from '../iptables-save/parse.js';
import { isNftText } from '../nftables/detect.js';
import { tableKey } from '../nftables/state.js';
import { dumpLooksLike, type ModeRow } from '../modes.js';
import { nodeFromDumps } from '../node/assemble.js';
import { simpleInterfaces, type Node, type NodeInterface } from '../node/node.js';
import { InputError, printDiagnostics, readInputs, UsageError, type InputFile } from './common.js';
import { parseInterfacesFlag } from './interfaces-flag.js';
import { chooseMode, compileLoaded, loadClusterInputs, type ClusterFlags } from './load-cluster.js';

export interface DumpFlags extends ClusterFlags {
  ipvs?: string;
  ipsets?: string;
  interfaces?: string;
  objects?: string[];
}

export interface LoadedDump {
  readonly row: ModeRow;
  readonly node: Node;
  readonly family: Family;
  readonly files: SourceNames;
  readonly inputs: readonly InputFile[];
  /** The node's interfaces came from --interfaces / --node-ip / the folder, not a guess. */
  readonly factsGiven: boolean;
}

/** `--objects` may be given more than once. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function readOne(path: string): InputFile {
  return readInputs([path], { directories: false })[0];
}

/** The node's interfaces: --interfaces, else --node-ip, else null. */
export function interfacesFromFlags(flags: DumpFlags): NodeInterface[] | null {
  if (flags.interfaces) return parseInterfacesFlag(flags.interfaces);
  if (flags.nodeIp) return simpleInterfaces(flags.nodeIp.split(','));
  return null;
}

/** `kube-ipvs0.addrs` (one address per line) as the interface that holds them. */
function dummyInterface(text: string): NodeInterface {
  return { name: 'kube-ipvs0', addresses: text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) };
}

/** The rules file of a folder of node dumps: iptables.save, else nftables.txt (`kpsim compile --mode nftables -o DIR/nftables.txt`). */
function folderRules(path: string): string | null {
  for (const f of ['iptables.save', 'nftables.txt']) if (existsSync(join(path, f))) return join(path, f);
  return null;
}

/** Is `path` a node's dumps (a folder with iptables.save or nftables.txt, iptables-save text, nft text) rather than cluster objects? */
export function isDumpPath(path: string): boolean {
  if (path === '-') return false;
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${path}: no such file or directory`);
  }
  if (st.isDirectory()) return folderRules(path) !== null;
  const head = headOf(path);
  const first = head.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'));
  return first !== undefined && (/^(\*|:|-A |COMMIT)/.test(first.trim()) || isNftText(head));
}

/** Does a file's head read as Kubernetes objects (YAML or JSON, as kubectl prints them)? */
function looksLikeObjects(head: string): boolean {
  const first = head.split('\n').find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  return first !== undefined && (/^\s*(---|apiVersion:|kind:|items:|metadata:|\{|\[)/.test(first) || /^apiVersion:/m.test(head));
}

/** The file's first 64 KiB as text (what tells a dump from cluster objects); '' when unreadable (the full read reports why). */
function headOf(path: string): string {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(65536);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return '';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Reads a node's dumps. `lenient`: read as restore input on top of existing chains (a jump to a
 * chain the dump lacks is left for lint to report, not a parse error).
 */
export function loadDump(path: string, flags: DumpFlags, opts: { readonly lenient?: boolean; readonly interfaces?: readonly NodeInterface[] | null } = {}): LoadedDump {
  let rulesPath = path;
  let ipsetsPath = flags.ipsets;
  let ipvsPath = flags.ipvs;
  let folderInterfaces: NodeInterface | null = null;
  if (path !== '-' && !isDumpPath(path) && looksLikeObjects(headOf(path))) {
    throw new UsageError(`${path} holds Kubernetes objects, not a node's dump: this command reads what a node shows (iptables-save, nft list ruleset, or a folder kpsim compile --mode ipvs -o DIR writes); for these objects run \`kpsim compile ${path} -o node.rules\` and give node.rules, with --objects ${path} for names`);
  }
  if (path !== '-' && statSync(path).isDirectory()) {
    const found = folderRules(path);
    if (found === null) throw new UsageError(`${path}: a folder of node dumps needs iptables.save or nftables.txt (as kpsim compile -o DIR writes)`);
    rulesPath = found;
    ipsetsPath ??= existsSync(join(path, 'ipset.save')) ? join(path, 'ipset.save') : undefined;
    ipvsPath ??= existsSync(join(path, 'ipvsadm.save')) ? join(path, 'ipvsadm.save') : undefined;
    if (existsSync(join(path, 'kube-ipvs0.addrs'))) folderInterfaces = dummyInterface(readOne(join(path, 'kube-ipvs0.addrs')).text);
  }
  const rules = readOne(rulesPath);
  // `nft list ruleset` output is told apart from iptables-save by its content, and says nftables mode.
  const nft = isNftText(rules.text);
  const row = chooseMode(flags.mode ?? (ipvsPath ? 'ipvs' : nft ? 'nftables' : 'iptables'), null);
  if (nft !== (row.rulesFormat === 'nft')) {
    throw new UsageError(nft ? `${rules.name} is nft text (\`nft list ruleset\`); ${row.name} mode reads the node's iptables-save output` : `${row.name} mode reads the node's \`nft list ruleset\` output; ${rules.name} is iptables-save text`);
  }
  for (const d of row.dumps) {
    const given = d.flag === 'ipvs' ? ipvsPath : ipsetsPath;
    if (d.required && !given) throw new UsageError(`${row.name} mode needs ${d.what}: give --${d.flag} FILE`);
  }
  if (ipvsPath && !row.dumps.some((d) => d.flag === 'ipvs')) throw new UsageError(`--ipvs is for IPVS mode, not --mode ${row.name}`);
  const ipsets = ipsetsPath ? readOne(ipsetsPath) : null;
  const ipvs = ipvsPath ? readOne(ipvsPath) : null;
  if (flags.family !== undefined && flags.family !== 'ipv4' && flags.family !== 'ipv6') throw new UsageError(`--family must be ipv4 or ipv6, not '${flags.family}'`);
  const family = (flags.family as Family | undefined) ?? (nft ? nftFamily(rules.text) : guessFamily(rules.text));
  const given = interfacesFromFlags(flags) ?? opts.interfaces ?? null;
  const interfaces = [...(given ?? simpleInterfaces([])), ...(folderInterfaces ? [folderInterfaces] : [])];
  const sink = new DiagnosticSink();
  const inputs = [rules, ...(ipsets ? [ipsets] : []), ...(ipvs ? [ipvs] : [])];
  const read = nodeFromDumps(
    {
      iptables: nft ? [] : [{ family, file: rules.name, text: rules.text, noflush: opts.lenient }],
      nft: nft ? { file: rules.name, text: rules.text } : null,
      ipsets: ipsets && { file: ipsets.name, text: ipsets.text },
      ipvs: ipvs && { file: ipvs.name, text: ipvs.text },
      interfaces,
    },
    sink,
  );
  if (printDiagnostics(sink.items, inputs) || !read) {
    const n = sink.errors.length;
    throw new InputError(`${n} error${n === 1 ? '' : 's'} in ${[...new Set(sink.errors.map((e) => e.file))].join(', ')}`);
  }
  if (nft) noKubeProxyTable(read, family, rules.name);
  // The mode was guessed (no --mode, no --ipvs): say so when the tables are another mode's.
  const other = flags.mode === undefined ? dumpLooksLike(read, family, row) : null;
  if (other) {
    const need = other.row.dumps.filter((d) => d.required).map((d) => `--${d.flag} FILE (${d.what})`);
    const message = `${rules.name} looks like the tables of a node in ${other.row.name} mode (it has ${other.chain}); read in ${row.name} mode, so its Services ${need.length ? `are not seen: give ${need.join(', ')}` : 'may be misread: give --mode'}`;
    printDiagnostics([{ severity: 'warning', code: 'DUMP_OTHER_MODE', message, file: null, span: null }], []);
  }
  return {
    row,
    node: row.completeDumpNode(read),
    family,
    files: { iptables: nft ? null : rules.name, ipsets: ipsets?.name ?? null, ipvs: ipvs?.name ?? null, nftables: nft ? rules.name : null },
    inputs,
    factsGiven: given !== null,
  };
}

/** The family of kube-proxy's table in nft text: `ip6 kube-proxy` alone is an IPv6 node's. */
function nftFamily(text: string): Family {
  return /^\s*(?:add\s+)?table\s+ip6\s+kube-proxy\b/m.test(text) && !/^\s*(?:add\s+)?table\s+ip\s+kube-proxy\b/m.test(text) ? 'ipv6' : 'ipv4';
}

/** nft text without kube-proxy's table of the family: not an nftables-mode node (iptables-nft's tables, or another family's). */
function noKubeProxyTable(node: Node, family: Family, file: string): void {
  const fam = family === 'ipv6' ? 'ip6' : 'ip';
  if (node.nftables?.tables.has(tableKey(fam, 'kube-proxy'))) return;
  const viaIptablesNft = node.nftables?.tables.get(tableKey(fam, 'nat'))?.chains.has('KUBE-SERVICES') ?? false;
  const why = viaIptablesNft ? `; its table ${fam} nat has KUBE-SERVICES: kube-proxy in iptables or IPVS mode through iptables-nft, so give the node's iptables-save output instead` : '';
  printDiagnostics([{ severity: 'warning', code: 'DUMP_OTHER_MODE', message: `${file} has no table ${fam} kube-proxy, so no Service of nftables mode${why}`, file: null, span: null }], []);
}

/** Names from `--objects`: the objects compiled as `kpsim compile` would, in the dump's mode and family. */
export function namesFromObjects(flags: DumpFlags, row: ModeRow, family: Family): NameBook | null {
  if (!flags.objects?.length) return null;
  const f = { ...flags, mode: row.name };
  const loaded = loadClusterInputs(flags.objects, f);
  return nameBook(compileLoaded(loaded, f, family).plans);
}
