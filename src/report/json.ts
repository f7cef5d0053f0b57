// `kpsim trace --json`: one object per traced packet, as schema/trace.schema.json defines it (its
// `schemaVersion` in every object). Other tools read these fields: they may be added, never
// renamed. Built straight from the simulator's outcomes (not the tree), so a bulk run builds
// nothing it does not print: with --no-paths no path is spelled out at all.
import { formatIp } from '../net/index.js';
import type { Explainer } from '../packetsim/explain.js';
import { fractionText, toDecimal } from '../packetsim/fraction.js';
import { hasPorts, type Packet } from '../packetsim/packet.js';
import type { Outcome, PathEntry, TraceResult } from '../packetsim/trace.js';
import type { CompiledRule, PathNode } from '../packetsim/types.js';
import { shortExact } from './exact.js';
import type { ConnectionView } from './model.js';

/** The version of schema/trace.schema.json this output follows. */
export const SCHEMA_VERSION = 1;

export interface PacketJson {
  protocol: string;
  sourceIP: string;
  sourcePort: number | null;
  destIP: string;
  destPort: number | null;
  origin: 'local' | 'remote';
  inInterface: string | null;
}

export interface PathJson {
  table: string;
  chain: string;
  /** 1-based rule number in the chain; null for a policy or an implicit return. */
  rule: number | null;
  /** The line in `rules.file` (for a hook extension's step: in its own dump); null when unknown. */
  line: number | null;
  action: string;
  /** Present (false) only for rules that were tried and did not match (--verbose). */
  matched?: boolean;
  /** --verbose: the rule as the ruleset writes it. */
  text?: string;
  /** --verbose, a rule that did not match: the first test that failed, in words. */
  why?: string;
  /** --verbose: what the step means in words (session affinity, IPVS persistence). */
  words?: string;
}

export interface UnknownJson {
  table: string;
  chain: string;
  rule: number;
  line: number | null;
  text: string;
  reason: string;
  assumed: string;
}

export interface OutcomeJson {
  probability: number;
  fraction: string;
  verdict: Outcome['verdict'];
  delivery: Outcome['delivery'];
  destIP: string;
  destPort: number | null;
  sourceIP: string;
  sourcePort: number | null;
  dnat: boolean;
  masquerade: boolean;
  /** Absent with --no-paths. */
  path?: PathJson[];
  snat: boolean;
  outInterface: string | null;
  mark: number;
  assumedVerdict: Outcome['assumedVerdict'];
  paths: number;
  unknown: UnknownJson[];
  note: string | null;
  /** The short exact form (`715827883/2^31`, `1/3`), null when the fraction has none. */
  exact: string | null;
  /** --sample: how many of the drawn packets had this outcome. */
  count?: number;
  /**
   * An UNKNOWN outcome's probability depends on the unmodelled matches listed in `unknown`: it is
   * at least this and at most `probability` (absent when exact).
   */
  minProbability?: number;
  minFraction?: string;
  /** NAT drew this side's port at random from `from`-`to`; the port shown stands for any of them. */
  randomPort?: { side: 'source' | 'destination'; from: number; to: number };
}

export interface TraceJson {
  schemaVersion: number;
  name?: string;
  packet: PacketJson;
  outcomes: OutcomeJson[];
  approximate?: boolean;
  /** The file `line` fields point into, and what it is (absent when the node has no listing). */
  rules?: { file: string; what: string };
  /** --state / --reply: how the traced packet relates to its connection. */
  connection?: { state: ConnectionView['state']; reply: boolean; accepted: string; replies?: PacketJson[] };
  /** --sample. */
  samples?: number;
  seed?: number;
}

export interface JsonOptions {
  /** Spell out each outcome's path (off: --no-paths). */
  readonly paths: boolean;
  /** The walks recorded explain mode's steps: add rule texts and why (--verbose). */
  readonly verbose: boolean;
}

function port(p: Packet, n: number): number | null {
  return hasPorts(p.protocol) ? n : null;
}

export function packetJson(p: Packet, origin: 'local' | 'remote'): PacketJson {
  return {
    protocol: p.protocol,
    sourceIP: formatIp(p.src, p.family),
    sourcePort: port(p, p.sport),
    destIP: formatIp(p.dst, p.family),
    destPort: port(p, p.dport),
    origin,
    inInterface: p.inIface,
  };
}

function lineOf(ex: Explainer, r: CompiledRule): number | null {
  // A hook extension's step: its line in its own dump (ipvsadm-save), as the rule's span says.
  return r.uid < 0 ? (r.span?.line ?? null) : ex.rule(r).line;
}

function stepJson(s: PathEntry, ex: Explainer, verbose: boolean): PathJson {
  const base = { table: s.chain.table, chain: s.chain.name };
  let out: PathJson;
  switch (s.kind) {
    case 'rule':
    case 'nomatch':
      out = { ...base, rule: s.rule!.num, line: lineOf(ex, s.rule!), action: s.rule!.action };
      if (s.kind === 'nomatch') out.matched = false;
      break;
    case 'policy':
      out = { ...base, rule: null, line: ex.chain(s.chain).line, action: `policy ${s.chain.policy}` };
      break;
    case 'return':
      out = { ...base, rule: null, line: null, action: 'return' };
      break;
    default: {
      const never: never = s.kind;
      return never;
    }
  }
  if (verbose && s.rule) {
    const n = s as PathNode;
    out.text = ex.rule(s.rule).text;
    const why = s.kind === 'nomatch' && (n.at || n.forked) ? ex.whyNot(s.rule, n.at!, n.forked) : null;
    if (why) out.why = why;
    const words = s.chain.extension ? s.rule.comment : s.kind === 'rule' && n.at ? ex.affinity(s.rule, n.at, true) : null;
    if (words) out.words = words;
  }
  return out;
}

export function outcomeJson(o: Outcome, ex: Explainer, opts: JsonOptions): OutcomeJson {
  const p = o.packet;
  const out: OutcomeJson = {
    probability: toDecimal(o.prob),
    fraction: fractionText(o.prob),
    verdict: o.verdict,
    delivery: o.delivery,
    destIP: formatIp(p.dst, p.family),
    destPort: port(p, p.dport),
    sourceIP: formatIp(p.src, p.family),
    sourcePort: port(p, p.sport),
    dnat: o.dnat,
    masquerade: o.masquerade,
    snat: o.snat,
    outInterface: p.outIface,
    mark: p.mark,
    assumedVerdict: o.assumedVerdict,
    paths: o.paths,
    unknown: o.unknown.map((u) => ({ table: u.rule.table, chain: u.rule.chain, rule: u.rule.num, line: lineOf(ex, u.rule), text: u.text, reason: u.reason, assumed: u.assumed })),
    note: o.note,
    exact: shortExact(o.prob),
  };
  if (o.min) {
    out.minProbability = toDecimal(o.min);
    out.minFraction = fractionText(o.min);
  }
  if (o.portDraw) out.randomPort = { side: o.portDraw.side, from: o.portDraw.from, to: o.portDraw.to };
  if (opts.paths) out.path = o.path.map((s) => stepJson(s, ex, opts.verbose));
  return out;
}

export interface TraceJsonInput {
  readonly result: TraceResult;
  readonly outcomes: readonly Outcome[];
  readonly name?: string;
  readonly approximate?: boolean;
  readonly connection?: ConnectionView | null;
  /** --reply: the reply packet of each world, in order. */
  readonly replies?: readonly TraceResult[];
}

export function traceJson(t: TraceJsonInput, ex: Explainer, opts: JsonOptions): TraceJson {
  const out: TraceJson = { schemaVersion: SCHEMA_VERSION, ...(t.name === undefined ? {} : { name: t.name }), packet: packetJson(t.result.input, t.result.origin), outcomes: [] };
  out.outcomes = t.outcomes.map((o) => outcomeJson(o, ex, opts));
  if (t.approximate) out.approximate = true;
  if (ex.listing) out.rules = { file: ex.listing.file, what: ex.listing.what };
  const c = t.connection;
  if (c && (c.reply || c.state !== 'new')) {
    out.connection = { state: c.state, reply: c.reply, accepted: fractionText(c.accepted) };
    if (t.replies) out.connection.replies = t.replies.map((r) => packetJson(r.input, r.origin));
  }
  return out;
}
