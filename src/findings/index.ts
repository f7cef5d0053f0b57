// `kpsim lint`: findings about a node's netfilter tables, each with a code and the position of the
// rule or chain in the dump, sorted by position. Every check reads the node value only; with the
// objects, per-service chains are also checked against them.
import type { Family } from '../iptables/ir.js';
import type { NameBook } from '../explain/names.js';
import type { Node } from '../node/node.js';
import { lintChains, lintObjects } from './chains.js';
import type { Finding } from './finding.js';
import { lintMarks } from './marks.js';
import { lintOrder } from './order.js';
import { lintSplits } from './splits.js';

export type { Finding } from './finding.js';
export type { FindingCode } from './codes.js';

export interface LintOptions {
  /** The dump's file name for the findings' positions. */
  readonly file: string | null;
  readonly names?: NameBook | null;
}

export function lintNode(node: Node, family: Family, opts: LintOptions): Finding[] {
  const state = node.netfilter.get(family);
  if (!state) return [];
  const ctx = { file: opts.file, out: [] as Finding[] };
  lintChains(state, ctx);
  lintOrder(state, family, ctx);
  lintSplits(state, ctx);
  lintMarks(state, ctx);
  if (opts.names) lintObjects(state, opts.names, ctx);
  return ctx.out.sort((a, b) => (a.span?.offset ?? -1) - (b.span?.offset ?? -1));
}
