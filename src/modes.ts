// The proxy modes, one row each: how objects compile in that mode, what a node of that mode shows
// (its artefact files), how the node value is assembled from a compile, which node dumps it reads,
// which simulator extensions it needs, and how its golden cases are verified. The CLI, golden and
// bench look a mode up here once and never compare mode names again. Adding a mode is a folder per
// stage (src/compiler/<mode>/, a reader, a golden verifier, a simulator extension) and a row here.
import { compileCluster, type Compiled } from './compiler/index.js';
import { hostSetupText, iptablesNodeArtefacts } from './compiler/iptables/node-artefacts.js';
import { chainedTable } from './compiler/iptables/restore.js';
import { compileIpvsCluster, type IpvsCompiled } from './compiler/ipvs/index.js';
import { ARTEFACT_FILES as IPVS_ARTEFACT_FILES, ipvsNodeArtefacts, renderDummyAddresses, renderNodeFacts, type ArtefactFile as IpvsArtefactFile } from './compiler/ipvs/node-save.js';
import type { CompileOptions, ProxierSettings } from './compiler/settings.js';
import type { ServicePortPlan } from './compiler/plan.js';
import type { DiagnosticSink } from './diag/diagnostic.js';
import type { CaseFiles } from './golden/case.js';
import type { CaseResult } from './golden/result.js';
import { verifyIptablesCase } from './golden/verify-iptables.js';
import { verifySingleSync } from './golden/verify-mode.js';
import type { Family } from './iptables/ir.js';
import { stateToRuleset } from './iptables/state.js';
import { formatStats, renderKernelRuleset, renderSaveAfterBytes } from './iptables-save/index.js';
import { renderIpsetSave } from './ipset/render.js';
import { renderIpvsadmSave } from './ipvs/render.js';
import type { Cluster } from './model/types.js';
import { nodeFromArtefacts } from './node/assemble.js';
import { withDummyAddresses } from './node/dummy-interface.js';
import { iptablesServices } from './explain/iptables-view.js';
import { ipvsServices } from './explain/ipvs-view.js';
import { nftablesServices } from './explain/nftables-view.js';
import type { NameBook } from './explain/names.js';
import type { NodeServices } from './explain/view.js';
import type { KnownDifference } from './diff/known.js';
import { IPVS_DIFFERENCES } from './diff/known-ipvs.js';
import { NFTABLES_DIFFERENCES } from './diff/known-nftables.js';
import type { Node } from './node/node.js';
import { ipvsExtension } from './packetsim-ipvs/hook.js';
import { unmodelledItems } from './packetsim/coverage.js';
import type { HookExtension } from './packetsim/types.js';
import { compileNftablesCluster, type NftCompiled } from './compiler/nftables/index.js';
import { kubeProxyTable, nftablesNodeArtefacts } from './compiler/nftables/node-artefacts.js';
import { verifyNftablesCase, renderNftablesSave } from './golden/verify-nftables.js';
import { nftablesExtensions } from './packetsim-nft/hook.js';
import { tableKey } from './nftables/state.js';
import { formatStateTableStats } from './nftables/stats.js';

export type ModeName = 'iptables' | 'ipvs' | 'nftables';

/** A file a node of this mode shows (`-o DIR` writes one per artefact). */
export interface Artefact {
  readonly file: string;
  readonly text: string;
  /** The text as UTF-8 bytes, when the mode renders it as bytes (a large save text is written without decoding and encoding it again). */
  readonly bytes?: () => Uint8Array;
}

/** One compile of one family, whatever the mode. */
export interface ModeCompiled {
  readonly settings: ProxierSettings;
  readonly plans: readonly ServicePortPlan[];
  /** `--format restore`: what kube-proxy hands the kernel. */
  readonly restore: string;
  /** The node after kube-proxy's sync (this family), built once on first use. */
  node(): Node;
  /** `--format save`: what the node shows, one file per artefact. */
  artefacts(): readonly Artefact[];
  /** Lines printed before the artefacts on stdout (the node facts beside the tables), '' if none. */
  facts(): string;
  /** `--stats`: rule counts. */
  stats(): string;
}

export interface SimulatorOptions {
  /** Packets in sequence (`--flows`, golden flows): state such as IPVS's rr position carries over. */
  readonly rotate: boolean;
}

export interface ModeRow {
  readonly name: ModeName;
  compile(cluster: Cluster, opts: CompileOptions, sink: DiagnosticSink): ModeCompiled | null;
  /** The files `--format save` writes (`-o FILE` when one, `-o DIR` when several). */
  readonly artefactFiles: readonly string[];
  /** The node dumps beside iptables-save this mode needs (`--ipvs FILE` for IPVS), with what they are. */
  readonly dumps: readonly { readonly flag: 'ipvs' | 'ipsets'; readonly required: boolean; readonly what: string }[];
  /** What a node of this mode has that its dumps do not show (IPVS: service addresses on kube-ipvs0). */
  completeDumpNode(node: Node): Node;
  /**
   * `table chain` names only this mode's kube-proxy writes: a dump that has one is of a node of this
   * mode. The table is an iptables table (`nat`) or an nftables table of the family (`kube-proxy`:
   * `ip kube-proxy`, `ip6 kube-proxy`; iptables-nft's `ip nat` is `nat` too).
   */
  readonly signatureChains: readonly string[];
  /** The node's service ports as this mode shows them (explain, diff and lint read only this); names from the objects where the node has none. */
  readonly services: (node: Node, family: Family, names: NameBook | null) => NodeServices;
  /** What this mode does differently from iptables mode, kube-proxy's reference (diff classifies a migration's differences with these). */
  readonly knownDifferences: readonly KnownDifference[];
  /** The simulator extensions a node of this mode needs, for one family. */
  extensions(node: Node, family: Family, opts: SimulatorOptions): readonly HookExtension[];
  /** Verifies a golden case whose configuration selects this mode, adding its checks to `result`. */
  verifyCase(c: CaseFiles, result: CaseResult, options: CompileOptions): void;
  /** The golden file holding `--format restore` output. */
  readonly restoreFile: string;
  /** The expected files a new golden case of this mode starts with (`kpsim golden init`). */
  readonly goldenFiles: readonly string[];
  /** Where the answers of this mode's golden flows are explained (kube-proxy's test tracer). */
  readonly tracerReference: string;
  /** Files by which a golden case without objects (no cluster.yaml) is this mode's. */
  readonly objectlessFiles: readonly string[];
  /** The text a node's rules dump (`kpsim trace --rules`) of this mode is written in. */
  readonly rulesFormat: 'iptables-save' | 'nft';
}

/**
 * The node's nftables base chains as hook functions, whatever the mode: kube-proxy's own table in
 * nftables mode, and beside iptables any other (Calico's, Docker's, firewalld's) a dump shows.
 */
export function nftHooks(node: Node, family: Family): readonly HookExtension[] {
  return node.nftables ? nftablesExtensions(node.nftables, family, node.interfaces.map((i) => i.name)) : [];
}

function once<T>(f: () => T): () => T {
  let v: { value: T } | null = null;
  return () => (v ??= { value: f() }).value;
}

/** The netfilter tables of one family as iptables-save prints them. */
function iptablesSave(node: Node, family: Family): string {
  const state = node.netfilter.get(family);
  return state ? renderKernelRuleset(stateToRuleset(state)) : '';
}

/** What `iptables-save` prints on an iptables-mode node after the sync `c`, read through the node value. */
export function renderNodeSaveViaNode(c: Compiled): string {
  return iptablesSave(nodeFromArtefacts(iptablesNodeArtefacts(c)), c.settings.family);
}

/**
 * What `iptables-save` prints on an iptables-mode node after the sync `c`: the node's host setup
 * (as the node value holds it) with the compile's restore input applied chain by chain, each rule
 * respelled from the compiler's bytes rather than read back into the IR and printed. The same text
 * as renderNodeSaveViaNode, which trace's node is (test/modes/node-save.test.ts compares the two);
 * that path where the direct one does not apply (a partial sync's deletions).
 */
export function renderNodeSave(c: Compiled): string {
  return Buffer.from(renderNodeSaveBytes(c)).toString('utf8');
}

/** renderNodeSave's text as UTF-8 bytes. */
export function renderNodeSaveBytes(c: Compiled): Uint8Array {
  const family = c.settings.family;
  const host = nodeFromArtefacts({ iptables: [hostSetupText(family)], interfaces: [] }).netfilter.get(family)!;
  return renderSaveAfterBytes(host, [chainedTable(c.iptables.data.filter), chainedTable(c.iptables.data.nat)]) ?? Buffer.from(renderNodeSaveViaNode(c));
}

function iptablesCompiled(c: Compiled): ModeCompiled {
  const node = once(() => nodeFromArtefacts(iptablesNodeArtefacts(c)));
  return {
    settings: c.settings,
    plans: c.plans,
    get restore() {
      return c.restore;
    },
    node,
    artefacts: () => {
      const bytes = once(() => renderNodeSaveBytes(c));
      return [
        {
          file: 'iptables.save',
          get text() {
            return Buffer.from(bytes()).toString('utf8');
          },
          bytes,
        },
      ];
    },
    facts: () => '',
    stats: () => kernelStats(node(), c.settings.family),
  };
}

export function ipvsNode(c: IpvsCompiled): Node {
  const a = ipvsNodeArtefacts(c);
  const node = nodeFromArtefacts({ iptables: a.iptables, ipsetsText: a.ipsetsText, ipvs: a.ipvs, interfaces: a.interfaces });
  return withDummyAddresses(node, a.dummy.device, a.dummy.addresses);
}

/** The files an IPVS node shows after the sync `c`, as `kpsim compile --mode ipvs -o DIR` writes them. */
export function renderIpvsArtefacts(c: IpvsCompiled, node: Node = ipvsNode(c)): Record<IpvsArtefactFile, string> {
  return {
    'ipvsadm.save': renderIpvsadmSave(c.ipvs),
    'ipset.save': renderIpsetSave(c.ipsets),
    'iptables.save': iptablesSave(node, c.settings.family),
    'kube-ipvs0.addrs': renderDummyAddresses(c),
  };
}

function ipvsCompiled(c: IpvsCompiled): ModeCompiled {
  const node = once(() => ipvsNode(c));
  const files = once(() => renderIpvsArtefacts(c, node()));
  return {
    settings: c.settings,
    plans: c.plans,
    restore: c.restore,
    node,
    artefacts: () => IPVS_ARTEFACT_FILES.map((file) => ({ file, text: files()[file] })),
    facts: () => renderNodeFacts(c),
    stats: () => kernelStats(node(), c.settings.family) + ipvsStats(c),
  };
}

/** What `kpsim parse --stats` prints for the node's iptables-save output: the same rules, the same counts. */
function kernelStats(node: Node, family: Family): string {
  const state = node.netfilter.get(family);
  return state ? formatStats(stateToRuleset(state), unmodelledItems) : '';
}

/** The IPVS artefacts beside the tables: sets and their entries, virtual and real servers. */
function ipvsStats(c: IpvsCompiled): string {
  const entries = c.ipsets.sets.reduce((n, s) => n + s.entries.length, 0);
  const reals = c.ipvs.services.reduce((n, s) => n + s.realServers.length, 0);
  return `ipsets: ${c.ipsets.sets.length} sets, ${entries} entries\nipvs: ${c.ipvs.services.length} virtual servers, ${reals} real servers\n`;
}

const iptablesRow: ModeRow = {
  name: 'iptables',
  compile: (cluster, opts, sink) => {
    const c = compileCluster(cluster, opts, sink);
    return sink.hasErrors ? null : iptablesCompiled(c);
  },
  artefactFiles: ['iptables.save'],
  dumps: [{ flag: 'ipsets', required: false, what: '`ipset save` output, for -m set' }],
  completeDumpNode: (node) => node,
  // KUBE-SVC chains are no proof: IPVS mode has none, but a dump without services has none either.
  signatureChains: [],
  services: iptablesServices,
  knownDifferences: [],
  extensions: nftHooks,
  verifyCase: verifyIptablesCase,
  restoreFile: 'iptables-save.txt',
  goldenFiles: ['iptables-save.txt', 'node.rules'],
  tracerReference: 'golden/kube-proxy-iptables/README.md section 5',
  // kube-proxy's TestTracePacket: a ruleset traced on its own.
  objectlessFiles: ['iptables-save.txt'],
  rulesFormat: 'iptables-save',
};

const ipvsRow: ModeRow = {
  name: 'ipvs',
  compile: (cluster, opts, sink) => {
    const c = compileIpvsCluster(cluster, opts, sink);
    return sink.hasErrors || !c ? null : ipvsCompiled(c);
  },
  artefactFiles: IPVS_ARTEFACT_FILES,
  dumps: [
    { flag: 'ipvs', required: true, what: '`ipvsadm-save -n` output: the virtual servers' },
    { flag: 'ipsets', required: false, what: "`ipset save` output: kube-proxy's sets" },
  ],
  // Every virtual service address the node does not have already sits on kube-ipvs0.
  completeDumpNode: (node) => withDummyAddresses(node, 'kube-ipvs0', node.ipvs?.services.map((v) => v.address) ?? []),
  // pkg/proxy/ipvs/proxier.go: the chains its writeIptablesRules creates and iptables mode does not.
  signatureChains: ['nat KUBE-NODE-PORT', 'nat KUBE-LOAD-BALANCER', 'filter KUBE-IPVS-FILTER'],
  services: ipvsServices,
  knownDifferences: IPVS_DIFFERENCES,
  extensions: (node, family, opts) => [...(node.ipvs ? [ipvsExtension(node.ipvs, family, { rotate: opts.rotate })] : []), ...nftHooks(node, family)],
  verifyCase: (c, result, options) => verifySingleSync(c, ipvsRow, result, options),
  restoreFile: 'iptables-save.txt',
  goldenFiles: ['iptables-save.txt', ...IPVS_ARTEFACT_FILES],
  tracerReference: 'golden/kube-proxy-iptables/README.md section 5',
  objectlessFiles: [],
  rulesFormat: 'iptables-save',
};

function nftablesCompiled(c: NftCompiled): ModeCompiled {
  const node = once(() => nodeFromArtefacts(nftablesNodeArtefacts(c)));
  const table = kubeProxyTable(c.settings.family);
  return {
    settings: c.settings,
    plans: c.plans,
    restore: c.restore,
    node,
    // Printed once: `kpsim compile` asks for the artefacts more than once (writeSave, then report).
    artefacts: once(() => [{ file: 'nftables.txt', text: renderNftablesSave(c, node()) }]),
    facts: () => '',
    stats: () => {
      const t = node().nftables?.tables.get(tableKey(table.family, table.name));
      return t ? formatStateTableStats(t) : '';
    },
  };
}

// kube-proxy's nftables mode, in the shape of kube-proxy at kubernetes commit 81810de (the version
// golden/kube-proxy-nftables asserts): `nft list table ip kube-proxy` (ip6 for IPv6) is the save
// artefact, the knftables transaction the restore.
const nftablesRow: ModeRow = {
  name: 'nftables',
  compile: (cluster, opts, sink) => {
    const c = compileNftablesCluster(cluster, opts, sink);
    return sink.hasErrors ? null : nftablesCompiled(c);
  },
  artefactFiles: ['nftables.txt'],
  dumps: [],
  completeDumpNode: (node) => node,
  extensions: nftHooks,
  verifyCase: verifyNftablesCase,
  restoreFile: 'nft.txt',
  goldenFiles: ['nft.txt', 'nftables.txt'],
  tracerReference: 'golden/kube-proxy-nftables/README.md, "Packet tracer semantics"',
  // kube-proxy's chain-name hashing tests.
  objectlessFiles: ['names.yaml'],
  // setupNFTables: the dispatch chain every nftables-mode node has, in kube-proxy's own table.
  signatureChains: ['kube-proxy services'],
  services: nftablesServices,
  knownDifferences: NFTABLES_DIFFERENCES,
  rulesFormat: 'nft',
};

export const MODES: readonly ModeRow[] = [iptablesRow, ipvsRow, nftablesRow];

export const MODE_NAMES: readonly string[] = MODES.map((m) => m.name);

/** Modes kube-proxy has that kpsim does not build yet, with what to say. */
export const NOT_BUILT_MODES: Readonly<Record<string, string>> = {};

/** The row of a mode name; a string saying why when kpsim has none. */
export function modeNamed(name: string): ModeRow | string {
  return MODES.find((m) => m.name === name) ?? NOT_BUILT_MODES[name] ?? `not a proxy mode: kube-proxy's modes here are ${MODE_NAMES.join(', ')}`;
}

/** The other mode whose kube-proxy wrote this node's tables (a signature chain and which), or null. */
export function dumpLooksLike(node: Node, family: Family, not: ModeRow): { readonly row: ModeRow; readonly chain: string } | null {
  const tables = node.netfilter.get(family)?.tables;
  const nft = node.nftables?.tables;
  const has = (table: string, name: string) => (tables?.get(table)?.has(name) ?? false) || (nft?.get(tableKey(family === 'ipv6' ? 'ip6' : 'ip', table))?.chains.has(name) ?? false);
  for (const m of MODES) {
    if (m === not) continue;
    const chain = m.signatureChains.find((c) => {
      const [table, name] = c.split(' ');
      return has(table, name);
    });
    if (chain) return { row: m, chain };
  }
  return null;
}

/** kube-proxy's mode for a configuration: its `mode`, empty meaning iptables (the Linux default). */
export function configuredMode(cluster: Cluster): string {
  return cluster.config.mode || 'iptables';
}
