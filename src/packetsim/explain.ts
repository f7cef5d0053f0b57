// Explain mode's questions about rules, answered after a trace from the node value (so a trace
// without explain pays nothing for them): how the user's ruleset spells a rule and on which line
// (the node's listing, src/node/listing.ts), why a rule did not match the packet as it was when the
// walk tried it, and what a `recent` match means for the packet (kube-proxy's ClientIP affinity).
//
// Why a rule did not match is decided by the simulator's own compiled tests, never by a second
// implementation: the rule's arguments are grouped as link.ts groups them and each built-in
// option (in ip_packet_match's order: -s -d -i -o -p -f) and each extension option (in the order
// written, as ipt_do_table runs the matches) is compiled on its own and run on a copy of the walk
// recorded at that step (PathNode.at). The first one that fails is the reason, said in words with
// the packet's own value: `--dport 443 != 80`, `-s 10.0.0.0/8: 192.168.1.5 is outside`,
// `--ctstate NEW: the packet is ESTABLISHED`. Options that only make sense together (`recent`,
// `statistic`) are tested as their whole match.
import type { Family, OptionArg, Rule, Value } from '../iptables/ir.js';
import type { Node } from '../node/node.js';
import type { RuleListing } from '../node/listing.js';
import { formatHostPort, formatIp, type Ip } from '../net/index.js';
import type { Conn } from './conntrack.js';
import { groupArgs, type MatchGroup } from './rule-groups.js';
import { fork } from './evaluate.js';
import { reduce } from './fraction.js';
import { ipsetDb, type IpsetDb } from './ipset.js';
import { compileBuiltin } from './matches/builtin.js';
import { ctStateBits } from './matches/conntrack.js';
import { isModelledMatch } from './coverage.js';
import { compileMatch } from './matches/index.js';
import { intOf, listOf, negated, wordOf } from './matches/values.js';
import { TCP_FLAGS } from './packet.js';
import type { CMatch, CompiledChain, CompiledRule, ListedRef, Walk } from './types.js';
import type { World } from './world.js';

/** A rule or chain as the user's ruleset has it. */
export interface Shown {
  /** The file its line is in; null when the node has no listing (the IR's spelling, no line). */
  readonly file: string | null;
  readonly line: number | null;
  /** The whole line as the ruleset writes it (`-A KUBE-SERVICES -d 10.96.0.10/32 ...`). */
  readonly text: string;
}

export interface Explainer {
  /** The file rule lines point into, and what it is; null without a listing. */
  readonly listing: { readonly file: string; readonly what: string } | null;
  rule(r: CompiledRule): Shown;
  /** A chain's declaration line (`:FORWARD ACCEPT [0:0]`: its policy). */
  chain(c: CompiledChain): Shown;
  /** Why rule `r` did not match the packet as it was at `at`, in words; null when no test fails on it. */
  whyNot(r: CompiledRule, at: Readonly<Walk>, forked?: 'random' | 'unknown'): string | null;
  /** What the rule's `recent` match means for this packet, in words (affinity); null without one. */
  affinity(r: CompiledRule, at: Readonly<Walk>, matched: boolean): string | null;
  /** Where a hook extension's rules are listed, whole: the chain's (or virtual server's) line and each rule's; null without a listing. */
  block(ref: ListedRef): ListedChain | null;
}

/** A hook extension's chain as its listing writes it. */
export interface ListedChain {
  readonly file: string;
  readonly what: string;
  readonly declaration: Shown;
  /** In chain order; a rule the listing lacks has a null line and empty text. */
  readonly rules: readonly Shown[];
}

/** Modules whose options test one thing each; the others are tested as a whole. */
const PER_OPTION = new Set(['tcp', 'udp', 'sctp', 'multiport', 'mark', 'connmark', 'conntrack', 'state', 'iprange', 'pkttype', 'icmp', 'icmp6', 'set', 'addrtype']);
/** Options that change how the others of their match read (tested along with each). */
const MODIFIERS = new Set(['limit-iface-in', 'limit-iface-out', 'return-nomatch', 'update-counters', 'update-subcounters']);
/** ip_packet_match's order. */
const BUILTIN_ORDER = ['source', 'destination', 'in-interface', 'out-interface', 'protocol', 'fragment'];
const STATE_NAMES: readonly (readonly [number, string])[] = [[1, 'INVALID'], [2, 'ESTABLISHED'], [4, 'RELATED'], [8, 'NEW'], [16, 'UNTRACKED'], [32, 'SNAT'], [64, 'DNAT']];

function valueText(v: Value): string {
  // An address the way iptables-save prints it: with its prefix.
  if (v.type === 'address' && !v.text.includes('/')) return `${v.text}/${v.prefix}`;
  return v.text;
}

/** An option as written: `! --dport 80`. */
export function optionText(opt: OptionArg): string {
  const values = opt.values.map(valueText).join(' ');
  return `${negated(opt) ? '! ' : ''}${opt.spelling}${values ? ' ' + values : ''}`;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** The packet's conntrack state as --ctstate names it (`NEW`, `ESTABLISHED,DNAT`). */
export function stateName(w: Walk): string {
  const bits = ctStateBits(w);
  return STATE_NAMES.filter(([b]) => bits & b).map(([, n]) => n).join(',');
}

function flagNames(flags: number): string {
  const names = Object.entries(TCP_FLAGS).filter(([, b]) => flags & b).map(([n]) => n);
  return names.length ? names.join(',') : 'none';
}

/** Runs compiled tests on a copy of the walk; the first that fails, or -1. Random and unknown matches count as passed. */
function firstFailing(tests: readonly CMatch[], at: Readonly<Walk>): number {
  for (let i = 0; i < tests.length; i++) {
    const t = tests[i];
    if (t.kind === 'test' && !t.test(fork(at as Walk))) return i;
  }
  return -1;
}

/** The packet's value an option tested, and how it failed, in words. */
function failedWords(opt: OptionArg, module: string | null, w: Walk, family: Family): string {
  const text = optionText(opt);
  const neg = negated(opt);
  const p = w.pkt;
  const ip = (a: Ip) => formatIp(a, family);
  const inside = neg ? 'inside' : 'outside';
  switch (opt.name) {
    case 'source':
      return `${text}: ${ip(p.src)} is ${inside}`;
    case 'destination':
      return `${text}: ${ip(p.dst)} is ${inside}`;
    case 'protocol':
      return `${text}: the packet is ${p.protocol}`;
    case 'in-interface':
      return `${text}: ${p.inIface ? `the packet came in on ${p.inIface}` : 'the packet was made on this node (no input interface)'}`;
    case 'out-interface':
      return `${text}: ${p.outIface ? `the packet goes out on ${p.outIface}` : 'the packet has no output interface'}`;
    case 'fragment':
      return `${text}: the packet is ${neg ? 'a fragment' : 'not a fragment'}`;
    case 'sport':
    case 'dport':
    case 'sports':
    case 'dports':
    case 'ports': {
      const src = opt.name.startsWith('s');
      const port = opt.name === 'ports' ? `${p.sport} and ${p.dport}` : String(src ? p.sport : p.dport);
      const v = opt.values[0];
      const single = opt.values.length === 1 && v.type === 'ports' && v.ranges.length === 1 && v.ranges[0][0] === v.ranges[0][1];
      if (!neg && single) return `${text} != ${port}`;
      return neg ? `${text}: the port is ${port}` : `${text}: ${port} is not among them`;
    }
    case 'syn':
    case 'tcp-flags':
      return `${text}: the packet's TCP flags are ${flagNames(p.tcpFlags)}`;
    case 'mark':
      return module === 'connmark' ? `${text}: the connection's mark is ${hex(w.conn.mark)}` : `${text}: the packet's mark is ${hex(p.mark)}`;
    case 'state':
    case 'ctstate':
      return `${text}: the packet is ${stateName(w)}`;
    case 'ctdir':
      return `${text}: the packet goes in the ${w.dir} direction`;
    case 'ctorigsrc':
      return `${text}: the connection's original source is ${ip(w.conn.orig.src)}`;
    case 'ctorigdst':
      return `${text}: the connection's original destination is ${ip(w.conn.orig.dst)}`;
    case 'ctreplsrc':
      return `${text}: the connection's reply source is ${ip(w.conn.reply.src)}`;
    case 'ctrepldst':
      return `${text}: the connection's reply destination is ${ip(w.conn.reply.dst)}`;
    case 'src-type':
    case 'dst-type': {
      const a = ip(opt.name === 'src-type' ? p.src : p.dst);
      const types = listOf(opt).join(',');
      return neg ? `${text}: ${a} is ${types}` : `${text}: ${a} is not ${types}`;
    }
    case 'src-range':
      return `${text}: ${ip(p.src)} is ${inside}`;
    case 'dst-range':
      return `${text}: ${ip(p.dst)} is ${inside}`;
    case 'match-set': {
      const flags = opt.values.length > 1 ? listOf(opt, 1) : ['src'];
      const dims = flags.map((f, i) => (i === 1 ? `${p.protocol}:${f === 'src' ? p.sport : p.dport}` : ip(f === 'src' ? p.src : p.dst)));
      return `${text}: ${dims.join(',')} is ${neg ? 'in' : 'not in'} ${opt.values.length ? wordOf(opt, 0) : 'the set'}`;
    }
    case 'pkt-type':
      return `${text}: the packet is ${neg ? '' : 'not '}of that type`;
    case 'icmp-type':
    case 'icmpv6-type':
      return `${text}: ${p.protocol === 'icmp' || p.protocol === 'icmpv6' ? 'the packet is an echo request' : `the packet is ${p.protocol}`}`;
    default:
      return `${text}: does not match the packet`;
  }
}

interface RecentFacts {
  readonly name: string;
  readonly command: 'set' | 'rcheck' | 'update' | 'remove';
  readonly seconds: number | null;
  readonly rdest: boolean;
  readonly invert: boolean;
}

function unquote(t: string): string {
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** The options of a `recent` match (xt_recent), as facts. */
function recentFacts(g: MatchGroup): RecentFacts {
  let name = 'DEFAULT';
  let command: RecentFacts['command'] = 'set';
  let seconds: number | null = null;
  let rdest = false;
  let invert = false;
  for (const o of g.opts) {
    if (o.name === 'name') name = unquote(wordOf(o));
    else if (o.name === 'set' || o.name === 'rcheck' || o.name === 'update' || o.name === 'remove') {
      command = o.name;
      invert = negated(o);
    } else if (o.name === 'seconds') seconds = intOf(o);
    else if (o.name === 'rdest') rdest = true;
  }
  return { name, command, seconds, rdest, invert };
}

function groupText(g: MatchGroup): string {
  return [`-m ${g.module}`, ...g.opts.map(optionText)].join(' ');
}

/** Why a whole match (recent, statistic nth, ...) failed. */
function groupWords(g: MatchGroup, w: Walk, family: Family): string {
  const text = groupText(g);
  if (g.module === 'recent') {
    const f = recentFacts(g);
    const who = formatIp(f.rdest ? w.pkt.dst : w.pkt.src, family);
    if (f.invert) return `${text}: ${who} is in recent list ${f.name}`;
    return `${text}: ${who} is not in recent list ${f.name}${f.seconds !== null ? ` within ${f.seconds} s` : ''}`;
  }
  if (g.module === 'statistic') return `${text}: not this packet's turn`;
  return `${text}: does not match the packet`;
}

function dnatTo(rule: Rule): string | null {
  const t = rule.target;
  if (t?.kind !== 'extension' || t.name !== 'DNAT') return null;
  const to = t.options.find((o) => o.name === 'to-destination');
  return to?.values[0]?.text ?? null;
}

/** Explain mode's answers for one family of a node (the one the trace's ruleset was compiled from). */
export function explainer(node: Pick<Node, 'netfilter' | 'ipsets' | 'listings' | 'hookListings'>, family: Family): Explainer {
  const state = node.netfilter.get(family) ?? null;
  const listing: RuleListing | null = node.listings?.get(family) ?? null;
  /** A hook extension's rule or chain in its listing (nftables' chains, IPVS's servers). */
  const listedLine = (ref: ListedRef) => {
    const l = node.hookListings?.get(ref.listing);
    const at = l ? (ref.index === null ? l.chain(ref.table, ref.chain) : l.rule(ref.table, ref.chain, ref.index)) : null;
    return at ? { file: l!.file, ...at } : null;
  };
  let sets: IpsetDb | null | undefined;
  const ipsets = () => (sets === undefined ? (sets = node.ipsets ? ipsetDb(node.ipsets, family) : null) : sets);
  const irOf = (r: CompiledRule): Rule | null => state?.tables.get(r.table)?.get(r.chain)?.rules[r.num - 1] ?? null;
  /** Adds to `into` the --seconds of the rules of `rules` that check a recent list, by list. */
  const checksIn = (rules: readonly Rule[], into: Map<string, number>): void => {
    for (const rule of rules) {
      if (!rule.args.some((a) => a.kind === 'module' && a.name === 'recent')) continue;
      for (const g of groupArgs(rule.args).groups) {
        if (g.module !== 'recent' || g.opaque !== null) continue;
        const f = recentFacts(g);
        if ((f.command === 'rcheck' || f.command === 'update') && f.seconds !== null) into.set(f.name, f.seconds);
      }
    }
  };
  let timeouts: Map<string, number> | null = null;
  /**
   * recent list -> the --seconds of the rules that check it (kube-proxy's KUBE-SVC affinity rules).
   * First in the chains that called the one the walk is in (kube-proxy's KUBE-SVC chain checks the
   * lists its KUBE-SEP chains set): a dump's rules are read chain by chain, and reading them all
   * for a number was most of a one-packet trace at 10k services. Else in every chain.
   */
  const timeoutOf = (name: string, at: Readonly<Walk>): number | null => {
    // The walk's chain, then its callers, nearest first.
    const chains: CompiledChain[] = at.chain ? [at.chain] : [];
    for (let f = at.callers; f !== null; f = f.caller) chains.push(f.chain);
    for (const ch of chains) {
      const near = new Map<string, number>();
      checksIn(state?.tables.get(ch.table)?.get(ch.name)?.rules ?? [], near);
      const seconds = near.get(name);
      if (seconds !== undefined) return seconds;
    }
    if (!timeouts) {
      timeouts = new Map();
      for (const t of state?.tables.values() ?? []) for (const c of t.values()) checksIn(c.rules, timeouts);
    }
    return timeouts.get(name) ?? null;
  };

  const whyNot = (r: CompiledRule, at: Readonly<Walk>, forked?: 'random' | 'unknown'): string | null => {
    const rule = irOf(r);
    if (forked === 'random') {
      // The kernel's odds: stored / 2^31 (xt_statistic.c), as a reduced dyadic fraction.
      const m = r.matches.find((x) => x.kind === 'random');
      if (m?.kind !== 'random') return '-m statistic --mode random: not picked';
      const p = reduce({ num: BigInt(m.invert ? 0x80000000 - m.stored : m.stored), exp: 31, den: 1n });
      const odds = p.exp === 0 ? String(p.num) : p.exp <= 12 ? `${p.num}/${1 << p.exp}` : `${p.num}/2^${p.exp}`;
      return `-m statistic --mode random: not picked (the rule takes ${odds} of the packets that reach it)`;
    }
    if (forked === 'unknown') {
      const m = r.matches.find((x) => x.kind === 'unknown');
      return `${m?.kind === 'unknown' ? m.text : 'a match'}: not modelled (${m?.kind === 'unknown' ? m.reason : 'unknown'}); this branch assumes it does not match`;
    }
    if (!rule) return null;
    const w = at as Walk;
    const { builtins, groups } = groupArgs(rule.args);
    const ordered = [...builtins].sort((a, b) => BUILTIN_ORDER.indexOf(a.name) - BUILTIN_ORDER.indexOf(b.name));
    for (const opt of ordered) {
      const test = compileBuiltin([opt], family, false).test;
      if (test && !test(fork(w))) return failedWords(opt, null, w, family);
    }
    const cx = { family, ipsets: ipsets(), uid: r.uid };
    for (const g of groups) {
      if (g.opaque !== null || !isModelledMatch(g.module)) continue;
      if (PER_OPTION.has(g.module)) {
        const modifiers = g.opts.filter((o) => MODIFIERS.has(o.name));
        for (const opt of g.opts) {
          if (MODIFIERS.has(opt.name)) continue;
          let tests: CMatch[];
          try {
            tests = compileMatch(g.module, [...modifiers, opt], cx);
          } catch {
            continue;
          }
          if (firstFailing(tests, w) >= 0) return failedWords(opt, g.module, w, family);
        }
        continue;
      }
      let tests: CMatch[];
      try {
        tests = compileMatch(g.module, g.opts, cx);
      } catch {
        continue;
      }
      if (firstFailing(tests, w) >= 0) return groupWords(g, w, family);
    }
    return null;
  };

  const affinity = (r: CompiledRule, at: Readonly<Walk>, matched: boolean): string | null => {
    if (!r.stateful) return null;
    const rule = irOf(r);
    if (!rule) return null;
    const g = groupArgs(rule.args).groups.find((x) => x.module === 'recent' && x.opaque === null);
    if (!g) return null;
    const f = recentFacts(g);
    const who = formatIp(f.rdest ? at.pkt.dst : at.pkt.src, family);
    if (!matched) return null;
    const seconds = f.seconds ?? timeoutOf(f.name, at);
    if (f.command === 'set' || f.command === 'update') {
      const to = dnatTo(rule);
      const span = seconds !== null ? ` for ${seconds} s` : '';
      if (f.command === 'update') return `${who} seen again: the affinity lasts${span || ' on'} (recent list ${f.name})`;
      return to ? `sticks to ${to}${span} (recent list ${f.name})` : `remembers ${who}${span} (recent list ${f.name})`;
    }
    if (f.command === 'rcheck') return `${who} is in recent list ${f.name}${seconds !== null ? ` (seen within ${seconds} s)` : ''}: it sticks to the endpoint it had`;
    return `${who} leaves recent list ${f.name}`;
  };

  return {
    listing: listing ? { file: listing.file, what: listing.what } : null,
    rule(r) {
      // A hook extension's rule (nftables) is its listing's line; a decision (IPVS's pick of a real
      // server, a rule with no text) is its action, with the line of what it picked. A node without
      // a listing shows the IR's spelling.
      if (r.uid < 0) {
        const l = r.listed ? listedLine(r.listed) : null;
        return { file: l?.file ?? null, line: l?.line ?? null, text: r.text ? (l?.text ?? r.text) : r.action };
      }
      const l = listing?.rule(r.table, r.chain, r.num - 1);
      return l ? { file: listing!.file, line: l.line, text: l.text } : { file: null, line: listing ? null : (r.span?.line ?? null), text: `-A ${r.chain} ${r.text}` };
    },
    chain(c) {
      if (c.listed) {
        const x = listedLine(c.listed);
        return x ?? { file: null, line: null, text: `chain ${c.name}, policy ${c.policy.toLowerCase()}` };
      }
      const l = c.extension ? null : listing?.chain(c.table, c.name);
      return l ? { file: listing!.file, line: l.line, text: l.text } : { file: null, line: c.span?.line ?? null, text: `:${c.name} ${c.policy}` };
    },
    whyNot,
    affinity,
    block(ref) {
      const l = node.hookListings?.get(ref.listing);
      const b = l?.block?.(ref.table, ref.chain);
      if (!l || !b) return null;
      const shown = (x: { line: number; text: string } | null): Shown => ({ file: x ? l.file : null, line: x?.line ?? null, text: x?.text ?? '' });
      return { file: l.file, what: l.what, declaration: shown(b.head), rules: b.rules.map(shown) };
    },
  };
}

/**
 * What a world holds that a later packet may meet, one fact each: connections (with their NAT
 * binding), `recent` list entries (keyed `FAMILY|LIST|ADDRESS` by matches/recent.ts), and hook
 * extensions' slots (IPVS persistence templates and rr positions, by the key the extension chose).
 */
export function worldFacts(world: World, family: Family): string[] {
  const out: string[] = [];
  const seen = new Set<Conn>();
  for (const c of world.conns.values()) {
    if (seen.has(c)) continue;
    seen.add(c);
    const o = c.orig;
    const to = c.reply.src !== o.dst || c.reply.sport !== o.dport ? ` to ${formatHostPort(c.reply.src, c.reply.sport, family)}` : '';
    out.push(`connection ${formatHostPort(o.src, o.sport, family)} -> ${formatHostPort(o.dst, o.dport, family)}${to}${c.seenReply ? ' (established)' : ''}`);
  }
  for (const k of world.recent.keys()) {
    const parts = k.split('|');
    const addr = parts.at(-1) ?? '';
    const ip = /^\d+$/.test(addr) ? formatIp(family === 'ipv4' ? Number(addr) : BigInt(addr), family) : addr;
    out.push(`${ip} in recent list ${parts.slice(1, -1).join('|')}`);
  }
  for (const [k, v] of world.ext) out.push(`${k.startsWith('t|') ? 'persistence' : 'scheduler'} ${k.split('|').slice(1, 3).join(' ')}: ${v.value}`);
  return out;
}
