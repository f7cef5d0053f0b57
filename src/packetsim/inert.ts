// Whether a rule's matching decides nothing (CompiledRule.inert), decided when a walk first asks:
// only for a rule with a match the simulator cannot decide, so the chains it jumps to are compiled
// (link.ts) only then, not for every rule of a 10k-service node.
import type { CompiledChain, CompiledRule, CTarget } from './types.js';

/** Targets after which the walk goes on with the next rule, having changed nothing a later rule or the outcome reads. */
const INERT_TARGETS: ReadonlySet<CTarget['kind']> = new Set(['continue', 'none']);

/**
 * Per chain: whether all its rules are inert or RETURN. A chain reached again while its own answer
 * is being decided (a loop) is taken as not inert; the answer does not depend on where the
 * question started (every chain that reaches a chain being decided is on a loop with it), so one
 * table of answers serves every question.
 */
const chainAnswers = new WeakMap<CompiledChain, boolean>();

function writesShared(r: CompiledRule): boolean {
  return r.matches.some((m) => m.kind === 'test' && m.shared === true);
}

function chainInert(ch: CompiledChain): boolean {
  const known = chainAnswers.get(ch);
  if (known !== undefined) return known;
  chainAnswers.set(ch, false);
  const inert = ch.rules.every((r) => isInert(r) || (r.target.kind === 'return' && !writesShared(r)));
  chainAnswers.set(ch, inert);
  return inert;
}

/**
 * A rule is inert when its matches write no state other rules read and its target is LOG-like,
 * nothing, or a jump (not a goto, which skips the rest of the calling chain) to a chain whose rules
 * are all inert or RETURN.
 */
export function isInert(r: CompiledRule): boolean {
  if (r.inert !== undefined) return r.inert;
  let inert: boolean;
  if (writesShared(r)) inert = false;
  else if (INERT_TARGETS.has(r.target.kind)) inert = true;
  else inert = r.target.kind === 'jump' && !r.goto && r.jumpTo !== null && chainInert(r.jumpTo);
  r.inert = inert;
  return inert;
}
