// Where a person reads what the simulator's hook extensions run: nftables' chains and rules in
// `nft list ruleset` text, IPVS's virtual and real servers in `ipvsadm-save -n` text. As for the
// iptables tables (listing.ts): a node's own dump as given (`--rules node.nft`, `--ipvs FILE`),
// every line where the dump has it; a compiled node as `kpsim compile` writes it (`nftables.txt`,
// `ipvsadm.save`). The extensions name their rules' places (types.ts ListedRef: which listing, the
// table, chain and position); the reports ask these listings for the line and its text.
import type { Span } from '../iptables/ir.js';
import { serviceKey, type IpvsTable } from '../ipvs/ir.js';
import { renderRealServer, renderService } from '../ipvs/render.js';
import { listTable } from '../nftables/list.js';
import type { NftState } from '../nftables/state.js';
import type { ListedBlock, ListedLine, RuleListing } from './listing.js';

/** The keys of Node.hookListings, as the extensions' ListedRefs name them. */
export const HOOK_LISTINGS = { nftables: 'nftables', ipvs: 'ipvs' } as const;

/** The whole line `span` starts on, without its indentation. */
function lineOf(text: string, span: Span | null): ListedLine | null {
  if (!span) return null;
  const start = text.lastIndexOf('\n', span.offset - 1) + 1;
  const end = text.indexOf('\n', span.offset);
  return { line: span.line, text: text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '').trim() };
}

/** Where a chain is in a listing: its declaration, the line that holds its policy (a base chain's hook line), its first rule. */
interface ChainAt {
  readonly decl: number;
  readonly head: number;
  readonly first: number;
}

/**
 * Where `nft list ruleset` (list.ts listTable for each table, in the order made) puts each chain,
 * without printing the chains: a table's header, comment and sets are printed (their elements
 * wrap as nft wraps them), then its chains follow as nft's printer lays them out (render.ts
 * canonicalGaps): a blank line before each declaration but the first; `chain NAME {`; its comment;
 * a base chain's `type ... hook ... priority ...; policy ...;`; a rule a line; `}`; the table's `}`.
 */
function nftLayout(state: NftState): Map<string, Map<string, ChainAt>> {
  const out = new Map<string, Map<string, ChainAt>>();
  let line = 0;
  for (const [key, t] of state.tables) {
    const head = listTable(state, t.family, t.name, false) ?? '';
    // The lines before the table's closing `}`.
    let at = line + head.split('\n').length - 2;
    let declSeen = t.sets.size > 0;
    const chains = new Map<string, ChainAt>();
    for (const c of [...t.chains.values()].sort((a, b) => a.handle - b.handle)) {
      if (declSeen) at++;
      declSeen = true;
      const decl = ++at;
      if (c.comment !== null) at++;
      const policy = c.hook ? ++at : decl;
      chains.set(c.name, { decl, head: policy, first: at + 1 });
      at += c.rules.length + 1;
    }
    out.set(key, chains);
    line = at + 1;
  }
  return out;
}

/** A chain's lines as listTable prints them, without indentation: the chain printed alone in its table. */
function chainLines(state: NftState, key: string, chain: string): string[] {
  const t = state.tables.get(key)!;
  const c = t.chains.get(chain)!;
  const alone = listTable({ ...state, tables: new Map([[key, { ...t, comment: null, flags: [], sets: new Map(), chains: new Map([[chain, c]]) }]]) }, t.family, t.name) ?? '';
  // `table ... {`, then the chain's own lines, then `}`.
  return alone.split('\n').slice(1, -2).map((x) => x.trim());
}

/**
 * The node's nftables tables as a listing: table is the trace's label (`ip kube-proxy`, which is
 * state.ts's table key). A dump's own lines when `text` is the text the state was read from (its
 * rules' and chains' spans). Else the state as `nft list ruleset` prints it (`kpsim compile --mode
 * nftables`'s nftables.txt): where each chain's lines fall is worked out once, when a line is first
 * asked for, printing the sets but no chain (a 10k-service listing is 30 MB, mostly chains); a
 * chain's lines are printed when asked for.
 */
export function nftListing(state: NftState, file: string, what: string, text: string | null): RuleListing {
  const chainOf = (table: string, chain: string) => state.tables.get(table)?.chains.get(chain);
  if (text !== null) {
    // A base chain's line is the one with its hook and policy; a regular chain's, its declaration.
    const head = (table: string, chain: string) => {
      const c = chainOf(table, chain);
      return c ? lineOf(text, c.hook?.span ?? c.span) : null;
    };
    return {
      file,
      what,
      rule: (table, chain, index) => lineOf(text, chainOf(table, chain)?.rules[index]?.span ?? null),
      chain: head,
      block: (table, chain): ListedBlock | null => {
        const c = chainOf(table, chain);
        return c ? { head: head(table, chain), rules: c.rules.map((r) => lineOf(text, r.span)) } : null;
      },
    };
  }
  let layout: Map<string, Map<string, ChainAt>> | null = null;
  const printed = new Map<string, string[]>();
  const placed = (table: string, chain: string) => (layout ??= nftLayout(state)).get(table)?.get(chain) ?? null;
  const linesOf = (table: string, chain: string) => {
    const key = `${table}\n${chain}`;
    let ls = printed.get(key);
    if (!ls) printed.set(key, (ls = chainLines(state, table, chain)));
    return ls;
  };
  /** Line `n` of the listing, within chain `chain` placed at `at`. */
  const lineAt = (table: string, chain: string, at: ChainAt, n: number): ListedLine => ({ line: n, text: linesOf(table, chain)[n - at.decl] });
  const rule = (table: string, chain: string, index: number): ListedLine | null => {
    const at = placed(table, chain);
    return at && index < (chainOf(table, chain)?.rules.length ?? 0) ? lineAt(table, chain, at, at.first + index) : null;
  };
  const head = (table: string, chain: string): ListedLine | null => {
    const at = placed(table, chain);
    return at ? lineAt(table, chain, at, at.head) : null;
  };
  return {
    file,
    what,
    rule,
    chain: head,
    block: (table, chain): ListedBlock | null => {
      const c = chainOf(table, chain);
      return c ? { head: head(table, chain), rules: c.rules.map((_, i) => rule(table, chain, i)) } : null;
    },
  };
}

/**
 * The node's IPVS table as a listing: chain is a virtual server's key (`10.96.0.10:80/TCP`, its
 * `-A` line), index a real server's position under it (its `-a` line). A dump's own lines when
 * `text` is the text the table was read from; else `ipvsadm-save -n` as kpsim renders it (render.ts:
 * each `-A` line, then its `-a` lines, in the table's order).
 */
export function ipvsListing(table: IpvsTable, file: string, what: string, text: string | null): RuleListing {
  let byKey: Map<string, { vs: ListedLine | null; rs: (ListedLine | null)[] }> | null = null;
  const lay = () => {
    if (byKey) return byKey;
    byKey = new Map();
    let line = 0;
    for (const vs of table.services) {
      if (text !== null) byKey.set(serviceKey(vs), { vs: lineOf(text, vs.span), rs: vs.realServers.map((rs) => lineOf(text, rs.span)) });
      else {
        const head = { line: ++line, text: renderService(vs) };
        byKey.set(serviceKey(vs), { vs: head, rs: vs.realServers.map((rs) => ({ line: ++line, text: renderRealServer(vs, rs) })) });
      }
    }
    return byKey;
  };
  return {
    file,
    what,
    rule: (_table, chain, index) => lay().get(chain)?.rs[index] ?? null,
    chain: (_table, chain) => lay().get(chain)?.vs ?? null,
    block: (_table, chain): ListedBlock | null => {
      const b = lay().get(chain);
      return b ? { head: b.vs, rules: b.rs } : null;
    },
  };
}
