// The report model (model.ts) from the simulator's walks. Each finished walk is one path of
// steps; paths are merged from the front into a tree (the part every walk shares is printed once)
// and part at a fork. kube-proxy's statistic rules split one way per rule (`rule 2 matches
// 1/3, else rule 3 matches 1/2, else rule 4`): the walks that went past a rule because the split
// went the other way are grouped by the rule they finally took, so the fork has one branch per
// endpoint, each with its exact share of the fork. Shares are exact (fraction.ts): a branch's
// share is its probability over the fork's. An unmodelled match is traced both ways (UNKNOWN):
// those branches are assumptions, and both carry the full probability of reaching them.
import type { Family } from '../iptables/ir.js';
import { formatHostPort, formatIp } from '../net/index.js';
import { stateName, type Explainer } from '../packetsim/explain.js';
import { add, compare, div, mul, ZERO, type Prob } from '../packetsim/fraction.js';
import type { Packet } from '../packetsim/packet.js';
import { outcomeOf, sameObservable, type Outcome, type TraceResult } from '../packetsim/trace.js';
import { tablePriority } from '../packetsim/hook-order.js';
import type { CompiledChain, CompiledRule, Hook, PathNode, Walk } from '../packetsim/types.js';
import type { World } from '../packetsim/world.js';
import type { Branch, Change, ChangedField, ConnectionView, Fork, ForkKind, OutcomeView, PacketView, Segment, Step, TraceReport } from './model.js';

/** One packet traced in one world (a single packet: one world, probability 1). */
export interface TracedWorld {
  readonly prob: Prob;
  readonly world: World;
  readonly result: TraceResult;
  /** For a packet of an existing connection: the outcome of its first packet that left this world. */
  readonly after?: Outcome | null;
}

export interface ReportInput {
  readonly name?: string | null;
  /** The packet as given (a reply's connection's first packet). */
  readonly input: TraceResult;
  readonly traces: readonly TracedWorld[];
  /** The outcomes over every world, probabilities combined (the simulator's merge). */
  readonly outcomes: readonly Outcome[];
  readonly connection?: ConnectionView | null;
  readonly approximate?: boolean;
  /** The walks recorded explain mode's steps (rules that did not match, the state at each step). */
  readonly verbose: boolean;
}

function port(p: Packet, n: number): number | null {
  return p.protocol === 'tcp' || p.protocol === 'udp' || p.protocol === 'sctp' ? n : null;
}

/** The packet alone (no connection known). */
export function packetView(p: Packet): PacketView {
  return {
    protocol: p.protocol,
    source: formatIp(p.src, p.family),
    sourcePort: port(p, p.sport),
    destination: formatIp(p.dst, p.family),
    destinationPort: port(p, p.dport),
    mark: p.mark,
    inInterface: p.inIface,
    outInterface: p.outIface,
    ctState: null,
    ctMark: null,
    direction: null,
  };
}

/** The packet and its connection as a walk holds them. */
export function walkView(w: Readonly<Walk>): PacketView {
  return { ...packetView(w.pkt), ctState: stateName(w as Walk), ctMark: w.conn.mark, direction: w.dir };
}

/** `10.0.0.1:80`, `[fd00::1]:80`, or the address alone without a port. */
export function hostPortText(family: Family, ip: string, port: number | null): string {
  if (port === null) return ip;
  return family === 'ipv6' ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function hostPort(v: PacketView, which: 'source' | 'destination', family: Family): string {
  return which === 'source' ? hostPortText(family, v.source, v.sourcePort) : hostPortText(family, v.destination, v.destinationPort);
}

/** What changed between two states of the packet. */
export function changesBetween(a: PacketView, b: PacketView, family: Family): Change[] {
  const out: Change[] = [];
  const push = (field: ChangedField, from: string, to: string) => {
    if (from !== to) out.push({ field, from, to });
  };
  push('destination', hostPort(a, 'destination', family), hostPort(b, 'destination', family));
  push('source', hostPort(a, 'source', family), hostPort(b, 'source', family));
  push('mark', `0x${a.mark.toString(16)}`, `0x${b.mark.toString(16)}`);
  if (a.ctMark !== null && b.ctMark !== null) push('ctMark', `0x${a.ctMark.toString(16)}`, `0x${b.ctMark.toString(16)}`);
  push('inInterface', a.inInterface ?? 'none', b.inInterface ?? 'none');
  push('outInterface', a.outInterface ?? 'none', b.outInterface ?? 'none');
  if (a.ctState !== null && b.ctState !== null) push('ctState', a.ctState, b.ctState);
  return out;
}

interface Node {
  readonly kind: PathNode['kind'];
  readonly chain: CompiledChain;
  readonly rule: CompiledRule | null;
  readonly at: Readonly<Walk> | null;
  readonly forked: 'random' | 'unknown' | null;
}

/** A walk's path from its first step, memoised traversals spelled out. */
function nodesOf(w: Walk): Node[] {
  const out: Node[] = [];
  for (let n = w.path; n; n = n.prev) {
    if (n.segment) {
      for (let i = n.segment.length - 1; i >= 0; i--) out.push({ ...n.segment[i], at: null, forked: null });
    } else out.push({ kind: n.kind, chain: n.chain, rule: n.rule, at: n.at ?? null, forked: n.forked ?? null });
  }
  return out.reverse();
}

/** One walk as steps, with the rules behind them (for telling what kind of fork they part at). */
interface WalkPath {
  readonly steps: readonly Step[];
  readonly rules: readonly (CompiledRule | null)[];
  readonly prob: Prob;
  /** 1-based outcome number. */
  readonly outcome: number;
}

const NAT_TARGETS: ReadonlySet<string> = new Set(['dnat', 'snat', 'masquerade', 'redirect']);

/**
 * A rewrite no rule made: the connection's NAT binding applied by conntrack (nf_nat_packet) to a
 * later packet of the connection or to its reply, at the hook where the manip runs.
 */
function conntrackStep(changes: readonly Change[], hook: string, table: string): Step {
  const text = changes.map((c) => `${c.field} ${c.from} -> ${c.to}`).join(', ');
  return {
    kind: 'conntrack',
    hook,
    fn: table,
    priority: null,
    rule: { table, chain: '', num: null, file: null, line: null, text: "conntrack: the connection's NAT binding rewrites the packet", listed: null },
    action: 'nat',
    state: null,
    changes,
    why: null,
    words: null,
    forked: null,
    key: `conntrack|${text}`,
  };
}

const ADDRESSES: ReadonlySet<ChangedField> = new Set(['source', 'destination']);
const INTERFACES: ReadonlySet<ChangedField> = new Set(['inInterface', 'outInterface']);

/**
 * The routing decision (ip_route_input after PREROUTING, ip_route_me_harder after a rewrite in
 * OUTPUT): no rule sets an interface, so a change of interface between two steps is the route's.
 */
function routeStep(changes: readonly Change[]): Step {
  const text = changes.map((c) => `${c.field} ${c.to}`).join(', ');
  return {
    kind: 'route',
    hook: 'routing',
    fn: '',
    priority: null,
    rule: { table: '', chain: '', num: null, file: null, line: null, text: 'routing decision', listed: null },
    action: 'route',
    state: null,
    changes,
    why: null,
    words: null,
    forked: null,
    key: `route|${text}`,
  };
}

/**
 * Where conntrack's rewrite of an address runs (nf_nat_ipv4_fn's manips): the destination at
 * PREROUTING or OUTPUT, the source at POSTROUTING, or at INPUT for a packet delivered here.
 */
function conntrackHook(c: Change, hook: string, w: Walk): string {
  if (c.field === 'destination') return hook;
  return w.delivery === 'local' ? 'INPUT' : 'POSTROUTING';
}

function stepsOf(w: Walk, input: Packet, ex: Explainer, family: Family): { steps: Step[]; rules: (CompiledRule | null)[] } {
  const nodes = nodesOf(w);
  const steps: Step[] = [];
  const rules: (CompiledRule | null)[] = [];
  let hook = w.ctx.origin === 'local' ? 'OUTPUT' : 'PREROUTING';
  const states = nodes.map((n) => (n.at ? walkView(n.at) : null));
  const end = walkView(w);
  // A packet of a known connection is rewritten before its first rule (the reply's destination at PREROUTING).
  if (states[0]) {
    const before = changesBetween(packetView(input), states[0], family).filter((c) => ADDRESSES.has(c.field));
    if (before.length) {
      steps.push(conntrackStep(before, hook, nodes[0].chain.table));
      rules.push(null);
    }
  }
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    const ch = n.chain;
    if (n.at) hook = n.at.hook;
    else if (ch.hookFn) hook = ch.hookFn.hook;
    else if (ch.builtin && !ch.extension) hook = ch.name;
    // The hook function: a hook extension's own chain, the nftables base chain the walk is in, or the iptables table.
    const fn = ch.extension ? ch.hookFn : (n.at?.base?.hookFn ?? ch.hookFn);
    const r = n.rule;
    const shown = n.kind === 'rule' || n.kind === 'nomatch' ? ex.rule(r!) : ex.chain(ch);
    const kind = ch.extension ? 'extension' : n.kind;
    const next = i + 1 < nodes.length ? states[i + 1] : end;
    const state = states[i];
    let changes = state && next ? changesBetween(state, next, family) : [];
    // Address changes after anything but a NAT rule or an extension are conntrack's doing.
    const natHere = kind === 'extension' || (n.kind === 'rule' && r !== null && NAT_TARGETS.has(r.targetKind));
    const byConntrack = natHere ? [] : changes.filter((c) => ADDRESSES.has(c.field));
    if (byConntrack.length) changes = changes.filter((c) => !ADDRESSES.has(c.field));
    // A hook extension routes its own packets (IPVS's transmitters); for the rest, the route does.
    const byRoute = kind === 'extension' ? [] : changes.filter((c) => INTERFACES.has(c.field));
    if (byRoute.length) changes = changes.filter((c) => !INTERFACES.has(c.field));
    steps.push({
      kind,
      hook,
      fn: fn?.name ?? ch.table,
      priority: fn ? fn.priority : tablePriority(ch.table, hook as Hook),
      rule: { table: ch.table, chain: ch.name, num: r && !ch.extension ? r.num : null, file: shown.file, line: shown.line, text: shown.text, listed: (n.kind === 'rule' || n.kind === 'nomatch' ? r?.listed : ch.listed) ?? null },
      action: n.kind === 'policy' ? `policy ${ch.policy}` : n.kind === 'return' ? 'return' : r!.action,
      state,
      changes,
      why: n.kind === 'nomatch' && (n.at || n.forked) ? ex.whyNot(r!, n.at ?? w, n.forked ?? undefined) : null,
      // A hook extension's step says what it means (IPVS persistence, an nftables map's verdict).
      words: kind === 'extension' || (n.kind === 'rule' && r!.uid < 0) ? (r?.comment ?? null) : n.kind === 'rule' && n.at ? ex.affinity(r!, n.at, true) : null,
      forked: n.forked,
      key: `${kind}|${ch.table}|${ch.name}|${r ? r.uid : ''}`,
    });
    rules.push(r);
    // In the order the kernel runs them: the destination's rewrite before the route, the source's after.
    const dst = byConntrack.filter((c) => conntrackHook(c, hook, w) === hook);
    const src = byConntrack.filter((c) => conntrackHook(c, hook, w) !== hook);
    if (dst.length) {
      steps.push(conntrackStep(dst, hook, ch.table));
      rules.push(null);
    }
    if (byRoute.length) {
      steps.push(routeStep(byRoute));
      rules.push(null);
    }
    if (src.length) {
      steps.push(conntrackStep(src, conntrackHook(src[0], hook, w), 'nat'));
      rules.push(null);
    }
  }
  return { steps, rules };
}

/** A random split: iptables' `-m statistic --mode random`, an extension's draw (nftables' numgen). */
function isRandom(r: CompiledRule | null): boolean {
  return r !== null && (r.rand0 >= 0 || r.random !== undefined || r.matches.some((m) => m.kind === 'random'));
}

function hasUnknown(r: CompiledRule | null): boolean {
  return r !== null && r.matches.some((m) => m.kind === 'unknown');
}

function unique(xs: readonly number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

function sum(ps: readonly Prob[]): Prob {
  let s = ZERO;
  for (const p of ps) s = add(s, p);
  return s;
}

/** The common prefix of the paths from `from`, then their ends and the fork where they part. */
function build(paths: readonly WalkPath[], from: number): Segment {
  let end = from;
  for (;;) {
    const k = paths[0].steps[end]?.key;
    if (k === undefined || paths.some((p) => p.steps[end]?.key !== k)) break;
    end++;
  }
  const steps = paths[0].steps.slice(from, end);
  const finished = paths.filter((p) => p.steps.length === end);
  const going = paths.filter((p) => p.steps.length > end);
  const fork = going.length ? forkOf(going, end) : null;
  const own = sum(finished.map((p) => p.prob));
  return { steps, fork: fork?.fork ?? null, ends: unique(finished.map((p) => p.outcome)), prob: fork ? add(own, fork.weight) : own };
}

function commonPrefix(texts: readonly string[]): string {
  let p = texts[0] ?? '';
  for (const t of texts) while (!t.startsWith(p)) p = p.slice(0, -1);
  // Whole words only.
  const cut = p.lastIndexOf(' ');
  return cut < 0 ? '' : p.slice(0, cut + 1);
}

function forkOf(going: readonly WalkPath[], at: number): { fork: Fork; weight: Prob } {
  const first = going[0].steps[at];
  const { table, chain } = first.rule;
  // Past the statistic rules a walk did not take, to the rule it took.
  const keyAt = (p: WalkPath): number => {
    let k = at;
    while (k < p.steps.length && p.steps[k].forked === 'random' && p.steps[k].rule.chain === chain && p.steps[k].rule.table === table) k++;
    return k;
  };
  const groups = new Map<string, { paths: WalkPath[]; k: number }>();
  let skipped = false;
  for (const p of going) {
    const k = keyAt(p);
    if (k > at) skipped = true;
    const key = p.steps[k]?.key ?? '(end)';
    const g = groups.get(key);
    if (g) g.paths.push(p);
    else groups.set(key, { paths: [p], k });
  }
  let kind: ForkKind = 'other';
  if (skipped || going.some((p) => isRandom(p.rules[at]))) kind = 'statistic';
  else if (going.every((p) => p.steps[at].kind === 'extension')) kind = 'extension';
  else if (going.some((p) => p.steps[at].forked === 'unknown' || hasUnknown(p.rules[at]))) kind = 'unknown';
  const parts = [...groups.values()].map((g) => ({ ...g, segment: build(g.paths, at), step: g.paths[0].steps[g.k] as Step | undefined }));
  const weight = kind === 'unknown' ? parts.reduce((m, g) => (compare(g.segment.prob, m) > 0 ? g.segment.prob : m), ZERO) : sum(parts.map((g) => g.segment.prob));
  const prefix = kind === 'extension' ? commonPrefix(parts.map((g) => g.step?.action ?? '')) : '';
  const label = (g: (typeof parts)[number]): string => {
    const s = g.step;
    if (!s) return 'no rule takes it';
    switch (kind) {
      case 'statistic':
        return s.kind === 'rule' ? `rule ${s.rule.num}: ${s.action}` : `rule ${s.rule.num} does not match`;
      case 'extension':
        return `${prefix.endsWith('-> ') ? '-> ' : ''}${s.action.slice(prefix.length)}`;
      case 'unknown':
        return s.kind === 'rule' ? `assumed to match: rule ${s.rule.num}, ${s.action}` : `assumed not to match: rule ${s.rule.num}`;
      default:
        return s.kind === 'rule' || s.kind === 'extension' ? s.action : `${s.kind} ${s.rule.chain}`;
    }
  };
  const branches: Branch[] = parts.map((g) => ({
    label: label(g),
    share: kind === 'unknown' || weight.num === 0n ? null : div(g.segment.prob, weight),
    segment: g.segment,
    outcomes: unique(g.paths.map((p) => p.outcome)),
    packet: null,
  }));
  const order = (b: Branch) => b.outcomes[0] ?? Infinity;
  branches.sort((a, b) => order(a) - order(b));
  let what: string;
  if (kind === 'statistic') what = going.map((p) => p.rules[at]?.random).find((x) => x !== undefined) ?? '-m statistic --mode random';
  else if (kind === 'extension') what = prefix.replace(/\s*->\s*$/, '').trim() || 'a hook extension';
  else if (kind === 'unknown') {
    const m = going.map((p) => p.rules[at]).find(hasUnknown)?.matches.find((x) => x.kind === 'unknown');
    what = m?.kind === 'unknown' ? `${m.text} (${m.reason})` : 'a match kpsim does not model';
  } else what = 'the paths part here';
  return { fork: { kind, table, chain, what, branches }, weight };
}

/** One world's walks as paths, outcomes numbered in `outcomes`. */
function pathsOf(t: TracedWorld, outcomes: readonly Outcome[], ex: Explainer, family: Family): WalkPath[] {
  return t.result.walks.map((w) => {
    const prob = mul(t.prob, w.prob);
    const o = outcomeOf(w, prob);
    // outcomesOf gathers walks by what anyone can see of their end (the assumptions they rest on aside).
    const n = outcomes.findIndex((x) => sameObservable(x, o));
    const { steps, rules } = stepsOf(w, t.result.input, ex, family);
    return { steps, rules, prob, outcome: n + 1 };
  });
}

function outcomeLabel(o: Outcome, family: Family): string {
  const p = o.packet;
  const to = formatHostPort(p.dst, port(p, p.dport), family);
  const how = [o.dnat ? 'DNAT' : '', o.masquerade ? 'masquerade' : o.snat ? 'SNAT' : ''].filter(Boolean).join(', ');
  return `its first packet: ${o.verdict === 'ACCEPT' ? `to ${to}` : o.verdict}${how ? ` (${how})` : ''}`;
}

/** The report of one traced packet. */
export function buildReport(input: ReportInput, ex: Explainer, worldFacts: (w: World) => string[]): TraceReport {
  const family = input.input.family;
  const outcomes = input.outcomes;
  const all = input.traces.map((t) => pathsOf(t, outcomes, ex, family));
  const history = input.traces.some((t) => t.after);
  // Worlds in which this packet takes the same paths to the same outcomes are one case for it:
  // what differs between them does not matter here (their walks merge as one tree's).
  const groups = new Map<string, number[]>();
  input.traces.forEach((t, i) => {
    const sig = history ? String(i) : all[i].map((p) => `${p.steps.map((x) => x.key).join(' ')}>${p.outcome}`).sort().join('\n');
    groups.set(sig, [...(groups.get(sig) ?? []), i]);
  });
  let tree: Segment;
  if (groups.size === 1 && !history) tree = build(all.flat(), 0);
  else {
    // The worlds differ in what earlier packets left: label each by what only it holds.
    const facts = input.traces.map((t) => worldFacts(t.world));
    const common = facts.length > 1 ? facts[0].filter((f) => facts.every((x) => x.includes(f))) : [];
    const branches: Branch[] = [...groups.values()].map((members, g) => {
      const t = input.traces[members[0]];
      const paths = members.flatMap((i) => all[i]);
      // What every world of the group holds and not every world does.
      const own = facts[members[0]].filter((f) => !common.includes(f) && members.every((i) => facts[i].includes(f)));
      const at = t.result.input;
      const given = input.input.input;
      const sameInput = at.src === given.src && at.dst === given.dst && at.sport === given.sport && at.dport === given.dport;
      return {
        label: t.after ? outcomeLabel(t.after, family) : own.length ? own.join('; ') : `state ${g + 1}`,
        share: sum(members.map((i) => input.traces[i].prob)),
        segment: build(paths, 0),
        outcomes: unique(paths.map((p) => p.outcome)),
        packet: sameInput ? null : packetView(at),
      };
    });
    const what = history ? 'the connection its first packet made' : 'the state earlier packets left';
    tree = { steps: [], fork: { kind: 'state', table: null, chain: null, what, branches }, ends: [], prob: sum(input.traces.map((t) => t.prob)) };
  }
  // Each outcome's packet at the end, from the first walk that ends in it.
  const endOf = new Map<number, PacketView>();
  input.traces.forEach((t, i) => t.result.walks.forEach((w, k) => endOf.has(all[i][k].outcome) || endOf.set(all[i][k].outcome, walkView(w))));
  const views: OutcomeView[] = outcomes.map((o, i) => ({
    number: i + 1,
    prob: o.prob,
    verdict: o.verdict,
    assumedVerdict: o.assumedVerdict,
    delivery: o.delivery,
    packet: endOf.get(i + 1) ?? packetView(o.packet),
    dnat: o.dnat,
    snat: o.snat,
    masquerade: o.masquerade,
    note: o.note,
    min: o.min,
    portDraw: o.portDraw,
    unknown: o.unknown.map((u) => {
      const s = ex.rule(u.rule);
      return { rule: { table: u.rule.table, chain: u.rule.chain, num: u.rule.uid < 0 ? null : u.rule.num, file: s.file, line: s.line, text: s.text, listed: u.rule.listed ?? null }, text: u.text, reason: u.reason, assumed: u.assumed };
    }),
    paths: o.paths,
  }));
  return {
    name: input.name ?? null,
    family,
    packet: packetView(input.input.input),
    origin: input.input.origin,
    connection: input.connection ?? null,
    outcomes: views,
    tree,
    listing: ex.listing,
    verbose: input.verbose,
    approximate: input.approximate ?? false,
  };
}

/** The leaf segments under a fork, each with the steps it prints (after `trim` of its last ones). */
function leaves(seg: Segment, out: Segment[]): boolean {
  if (!seg.fork) {
    out.push(seg);
    return true;
  }
  // A segment some walks end in while others fork on: no tail is shared below it.
  if (seg.ends.length) return false;
  return seg.fork.branches.every((b) => leaves(b.segment, out));
}

/**
 * How many last steps every leaf under `fork` has in common (after each leaf's last `trim` steps,
 * which an enclosing fork prints), each leaf keeping at least its first step (a state fork's
 * leaves may keep none): the steps every branch goes on with, printed once after the branches.
 */
export function sharedTail(fork: Fork, trim = 0): { length: number; leaves: readonly Segment[] } {
  const ls: Segment[] = [];
  if (!fork.branches.every((b) => leaves(b.segment, ls)) || ls.length < 2) return { length: 0, leaves: ls };
  // A state fork's branches say how they differ in their labels; the others, by their first step.
  const keep = fork.kind === 'state' ? 0 : 1;
  const max = Math.min(...ls.map((l) => l.steps.length - trim - keep));
  let n = 0;
  while (n < max) {
    const key = ls[0].steps[ls[0].steps.length - trim - 1 - n].key;
    if (!ls.every((l) => l.steps[l.steps.length - trim - 1 - n].key === key)) break;
    n++;
  }
  return { length: n, leaves: ls };
}

/**
 * The tail's steps (sharedTail's), printed once for every branch: each with its changes when they
 * are the same on every branch, and none when they differ (each branch's own are in its steps).
 */
export function tailSteps(tail: { readonly length: number; readonly leaves: readonly Segment[] }, trim: number): Step[] {
  const out: Step[] = [];
  if (tail.length === 0) return out;
  const first = tail.leaves[0];
  const from = first.steps.length - trim - tail.length;
  for (let k = 0; k < tail.length; k++) {
    const own = (l: Segment) => l.steps[l.steps.length - trim - tail.length + k].changes;
    const text = JSON.stringify(own(first));
    const same = tail.leaves.every((l) => JSON.stringify(own(l)) === text);
    out.push({ ...first.steps[from + k], changes: same ? own(first) : [] });
  }
  return out;
}
