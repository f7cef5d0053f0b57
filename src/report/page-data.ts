// The trace page's data (issue 18): the reports (model.ts) as plain JSON the page's script draws,
// with nothing computed twice. The tree is the report's own; a fork's tail (the steps every branch
// goes on with) is found by the same sharedTail the text printer uses; each outcome's route through
// the hooks is read off its steps. Rules link to their line in the reached chains' listing, which
// holds only the chains some step of some trace is in (a 10k-service node's page embeds the chains
// one packet touches, not the 30k it has).
import type { Family } from '../iptables/ir.js';
import type { Explainer } from '../packetsim/explain.js';
import type { Prob } from '../packetsim/fraction.js';
import type { CompiledRuleset, ListedRef } from '../packetsim/types.js';
import { decimalText, fullExact, shortExact } from './exact.js';
import type { Branch, Change, ConnectionView, Fork, OutcomeView, PacketView, Segment, Step, TraceReport } from './model.js';
import { sharedTail, tailSteps } from './tree.js';

/** The version of this data's shape (a page is read by people, not tools: no promise beyond one file). */
export const PAGE_DATA_VERSION = 1;

export interface ProbData {
  /** decimalText: `0.3333333335`, `0.5`. */
  readonly decimal: string;
  /** The short exact form (`715827883/2^31`), null when none is exact. */
  readonly exact: string | null;
  readonly fraction: string;
  /** For drawing (bar widths), not for reading. */
  readonly ratio: number;
}

/** A step as model.ts has it, its rule's place and line spelled out flat (no identity key). */
export type StepData = Pick<Step, 'kind' | 'hook' | 'fn' | 'priority' | 'action' | 'state' | 'changes' | 'why' | 'words' | 'forked'> & {
  readonly table: string;
  readonly chain: string;
  readonly num: number | null;
  /** The line in listing `listing` (ListingData.id); null for steps no line stands for (a return, conntrack, the route). */
  readonly line: number | null;
  readonly listing: string | null;
  readonly text: string;
};

export interface SegmentData {
  readonly steps: readonly StepData[];
  readonly fork: ForkData | null;
  /** Outcomes whose path goes through this segment's steps. */
  readonly outcomes: readonly number[];
  /** Outcomes of the walks that end with this segment (after its tail, when an enclosing fork prints one). */
  readonly ends: readonly number[];
}

export interface ForkData {
  readonly kind: Fork['kind'];
  readonly table: string | null;
  readonly chain: string | null;
  readonly what: string;
  readonly branches: readonly BranchData[];
  /** The steps every branch goes on with, printed once after the branches. */
  readonly tail: readonly StepData[];
  /** The outcomes the walks end in after the tail (empty when an enclosing fork's tail follows). */
  readonly tailEnds: readonly number[];
}

export interface BranchData {
  readonly label: string;
  /** null: an assumption (UNKNOWN), not a chance. */
  readonly share: ProbData | null;
  readonly outcomes: readonly number[];
  readonly packet: PacketView | null;
  readonly segment: SegmentData;
}

/**
 * One hook on an outcome's route, with the hook functions it ran there in the order they ran: the
 * iptables tables (`nat`), the nftables base chains (`ip kube-proxy nat-prerouting`), IPVS (`ipvs`).
 */
export interface Hop {
  readonly hook: string;
  readonly tables: readonly string[];
  /** Each table's netfilter priority (null where none applies). */
  readonly priorities: readonly (number | null)[];
}

export interface OutcomeData {
  readonly number: number;
  readonly prob: ProbData;
  readonly verdict: OutcomeView['verdict'];
  readonly assumedVerdict: OutcomeView['assumedVerdict'];
  readonly delivery: OutcomeView['delivery'];
  /** The outcome in words (`ACCEPT, forwarded`), so the page reads without colour. */
  readonly words: string;
  readonly packet: PacketView;
  readonly nat: readonly string[];
  readonly note: string | null;
  readonly unknown: readonly string[];
  readonly route: readonly Hop[];
}

export interface TraceData {
  readonly id: string;
  readonly name: string | null;
  readonly family: Family;
  readonly protocol: string;
  readonly packet: PacketView;
  readonly origin: 'local' | 'remote';
  readonly connection: { readonly state: ConnectionView['state']; readonly reply: boolean; readonly accepted: ProbData } | null;
  readonly outcomes: readonly OutcomeData[];
  readonly tree: SegmentData;
  readonly approximate: boolean;
}

/**
 * A reached chain whole (every rule, the ones no packet tried too). Its rules' texts are the
 * listing's `texts` from `at` (the page reads them only when the chain is shown: a 10k-service
 * KUBE-SERVICES is most of the page's bytes); their lines run on from `first`, or are each in
 * `lines` where they do not (a dump whose rules of a chain are apart).
 */
export interface ChainData {
  readonly table: string;
  readonly chain: string;
  /** Its declaration (`:KUBE-SERVICES - [0:0]`, a built-in chain's with its policy). */
  readonly declaration: { readonly line: number | null; readonly text: string };
  /** How many rules it has. */
  readonly rules: number;
  /** Where its rules' texts start in ListingData.texts. */
  readonly at: number;
  /** Rule 1's line, rule k's `first + k - 1`; null when `lines` says. */
  readonly first: number | null;
  /** Each rule's line (null: the listing lacks it), when they do not run on from one. */
  readonly lines: readonly (number | null)[] | null;
}

export interface ListingData {
  /** Lines link as `#L<id>-<line>`: `4` and `6` for the iptables tables, `nftables4`, `ipvs4` for the hook extensions'. */
  readonly id: string;
  /** What the file is written in: `iptables` (iptables-save), `nftables` (nft list ruleset), `ipvs` (ipvsadm-save). */
  readonly kind: string;
  readonly family: Family;
  /** The file the lines are in and what it is; null: the node has no listing (lines are the IR's). */
  readonly file: string | null;
  readonly what: string | null;
  readonly chains: readonly ChainData[];
  /** The chains' rules as the file writes them, chain after chain (html.ts puts them apart from the rest, read when shown). */
  readonly texts: readonly string[];
}

/** A listing as the page's data holds it: its texts are apart (html.ts). */
export type PageListing = Omit<ListingData, 'texts'>;

/** The data the page's script reads at once: everything but the listings' texts. */
export type PageView = Omit<PageData, 'listings'> & { readonly listings: readonly PageListing[] };

/** A listing's rule k (1-based) of chain `c`: its line and text. */
export function listedRule(l: Pick<ListingData, 'texts'>, c: ChainData, k: number): { readonly line: number | null; readonly text: string } {
  return { line: c.lines ? c.lines[k - 1] : c.first === null ? null : c.first + k - 1, text: l.texts[c.at + k - 1] };
}

/** A chain's data, its rules' texts appended to `texts`. */
function chainData(table: string, chain: string, declaration: ChainData['declaration'], rules: readonly { readonly line: number | null; readonly text: string }[], texts: string[]): ChainData {
  const at = texts.length;
  for (const r of rules) texts.push(r.text);
  const first = rules[0]?.line ?? null;
  const runsOn = first !== null && rules.every((r, i) => r.line === first + i);
  return { table, chain, declaration, rules: rules.length, at, first: runsOn ? first : null, lines: runsOn || rules.length === 0 ? null : rules.map((r) => r.line) };
}

export interface PageData {
  readonly version: number;
  /** What was traced, as the user asked (`kpsim trace cluster.yaml --src ...`). */
  readonly command: string;
  /** The proxy mode whose node was traced (`iptables`, `ipvs`). */
  readonly mode: string;
  readonly traces: readonly TraceData[];
  readonly listings: readonly ListingData[];
  /** How the page names the fields a step changes (model.ts's FIELD_NAMES). */
  readonly fieldNames: Readonly<Record<Change['field'], string>>;
}

export function probData(p: Prob): ProbData {
  const decimal = decimalText(p);
  return { decimal, exact: shortExact(p), fraction: fullExact(p), ratio: Number(decimal) };
}

/** The page's id of the listing a rule is in: the family's iptables tables, or a hook extension's own. */
export function listingId(family: Family, listed: ListedRef | null): string {
  const fam = family === 'ipv6' ? '6' : '4';
  return listed ? `${listed.listing}${fam}` : fam;
}

function stepData(s: Step, family: Family): StepData {
  // A return, conntrack's rewrite and the route have no line of their own.
  const line = s.kind === 'return' || s.kind === 'conntrack' || s.kind === 'route' ? null : s.rule.line;
  return {
    kind: s.kind,
    hook: s.hook,
    fn: s.fn,
    priority: s.priority,
    table: s.rule.table,
    chain: s.rule.chain,
    num: s.rule.num,
    line,
    listing: line === null ? null : listingId(family, s.rule.listed),
    text: s.rule.text,
    action: s.action,
    state: s.state,
    changes: s.changes,
    why: s.why,
    words: s.words,
    forked: s.forked,
  };
}

function union(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** Every outcome under a segment. */
function outcomesUnder(seg: Segment): number[] {
  return union(seg.ends, seg.fork ? seg.fork.branches.flatMap((b) => b.outcomes) : []);
}

/** As Printer.segment in text.ts: `trim` last steps of each leaf are an enclosing fork's tail. */
function segmentData(seg: Segment, trim: number, family: Family): SegmentData {
  const steps = seg.fork ? seg.steps : seg.steps.slice(0, seg.steps.length - trim);
  // A leaf whose last steps an enclosing fork prints once: that fork says where the walks end.
  const ends = !seg.fork && trim > 0 ? [] : seg.ends;
  return { steps: steps.map((s) => stepData(s, family)), fork: seg.fork ? forkData(seg.fork, trim, family) : null, outcomes: outcomesUnder(seg), ends };
}

function forkData(f: Fork, trim: number, family: Family): ForkData {
  const tail = sharedTail(f, trim);
  const branches = f.branches.map((b: Branch) => ({
    label: b.label,
    share: b.share ? probData(b.share) : null,
    outcomes: b.outcomes,
    packet: b.packet,
    segment: segmentData(b.segment, trim + tail.length, family),
  }));
  // The walks end after the tail; an enclosing fork with a tail of its own says so after that.
  const tailData = tailSteps(tail, trim).map((s) => stepData(s, family));
  return { kind: f.kind, table: f.table, chain: f.chain, what: f.what, branches, tail: tailData, tailEnds: tail.length && trim === 0 ? union([], f.branches.flatMap((b) => b.outcomes)) : [] };
}

/** The steps of the walks ending in outcome `n`, in order (the first branch where several lead there). */
function pathSteps(seg: Segment, n: number, out: Step[]): boolean {
  const under = outcomesUnder(seg);
  if (!under.includes(n)) return false;
  out.push(...seg.steps);
  if (seg.ends.includes(n) && !seg.fork?.branches.some((b) => b.outcomes.includes(n))) return true;
  for (const b of seg.fork?.branches ?? []) if (b.outcomes.includes(n) && pathSteps(b.segment, n, out)) return true;
  return true;
}

/**
 * The hooks outcome `n` went through, in order (`ip_rcv` -> PREROUTING -> the routing decision ->
 * INPUT or FORWARD -> POSTROUTING; a packet made here starts in OUTPUT; one to a local address of
 * its own comes back through PREROUTING and INPUT by loopback). Hooks with no rule on the way (a
 * table the node does not have) are filled in from where the packet went.
 */
export function routeOf(r: TraceReport, n: number): Hop[] {
  const steps: Step[] = [];
  pathSteps(r.tree, n, steps);
  const hops: { hook: string; tables: string[]; priorities: (number | null)[] }[] = [];
  const hop = (hook: string) => ({ hook, tables: [], priorities: [] });
  for (const s of steps) {
    let last = hops.at(-1);
    if (last?.hook !== s.hook) hops.push((last = hop(s.hook)));
    if (s.fn && !last.tables.includes(s.fn)) {
      last.tables.push(s.fn);
      last.priorities.push(s.priority);
    }
  }
  const o = r.outcomes[n - 1];
  const has = (h: string, from = 0) => hops.slice(from).some((x) => x.hook === h);
  const start = r.origin === 'local' ? 'OUTPUT' : 'PREROUTING';
  if (hops[0]?.hook !== start) hops.unshift(hop(start));
  const delivered = o.delivery !== null;
  if (r.origin === 'remote' && (delivered || hops.length > 1) && !has('routing')) hops.splice(1, 0, hop('routing'));
  if (o.delivery === 'forward') {
    if (r.origin === 'remote' && !has('FORWARD') && !has('INPUT') && !has('OUTPUT')) hops.splice(hops.findIndex((h) => h.hook === 'routing') + 1, 0, hop('FORWARD'));
    if (hops.at(-1)?.hook !== 'POSTROUTING') hops.push(hop('POSTROUTING'));
  } else if (o.delivery === 'local') {
    if (hops.at(-1)?.hook !== 'INPUT') hops.push(hop('INPUT'));
    if (r.origin === 'local') {
      // Loopback (ip_finish_output -> loopback_xmit -> ip_rcv): out through POSTROUTING, in again
      // through PREROUTING, before the INPUT it ends in.
      const input = hops.length - 1;
      let post = hops.findIndex((h) => h.hook === 'POSTROUTING');
      if (post < 0 || post > input) hops.splice((post = input), 0, hop('POSTROUTING'));
      if (!hops.slice(post, -1).some((h) => h.hook === 'PREROUTING')) hops.splice(hops.length - 1, 0, hop('PREROUTING'));
    }
  }
  return hops;
}

const VERDICT_WORDS: Readonly<Record<OutcomeView['verdict'], string>> = {
  ACCEPT: 'ACCEPT',
  DROP: 'DROP',
  REJECT: 'REJECT',
  UNKNOWN: 'UNKNOWN',
};

function outcomeWords(o: OutcomeView): string {
  const verdict = o.verdict === 'UNKNOWN' && o.assumedVerdict !== 'UNKNOWN' ? `UNKNOWN (${o.assumedVerdict} if kpsim's assumption holds)` : VERDICT_WORDS[o.verdict];
  const where = o.delivery === 'local' ? 'delivered to this node' : o.delivery === 'forward' ? 'forwarded' : o.verdict === 'ACCEPT' ? 'not delivered' : 'stopped here';
  return `${verdict}, ${where}`;
}

function outcomeData(r: TraceReport, o: OutcomeView): OutcomeData {
  return {
    number: o.number,
    prob: probData(o.prob),
    verdict: o.verdict,
    assumedVerdict: o.assumedVerdict,
    delivery: o.delivery,
    words: outcomeWords(o),
    packet: o.packet,
    nat: [o.dnat ? 'DNAT' : '', o.masquerade ? 'MASQUERADE' : o.snat ? 'SNAT' : ''].filter(Boolean),
    note: o.note,
    unknown: o.unknown.map((u) => `${u.rule.table} ${u.rule.chain}${u.rule.num !== null ? ` rule ${u.rule.num}` : ''}: ${u.reason}; assumed ${u.assumed}`),
    route: routeOf(r, o.number),
  };
}

/** One trace for the page. */
export function traceData(r: TraceReport, id: string): TraceData {
  return {
    id,
    name: r.name,
    family: r.family,
    protocol: r.packet.protocol,
    packet: r.packet,
    origin: r.origin,
    connection: r.connection ? { state: r.connection.state, reply: r.connection.reply, accepted: probData(r.connection.accepted) } : null,
    outcomes: r.outcomes.map((o) => outcomeData(r, o)),
    tree: segmentData(r.tree, 0, r.family),
    approximate: r.approximate,
  };
}

function visitSteps(seg: Segment, f: (s: Step) => void): void {
  seg.steps.forEach(f);
  seg.fork?.branches.forEach((b) => visitSteps(b.segment, f));
}

/**
 * The chains the reports' steps are in, each whole (every rule, in the user's spelling and line),
 * in the order they were first reached: the family's iptables tables (a hook extension's
 * pseudo-chains are in no file), and each hook extension's own listing (an nftables chain, an IPVS
 * virtual server with its real servers) where the node has one. A listing no step reached is left out.
 */
export function reachedChains(reports: readonly TraceReport[], rs: CompiledRuleset, ex: Explainer): ListingData[] {
  const family = rs.family;
  type Building = { listing: Omit<ListingData, 'chains' | 'texts'>; chains: Map<string, ChainData>; texts: string[] };
  const iptables: Building = { listing: { id: listingId(family, null), kind: 'iptables', family, file: ex.listing?.file ?? null, what: ex.listing?.what ?? null }, chains: new Map(), texts: [] };
  const listings = new Map<string, Building>([[iptables.listing.id, iptables]]);
  type Whole = { declaration: ChainData['declaration']; rules: readonly { line: number | null; text: string }[] };
  const add = (id: string, key: string, table: string, chain: string, make: () => (Whole & { listing: Building['listing'] }) | null) => {
    if (listings.get(id)?.chains.has(key)) return;
    const made = make();
    if (!made) return;
    let into = listings.get(id);
    if (!into) listings.set(id, (into = { listing: made.listing, chains: new Map(), texts: [] }));
    into.chains.set(key, chainData(table, chain, made.declaration, made.rules, into.texts));
  };
  for (const r of reports) {
    visitSteps(r.tree, (s) => {
      if (s.kind === 'conntrack' || s.kind === 'route') return;
      const ref = s.rule.listed;
      if (ref) {
        const id = listingId(family, ref);
        add(id, `${ref.table} ${ref.chain}`, ref.table, ref.chain, () => {
          const b = ex.block(ref);
          if (!b) return null;
          return { listing: { id, kind: ref.listing, family, file: b.file, what: b.what }, declaration: { line: b.declaration.line, text: b.declaration.text }, rules: b.rules };
        });
        return;
      }
      if (s.kind === 'extension') return;
      add(iptables.listing.id, `${s.rule.table} ${s.rule.chain}`, s.rule.table, s.rule.chain, () => {
        const c = rs.tables.get(s.rule.table)?.chains.get(s.rule.chain);
        if (!c || c.extension) return null;
        const d = ex.chain(c);
        return { listing: iptables.listing, declaration: { line: d.line, text: d.text }, rules: c.rules.map((rule) => ex.rule(rule)) };
      });
    });
  }
  return [...listings.values()].filter((l) => l.chains.size > 0).map((l) => ({ ...l.listing, chains: [...l.chains.values()], texts: l.texts }));
}
