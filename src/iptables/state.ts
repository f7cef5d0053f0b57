// The kernel's view of a ruleset: tables of chains of rules, changed by iptables-restore input
// the way `iptables-restore --noflush` changes it, and printed back in iptables-save's order
// (nf_tables backend: tables mangle, security, raw, filter, nat; built-in chains in their fixed
// order, then user chains by name; rules chain by chain).
import { BUILTIN_CHAINS, type ChainDecl, type Command, type Family, type Rule, type Ruleset, type Table, type TableLine } from './ir.js';

export interface KernelChain {
  policy: string;
  rules: Rule[];
}

export interface KernelState {
  readonly family: Family;
  readonly tables: Map<string, Map<string, KernelChain>>;
}

export const SAVE_TABLE_ORDER = ['mangle', 'security', 'raw', 'filter', 'nat'] as const;

export class RestoreError extends Error {}

export function emptyState(family: Family): KernelState {
  return { family, tables: new Map() };
}

function table(state: KernelState, name: string): Map<string, KernelChain> {
  let t = state.tables.get(name);
  if (!t) {
    t = new Map();
    for (const c of BUILTIN_CHAINS[name] ?? []) t.set(c, { policy: 'ACCEPT', rules: [] });
    state.tables.set(name, t);
  }
  return t;
}

function isBuiltin(tableName: string, chain: string): boolean {
  return (BUILTIN_CHAINS[tableName] ?? []).includes(chain);
}

function chainOf(t: Map<string, KernelChain>, name: string): KernelChain {
  const c = t.get(name);
  if (!c) throw new RestoreError(`chain '${name}' does not exist`);
  return c;
}

/** Applies restore input with `--noflush` semantics (what kube-proxy uses). Throws RestoreError. */
export function applyRestore(state: KernelState, input: Ruleset): void {
  for (const tin of input.tables) {
    const t = table(state, tin.name);
    for (const line of tin.lines) {
      if (line.kind === 'chain') declare(t, tin.name, line.decl);
      else if (line.kind === 'command') run(t, tin.name, line.command);
    }
  }
}

function declare(t: Map<string, KernelChain>, tableName: string, d: ChainDecl): void {
  const existing = t.get(d.name);
  if (isBuiltin(tableName, d.name)) {
    if (d.policy !== '-') existing!.policy = d.policy;
    return;
  }
  // Declaring an existing user chain flushes it.
  if (existing) existing.rules = [];
  else t.set(d.name, { policy: '-', rules: [] });
}

function run(t: Map<string, KernelChain>, tableName: string, c: Command): void {
  if (c.kind === 'rule') {
    const chain = chainOf(t, c.chain);
    if (c.target?.kind === 'chain' && !t.has(c.target.name)) throw new RestoreError(`chain '${c.target.name}' does not exist`);
    switch (c.op) {
      case 'A':
        chain.rules.push(c);
        break;
      case 'I':
        chain.rules.splice(Math.max(0, (c.position ?? 1) - 1), 0, c);
        break;
      case 'R':
        chain.rules[(c.position ?? 1) - 1] = c;
        break;
      case 'D':
        if (c.position !== null) chain.rules.splice(c.position - 1, 1);
        break;
    }
    return;
  }
  switch (c.op) {
    case 'N':
      if (t.has(c.chain!)) throw new RestoreError(`chain '${c.chain}' already exists`);
      t.set(c.chain!, { policy: '-', rules: [] });
      break;
    case 'X': {
      if (c.chain === null) {
        for (const name of [...t.keys()]) if (!isBuiltin(tableName, name)) t.delete(name);
        break;
      }
      for (const other of t.values()) {
        if (other.rules.some((r) => r.target?.kind === 'chain' && r.target.name === c.chain)) throw new RestoreError(`chain '${c.chain}' is still referenced`);
      }
      t.delete(c.chain);
      break;
    }
    case 'F':
      if (c.chain === null) for (const ch of t.values()) ch.rules = [];
      else chainOf(t, c.chain).rules = [];
      break;
    case 'P':
      chainOf(t, c.chain!).policy = c.policy ?? 'ACCEPT';
      break;
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
    const builtins = (BUILTIN_CHAINS[name] ?? []).filter((c) => t.has(c));
    const users = [...t.keys()].filter((c) => !isBuiltin(name, c)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const order = [...builtins, ...users];
    const chains: ChainDecl[] = order.map((c) => ({ name: c, policy: t.get(c)!.policy, counters: { packets: '0', bytes: '0' }, span: null }));
    const commands: Command[] = order.flatMap((c) => t.get(c)!.rules.map((r) => ({ ...r, op: 'A' as const, position: null, chain: c })));
    const lines: TableLine[] = [...chains.map((decl) => ({ kind: 'chain' as const, decl })), ...commands.map((command) => ({ kind: 'command' as const, command }))];
    tables.push({ name, chains, commands, lines, committed: true, span: null });
  }
  return { family: state.family, tables, outer: [] };
}
