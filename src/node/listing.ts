// Where a person reads each rule of the node: its line and its text in the ruleset they have. For
// a node's own dump (`--rules node.rules`) that is the dump itself, every rule as written there;
// for a compiled cluster it is `kpsim compile`'s default output (`--format save`, the iptables-save
// spelling, file `iptables.save` of `-o DIR`), whose lines renderKernelRuleset prints from
// stateToRuleset's order: per table `*table`, its chains' declarations, its rules chain by chain,
// `COMMIT`. The simulator and the reports take rule lines and texts from here and never render or
// re-read rules themselves.
import type { Family, Span } from '../iptables/ir.js';
import { ruleCount, saveChainOrder, SAVE_TABLE_ORDER, type KernelState } from '../iptables/state.js';
import { renderSaveRule } from '../iptables-save/render-save.js';

/** A rule or chain declaration as the listing shows it: its 1-based line and the line's text. */
export interface ListedLine {
  readonly line: number;
  readonly text: string;
}

export interface RuleListing {
  /** The file the lines point into (`iptables.save`, `node.rules`). */
  readonly file: string;
  /** What that file is, for a person: `kpsim compile's output (iptables-save spelling)`. */
  readonly what: string;
  /** Rule `index` (0-based) of `chain` in `table`, as listed; null when the listing lacks it. */
  rule(table: string, chain: string, index: number): ListedLine | null;
  /** The chain's declaration (`:FORWARD ACCEPT [0:0]`); null when the listing has none. */
  chain(table: string, chain: string): ListedLine | null;
  /**
   * A hook extension's chain whole (extension-listing.ts: an nftables chain, an IPVS virtual server
   * with its real servers): its line and its rules' lines; null when the listing has no such chain.
   */
  block?(table: string, chain: string): ListedBlock | null;
}

export interface ListedBlock {
  readonly head: ListedLine | null;
  readonly rules: readonly (ListedLine | null)[];
}

interface TableLayout {
  /** Chain -> line of its declaration. */
  readonly decls: Map<string, number>;
  /** Chain -> line of its first rule (its rules follow one per line). */
  readonly firstRule: Map<string, number>;
}

/** The lines of renderKernelRuleset(stateToRuleset(state)), without rendering them. */
function saveLayout(state: KernelState): Map<string, TableLayout> {
  const out = new Map<string, TableLayout>();
  let line = 0;
  for (const name of SAVE_TABLE_ORDER) {
    const t = state.tables.get(name);
    if (!t) continue;
    line++; // *table
    const order = saveChainOrder(name, t);
    const decls = new Map<string, number>();
    for (const c of order) decls.set(c, ++line);
    const firstRule = new Map<string, number>();
    for (const c of order) {
      firstRule.set(c, line + 1);
      line += ruleCount(t.get(c)!);
    }
    line++; // COMMIT
    out.set(name, { decls, firstRule });
  }
  return out;
}

/**
 * The node's tables as `kpsim compile` prints them (`--format save`): lines numbered in that output,
 * each rule in iptables-save's spelling (rendered when first asked for). The state must not change
 * afterwards (the node value never does).
 */
export function saveListing(state: KernelState, file = 'iptables.save'): RuleListing {
  let layout: Map<string, TableLayout> | null = null;
  const lay = () => (layout ??= saveLayout(state));
  return {
    file,
    what: "kpsim compile's output, iptables-save spelling",
    rule(table, chain, index) {
      const first = lay().get(table)?.firstRule.get(chain);
      const rule = state.tables.get(table)?.get(chain)?.rules[index];
      if (first === undefined || !rule) return null;
      return { line: first + index, text: renderSaveRule(rule, state.family) };
    },
    chain(table, chain) {
      const line = lay().get(table)?.decls.get(chain);
      const c = state.tables.get(table)?.get(chain);
      if (line === undefined || !c) return null;
      return { line, text: `:${chain} ${c.policy} [0:0]` };
    },
  };
}

function lineAt(text: string, span: Span | null): ListedLine | null {
  if (!span) return null;
  return { line: span.line, text: text.slice(span.offset, span.offset + span.length).replace(/\r$/, '') };
}

/** A node's own dump: every rule and chain where the dump has it, in its own words. */
export function dumpListing(state: KernelState, file: string, text: string): RuleListing {
  return {
    file,
    what: file,
    rule: (table, chain, index) => lineAt(text, state.tables.get(table)?.get(chain)?.rules[index]?.span ?? null),
    chain: (table, chain) => lineAt(text, state.tables.get(table)?.get(chain)?.span ?? null),
  };
}

export type Listings = ReadonlyMap<Family, RuleListing>;
