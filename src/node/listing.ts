// Where a person reads each rule of the node: its line and its text in the ruleset they have. For
// a node's own dump (`--rules node.rules`) that is the dump itself, every rule as written there;
// for a compiled cluster it is `kpsim compile`'s default output (`--format save`, the iptables-save
// spelling, file `iptables.save` of `-o DIR`), whose lines renderKernelRuleset prints from
// stateToRuleset's order: per table `*table`, its chains' declarations, its rules chain by chain,
// `COMMIT`. The simulator and the reports take rule lines and texts from here and never render or
// re-read rules themselves.
import type { Family, Rule, Span } from '../iptables/ir.js';
import { BUILTIN_CHAINS } from '../iptables/ir.js';
import { ruleAt, ruleCount, saveChainOrder, SAVE_TABLE_ORDER, type KernelChain, type KernelState } from '../iptables/state.js';
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

/** Where a chain is listed: the line of its declaration and of its first rule (its rules follow one per line). */
interface ChainLines {
  readonly decl: number;
  readonly firstRule: number;
}

/** Chains looked up one by one in a table before its whole layout is made (a trace reaches a few dozen). */
const LOOKUPS_BEFORE_LAYOUT = 256;
/** User chains are grouped by their first this many characters (kube-proxy's: `KUBE-SEP-X`). */
const PREFIX = 10;

/** User chains of one prefix: how many, their rules, and which they are. */
interface Group {
  readonly prefix: string;
  chains: number;
  rules: number;
  readonly members: number[];
}

/**
 * The lines of one table of renderKernelRuleset(stateToRuleset(state)), without rendering them:
 * `*table` at line `start`, its chains' declarations in iptables-save's order (saveChainOrder:
 * built-in chains in their fixed order, then user chains by name), its rules chain by chain,
 * `COMMIT`. A chain's place is counted from the chains before it (no sort of a 10k-service
 * node's 100k chains for the few a trace shows); after many lookups the whole order is made once.
 */
class TableLines {
  private readonly found = new Map<string, ChainLines | null>();
  private whole: Map<string, ChainLines> | null = null;
  private readonly builtins: readonly string[];
  private readonly users: string[] = [];
  private readonly userRules: number[] = [];
  private readonly groups: Group[] = [];
  private builtinRules = 0;
  /** The line after the table's COMMIT. */
  readonly end: number;

  constructor(
    private readonly name: string,
    private readonly t: ReadonlyMap<string, KernelChain>,
    private readonly start: number,
  ) {
    this.builtins = (BUILTIN_CHAINS[name] ?? []).filter((c) => t.has(c));
    for (const c of this.builtins) this.builtinRules += ruleCount(t.get(c)!);
    let total = this.builtinRules;
    const builtin = new Set(this.builtins);
    const byPrefix = new Map<string, Group>();
    for (const [c, chain] of t) {
      if (builtin.has(c)) continue;
      const n = ruleCount(chain);
      const prefix = c.slice(0, PREFIX);
      let g = byPrefix.get(prefix);
      if (!g) byPrefix.set(prefix, (g = { prefix, chains: 0, rules: 0, members: [] }));
      g.chains++;
      g.rules += n;
      g.members.push(this.users.length);
      this.users.push(c);
      this.userRules.push(n);
      total += n;
    }
    this.groups = [...byPrefix.values()];
    this.end = start + 2 + t.size + total;
  }

  lines(chain: string): ChainLines | null {
    if (this.whole) return this.whole.get(chain) ?? null;
    let l = this.found.get(chain);
    if (l !== undefined) return l;
    if (this.found.size >= LOOKUPS_BEFORE_LAYOUT) return (this.whole = this.layout()).get(chain) ?? null;
    l = this.place(chain);
    this.found.set(chain, l);
    return l;
  }

  private place(chain: string): ChainLines | null {
    if (!this.t.has(chain)) return null;
    const firstRules = this.start + 1 + this.t.size;
    const b = this.builtins.indexOf(chain);
    if (b >= 0) {
      let rules = 0;
      for (let i = 0; i < b; i++) rules += ruleCount(this.t.get(this.builtins[i])!);
      return { decl: this.start + 1 + b, firstRule: firstRules + rules };
    }
    // User chains by UTF-16 code units, as `<` compares (saveChainOrder). Of two names whose
    // prefixes differ, the one with the smaller prefix is the smaller (they differ within it, or
    // the smaller prefix is a whole name and a prefix of the other): only the chain's own group is
    // compared name by name.
    let before = this.builtins.length;
    let rules = this.builtinRules;
    const prefix = chain.slice(0, PREFIX);
    for (const g of this.groups) {
      if (g.prefix < prefix) {
        before += g.chains;
        rules += g.rules;
      } else if (g.prefix === prefix) {
        for (const i of g.members) {
          if (this.users[i] < chain) {
            before++;
            rules += this.userRules[i];
          }
        }
      }
    }
    return { decl: this.start + 1 + before, firstRule: firstRules + rules };
  }

  private layout(): Map<string, ChainLines> {
    const out = new Map<string, ChainLines>();
    const order = saveChainOrder(this.name, this.t);
    let line = this.start + order.length;
    order.forEach((c, i) => {
      out.set(c, { decl: this.start + 1 + i, firstRule: line + 1 });
      line += ruleCount(this.t.get(c)!);
    });
    return out;
  }
}

/** Each table's lines in renderKernelRuleset(stateToRuleset(state)): tables in iptables-save's order. */
function saveLayout(state: KernelState): Map<string, TableLines> {
  const out = new Map<string, TableLines>();
  let line = 1;
  for (const name of SAVE_TABLE_ORDER) {
    const t = state.tables.get(name);
    if (!t) continue;
    const lines = new TableLines(name, t, line);
    out.set(name, lines);
    line = lines.end;
  }
  return out;
}

/**
 * The node's tables as `kpsim compile` prints them (`--format save`): lines numbered in that output,
 * each rule in iptables-save's spelling (rendered when first asked for). The state must not change
 * afterwards (the node value never does).
 */
export function saveListing(state: KernelState, file = 'iptables.save'): RuleListing {
  let layout: Map<string, TableLines> | null = null;
  const lay = () => (layout ??= saveLayout(state));
  return {
    file,
    what: "kpsim compile's output, iptables-save spelling",
    rule(table, chain, index) {
      const first = lay().get(table)?.lines(chain)?.firstRule;
      const rule = ruleOf(state, table, chain, index);
      if (first === undefined || !rule) return null;
      return { line: first + index, text: renderSaveRule(rule, state.family) };
    },
    chain(table, chain) {
      const line = lay().get(table)?.lines(chain)?.decl;
      const c = state.tables.get(table)?.get(chain);
      if (line === undefined || !c) return null;
      return { line, text: `:${chain} ${c.policy} [0:0]` };
    },
  };
}

/** Rule `index` of a chain, built alone when its chain's rules are not (a trace shows a few rules of KUBE-SERVICES' 10k). */
function ruleOf(state: KernelState, table: string, chain: string, index: number): Rule | null {
  const c = state.tables.get(table)?.get(chain);
  return c && index >= 0 && index < ruleCount(c) ? ruleAt(c, index) : null;
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
    rule: (table, chain, index) => lineAt(text, ruleOf(state, table, chain, index)?.span ?? null),
    chain: (table, chain) => lineAt(text, state.tables.get(table)?.get(chain)?.span ?? null),
  };
}

export type Listings = ReadonlyMap<Family, RuleListing>;
