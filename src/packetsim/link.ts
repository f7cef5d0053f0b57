// The kernel's tables (restores applied by src/iptables/state.ts) -> compiled ruleset, once per
// node and family: every rule's arguments grouped into the built-in check and its extension matches in order,
// targets compiled, jumps resolved, big chains indexed.
import type { Family, Rule, Span } from '../iptables/ir.js';
import { isBuiltinChain, type KernelChain, type KernelState } from '../iptables/state.js';
import { buildIndex } from './chain-index.js';
import { programsFor } from './evaluate.js';
import { planMemos } from './memo.js';
import type { IpsetDb } from './ipset.js';
import { compileBuiltin } from './matches/builtin.js';
import { compileMatch } from './matches/index.js';
import { matchGap, type ModelledMatch } from './coverage.js';
import { groupArgs, groupText } from './rule-groups.js';
import { ALWAYS } from './matches/misc.js';
import { ValueError } from './matches/values.js';
import { compileTarget } from './targets/index.js';
import { MAX_PORT_FORKS } from './targets/nat.js';
import { ruleText } from './rule-text.js';
import { STATISTIC_SCALE, ZERO } from './fraction.js';
import { baseSlot, HOOK_NAMES, TABLE_NAMES, type CMatch, type CompiledChain, type CompiledRule, type CompiledRuleset, type CompiledTable, type CompileProblem, type CTarget, type IPv4Builtin, type RuleList, type Walk } from './types.js';

export interface LinkOptions {
  readonly ipsets?: IpsetDb | null;
  /** Build chain indices (default true). The results are the same either way. */
  readonly index?: boolean;
}

interface ChainDraft {
  name: string;
  builtin: boolean;
  policy: 'ACCEPT' | 'DROP';
  span: Span | null;
  rules: Rule[];
}

let uidCounter = 0;

/** Matches whose answer depends on what earlier packets did (lists, buckets, open connections). */
const STATEFUL_MATCHES: ReadonlySet<string> = new Set(['recent', 'limit', 'hashlimit', 'connlimit']);

/** Whether a NAT target may draw its port from a range small enough to be followed port by port. */
function natForks(t: CTarget): boolean {
  if (t.kind !== 'dnat' && t.kind !== 'snat' && t.kind !== 'masquerade' && t.kind !== 'redirect') return false;
  return t.fromPort !== null && t.toPort !== null && t.fromPort !== t.toPort && Math.abs(t.toPort - t.fromPort) < MAX_PORT_FORKS;
}

/** One shared empty list for the many rules with no extension match. */
const NO_MATCHES: readonly CMatch[] = Object.freeze([]);

const NO_IPV4: IPv4Builtin = { v4: 0, v4Src: 0, v4Dst: 0 };

function actionText(t: CTarget, rule: Rule): string {
  const tgt = rule.target;
  switch (t.kind) {
    case 'jump':
      return `${t.goto ? 'goto' : 'jump'} ${t.chain}`;
    case 'none':
      return 'continue';
    default: {
      if (!tgt) return 'continue';
      if (tgt.kind === 'extension') {
        const opts = tgt.options.map((o) => `${o.negation !== 'none' ? '! ' : ''}${o.spelling} ${o.values.map((v) => v.text).join(' ')}`.trim());
        return [tgt.name, ...opts].join(' ');
      }
      if (tgt.kind === 'opaque') return `${tgt.name} ${tgt.text}`.trim();
      return tgt.name;
    }
  }
}

function compileRule(rule: Rule, table: string, num: number, family: Family, ipsets: IpsetDb | null, problems: CompileProblem[]): CompiledRule {
  const uid = ++uidCounter;
  const { builtins, groups } = groupArgs(rule.args);
  let builtin: ((w: Walk) => boolean) | null = null;
  let ipv4: IPv4Builtin = NO_IPV4;
  let dstKeys: CompiledRule['dstKeys'] = null;
  let builtinReads: number | null = 0;
  let matches: CMatch[] = [];
  let comment: string | null = null;
  let target: CTarget;
  const bad = (e: ValueError) => {
    problems.push({ code: 'SIM_BAD_VALUE', message: e.message, span: e.opt?.span ?? rule.span });
  };
  try {
    const b = compileBuiltin(builtins, family);
    builtin = b.test;
    ipv4 = b.ipv4 ?? NO_IPV4;
    builtinReads = b.reads;
    dstKeys = b.dstKeys;
    for (const g of groups) {
      const gap = matchGap(g);
      if (gap) {
        matches.push({ kind: 'unknown', text: groupText(g), reason: gap.reason });
        continue;
      }
      if (g.module === 'comment') {
        const c = g.opts.find((o) => o.name === 'comment');
        if (c) comment = c.values.map((v) => (v.type === 'string' ? v.value : v.text)).join(' ');
      }
      // comment, nfacct: always match, nothing to evaluate.
      for (const m of compileMatch(g.module as ModelledMatch, g.opts, { family, ipsets, uid })) if (m !== ALWAYS) matches.push(m);
    }
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    bad(e);
    builtin = null;
    ipv4 = NO_IPV4;
    builtinReads = null;
    dstKeys = null;
    matches = [{ kind: 'unknown', text: e.opt?.spelling ?? '', reason: e.message }];
  }
  try {
    target = compileTarget(rule.target);
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    bad(e);
    target = { kind: 'unknown', text: rule.target ? rule.target.spelling : '', reason: e.message };
  }
  // A --dport test can key an index only if nothing before it in the rule has side effects.
  let dportKeys: number[] | null = null;
  for (const m of matches) {
    if (m.kind !== 'test' || !m.pure) break;
    if (m.dports) {
      if (m.dports.length <= 16 && m.dports.every(([a, b]) => a === b)) dportKeys = m.dports.map(([a]) => a);
      break;
    }
  }
  let reads: number | null = builtinReads;
  for (const m of matches) reads = reads !== null && m.kind === 'test' && m.reads !== undefined ? reads | m.reads : null;
  // A NAT port drawn from a small range forks the walk (evaluate.ts): no memoised replay.
  if (natForks(target)) reads = null;
  // In CompiledRule's field order (hot fields first).
  const m0 = matches[0];
  const nat = target.kind === 'dnat' || target.kind === 'snat' || target.kind === 'masquerade' || target.kind === 'redirect' ? target : null;
  const compiled: Linkable<CompiledRule> = {
    // Set in linkRules.
    first: null,
    rest: null,
    v4: ipv4.v4,
    v4Src: ipv4.v4Src,
    v4Dst: ipv4.v4Dst,
    builtin,
    matchCount: matches.length,
    // What a jump or a DNAT reads, then what a statistic split reads (a rule is cold at 10k
    // services: the fewer cache lines between its first field and the last one read, the better).
    jumpTo: null,
    targetKind: target.kind,
    table,
    natAddr: nat?.fromAddr ?? null,
    natPort: nat?.fromPort ?? null,
    natDraws: nat !== null && (nat.random || nat.fromPort !== nat.toPort),
    goto: target.kind === 'jump' && target.goto,
    jumpIndexed: false,
    jumpStart: null,
    dport0: singleDport(m0),
    rand0: m0?.kind === 'random' ? (m0.invert ? STATISTIC_SCALE - m0.stored : m0.stored) : -1,
    cacheIn: null,
    cacheYes: ZERO,
    cacheNo: ZERO,
    match0: m0 ?? null,
    target,
    matches: matches.length === 0 ? NO_MATCHES : matches,
    uid,
    chain: rule.chain,
    num,
    reads,
    span: rule.span,
    text: ruleText(rule),
    stateful: groups.some((g) => STATEFUL_MATCHES.has(g.module) || (g.module === 'statistic' && g.opts.some((o) => o.name === 'mode' && o.values.some((v) => v.type === 'word' && v.value === 'nth')))),
    comment,
    dstKeys,
    dportKeys,
    action: actionText(target, rule),
    inert: false,
  };
  const done = compiled as CompiledRule;
  compiled.first = done;
  return done;
}

function singleDport(m: CMatch | undefined): number {
  if (m?.kind !== 'test' || !m.dports || m.dports.length !== 1) return -1;
  const [from, to] = m.dports[0];
  return from === to ? from : -1;
}

/** A rule or list node while its links are being set. */
type Linkable<T extends RuleList> = Omit<T, 'first' | 'rest'> & { first: T | null; rest: RuleList | null };

/** Makes each rule the list of its chain's rules from it on (RuleList). */
function linkRules(rules: readonly CompiledRule[]): RuleList | null {
  for (let i = 0; i < rules.length; i++) (rules[i] as Linkable<CompiledRule>).rest = rules[i + 1] ?? null;
  return rules[0] ?? null;
}

/** The chains of one table as the kernel holds them (src/iptables/state.ts: restores already applied). */
function tableChains(tableName: string, t: ReadonlyMap<string, KernelChain>): ChainDraft[] {
  const out: ChainDraft[] = [];
  for (const [name, ch] of t) {
    const builtin = isBuiltinChain(tableName, name);
    out.push({ name, builtin, policy: ch.policy === 'DROP' ? 'DROP' : 'ACCEPT', span: ch.span, rules: ch.rules });
  }
  return out;
}

/**
 * The rules again, allocated one after another in the order a walk meets them (each chain's rules,
 * then the chains they jump to, depth first from the built-in chains): a service's KUBE-SVC chain
 * and its KUBE-SEP chains end up side by side in memory, where the CPU prefetches them. Copies,
 * because compileRule allocates each rule among its matches, targets and strings, which would sit
 * between them.
 */
function placeRules(rules: ReadonlyMap<string, CompiledRule[]>, roots: readonly string[]): Map<string, CompiledRule[]> {
  const out = new Map<string, CompiledRule[]>();
  const place = (name: string) => {
    const list = rules.get(name);
    if (!list || out.has(name)) return;
    const copies = list.map((r) => {
      const c = { ...r };
      (c as Linkable<CompiledRule>).first = c;
      return c;
    });
    out.set(name, copies);
    for (const r of list) if (r.target.kind === 'jump') place(r.target.chain);
  };
  for (const name of roots) place(name);
  for (const name of rules.keys()) place(name);
  return out;
}

/** Targets after which the walk goes on with the next rule, having changed nothing a later rule or the outcome reads. */
const INERT_TARGETS: ReadonlySet<CTarget['kind']> = new Set(['continue', 'none']);

/**
 * Sets CompiledRule.inert: a rule is inert when its matches write no state other rules read and
 * its target is LOG-like, nothing, or a jump (not a goto, which skips the rest of the calling
 * chain) to a chain whose rules are all inert or RETURN. A chain reached again while its own
 * inertness is being decided (a loop) is taken as not inert.
 */
function markInert(chains: Iterable<CompiledChain>): void {
  const memo = new Map<CompiledChain, boolean>();
  const chainInert = (ch: CompiledChain): boolean => {
    const known = memo.get(ch);
    if (known !== undefined) return known;
    memo.set(ch, false);
    const inert = ch.rules.every((r) => ruleInert(r) || (r.target.kind === 'return' && !writesShared(r)));
    memo.set(ch, inert);
    return inert;
  };
  const writesShared = (r: CompiledRule) => r.matches.some((m) => m.kind === 'test' && m.shared === true);
  const ruleInert = (r: CompiledRule): boolean => {
    if (writesShared(r)) return false;
    if (INERT_TARGETS.has(r.target.kind)) return true;
    return r.target.kind === 'jump' && !r.goto && r.jumpTo !== null && chainInert(r.jumpTo);
  };
  for (const ch of chains) for (const r of ch.rules) r.inert = ruleInert(r);
}

/** The netfilter tables of one family, compiled for tracing. */
export function linkRuleset(state: KernelState, opts: LinkOptions = {}): CompiledRuleset {
  const problems: CompileProblem[] = [];
  const tables = new Map<string, CompiledTable>();
  let ruleCount = 0;
  const index = opts.index ?? true;
  for (const [tableName, kernelTable] of state.tables) {
    const drafts = new Map(tableChains(tableName, kernelTable).map((d) => [d.name, d]));
    const chains = new Map<string, CompiledChain>();
    const indexed = new Set<CompiledChain>();
    const compiledRules = new Map<string, CompiledRule[]>();
    for (const d of drafts.values()) {
      const rules = d.rules.map((r, i) => compileRule(r, tableName, i + 1, state.family, opts.ipsets ?? null, problems));
      ruleCount += rules.length;
      compiledRules.set(d.name, rules);
    }
    const placed = placeRules(compiledRules, [...drafts.values()].filter((d) => d.builtin).map((d) => d.name));
    for (const d of drafts.values()) {
      const rules = placed.get(d.name)!;
      const chain: CompiledChain = { table: tableName, name: d.name, builtin: d.builtin, policy: d.policy, span: d.span, rules, start: linkRules(rules), index: null, memo: null };
      if (index) {
        chain.index = buildIndex(chain, state.family);
        if (chain.index) indexed.add(chain);
      }
      chains.set(d.name, chain);
    }
    for (const ch of chains.values()) {
      for (const r of ch.rules) {
        if (r.target.kind !== 'jump') continue;
        const to = chains.get(r.target.chain);
        if (to && !to.builtin) {
          r.jumpTo = to;
          r.jumpIndexed = to.index !== null;
          r.jumpStart = to.start;
        }
        else {
          problems.push({ code: 'SIM_UNKNOWN_CHAIN', message: `jump to ${to ? 'built-in' : 'undeclared'} chain ${r.target.chain} in table ${tableName}`, span: r.span });
        }
      }
    }
    markInert(chains.values());
    // Memoised traversals go with the indices: the plain evaluator is the reference for both.
    if (index) planMemos(chains.values(), indexed);
    tables.set(tableName, { name: tableName, chains });
  }
  const bases: (CompiledChain | null)[] = [];
  for (const table of TABLE_NAMES) for (const hook of HOOK_NAMES) bases[baseSlot(table, hook)] = tables.get(table)?.chains.get(hook) ?? null;
  return { family: state.family, tables, problems, ruleCount, indexed: index, bases, programs: programsFor(bases) };
}
