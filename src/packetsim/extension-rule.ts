// The chains and rules a hook extension records in a walk's path (types.ts PathNode): not iptables
// rules, but the same shape, so the trace, its JSON and the golden answers print them alike.
// IPVS records one pseudo-rule per decision; nftables one per rule of its chains.
import { ZERO } from './fraction.js';
import type { CompiledChain, CompiledRule, CTarget, HookFunction, ListedRef } from './types.js';

type Span = CompiledRule['span'];

let uid = 0;

export interface ExtensionChainSpec {
  readonly table: string;
  readonly name: string;
  /** A base chain (one a hook calls), whose policy ends it. */
  readonly builtin?: boolean;
  readonly policy?: 'ACCEPT' | 'DROP';
  readonly span?: Span | null;
  /** The path prints the rule's `action` alone (IPVS); false: `table:chain:rule:N text` like iptables. */
  readonly extension?: boolean;
  /** The chain's rules (their count numbers the policy line). */
  readonly rules?: readonly CompiledRule[];
  /** A chain a hook calls: which hook function it is (the trace's hook lanes name it). */
  readonly hookFn?: HookFunction;
  /** Where the extension's listing writes the chain. */
  readonly listed?: ListedRef;
}

export function extensionChain(c: ExtensionChainSpec): CompiledChain {
  const made: { -readonly [K in keyof CompiledChain]: CompiledChain[K] } = { table: c.table, name: c.name, builtin: c.builtin ?? true, policy: c.policy ?? 'ACCEPT', span: c.span ?? null, extension: c.extension ?? true, rules: c.rules ?? [], start: null, index: null, memo: null };
  if (c.hookFn) made.hookFn = c.hookFn;
  if (c.listed) made.listed = c.listed;
  return made;
}

export interface ExtensionRuleSpec {
  /** 1-based position in the chain. */
  readonly num: number;
  readonly text: string;
  /** What the rule did (`goto service-X`, `ipvs:TCP 10.0.0.1:80 rr -> 10.1.0.1:80`). */
  readonly action: string;
  readonly span: Span | null;
  readonly target?: CTarget;
  readonly comment?: string | null;
  /** The rule matched on what earlier packets left (an affinity entry). */
  readonly recalls?: boolean;
  /** The rule reads or writes what other packets see (a dynamic set, a counter). */
  readonly stateful?: boolean;
  /** The rule draws at random (`numgen random mod 3`): the draw as written. */
  readonly random?: string;
  /** A match of the rule kpsim does not model (its walks part there, UNKNOWN): what and why. */
  readonly unknown?: { readonly text: string; readonly reason: string };
  /** Where the extension's listing writes the rule. */
  readonly listed?: ListedRef;
}

/** A rule of an extension's chain, never walked by the core (it has no matches and no jump). */
export function extensionRule(chain: CompiledChain, r: ExtensionRuleSpec): CompiledRule {
  const target = r.target ?? { kind: 'none' };
  const made: { -readonly [K in keyof CompiledRule]: CompiledRule[K] } = {
    first: null as unknown as CompiledRule, rest: null,
    v4: 0, v4Src: 0, v4Dst: 0, builtin: null,
    matchCount: r.unknown ? 1 : 0, jumpTo: null, targetKind: target.kind, table: chain.table, natAddr: null, natPort: null, natDraws: false,
    goto: false, jumpIndexed: false, jumpStart: null,
    dport0: -1, rand0: -1, cacheIn: null, cacheYes: ZERO, cacheNo: ZERO, match0: null,
    target, matches: r.unknown ? [{ kind: 'unknown', text: r.unknown.text, reason: r.unknown.reason }] : [], uid: -1 - uid++, chain: chain.name, num: r.num, reads: null, span: r.span, text: r.text, stateful: r.stateful ?? r.recalls ?? false, srcRead: 2, srcMatch: -1, srcTarget: true,
    comment: r.comment ?? null, dstKeys: null, dportKeys: null, action: r.action, inert: false,
  };
  if (r.recalls) made.recalls = true;
  if (r.random !== undefined) made.random = r.random;
  if (r.listed) made.listed = r.listed;
  // A rule is its own one-element rule list (types.ts RuleList).
  made.first = made;
  return made;
}
