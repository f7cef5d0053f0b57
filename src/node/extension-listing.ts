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
import { parseNft } from '../nftables/parse.js';
import { applyNft, emptyNftState, type NftState } from '../nftables/state.js';
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

/** What `nft list ruleset` prints for every table of the state (the tables in the order made). */
function listRuleset(state: NftState): string {
  return [...state.tables.values()].map((t) => listTable(state, t.family, t.name) ?? '').join('');
}

/**
 * The node's nftables tables as a listing: table is the trace's label (`ip kube-proxy`, which is
 * state.ts's table key). A dump's own lines when `text` is the text the state was read from; else
 * the state as nft lists it (`kpsim compile --mode nftables`'s nftables.txt), read back once, when
 * a line is first asked for, so that every rule and chain has its line there.
 */
export function nftListing(state: NftState, file: string, what: string, text: string | null): RuleListing {
  let read: { state: NftState; text: string } | null = text === null ? null : { state, text };
  const lay = () => {
    if (read) return read;
    const listed = listRuleset(state);
    const again = emptyNftState();
    const parsed = parseNft(listed, { file });
    applyNft(again, parsed.file, file);
    return (read = { state: again, text: listed });
  };
  const chainOf = (table: string, chain: string) => lay().state.tables.get(table)?.chains.get(chain);
  // A base chain's line is the one with its hook and policy; a regular chain's, its declaration.
  const head = (table: string, chain: string) => {
    const c = chainOf(table, chain);
    return c ? lineOf(lay().text, c.hook?.span ?? c.span) : null;
  };
  return {
    file,
    what,
    rule: (table, chain, index) => lineOf(lay().text, chainOf(table, chain)?.rules[index]?.span ?? null),
    chain: head,
    block: (table, chain): ListedBlock | null => {
      const c = chainOf(table, chain);
      return c ? { head: head(table, chain), rules: c.rules.map((r) => lineOf(lay().text, r.span)) } : null;
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
