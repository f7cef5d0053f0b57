// The one place a node value is built. Two entrances: kpsim's own artefacts (a compile's restore
// input and host setup, its ipsets and virtual servers), where any problem is a kpsim bug, and a
// node's dumps, read as iptables-restore / ipset / ipvsadm would, every problem a diagnostic at
// its file:line:col. Restore semantics are src/iptables/state.ts's, the only implementation.
import type { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import { applyRestore, emptyState, type KernelState, type RestoreProblem } from '../iptables/state.js';
import { parseIptablesSave } from '../iptables-save/index.js';
import type { IpsetDump } from '../ipset/ir.js';
import { parseIpsetSave } from '../ipset/parse.js';
import type { IpvsTable } from '../ipvs/ir.js';
import { parseIpvsadmSave } from '../ipvs/parse.js';
import { parseNft } from '../nftables/parse.js';
import { applyNft, emptyNftState, type NftState } from '../nftables/state.js';
import type { Node, NodeInterface, NodeRoute } from './node.js';

/** iptables-restore input (or an iptables-save dump) for one family, applied in order. */
export interface IptablesText {
  readonly family: Family;
  /** The name diagnostics carry. */
  readonly file: string;
  readonly text: string;
  /** Applied with `--noflush` on what came before (kube-proxy's own restores). */
  readonly noflush?: boolean;
}

export interface NodeFacts {
  readonly interfaces: readonly NodeInterface[];
  readonly routes?: readonly NodeRoute[];
  readonly sysctls?: ReadonlyMap<string, string>;
}

export interface OwnArtefacts extends NodeFacts {
  readonly iptables: readonly IptablesText[];
  /** `ipset save` text (read by the ipset reader, which gives entries their dimensions). */
  readonly ipsetsText?: DumpText | null;
  readonly ipvs?: IpvsTable | null;
  /** nft text kpsim wrote (its knftables transaction), applied in order as `nft -f` would. */
  readonly nft?: readonly DumpText[];
}

/** Text a user gave, with the name diagnostics carry. */
export interface DumpText {
  readonly file: string;
  readonly text: string;
}

export interface NodeDumps extends NodeFacts {
  readonly iptables: readonly IptablesText[];
  readonly ipsets?: DumpText | null;
  readonly ipvs?: DumpText | null;
  /** `nft list ruleset` (or any `nft -f` input), every family's tables. */
  readonly nft?: DumpText | null;
}

function stateFor(states: Map<Family, KernelState>, family: Family): KernelState {
  let s = states.get(family);
  if (!s) states.set(family, (s = emptyState(family)));
  return s;
}

function node(states: Map<Family, KernelState>, facts: NodeFacts, ipsets: IpsetDump | null, ipvs: IpvsTable | null, nftables: NftState | null = null): Node {
  const n: Node = { netfilter: states, ipsets, ipvs, interfaces: facts.interfaces, routes: facts.routes ?? [], sysctls: facts.sysctls ?? new Map() };
  return nftables ? { ...n, nftables } : n;
}

/** The node kpsim's own artefacts describe. Its own text failing to read or load is a bug in kpsim. */
export function nodeFromArtefacts(a: OwnArtefacts): Node {
  const states = new Map<Family, KernelState>();
  for (const t of a.iptables) {
    const { ruleset, diagnostics } = parseIptablesSave(t.text, { file: t.file, family: t.family, noflush: t.noflush });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (!ruleset || errors.length > 0) throw new Error(`kpsim produced ${t.file} text its reader rejects: ${errors.map((e) => `${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
    applyRestore(stateFor(states, t.family), ruleset);
  }
  let ipsets: IpsetDump | null = null;
  if (a.ipsetsText) {
    const { dump, diagnostics } = parseIpsetSave(a.ipsetsText.text, { file: a.ipsetsText.file });
    const bad = diagnostics.find((d) => d.severity === 'error');
    if (bad) throw new Error(`kpsim produced ${a.ipsetsText.file} text its reader rejects: ${bad.span?.line}:${bad.span?.col} ${bad.message}`);
    ipsets = dump;
  }
  let nftables: NftState | null = null;
  for (const t of a.nft ?? []) {
    const { file, diagnostics } = parseNft(t.text, { file: t.file });
    const problems = [...diagnostics.filter((d) => d.severity === 'error'), ...applyNft((nftables ??= emptyNftState()), file, t.file)];
    if (problems.length > 0) throw new Error(`kpsim produced ${t.file} text nft would reject: ${problems.map((e) => `${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
  }
  return node(states, a, ipsets, a.ipvs ?? null, nftables);
}

/** The node a user's dumps describe; null when one of them has errors (all reported to `sink`). */
export function nodeFromDumps(d: NodeDumps, sink: DiagnosticSink): Node | null {
  const states = new Map<Family, KernelState>();
  let ok = true;
  for (const t of d.iptables) {
    const { ruleset, diagnostics } = parseIptablesSave(t.text, { file: t.file, family: t.family, noflush: t.noflush });
    for (const x of diagnostics) sink.report(x);
    if (!ruleset || diagnostics.some((x) => x.severity === 'error')) {
      ok = false;
      continue;
    }
    // iptables-save run without root privileges prints nothing and exits 0.
    if (!ruleset.tables.some((x) => x.lines.some((l) => l.kind !== 'trivia'))) sink.warning('NODE_EMPTY_RULESET', 'no rules at all: iptables-save prints nothing when it is not run as root; every packet meets only the built-in chains\' ACCEPT policies', t.file, null);
    const problems: RestoreProblem[] = [];
    applyRestore(stateFor(states, t.family), ruleset, problems);
    for (const p of problems) sink.warning(p.code, p.message, t.file, p.span);
  }
  let ipsets: IpsetDump | null = null;
  if (d.ipsets) {
    const r = parseIpsetSave(d.ipsets.text, { file: d.ipsets.file });
    for (const x of r.diagnostics) sink.report(x);
    if (r.diagnostics.some((x) => x.severity === 'error')) ok = false;
    ipsets = r.dump;
  }
  let ipvs: IpvsTable | null = null;
  if (d.ipvs) {
    const r = parseIpvsadmSave(d.ipvs.text, { file: d.ipvs.file });
    for (const x of r.diagnostics) sink.report(x);
    if (r.diagnostics.some((x) => x.severity === 'error')) ok = false;
    ipvs = r.table;
  }
  let nftables: NftState | null = null;
  if (d.nft) {
    const r = parseNft(d.nft.text, { file: d.nft.file });
    for (const x of r.diagnostics) sink.report(x);
    if (r.diagnostics.some((x) => x.severity === 'error')) ok = false;
    else {
      nftables = emptyNftState();
      // A listing applies cleanly; what would not (a jump to a missing chain in hand-made text) is
      // said, and the rest is kept, as nft would refuse the whole file.
      for (const p of applyNft(nftables, r.file, d.nft.file)) sink.warning(p.code, p.message, p.file, p.span);
    }
  }
  return ok ? node(states, d, ipsets, ipvs, nftables) : null;
}

