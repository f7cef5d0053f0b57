// One nftables base chain run for a walk, as nft_do_chain runs it: rules in order, each rule's
// operations in order until one fails (the next rule) or a verdict ends it; `jump` pushes the
// chain (at most NFT_JUMP_STACK_SIZE deep), `goto` replaces it, `return` or the end of a regular
// chain pops, the end of the base chain is its policy. `accept` ends only this base chain (the
// packet goes on to the next hook function); `drop` and `reject` end the packet; a nat statement
// binds the connection and accepts.
//
// A random draw (`numgen random mod N`, an unseeded jhash) forks the walk: reciprocal_scale of one
// random u32 gives outcome i for the ceil(i*2^32/N) .. ceil((i+1)*2^32/N)-1 values, so outcome i
// has probability (ceil((i+1)*2^32/N) - ceil(i*2^32/N)) / 2^32, exactly. Each fork finishes the
// base chain here and then goes on in the core's program (`pending`).
import { addUnknown, fork, natBind, recordStep, snapshot, stop } from '../packetsim/evaluate.js';
import { extensionChain, extensionRule } from '../packetsim/extension-rule.js';
import { mul, type Prob } from '../packetsim/fraction.js';
import { newFork, type CompiledChain, type CompiledRule, type CTarget, type Hook, type ListedRef, type PathNode, type Walk } from '../packetsim/types.js';
import { HOOK_LISTINGS } from '../node/extension-listing.js';
import { readExtension } from '../packetsim/world.js';
import { renderChainItem } from '../nftables/render.js';
import type { CChain, CRule, NftVerdict, RuleDid } from './compile.js';
import type { Draw } from './values.js';

/** include/net/netfilter/nf_tables.h NFT_JUMP_STACK_SIZE. */
export const JUMP_STACK_SIZE = 16;

interface Frame {
  readonly chain: CChain;
  /** The rule after the jump. */
  readonly next: number;
  readonly caller: Frame | null;
}

/** Where the evaluation is: copied when the walk forks. */
interface Cursor {
  readonly base: CChain;
  readonly hook: Hook;
  chain: CChain;
  rule: number;
  op: number;
  regs: number[];
  stack: Frame | null;
  depth: number;
}

const NO_REGS: number[] = [];

/** Runs a base chain for the walk; forks made on the way are finished to the chain's end and pushed to `pending`. */
export function runBaseChain(w: Walk, base: CChain, hook: Hook, pending: Walk[]): void {
  // The hook and base chain being run, as the core sets them for a table (the trace reads them).
  w.hook = hook;
  w.base = pseudoChain(base);
  run(w, { base, hook, chain: base, rule: 0, op: 0, regs: NO_REGS, stack: null, depth: 0 }, pending);
}

/**
 * The path's record of a step: in explain mode with the walk's state (evaluate.ts recordStep), or
 * the state `at` the rule began to act (a rule's statements run before its verdict: `meta mark set
 * 0x4000 accept` is one step, whose packet is the one it marked).
 */
function record(w: Walk, kind: PathNode['kind'], chain: CompiledChain, rule: CompiledRule | null, at: Walk | null = null, forked?: 'unknown'): void {
  recordStep(w, chain, rule, kind, forked, at);
}

/** What a rule did for the walk. */
type RuleEnd = 'nomatch' | 'next' | 'ended' | NftVerdict;

function run(w: Walk, cur: Cursor, pending: Walk[]): void {
  const explain = w.ctx.opts.explain;
  while (w.verdict === null) {
    const chain = cur.chain;
    if (cur.rule >= chain.rules.length) {
      if (!leave(w, cur, explain)) return;
      continue;
    }
    const r = chain.rules[cur.rule];
    const end = runRule(w, r, cur, pending);
    cur.op = 0;
    if (end === 'nomatch') {
      cur.rule++;
      continue;
    }
    if (end === 'next') {
      cur.rule++;
      continue;
    }
    if (end === 'ended') return;
    switch (end.kind) {
      case 'accept':
        return;
      case 'drop':
        return stop(w, 'DROP');
      case 'queue':
        return stop(w, 'UNKNOWN', 'queue: the verdict is up to a userspace program');
      case 'continue':
        cur.rule++;
        continue;
      case 'return':
        if (!leave(w, cur, false)) return;
        continue;
      case 'jump':
        if (cur.depth >= JUMP_STACK_SIZE) return stop(w, 'UNKNOWN', `jumps deeper than ${JUMP_STACK_SIZE} chains (the kernel refuses such a ruleset)`);
        cur.stack = { chain, next: cur.rule + 1, caller: cur.stack };
        cur.depth++;
        cur.chain = end.chain;
        cur.rule = 0;
        continue;
      case 'goto':
        cur.chain = end.chain;
        cur.rule = 0;
        continue;
    }
  }
}

/** The end of a chain or `return`: back to the caller, or the base chain's policy. False: the base chain is done. */
function leave(w: Walk, cur: Cursor, explain: boolean): boolean {
  const f = cur.stack;
  if (f !== null) {
    if (explain) record(w, 'return', pseudoChain(cur.chain), null);
    cur.chain = f.chain;
    cur.rule = f.next;
    cur.stack = f.caller;
    cur.depth--;
    return true;
  }
  const base = cur.base;
  const policy = base.base!.policy;
  // As the core does: an empty base chain's policy is recorded only when it drops, or in explain mode.
  if (base.rules.length > 0 || policy === 'drop' || w.ctx.opts.explain) record(w, 'policy', pseudoChain(base), null);
  if (policy === 'drop') stop(w, 'DROP');
  return false;
}

/** The share of outcome i of reciprocal_scale(u32, n): (ceil((i+1)*2^32/n) - ceil(i*2^32/n)) / 2^32. */
export function drawShare(i: number, n: number): Prob {
  const scale = 1n << 32n;
  const N = BigInt(n);
  const ceil = (a: bigint) => (a * scale + N - 1n) / N;
  return { num: ceil(BigInt(i) + 1n) - ceil(BigInt(i)), exp: 32, den: 1n };
}

function withReg(regs: number[], slot: number, v: number): number[] {
  const out = regs.slice();
  out[slot] = v;
  return out;
}

/** The rule's operations from `cur.op`; the step it is in the path recorded. */
function runRule(w: Walk, r: CRule, cur: Cursor, pending: Walk[]): RuleEnd {
  const ops = r.ops;
  const explain = w.ctx.opts.explain;
  /** Explain mode: the walk before the rule's first statement acted. */
  let before: Walk | null = null;
  for (let i = cur.op; i < ops.length; i++) {
    const op = ops[i];
    switch (op.k) {
      case 'test':
        if (!op.test(w, cur.regs)) return miss(w, r, before);
        break;
      case 'effect':
        if (explain && before === null) before = snapshot(w);
        op.run(w, cur.regs);
        break;
      case 'draw':
        cur.regs = draw(w, r, cur, i, op.draw, pending);
        break;
      case 'unknown': {
        // Both ways: the fork as if it did not match, this walk as if it did.
        const other = fork(w);
        const id = newFork();
        addUnknown(other, { rule: pseudoRule(r, null), text: op.text, reason: op.reason, assumed: 'no match', fork: id });
        if (explain) record(other, 'nomatch', pseudoChain(r.chain), pseudoRule(r, null), before, 'unknown');
        run(other, { ...cur, rule: cur.rule + 1, op: 0 }, pending);
        pending.push(other);
        addUnknown(w, { rule: pseudoRule(r, null), text: op.text, reason: op.reason, assumed: 'match', fork: id });
        break;
      }
      case 'verdict':
        took(w, r, op.verdict, before);
        return op.verdict;
      case 'vmap': {
        const v = op.pick(w, cur.regs);
        if (!v) return miss(w, r, before);
        took(w, r, v, before, true);
        return v;
      }
      case 'nat': {
        const to = op.resolve(w, cur.regs);
        if (to === undefined) return miss(w, r, before);
        took(w, r, op.type, before);
        const hook = cur.hook;
        const ok = op.type === 'dnat' || op.type === 'redirect' ? hook === 'PREROUTING' || hook === 'OUTPUT' : hook === 'POSTROUTING' || hook === 'INPUT';
        if (!cur.base.base!.nat || !ok) {
          addUnknown(w, { rule: pseudoRule(r, op.type), text: op.type, reason: `${op.type} outside a nat chain of its hooks`, assumed: 'target' });
          stop(w, 'UNKNOWN');
          return 'ended';
        }
        natBind(w, hook, op.type, to.addr, to.port);
        return 'ended';
      }
      case 'reject':
        took(w, r, 'reject', before);
        stop(w, 'REJECT');
        return 'ended';
      case 'stop':
        took(w, r, null, before);
        addUnknown(w, { rule: pseudoRule(r, null), text: op.text, reason: op.reason, assumed: 'target' });
        stop(w, 'UNKNOWN');
        return 'ended';
      default: {
        const never: never = op;
        return never;
      }
    }
  }
  took(w, r, null, before);
  return 'next';
}

/** The rule matched and did `did` (a verdict map's pick: `picked`); `before`: the walk before its statements acted. */
function took(w: Walk, r: CRule, did: Parameters<typeof pseudoRule>[1], before: Walk | null, picked = false): void {
  record(w, 'rule', pseudoChain(r.chain), pseudoRule(r, did, picked), before);
}

/** The rule did not match (recorded in explain mode). */
function miss(w: Walk, r: CRule, before: Walk | null): 'nomatch' {
  if (w.ctx.opts.explain) record(w, 'nomatch', pseudoChain(r.chain), pseudoRule(r, null), before);
  return 'nomatch';
}

/** The draw's value for this walk; for a random one, the forks with the other values first. */
function draw(w: Walk, r: CRule, cur: Cursor, at: number, d: Draw, pending: Walk[]): number[] {
  if (d.kind === 'counter') {
    // nft_ng_inc_eval: the counter's next value, kept in the world (the first is 0).
    const slot = readExtension(w.ctx.world, w.delta, d.id);
    const last = slot ? Number(slot.value) : d.mod - 1;
    const next = last + 1 < d.mod ? last + 1 : 0;
    w.delta = { kind: 'ext', key: d.id, slot: { value: String(next), expires: Infinity }, prev: w.delta };
    return withReg(cur.regs, d.slot, next + d.offset);
  }
  const p = w.prob;
  for (let i = 1; i < d.mod; i++) {
    const x = fork(w);
    x.prob = mul(p, drawShare(i, d.mod));
    run(x, { ...cur, regs: withReg(cur.regs, d.slot, i + d.offset), op: at + 1 }, pending);
    pending.push(x);
  }
  w.prob = mul(p, drawShare(0, d.mod));
  return withReg(cur.regs, d.slot, d.offset);
}

// ---- what the path records (the trace prints these as `ip kube-proxy:services:rule:1 ...`)


function listedAt(c: CChain, index: number | null): ListedRef {
  return { listing: HOOK_LISTINGS.nftables, table: c.table.label, chain: c.name, index };
}

function pseudoChain(c: CChain): CompiledChain {
  let p = c.shown;
  if (!p) {
    const rs: CompiledRule[] = [];
    const b = c.base;
    p = extensionChain({
      table: c.table.label,
      name: c.name,
      builtin: b !== null,
      policy: b?.policy === 'drop' ? 'DROP' : 'ACCEPT',
      extension: false,
      rules: rs,
      hookFn: b ? { hook: b.hook, name: `${c.table.label} ${c.name}`, priority: b.priority } : undefined,
      listed: listedAt(c, null),
    });
    c.shown = p;
    for (const r of c.rules) rs.push(pseudoRule(r, null));
  }
  return p;
}

function verdictText(v: NftVerdict): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain.name}` : v.kind;
}

const TARGET_KINDS: Readonly<Record<string, CTarget>> = {
  accept: { kind: 'accept' },
  drop: { kind: 'drop' },
  reject: { kind: 'reject', with: null },
  return: { kind: 'return' },
  dnat: { kind: 'dnat', fromAddr: null, toAddr: null, fromPort: null, toPort: null, random: false },
  snat: { kind: 'snat', fromAddr: null, toAddr: null, fromPort: null, toPort: null, random: false },
  masquerade: { kind: 'masquerade', fromAddr: null, toAddr: null, fromPort: null, toPort: null, random: false },
  redirect: { kind: 'redirect', fromAddr: null, toAddr: null, fromPort: null, toPort: null, random: false },
};

/**
 * The rule as the path shows it, with what it did (`goto service-X` out of a verdict map: `picked`,
 * said in words, as the rule's line does not say it).
 */
function pseudoRule(r: CRule, did: RuleDid, picked = false): CompiledRule {
  const shown = (r.shown ??= { byText: new Map(), did: new Map(), picked: new Map() });
  const byDid = picked ? shown.picked : shown.did;
  const known = byDid.get(did);
  if (known) return known;
  const action = did === null ? '' : typeof did === 'string' ? did : verdictText(did);
  const key = picked ? `map ${action}` : action;
  let p = shown.byText.get(key);
  if (!p) {
    const kind = did === null ? null : typeof did === 'string' ? did : did.kind;
    const target: CTarget = kind === null ? { kind: 'none' } : (TARGET_KINDS[kind] ?? (did !== null && typeof did !== 'string' && (did.kind === 'jump' || did.kind === 'goto') ? { kind: 'jump', chain: did.chain.name, goto: did.kind === 'goto' } : { kind: 'continue', name: action }));
    const random = r.ops.flatMap((op) => (op.k === 'draw' && op.draw.kind === 'random' ? [op.draw.what] : [])).join(', ');
    const unknown = r.ops.find((op) => op.k === 'unknown');
    p = extensionRule(r.chain.shown ?? pseudoChain(r.chain), {
      num: r.num,
      text: renderChainItem(r.rule, 'listing'),
      action,
      span: r.rule.span,
      target,
      recalls: r.recalls,
      stateful: r.stateful,
      comment: picked ? `the map's verdict: ${action}` : null,
      random: random || undefined,
      unknown: unknown?.k === 'unknown' ? { text: unknown.text, reason: unknown.reason } : undefined,
      listed: listedAt(r.chain, r.num - 1),
    });
    shown.byText.set(key, p);
  }
  byDid.set(did, p);
  return p;
}
