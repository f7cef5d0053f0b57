// The node value (src/node) made ready to trace for one family: its netfilter tables compiled,
// its sets as `-m set` contents, its interfaces and routes as lookups, and the hook extensions
// its proxy mode needs (given by the mode's row in src/modes.ts; the core never names them).
import type { Family } from '../iptables/ir.js';
import { emptyState } from '../iptables/state.js';
import type { Node } from '../node/node.js';
import { linkRuleset } from './link.js';
import { buildEnv, type EnvProblem, type NodeEnv } from './env.js';
import { withExtensions } from './evaluate.js';
import { ipsetDb } from './ipset.js';
import type { CompiledRuleset, HookExtension } from './types.js';

/** One family of a node, compiled for tracing. */
export interface SimNode {
  readonly rs: CompiledRuleset;
  readonly env: NodeEnv;
}

export interface PrepareOptions {
  /** Build chain indices (default true; the results are the same either way). */
  readonly index?: boolean;
  readonly extensions?: readonly HookExtension[];
}

export function prepareNode(node: Node, family: Family, opts: PrepareOptions = {}): { sim: SimNode; problems: readonly EnvProblem[] } {
  const ipsets = node.ipsets ? ipsetDb(node.ipsets, family) : null;
  const rs = linkRuleset(node.netfilter.get(family) ?? emptyState(family), { ipsets, index: opts.index ?? true });
  const problems: EnvProblem[] = [];
  const env = buildEnv(node, family, problems);
  return { sim: { rs: withExtensions(rs, opts.extensions ?? []), env }, problems };
}
