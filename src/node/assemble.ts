// The one place a node value is built. Two entrances: kpsim's own artefacts (a compile's restore
// input and host setup, its ipsets and virtual servers), where any problem is a kpsim bug, and a
// node's dumps, read as iptables-restore / ipset / ipvsadm would, every problem a diagnostic at
// its file:line:col. Restore semantics are src/iptables/state.ts's, the only implementation.
import type { Diagnostic, DiagnosticSink } from '../diag/diagnostic.js';
import { chainIndexOf, type Family, type Table } from '../iptables/ir.js';
import { applyRestore, emptyState, type KernelState, type RestoreProblem } from '../iptables/state.js';
import { parseIptablesSave, readOwnText } from '../iptables-save/index.js';
import type { IpsetDump } from '../ipset/ir.js';
import { parseIpsetSave } from '../ipset/parse.js';
import type { IpvsTable } from '../ipvs/ir.js';
import { parseIpvsadmSave } from '../ipvs/parse.js';
import { parseBridgeLink, parseIpAddr, parseIpRoute, type BridgePort, type IpLink } from '../iproute2/index.js';
import { parseNft } from '../nftables/parse.js';
import { applyNft, emptyNftState, type NftState } from '../nftables/state.js';
import { parseSysctls } from '../sysctl/parse.js';
import { readChainedRestore, type ChainedRestore } from './chained-restore.js';
import { HOOK_LISTINGS, ipvsListing, nftListing } from './extension-listing.js';
import { dumpListing, saveListing, type RuleListing } from './listing.js';
import type { Node, NodeBridge, NodeInterface, NodeRoute } from './node.js';

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
  readonly bridges?: readonly NodeBridge[];
  readonly sysctls?: ReadonlyMap<string, string>;
}

export interface OwnArtefacts extends NodeFacts {
  /** Applied in order; the compiler's restore input chain by chain as it keeps it, or as text. */
  readonly iptables: readonly (IptablesText | ChainedRestore)[];
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

/**
 * The files that describe a node beside its tables, as a user collects them: `ip -j addr`,
 * `ip -j route` / `ip -6 -j route` (any number of files, `show table all` included), `bridge -j
 * link`, `sysctl -a`. What they give replaces the facts' shortcut (--node-ip, --interfaces).
 */
export interface NodeDescription {
  readonly ipAddr?: DumpText | null;
  readonly ipRoutes?: readonly DumpText[];
  readonly bridgeLinks?: DumpText | null;
  readonly sysctls?: DumpText | null;
}

export interface NodeDumps extends NodeFacts {
  readonly iptables: readonly IptablesText[];
  readonly ipsets?: DumpText | null;
  readonly ipvs?: DumpText | null;
  readonly description?: NodeDescription;
  /** `nft list ruleset` (or any `nft -f` input), every family's tables. */
  readonly nft?: DumpText | null;
}

function stateFor(states: Map<Family, KernelState>, family: Family): KernelState {
  let s = states.get(family);
  if (!s) states.set(family, (s = emptyState(family)));
  return s;
}

function node(states: Map<Family, KernelState>, facts: NodeFacts, ipsets: IpsetDump | null, ipvs: IpvsTable | null, listings: Map<Family, RuleListing>, nftables: NftState | null, hookListings: Map<string, RuleListing>): Node {
  const n: Node = { netfilter: states, ipsets, ipvs, interfaces: facts.interfaces, routes: facts.routes ?? [], bridges: facts.bridges ?? [], sysctls: facts.sysctls ?? new Map(), listings, hookListings };
  return nftables ? { ...n, nftables } : n;
}

const OWN_LISTING = "kpsim compile's output";

/** The node kpsim's own artefacts describe. Its own text failing to read or load is a bug in kpsim. */
export function nodeFromArtefacts(a: OwnArtefacts): Node {
  const states = new Map<Family, KernelState>();
  for (const t of a.iptables) {
    // Read chain by chain as the simulator reaches them: kpsim's own text is checked where it is made.
    const input = 'tables' in t ? readChainedRestore(t) : readOwnText(t.text, { file: t.file, family: t.family, noflush: t.noflush });
    applyRestore(stateFor(states, t.family), input);
  }
  let ipsets: IpsetDump | null = null;
  if (a.ipsetsText) {
    const { dump, diagnostics } = parseIpsetSave(a.ipsetsText.text, { file: a.ipsetsText.file });
    const bad = diagnostics.find((d) => d.severity === 'error');
    if (bad) throw new Error(`kpsim produced ${a.ipsetsText.file} text its reader rejects: ${bad.span?.line}:${bad.span?.col} ${bad.message}`);
    ipsets = dump;
  }
  // Rules are shown as `kpsim compile` prints this node (its --format save output).
  const listings = new Map<Family, RuleListing>();
  for (const [family, state] of states) listings.set(family, saveListing(state));
  let nftables: NftState | null = null;
  for (const t of a.nft ?? []) {
    const { file, diagnostics } = parseNft(t.text, { file: t.file });
    const problems = [...diagnostics.filter((d) => d.severity === 'error'), ...applyNft((nftables ??= emptyNftState()), file, t.file)];
    if (problems.length > 0) throw new Error(`kpsim produced ${t.file} text nft would reject: ${problems.map((e) => `${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
  }
  // What the extensions run, as `kpsim compile -o DIR` writes it (nftables.txt, ipvsadm.save).
  const hookListings = new Map<string, RuleListing>();
  if (nftables) hookListings.set(HOOK_LISTINGS.nftables, nftListing(nftables, 'nftables.txt', `${OWN_LISTING}, nft list spelling`, null));
  if (a.ipvs) hookListings.set(HOOK_LISTINGS.ipvs, ipvsListing(a.ipvs, 'ipvsadm.save', `${OWN_LISTING}, ipvsadm-save spelling`, null));
  return node(states, a, ipsets, a.ipvs ?? null, listings, nftables, hookListings);
}

/** Whether a table has a line other than comments and blanks (without building its rules when it has a chain index). */
function declaresAnything(t: Table): boolean {
  const index = chainIndexOf(t);
  return index ? index.declared.length > 0 || index.ruleChains.length > 0 : t.lines.some((l) => l.kind !== 'trivia');
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
    if (!ruleset.tables.some(declaresAnything)) sink.warning('NODE_EMPTY_RULESET', 'no rules at all: iptables-save prints nothing when it is not run as root; every packet meets only the built-in chains\' ACCEPT policies', t.file, null);
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
  // Rules are shown as the dump writes them, when one dump holds a family's tables.
  const listings = new Map<Family, RuleListing>();
  for (const [family, state] of states) {
    const texts = d.iptables.filter((t) => t.family === family);
    if (texts.length === 1) listings.set(family, dumpListing(state, texts[0].file, texts[0].text));
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
  const facts = d.description ? describedFacts(d, d.description, sink) : d;
  // What the extensions run, in the dumps' own lines.
  const hookListings = new Map<string, RuleListing>();
  if (nftables && d.nft) hookListings.set(HOOK_LISTINGS.nftables, nftListing(nftables, d.nft.file, d.nft.file, d.nft.text));
  if (ipvs && d.ipvs) hookListings.set(HOOK_LISTINGS.ipvs, ipvsListing(ipvs, d.ipvs.file, d.ipvs.file, d.ipvs.text));
  return ok && facts ? node(states, facts, ipsets, ipvs, listings, nftables, hookListings) : null;
}

/** A node (a compile's) with what the description files say instead of its own interfaces, routes, bridges and sysctls; null on errors. */
export function withDescription(n: Node, desc: NodeDescription, sink: DiagnosticSink): Node | null {
  const facts = describedFacts(n, desc, sink);
  return facts ? { ...n, interfaces: facts.interfaces, routes: facts.routes ?? [], bridges: facts.bridges ?? [], sysctls: facts.sysctls ?? new Map() } : null;
}

/** The facts the description files give, over the shortcut's; null when one of them has errors. */
function describedFacts(base: NodeFacts, desc: NodeDescription, sink: DiagnosticSink): NodeFacts | null {
  let ok = true;
  const take = <T extends { diagnostics: readonly Diagnostic[] }>(r: T): T => {
    for (const x of r.diagnostics) sink.report(x);
    if (r.diagnostics.some((x) => x.severity === 'error')) ok = false;
    return r;
  };
  let interfaces = base.interfaces;
  let bridges = base.bridges ?? [];
  if (desc.ipAddr) {
    const { links } = take(parseIpAddr(desc.ipAddr.text, desc.ipAddr.file));
    interfaces = links.map(interfaceOf);
    bridges = bridgesOf(links, []);
  }
  if (desc.bridgeLinks) {
    const { ports } = take(parseBridgeLink(desc.bridgeLinks.text, desc.bridgeLinks.file));
    bridges = mergeBridges(bridges, bridgesOf([], ports));
  }
  let routes = base.routes ?? [];
  if (desc.ipRoutes?.length) {
    const given: NodeRoute[] = [];
    routes = given;
    for (const f of desc.ipRoutes) {
      for (const r of take(parseIpRoute(f.text, f.file)).routes) {
        given.push({ to: r.to === 'default' ? (r.family === 'ipv4' ? '0.0.0.0/0' : '::/0') : r.to, dev: r.dev, type: r.type, gateway: r.gateway, src: r.src, metric: r.metric, table: r.table, scope: r.scope });
      }
    }
  }
  let sysctls = base.sysctls ?? new Map<string, string>();
  if (desc.sysctls) sysctls = take(parseSysctls(desc.sysctls.text, desc.sysctls.file)).values;
  return ok ? { interfaces, routes, bridges, sysctls } : null;
}

function interfaceOf(l: IpLink): NodeInterface {
  return {
    name: l.name,
    addresses: l.addrs.map((a) => a.cidr),
    addressInfo: l.addrs.map((a) => ({ cidr: a.cidr, scope: a.scope, secondary: a.secondary, deprecated: a.deprecated })),
    index: l.index,
    flags: l.flags,
    master: l.master,
  };
}

/**
 * Bridges: links whose kind is `bridge` (`ip -d -j addr`) with the links enslaved to them, and
 * the ports `bridge -j link` lists. A master whose kind `ip -j addr` (without -d) does not show
 * may be a bond or a VRF, so it is a bridge only when one of these says so.
 */
function bridgesOf(links: readonly IpLink[], ports: readonly BridgePort[]): NodeBridge[] {
  const out = new Map<string, string[]>();
  const add = (bridge: string, port: string | null) => {
    let list = out.get(bridge);
    if (!list) out.set(bridge, (list = []));
    if (port !== null && !list.includes(port)) list.push(port);
  };
  for (const l of links) if (l.kind === 'bridge') add(l.name, null);
  for (const l of links) if (l.master && (l.slaveKind === 'bridge' || out.has(l.master))) add(l.master, l.name);
  for (const p of ports) add(p.bridge, p.name);
  return [...out].map(([name, list]) => ({ name, ports: list }));
}

function mergeBridges(a: readonly NodeBridge[], b: readonly NodeBridge[]): NodeBridge[] {
  const out = a.map((x) => ({ name: x.name, ports: [...x.ports] }));
  for (const y of b) {
    const x = out.find((z) => z.name === y.name);
    if (x) for (const p of y.ports) if (!x.ports.includes(p)) x.ports.push(p);
    if (!x) out.push({ name: y.name, ports: [...y.ports] });
  }
  return out;
}

