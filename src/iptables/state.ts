// The kernel's view of a ruleset: tables of chains of rules, changed by iptables-restore input
// the way `iptables-restore --noflush` changes it, and printed back in iptables-save's order
// (nf_tables backend: tables mangle, security, raw, filter, nat; built-in chains in their fixed
// order, then user chains by name; rules chain by chain). This is the one implementation of
// restore semantics: the node (src/node) is assembled with it, the simulator reads its result.
import { sortNames } from './sort-names.js';
import { BUILTIN_CHAINS, chainIndexOf, targetNameOf, type ChainDecl, type ChainIndex, type Command, type Family, type MatchOptionRead, type MatchOptionValue, type OptionArg, type Rule, type Ruleset, type Span, type Table, type TableLine, type TargetName, type Value } from './ir.js';

export interface KernelChain {
  /** `ACCEPT`/`DROP` for built-in chains, `-` for user chains. */
  policy: string;
  rules: Rule[];
  /** Where the chain was declared (`:NAME ...` or `-N NAME`); null for built-in chains never declared. */
  span: Span | null;
}

/**
 * A chain loaded from a table's ChainIndex: the rules it had before the load, then the input's
 * rules for it, built when first read. The simulator reads only the chains packets reach, so a
 * trace of a 10k-service dump builds a few dozen chains' rules, not half a million.
 */
class IndexedChain implements KernelChain {
  private built: Rule[] | null = null;
  /** Its rules' targets once read (undefined: not yet), for the analyses that follow every jump more than once. */
  private readTargets: readonly TargetName[] | null | undefined = undefined;

  constructor(
    public policy: string,
    public span: Span | null,
    private readonly before: Rule[],
    private readonly index: ChainIndex,
    private readonly k: number,
  ) {}

  get rules(): Rule[] {
    return (this.built ??= this.before.length ? this.before.concat(this.index.rules(this.k)) : this.index.rules(this.k));
  }

  set rules(rules: Rule[]) {
    this.built = rules;
  }

  /** Its rules, built again if not built yet and not kept (see readRules). */
  peek(): Rule[] {
    return this.built ?? (this.before.length ? this.before.concat(this.index.rules(this.k)) : this.index.rules(this.k));
  }

  /** How many rules it has, without building them. */
  get count(): number {
    return this.built ? this.built.length : this.before.length + this.index.count(this.k);
  }

  /** Its rules' targets while its rules are the index's alone and not built; else null. */
  targets(): readonly TargetName[] | null {
    if (this.built || this.before.length || !this.index.targets) return null;
    return this.readTargets === undefined ? (this.readTargets = this.index.targets(this.k)) : this.readTargets;
  }

  /** Where rule j is, without building it while the rules are the index's and not built. */
  spanAt(j: number): Span | null {
    return this.built || this.before.length || !this.index.ruleSpan ? this.ruleAt(j).span : this.index.ruleSpan(this.k, j);
  }

  /** Rule j, built alone while the rules are the index's and not built. */
  ruleAt(j: number): Rule {
    return this.built || this.before.length || !this.index.rule ? this.rules[j] : this.index.rule(this.k, j);
  }

  /** Rule j's match options that `wanted` takes, read alone while the rules are the index's and not built. */
  matchOptions(j: number, wanted: (module: string | null, name: string) => boolean): readonly MatchOptionRead[] {
    const v = this.built || this.before.length || !this.index.matchOptions ? null : this.index.matchOptions(this.k, j, wanted);
    return v ?? matchOptionsOf(this.ruleAt(j), wanted);
  }

  /** Rule j's line as written while the rules are the index's and not built; else null. */
  ruleText(j: number): string | null {
    return this.built || this.before.length || !this.index.ruleText ? null : this.index.ruleText(this.k, j);
  }

  /** The first value of rule j's target option `name`, read alone while the rules are the index's and not built. */
  targetValue(j: number, name: string): Value | undefined {
    const v = this.built || this.before.length || !this.index.targetValue ? null : this.index.targetValue(this.k, j, name);
    return v === null ? targetValueOf(this.ruleAt(j), name) : v;
  }

  /** Rule j's first match option `module` `name`, read alone while the rules are the index's and not built. */
  matchOption(j: number, module: string | null, name: string): MatchOptionValue | undefined {
    const v = this.built || this.before.length || !this.index.matchOption ? null : this.index.matchOption(this.k, j, module, name);
    return v === null ? matchOptionOf(this.ruleAt(j), module, name) : v;
  }
}

/**
 * A chain's rules for a reader that keeps what it makes of them (the simulator compiles each chain
 * once): a chain loaded from an index builds them without keeping them, so a bulk trace that
 * reaches every chain of a 10k-service dump does not hold its 300k rules twice.
 */
export function readRules(chain: KernelChain): readonly Rule[] {
  return chain instanceof IndexedChain ? chain.peek() : chain.rules;
}

/** How many rules a chain has, without building the rules of a chain loaded from an index. */
export function ruleCount(chain: KernelChain): number {
  return chain instanceof IndexedChain ? chain.count : chain.rules.length;
}

/**
 * The targets of a chain's rules in order, without building the rules of a chain loaded from an
 * index whose reader can tell them (explain and lint follow every jump of a 10k-service dump, and
 * need little else of its 200k endpoint-chain rules).
 */
export function ruleTargets(chain: KernelChain): readonly TargetName[] {
  return (chain instanceof IndexedChain ? chain.targets() : null) ?? chain.rules.map(targetNameOf);
}

function targetValueOf(r: Rule, name: string): Value | undefined {
  return r.target?.kind === 'extension' ? r.target.options.find((o) => o.name === name)?.values[0] : undefined;
}

/** The first value of the target option `name` of rule j of a chain (`--to-destination`'s of a DNAT), without building the rule when its chain's rules are not built. */
export function ruleTargetValue(chain: KernelChain, j: number, name: string): Value | undefined {
  return chain instanceof IndexedChain ? chain.targetValue(j, name) : targetValueOf(chain.rules[j], name);
}

function matchOptionOf(r: Rule, module: string | null, name: string): MatchOptionValue | undefined {
  for (const a of r.args) if (a.kind === 'option' && a.module === module && a.name === name) return { negation: a.negation, value: a.values[0] };
  return undefined;
}

function matchOptionsOf(r: Rule, wanted: (module: string | null, name: string) => boolean): readonly MatchOptionRead[] {
  return r.args.filter((a): a is OptionArg => a.kind === 'option' && wanted(a.module, a.name));
}

/**
 * Rule j's match options that `wanted` takes (by module and name), in order: module, name,
 * negation and values, without building the rule when its chain's rules are not built.
 */
export function ruleMatchOptions(chain: KernelChain, j: number, wanted: (module: string | null, name: string) => boolean): readonly MatchOptionRead[] {
  return chain instanceof IndexedChain ? chain.matchOptions(j, wanted) : matchOptionsOf(chain.rules[j], wanted);
}

/**
 * Rule j's first match option `module` `name` (`statistic` `probability`): its negation and first
 * value, without building the rule when its chain's rules are not built.
 */
export function ruleMatchOption(chain: KernelChain, j: number, module: string | null, name: string): MatchOptionValue | undefined {
  return chain instanceof IndexedChain ? chain.matchOption(j, module, name) : matchOptionOf(chain.rules[j], module, name);
}

/**
 * Rule j's line as the input wrote it, while the chain's rules are not built (null: they are, or
 * the chain was not loaded from an index). Equal lines build equal rules (but for their spans);
 * lines that differ may still build rules written alike (built, they tell).
 */
export function ruleTextAt(chain: KernelChain, j: number): string | null {
  return chain instanceof IndexedChain ? chain.ruleText(j) : null;
}

/** Rule j of a chain (0-based), built alone when its chain's rules are not built. An equal rule, not necessarily the same object. */
export function ruleAt(chain: KernelChain, j: number): Rule {
  return chain instanceof IndexedChain ? chain.ruleAt(j) : chain.rules[j];
}

/** Where rule j of a chain is (its built rule's span), without building the rule when its chain's rules are not built. */
export function ruleSpan(chain: KernelChain, j: number): Span | null {
  return chain instanceof IndexedChain ? chain.spanAt(j) : chain.rules[j].span;
}

export interface KernelState {
  readonly family: Family;
  /** Table -> chain name -> chain, tables in the order they were first loaded. */
  readonly tables: Map<string, Map<string, KernelChain>>;
}

export const SAVE_TABLE_ORDER = ['mangle', 'security', 'raw', 'filter', 'nat'] as const;

export class RestoreError extends Error {
  constructor(
    message: string,
    readonly span: Span | null = null,
  ) {
    super(message);
  }
}

/**
 * What a lenient load met where iptables-restore would have refused the whole input (a rule for an
 * undeclared chain, a jump to a missing one, a chain deleted while referenced), or what is not
 * modelled (`-D` by rule specification). The load carries on as far as it can.
 */
export interface RestoreProblem {
  readonly code: 'RESTORE_NO_CHAIN' | 'RESTORE_CHAIN_EXISTS' | 'RESTORE_CHAIN_IN_USE' | 'RESTORE_UNSUPPORTED';
  readonly message: string;
  readonly span: Span | null;
}

export function emptyState(family: Family): KernelState {
  return { family, tables: new Map() };
}

export function isBuiltinChain(tableName: string, chain: string): boolean {
  return (BUILTIN_CHAINS[tableName] ?? []).includes(chain);
}

function table(state: KernelState, name: string): Map<string, KernelChain> {
  let t = state.tables.get(name);
  if (!t) {
    t = new Map();
    for (const c of BUILTIN_CHAINS[name] ?? []) t.set(c, { policy: 'ACCEPT', rules: [], span: null });
    state.tables.set(name, t);
  }
  return t;
}

/** A copy that later restores can change without touching this one (rules are immutable and shared). */
export function cloneState(state: KernelState): KernelState {
  const tables = new Map<string, Map<string, KernelChain>>();
  for (const [name, t] of state.tables) {
    const copy = new Map<string, KernelChain>();
    for (const [c, ch] of t) copy.set(c, { policy: ch.policy, rules: [...ch.rules], span: ch.span });
    tables.set(name, copy);
  }
  return { family: state.family, tables };
}

/**
 * Applies restore input with `--noflush` semantics (what kube-proxy uses). Strict (no `problems`
 * list): throws RestoreError where iptables-restore fails. Lenient: records the problem and goes
 * on, as a reader of someone else's dump wants.
 */
export function applyRestore(state: KernelState, input: Ruleset, problems?: RestoreProblem[]): void {
  const load: Load = { problems: problems ?? null };
  for (const tin of input.tables) {
    const t = table(state, tin.name);
    const index = chainIndexOf(tin);
    if (index && loadIndexed(t, tin.name, index, load)) continue;
    for (const line of tin.lines) {
      if (line.kind === 'chain') declare(t, tin.name, line.decl);
      else if (line.kind === 'command') run(t, tin.name, line.command, load);
    }
  }
}

/**
 * Loads a table chain by chain from its index (see ChainIndex): its chains declared, each chain
 * with `-A` lines given its rules to build on first read. The same state as applying its lines one
 * by one, which is what the caller does instead (false) when the load would meet a problem: a
 * chain an `-A` line names without declaring it, or (strict) a jump to a chain declared only after
 * the jump, that did not exist before.
 */
function loadIndexed(t: Map<string, KernelChain>, tableName: string, index: ChainIndex, load: Load): boolean {
  for (const name of index.external) if (!t.has(name)) return false;
  if (!load.problems) for (const j of index.jumpsBefore) if (!t.has(j.name)) return false;
  index.declared.forEach((name, i) => {
    const existing = t.get(name);
    // A built-in chain takes the declaration's policy; a user chain's is ignored (as declare does).
    if (existing && isBuiltinChain(tableName, name)) declare(t, tableName, index.decl(i));
    else if (existing) {
      existing.rules = [];
      existing.span = index.declSpan(i);
    } else t.set(name, { policy: '-', rules: [], span: index.declSpan(i) });
  });
  index.ruleChains.forEach((name, k) => {
    const ch = t.get(name)!;
    t.set(name, new IndexedChain(ch.policy, ch.span, ch.rules, index, k));
  });
  return true;
}

function declare(t: Map<string, KernelChain>, tableName: string, d: ChainDecl): void {
  const existing = t.get(d.name);
  if (isBuiltinChain(tableName, d.name)) {
    existing!.span = d.span;
    if (d.policy !== '-') existing!.policy = d.policy;
    return;
  }
  // Declaring an existing user chain flushes it.
  if (existing) {
    existing.rules = [];
    existing.span = d.span;
  } else t.set(d.name, { policy: '-', rules: [], span: d.span });
}

/**
 * Declares chains as restore input's `:NAME - [0:0]` lines do (the table made first if new): a
 * user chain that exists is flushed, a new one created. For input kept chain by chain
 * (render-save.ts renderSaveAfterBytes), whose rule lines are applied apart.
 */
export function declareChains(state: KernelState, tableName: string, names: readonly string[]): void {
  const t = table(state, tableName);
  for (const name of names) declare(t, tableName, { name, policy: '-', counters: null, span: null });
}

/** A load in progress: strict (null: throw at the first problem) or lenient (record and go on). */
interface Load {
  readonly problems: RestoreProblem[] | null;
}

function failed(load: Load, p: RestoreProblem): void {
  if (!load.problems) throw new RestoreError(p.message, p.span);
  load.problems.push(p);
}

function run(t: Map<string, KernelChain>, tableName: string, c: Command, load: Load): void {
  const fail = (p: RestoreProblem) => failed(load, p);
  if (c.kind === 'rule') {
    let chain = t.get(c.chain);
    if (!chain) {
      fail({ code: 'RESTORE_NO_CHAIN', message: `rule for chain '${c.chain}', which does not exist`, span: c.span });
      t.set(c.chain, (chain = { policy: '-', rules: [], span: c.span }));
    }
    // iptables-restore refuses a jump to a chain that does not exist; a lenient load keeps the rule
    // and leaves the jump for the simulator to report where a packet takes it.
    if (c.target?.kind === 'chain' && !t.has(c.target.name) && !load.problems) fail({ code: 'RESTORE_NO_CHAIN', message: `chain '${c.target.name}' does not exist`, span: c.span });
    const pos = c.position === null ? null : c.position - 1;
    switch (c.op) {
      case 'A':
        chain.rules.push(c);
        break;
      case 'I':
        chain.rules.splice(Math.max(0, Math.min(pos ?? 0, chain.rules.length)), 0, c);
        break;
      case 'R':
        if (pos !== null && pos < chain.rules.length) chain.rules[pos] = c;
        else fail({ code: 'RESTORE_NO_CHAIN', message: `-R ${c.chain} ${c.position}: no rule at that position`, span: c.span });
        break;
      case 'D':
        if (pos !== null) {
          if (pos < chain.rules.length) chain.rules.splice(pos, 1);
          else fail({ code: 'RESTORE_NO_CHAIN', message: `-D ${c.chain} ${c.position}: no rule at that position`, span: c.span });
        } else fail({ code: 'RESTORE_UNSUPPORTED', message: '-D by rule specification is not modelled: the rule is left in place', span: c.span });
        break;
    }
    return;
  }
  switch (c.op) {
    case 'N':
      if (t.has(c.chain!)) fail({ code: 'RESTORE_CHAIN_EXISTS', message: `chain '${c.chain}' already exists`, span: c.span });
      else t.set(c.chain!, { policy: '-', rules: [], span: c.span });
      break;
    case 'X': {
      if (c.chain === null) {
        for (const name of [...t.keys()]) if (!isBuiltinChain(tableName, name)) t.delete(name);
        break;
      }
      if (!t.has(c.chain)) {
        fail({ code: 'RESTORE_NO_CHAIN', message: `chain '${c.chain}' does not exist`, span: c.span });
        break;
      }
      let inUse = false;
      for (const other of t.values()) if (other.rules.some((r) => r.target?.kind === 'chain' && r.target.name === c.chain)) inUse = true;
      if (inUse) fail({ code: 'RESTORE_CHAIN_IN_USE', message: `chain '${c.chain}' is still referenced`, span: c.span });
      else t.delete(c.chain);
      break;
    }
    case 'F':
      if (c.chain === null) for (const ch of t.values()) ch.rules = [];
      else {
        const ch = t.get(c.chain);
        if (ch) ch.rules = [];
        else fail({ code: 'RESTORE_NO_CHAIN', message: `chain '${c.chain}' does not exist`, span: c.span });
      }
      break;
    case 'P': {
      const ch = t.get(c.chain!);
      if (ch) ch.policy = c.policy ?? 'ACCEPT';
      else fail({ code: 'RESTORE_NO_CHAIN', message: `chain '${c.chain}' does not exist`, span: c.span });
      break;
    }
    case 'Z':
      break;
  }
}

/** The state as a ruleset in iptables-save's order, with zero counters on built-in chains. */
export function stateToRuleset(state: KernelState): Ruleset {
  const tables: Table[] = [];
  for (const name of SAVE_TABLE_ORDER) {
    const t = state.tables.get(name);
    if (!t) continue;
    const order = saveChainOrder(name, t);
    const chains: ChainDecl[] = order.map((c) => ({ name: c, policy: t.get(c)!.policy, counters: { packets: '0', bytes: '0' }, span: null }));
    const commands: Command[] = order.flatMap((c) => t.get(c)!.rules.map((r) => ({ ...r, op: 'A' as const, position: null, chain: c })));
    const lines: TableLine[] = [...chains.map((decl) => ({ kind: 'chain' as const, decl })), ...commands.map((command) => ({ kind: 'command' as const, command }))];
    tables.push({ name, chains, commands, lines, committed: true, span: null });
  }
  return { family: state.family, tables, outer: [] };
}

/** iptables-save's chain order: the built-in chains in their fixed order, then user chains by name. */
export function saveChainOrder(tableName: string, t: ReadonlyMap<string, KernelChain>): string[] {
  const builtins = (BUILTIN_CHAINS[tableName] ?? []).filter((c) => t.has(c));
  const users: string[] = [];
  for (const c of t.keys()) if (!builtins.includes(c)) users.push(c);
  // By UTF-16 code units, as `<` compares: a hundred thousand KUBE-* names sort by their hashes (sort-names.ts).
  return builtins.concat(sortNames(users));
}

/** A fresh kernel after loading `input` (strict without `problems`, as applyRestore). */
export function loadedState(input: Ruleset, problems?: RestoreProblem[]): KernelState {
  const state = emptyState(input.family);
  applyRestore(state, input, problems);
  return state;
}
