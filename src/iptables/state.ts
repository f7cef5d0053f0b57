// The kernel's view of a ruleset: tables of chains of rules, changed by iptables-restore input
// the way `iptables-restore --noflush` changes it, and printed back in iptables-save's order
// (nf_tables backend: tables mangle, security, raw, filter, nat; built-in chains in their fixed
// order, then user chains by name; rules chain by chain). This is the one implementation of
// restore semantics: the node (src/node) is assembled with it, the simulator reads its result.
import { BUILTIN_CHAINS, type ChainDecl, type Command, type Family, type Rule, type Ruleset, type Span, type Table, type TableLine } from './ir.js';

export interface KernelChain {
  /** `ACCEPT`/`DROP` for built-in chains, `-` for user chains. */
  policy: string;
  rules: Rule[];
  /** Where the chain was declared (`:NAME ...` or `-N NAME`); null for built-in chains never declared. */
  span: Span | null;
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
    for (const line of tin.lines) {
      if (line.kind === 'chain') declare(t, tin.name, line.decl);
      else if (line.kind === 'command') run(t, tin.name, line.command, load);
    }
  }
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
  const users = [...t.keys()].filter((c) => !isBuiltinChain(tableName, c)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...builtins, ...users];
}

/** A fresh kernel after loading `input` (strict without `problems`, as applyRestore). */
export function loadedState(input: Ruleset, problems?: RestoreProblem[]): KernelState {
  const state = emptyState(input.family);
  applyRestore(state, input, problems);
  return state;
}
