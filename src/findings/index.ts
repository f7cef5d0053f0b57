// `kpsim lint`: findings about a node's netfilter tables, each with a code and the position of the
// rule or chain in the dump, sorted by position. Every check reads the node value only; with the
// objects, per-service chains are also checked against them.
import type { Family } from '../iptables/ir.js';
import type { NameBook } from '../explain/names.js';
import type { Node } from '../node/node.js';
import { lintChains, lintObjects } from './chains.js';
import type { Finding } from './finding.js';
import { lintMarks } from './marks.js';
import { lintNftables } from './nft.js';
import { lintOrder } from './order.js';
import { lintSplits } from './splits.js';

export type { Finding } from './finding.js';
export type { FindingCode } from './codes.js';

export interface LintOptions {
  /** The dump's file name for the findings' positions. */
  readonly file: string | null;
  /** The nft dump's file name, for findings about the node's nftables tables. */
  readonly nftFile?: string | null;
  readonly names?: NameBook | null;
}

export function lintNode(node: Node, family: Family, opts: LintOptions): Finding[] {
  const state = node.netfilter.get(family);
  const ctx = { file: opts.file, out: [] as Finding[] };
  if (state) {
    lintChains(state, ctx);
    lintOrder(state, family, ctx);
    lintSplits(state, ctx);
    lintMarks(state, ctx);
    if (opts.names) lintObjects(state, opts.names, ctx);
  }
  const nft = { file: opts.nftFile ?? null, out: [] as Finding[] };
  if (node.nftables) lintNftables(node.nftables, family, nft, opts.names ?? null);
  const byPosition = (a: Finding, b: Finding) => (a.span?.offset ?? -1) - (b.span?.offset ?? -1);
  return [...ctx.out.sort(byPosition), ...nft.out.sort(byPosition)];
}
