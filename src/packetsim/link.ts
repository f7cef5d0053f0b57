// The kernel's tables (restores applied by src/iptables/state.ts) -> compiled ruleset, once per
// node and family: every rule's arguments grouped into the built-in check and its extension matches in order,
// targets compiled, jumps resolved, big chains indexed. A chain is compiled when first read: a
// trace compiles the chains its packets reach (with the kernel state's own laziness, a dump's
// rules are not even read into the IR otherwise), a few dozen of a 10k-service node's 100k.
import type { Family, Rule, Span } from '../iptables/ir.js';
import { isBuiltinChain, readRules, ruleCount, type KernelChain, type KernelState } from '../iptables/state.js';
import { buildIndex } from './chain-index.js';
import { programsFor } from './evaluate.js';
import { planMemo } from './memo.js';
import type { IpsetDb } from './ipset.js';
import { compileBuiltin, V4 } from './matches/builtin.js';
import { compileMatch } from './matches/index.js';
import { matchGap, type ModelledMatch } from './coverage.js';
import { groupArgs, groupText } from './rule-groups.js';
import { ALWAYS } from './matches/misc.js';
import { ValueError } from './matches/values.js';
import { compileTarget } from './targets/index.js';
import { MAX_PORT_FORKS } from './targets/nat.js';
import { ruleText } from './rule-text.js';
import { STATISTIC_SCALE, ZERO } from './fraction.js';
import { TABLE_NAMES } from '../iptables/ir.js';
import { baseSlot, HOOK_NAMES, READS, type ChainMemo, type CMatch, type CompiledChain, type CompiledRule, type CompiledRuleset, type CompiledTable, type CompileProblem, type CTarget, type IPv4Builtin, type RuleList, type Walk } from './types.js';

export interface LinkOptions {
  readonly ipsets?: IpsetDb | null;
  /** Build chain indices (default true). The results are the same either way. */
  readonly index?: boolean;
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
  const { srcRead, srcMatch, srcTarget } = sourceReads(ipv4, builtin, builtinReads, matches, target);
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
    jumpStart: undefined,
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
    srcRead,
    srcMatch,
    srcTarget,
    stateful: groups.some((g) => STATEFUL_MATCHES.has(g.module) || (g.module === 'statistic' && g.opts.some((o) => o.name === 'mode' && o.values.some((v) => v.type === 'word' && v.value === 'nth')))),
    comment,
    dstKeys,
    dportKeys,
    action: actionText(target, rule),
    inert: undefined,
  };
  const done = compiled as CompiledRule;
  compiled.first = done;
  return done;
}

/** Targets that read nothing of the packet's source and change nothing of it. */
const SOURCE_BLIND_TARGETS: ReadonlySet<CTarget['kind']> = new Set(['accept', 'drop', 'reject', 'return', 'jump', 'continue', 'none', 'mark', 'connmark', 'dnat', 'redirect']);

/** What of a rule reads the packet's source (CompiledRule.srcRead, srcMatch, srcTarget). */
function sourceReads(ipv4: IPv4Builtin, builtin: ((w: Walk) => boolean) | null, builtinReads: number | null, matches: readonly CMatch[], target: CTarget): Pick<CompiledRule, 'srcRead' | 'srcMatch' | 'srcTarget'> {
  const SOURCE = READS.SRC | READS.SPORT;
  const srcRead = builtin !== null && (builtinReads === null || (builtinReads & SOURCE) !== 0) ? 2 : (ipv4.v4 & V4.SRC) !== 0 ? 1 : 0;
  const srcMatch = matches.findIndex((m) => m.kind !== 'random' && (m.kind !== 'test' || m.reads === undefined || (m.reads & SOURCE) !== 0));
  return { srcRead, srcMatch, srcTarget: !SOURCE_BLIND_TARGETS.has(target.kind) };
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

function placed(r: CompiledRule): CompiledRule {
  const c = { ...r };
  (c as Linkable<CompiledRule>).first = c;
  return c;
}

/** What the chains of one table share while they are compiled one by one. */
interface TableContext {
  readonly name: string;
  readonly family: Family;
  readonly ipsets: IpsetDb | null;
  readonly index: boolean;
  readonly chains: Map<string, LazyChain>;
  readonly problems: CompileProblem[];
  /** memo.ts's findings so far, per chain (shared by the built-in chains' plans). */
  readonly reads: Map<CompiledChain, number | null>;
}

/**
 * A chain of the kernel state, compiled when its rules (or its index, or its list) are first read.
 * Its rules' jumps point at the chains they enter without compiling them (jumpStart is set on the
 * first jump, evaluate.ts).
 */
class LazyChain implements CompiledChain {
  readonly builtin: boolean;
  readonly policy: 'ACCEPT' | 'DROP';
  readonly span: Span | null;
  private compiled: readonly CompiledRule[] | null = null;
  private first: RuleList | null = null;
  private picker: ((w: Walk) => RuleList | null) | null = null;
  private planned: ChainMemo | null | undefined;

  constructor(
    readonly table: string,
    readonly name: string,
    private source: KernelChain | null,
    private readonly ctx: TableContext,
  ) {
    this.builtin = isBuiltinChain(table, name);
    this.policy = source!.policy === 'DROP' ? 'DROP' : 'ACCEPT';
    this.span = source!.span;
    // Only a built-in chain starts a table's traversal, which memo.ts may remember.
    this.planned = this.builtin && ctx.index ? undefined : null;
  }

  get rules(): readonly CompiledRule[] {
    return this.compiled ?? this.compile();
  }

  get start(): RuleList | null {
    if (this.compiled === null) this.compile();
    return this.first;
  }

  get index(): ((w: Walk) => RuleList | null) | null {
    if (this.compiled === null) this.compile();
    return this.picker;
  }

  get memo(): ChainMemo | null {
    // Memoised traversals go with the indices: the plain evaluator is the reference for both.
    return this.planned === undefined ? (this.planned = planMemo(this, this.ctx.reads)) : this.planned;
  }

  /** Whether the chain's rules are compiled yet. */
  get isCompiled(): boolean {
    return this.compiled !== null;
  }

  private compile(): readonly CompiledRule[] {
    const { ctx } = this;
    const source = readRules(this.source!);
    this.source = null;
    // Copied once compiled, so that a chain's rules lie side by side in memory rather than each
    // among its matches, targets and strings: at 10k services most rules are cold when a packet
    // meets them, and the CPU prefetches neighbours.
    const rules = source.map((r, i) => placed(compileRule(r, ctx.name, i + 1, ctx.family, ctx.ipsets, ctx.problems)));
    for (const r of rules) {
      if (r.target.kind !== 'jump') continue;
      const to = ctx.chains.get(r.target.chain);
      if (to && !to.builtin) r.jumpTo = to;
      else ctx.problems.push({ code: 'SIM_UNKNOWN_CHAIN', message: `jump to ${to ? 'built-in' : 'undeclared'} chain ${r.target.chain} in table ${ctx.name}`, span: r.span });
    }
    this.compiled = rules;
    this.first = linkRules(rules);
    if (ctx.index) this.picker = buildIndex(this, ctx.family);
    return rules;
  }
}

/** The netfilter tables of one family, compiled for tracing (each chain when first read). */
export function linkRuleset(state: KernelState, opts: LinkOptions = {}): CompiledRuleset {
  const problems: CompileProblem[] = [];
  const tables = new Map<string, CompiledTable>();
  let rules = 0;
  const index = opts.index ?? true;
  for (const [tableName, kernelTable] of state.tables) {
    const chains = new Map<string, LazyChain>();
    const ctx: TableContext = { name: tableName, family: state.family, ipsets: opts.ipsets ?? null, index, chains, problems, reads: new Map() };
    for (const [name, ch] of kernelTable) {
      chains.set(name, new LazyChain(tableName, name, ch, ctx));
      rules += ruleCount(ch);
    }
    tables.set(tableName, { name: tableName, chains });
  }
  const bases: (CompiledChain | null)[] = [];
  for (const table of TABLE_NAMES) for (const hook of HOOK_NAMES) bases[baseSlot(table, hook)] = tables.get(table)?.chains.get(hook) ?? null;
  return { family: state.family, tables, problems, ruleCount: rules, indexed: index, bases, programs: programsFor(bases) };
}

/** How many chains of the ruleset have been compiled so far (a trace compiles those its packets reach). */
export function compiledChains(rs: CompiledRuleset): number {
  let n = 0;
  for (const t of rs.tables.values()) for (const ch of t.chains.values()) if (ch instanceof LazyChain && ch.isCompiled) n++;
  return n;
}
