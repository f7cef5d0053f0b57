// Memoised table traversals. A traversal of a base chain whose reachable rules read only a few
// fields of the walk (READS bits), with no randomness, no state (recent, nth), no unknowns and
// only targets whose effect can be replayed (verdicts, jumps, MARK, NAT), is a function of those
// fields: kube-proxy's filter FORWARD (ctstate, mark) and nat POSTROUTING (mark) are, and every
// statistic fork of a service meets them again. The first traversal for a key runs live and
// records its path; later ones replay the path, applying each matched rule's target again (so a
// MARK, DNAT or MASQUERADE acts on the walk at hand). Used only with chain indices on, so the
// plain evaluator checks it (test/packetsim/index.test.ts).
import { ctStateBits } from './matches/conntrack.js';
import { READS, type ChainMemo, type CompiledChain, type CompiledRule, type MemoStep, type Walk } from './types.js';

const MAX_ENTRIES = 4096;

const REPLAYABLE = new Set(['accept', 'drop', 'reject', 'return', 'jump', 'continue', 'none', 'mark', 'dnat', 'snat', 'masquerade', 'redirect']);

/** The reads of everything reachable from `chain`, or null when some rule there cannot be memoised. */
function reachableReads(chain: CompiledChain, seen: Map<CompiledChain, number | null>, onStack: Set<CompiledChain>): number | null {
  if (seen.has(chain)) return seen.get(chain)!;
  if (onStack.has(chain)) return null;
  onStack.add(chain);
  // Reading the rules compiles the chain (link.ts); the walk stops at the first rule that
  // cannot be memoised, so it compiles little beyond what tracing will.
  const rules = chain.rules;
  // An index reads the destination address or port to pick the rules.
  let reads = chain.index !== null ? READS.DST | READS.DPORT : 0;
  let ok = true;
  for (const r of rules) {
    if (r.reads === null || !REPLAYABLE.has(r.target.kind)) {
      ok = false;
      break;
    }
    reads |= r.reads;
    if (r.target.kind === 'jump') {
      const to = r.jumpTo;
      const sub = to ? reachableReads(to, seen, onStack) : null;
      if (sub === null) {
        ok = false;
        break;
      }
      reads |= sub;
    }
  }
  onStack.delete(chain);
  const result = ok ? reads : null;
  seen.set(chain, result);
  return result;
}

/** The memo of a built-in chain whose traversals can be memoised, else null (`seen`: what earlier plans of its table found). */
export function planMemo(chain: CompiledChain, seen: Map<CompiledChain, number | null>): ChainMemo | null {
  const reads = reachableReads(chain, seen, new Set());
  return reads === null ? null : { reads, entries: new Map(), lastKey: null, lastSteps: undefined };
}

const SMALL = READS.MARK | READS.CTSTATE;

/** The values of the fields a memo reads, as a key: a number for the common mark/ctstate case. */
export function memoKey(w: Walk, reads: number): string | number {
  const p = w.pkt;
  // mark (32 bits) x ctStateBits (7) x direction (1): below 2^41, exact in a double.
  if ((reads & ~SMALL) === 0) return (reads & READS.MARK ? p.mark : 0) * 256 + (reads & READS.CTSTATE ? ctStateBits(w) * 2 + (w.dir === 'reply' ? 1 : 0) : 0);
  let key = '';
  if (reads & READS.SRC) key += `${p.src}|`;
  if (reads & READS.DST) key += `${p.dst}|`;
  if (reads & READS.PROTO) key += `${p.proto}|`;
  if (reads & READS.SPORT) key += `${p.sport}|`;
  if (reads & READS.DPORT) key += `${p.dport}|`;
  if (reads & READS.IIF) key += `${p.inIface}|`;
  if (reads & READS.OIF) key += `${p.outIface}|`;
  if (reads & READS.MARK) key += `${p.mark}|`;
  if (reads & READS.CTSTATE) key += `${ctStateBits(w)}${w.dir}|`;
  if (reads & READS.TCPFLAGS) key += `${p.tcpFlags}|`;
  return key;
}

/** The path a live traversal recorded since `start`, to store under `key`. */
export function remember(memo: ChainMemo, key: string | number, w: Walk, start: Walk['path']): void {
  const steps: MemoStep[] = [];
  for (let n = w.path; n !== start && n; n = n.prev) {
    if ((n.kind !== 'rule' && n.kind !== 'policy') || n.segment) return;
    steps.push({ kind: n.kind, chain: n.chain, rule: n.rule });
  }
  if (memo.entries.size >= MAX_ENTRIES) {
    memo.entries.clear();
    memo.lastKey = null;
    memo.lastSteps = undefined;
  }
  memo.entries.set(key, steps.reverse());
}

export type ApplyTarget = (w: Walk, r: CompiledRule) => void;

/** Replays a remembered traversal on `w`: the same path, each matched rule's target applied again. */
export function replay(w: Walk, steps: readonly MemoStep[], applyTarget: ApplyTarget): void {
  // One path node for the whole traversal; the outcome spells it out when its path is read.
  const last = steps[steps.length - 1];
  if (last) w.path = { kind: last.kind, chain: last.chain, rule: last.rule, prev: w.path, segment: steps };
  for (let i = 0; i < steps.length && w.verdict === null; i++) {
    const s = steps[i];
    if (s.kind === 'policy') {
      if (s.chain.policy === 'DROP') w.verdict = 'DROP';
      continue;
    }
    const kind = s.rule!.target.kind;
    if (kind !== 'jump' && kind !== 'return') applyTarget(w, s.rule!);
  }
}
