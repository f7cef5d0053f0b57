// The node's nftables tables of one family (ip or ip6, and inet for both) compiled for tracing,
// once per node and family: each rule a list of operations in statement order, as the kernel runs
// a rule's expressions one after another (nft_do_chain: the first that breaks ends the rule),
// jumps resolved to chains, sets and maps made lookups (sets.ts).
//
// What kpsim does not model is kept with its reason: a match it cannot evaluate is followed both
// ways, marked UNKNOWN (like the iptables simulator's unknown matches); a statement that may end
// the packet's path (queue, an `xt target` of iptables-nft) ends it UNKNOWN.
import type { Family } from '../net/index.js';
import { BITMASK_TYPES, type DataType } from '../nftables/datatypes.js';
import type { Expr, MatchStmt, NatStmt, Rule, SetExpr, SetRefExpr, Stmt } from '../nftables/ir.js';
import type { NftState, NftStateChain, NftStateSet, NftStateTable } from '../nftables/state.js';
import { INLINE_LIST, renderStmt, TokOut } from '../nftables/render-expr.js';
import { mutConn, mutPkt, snapshot } from '../packetsim/evaluate.js';
import type { CompiledChain, CompiledRule, CompileProblem, Hook, Walk } from '../packetsim/types.js';
import { keyParts, partMatches, SetLookup, type PartMatch, type SetProblem } from './sets.js';
import { bothRead, compileExpr, constant, type CompiledExpr, type Draw, type ExprContext, type Getter, type Regs, type SourceRead, type Val } from './values.js';

export type NftVerdict =
  | { readonly kind: 'accept' | 'drop' | 'continue' | 'return' | 'queue' }
  | { readonly kind: 'jump' | 'goto'; readonly chain: CChain };

/**
 * A rule's operation. `src` (test, vmap), when given, stands for the packet's IPv4 source address
 * (values.ts Getter): the flow cache asks the operation again of another source (watchSource).
 */
export type Op =
  | { readonly k: 'test'; readonly test: (w: Walk, regs: Regs, src?: number) => boolean }
  | { readonly k: 'draw'; readonly draw: Draw }
  | { readonly k: 'effect'; readonly run: (w: Walk, regs: Regs) => void }
  /** A match kpsim cannot evaluate: both ways. */
  | { readonly k: 'unknown'; readonly text: string; readonly reason: string }
  | { readonly k: 'verdict'; readonly verdict: NftVerdict }
  /** `KEY vmap MAP`: the verdict of the element found; none, the rule does not match. */
  | { readonly k: 'vmap'; readonly pick: (w: Walk, regs: Regs, src?: number) => NftVerdict | null | undefined }
  /** A nat statement: where to (`resolve` undefined: the map has no element, the rule does not match). */
  | { readonly k: 'nat'; readonly type: NatStmt['type']; readonly resolve: (w: Walk, regs: Regs) => { addr: number | bigint | null; port: number | null } | undefined }
  | { readonly k: 'reject' }
  /** A statement kpsim cannot follow: the packet's fate is unknown from here. */
  | { readonly k: 'stop'; readonly text: string; readonly reason: string };

export interface CTable {
  /** `ip kube-proxy`: the trace's table column. */
  readonly label: string;
  readonly key: string;
  readonly chains: Map<string, CChain>;
}

export interface BaseHook {
  readonly hook: Hook;
  readonly priority: number;
  readonly nat: boolean;
  readonly policy: 'accept' | 'drop';
}

export interface CChain {
  readonly table: CTable;
  readonly name: string;
  readonly base: BaseHook | null;
  readonly rules: CRule[];
  readonly state: NftStateChain;
  /** The chain as the path records it (run.ts pseudoChain), made when first recorded. */
  shown: CompiledChain | null;
}

export interface CRule {
  readonly chain: CChain;
  /** 1-based position in its chain. */
  readonly num: number;
  readonly rule: Rule;
  readonly ops: readonly Op[];
  /** A lookup in a set packets update (kube-proxy's affinity): the outcome rests on earlier packets. */
  readonly recalls: boolean;
  /** Reads or writes what other packets see: a set packets update, a numgen inc counter. */
  readonly stateful: boolean;
  /** The rule as the path records it (run.ts pseudoRule), made when first recorded. */
  shown: RuleShown | null;
}

/**
 * A rule's pseudo-rules: one per action as the path spells it (`byText`), found first by what the
 * rule did, the verdict object itself (a rule's verdict and a map element's are made once), and
 * whether a map picked it (`picked`), so most steps spell nothing.
 */
export interface RuleShown {
  readonly byText: Map<string, CompiledRule>;
  readonly did: Map<RuleDid, CompiledRule>;
  readonly picked: Map<RuleDid, CompiledRule>;
}

/** What a rule did, as the path records it: a verdict, a statement that ends the packet's path, or nothing. */
export type RuleDid = NftVerdict | 'reject' | 'dnat' | 'snat' | 'masquerade' | 'redirect' | null;

export interface CompiledNft {
  readonly tables: readonly CTable[];
  /** Base chains in the order the kernel registered them (table, then chain creation). */
  readonly bases: readonly CChain[];
  readonly problems: CompileProblem[];
}

const HOOKS: Readonly<Record<string, Hook>> = { prerouting: 'PREROUTING', input: 'INPUT', forward: 'FORWARD', output: 'OUTPUT', postrouting: 'POSTROUTING' };

/** The tables a packet of `family` meets: ip or ip6, and inet. */
function tableFamilies(family: Family): readonly string[] {
  return family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
}

export function compileNft(state: NftState, family: Family, interfaces: readonly string[]): CompiledNft {
  const problems: CompileProblem[] = [];
  const tables: CTable[] = [];
  const bases: CChain[] = [];
  let counters = 0;
  for (const t of state.tables.values()) {
    if (!tableFamilies(family).includes(t.family)) {
      if (t.family !== 'ip' && t.family !== 'ip6' && t.family !== 'inet') {
        problems.push({ code: 'SIM_UNSUPPORTED', message: `table ${t.family} ${t.name}: ${t.family} tables act on other packets than IP ones (not simulated)`, span: null });
      }
      continue;
    }
    const table: CTable = { label: `${t.family} ${t.name}`, key: `${t.family} ${t.name}`, chains: new Map() };
    tables.push(table);
    for (const ch of [...t.chains.values()].sort((a, b) => a.handle - b.handle)) {
      let base: BaseHook | null = null;
      if (ch.hook) {
        const hook = HOOKS[ch.hook.hook];
        if (!hook) {
          problems.push({ code: 'SIM_UNSUPPORTED', message: `chain ${table.label} ${ch.name}: hook ${ch.hook.hook} is not simulated`, span: null });
        } else {
          base = { hook, priority: ch.hook.priority.value, nat: ch.hook.type === 'nat', policy: ch.policy ?? 'accept' };
        }
      }
      const c: CChain = { table, name: ch.name, base, rules: [], state: ch, shown: null };
      table.chains.set(ch.name, c);
      if (base) bases.push(c);
    }
    const sets = compileSets(t, problems, table.label);
    const ctx = (rule: Rule): RuleContext => ({
      family,
      table,
      sets,
      rule,
      problems,
      draws: [],
      slots: 0,
      src: 0,
      ifindex: (name) => interfaces.indexOf(name) + 1,
      nextSlot() {
        return this.slots++;
      },
      counterId: () => `nft ${table.key} numgen ${counters++}`,
    });
    for (const c of table.chains.values()) {
      c.state.rules.forEach((rule, i) => {
        const rc = ctx(rule);
        const ops = compileRule(rule, rc);
        c.rules.push({ chain: c, num: i + 1, rule, ops, recalls: rc.recalls ?? false, stateful: (rc.recalls ?? false) || rc.draws.some((d) => d.kind === 'counter') || rule.stmts.some((st) => st.kind === 'setUpdate'), shown: null });
      });
    }
  }
  return { tables, bases, problems };
}

interface NamedSet {
  readonly lookup: SetLookup;
  readonly state: NftStateSet;
  /** The set's timeout (seconds) for elements a statement adds without one; Infinity without. */
  readonly timeout: number;
}

function compileSets(t: NftStateTable, problems: CompileProblem[], label: string): Map<string, NamedSet> {
  const updated = new Set<string>();
  for (const ch of t.chains.values()) for (const r of ch.rules) for (const s of r.stmts) if (s.kind === 'setUpdate') updated.add(s.set);
  const out = new Map<string, NamedSet>();
  for (const s of t.sets.values()) {
    const bad: SetProblem[] = [];
    const dynamic = updated.has(s.name) ? `nft ${t.family} ${t.name} @${s.name} ` : null;
    const lookup = new SetLookup(s.elements, dynamic, bad);
    for (const b of bad) problems.push({ code: 'SIM_UNSUPPORTED', message: `${label} @${s.name}: element left out (${b.reason})`, span: b.element.span });
    const tp = s.properties.find((p) => p.kind === 'timeout');
    const timeout = tp && tp.kind === 'timeout' ? (tp.value.kind === 'time' ? tp.value.ms : tp.value.value * 1000) / 1000 : Infinity;
    out.set(s.name, { lookup, state: s, timeout });
  }
  return out;
}

interface RuleContext extends ExprContext {
  readonly table: CTable;
  readonly sets: Map<string, NamedSet>;
  readonly rule: Rule;
  readonly problems: CompileProblem[];
  readonly draws: Draw[];
  slots: number;
  recalls?: boolean;
  /** What the statement being compiled reads of the packet's source (watchSource). */
  src: SourceRead;
}

function compileRule(rule: Rule, c: RuleContext): Op[] {
  const ops: Op[] = [];
  for (const s of rule.stmts) {
    const before = c.draws.length;
    c.src = 0;
    const op = compileStmt(s, c);
    // The draws the statement's expressions make come first (run.ts forks there).
    for (const d of c.draws.slice(before)) ops.push({ k: 'draw', draw: d });
    if (op) ops.push(watchSource(op, c.src));
  }
  return ops;
}

/**
 * The operation as the flow cache (src/packetsim/flow-cache.ts) needs it, when the trace is
 * recorded for it (WalkContext.rec). A test or verdict map that reads the IPv4 source address
 * through its getters (SourceRead 1: `ip saddr 10.244.0.5`, `ip saddr != 10.244.0.0/16`, `ip saddr
 * . th dport @s`, `fib saddr type local`) notes its answer with a question the cache asks of each
 * new source: the operation again, for that source, on the walk as it is now (its packet and
 * connection kept by snapshot), as iptables' `-s` checks are noted (evaluate.ts noteSource). One
 * that reads more of the source (SourceRead 2), or any other operation that reads it or acts on it
 * (SNAT, masquerade), makes the trace one the cache does not keep, once it runs.
 */
function watchSource(op: Op, src: SourceRead): Op {
  if (src === 0) return op;
  switch (op.k) {
    case 'test': {
      const test = op.test;
      if (src === 1) return { k: 'test', test: (w, regs) => noted(w, regs, test, test(w, regs)) };
      return { k: 'test', test: (w, regs) => (notBlind(w), test(w, regs)) };
    }
    case 'vmap': {
      const pick = op.pick;
      if (src === 1) return { k: 'vmap', pick: (w, regs) => noted(w, regs, pick, pick(w, regs)) };
      return { k: 'vmap', pick: (w, regs) => (notBlind(w), pick(w, regs)) };
    }
    case 'effect': {
      const run = op.run;
      return { k: 'effect', run: (w, regs) => (notBlind(w), run(w, regs)) };
    }
    case 'nat': {
      const resolve = op.resolve;
      return { ...op, resolve: (w, regs) => (notBlind(w), resolve(w, regs)) };
    }
    default:
      return op;
  }
}

/** A recorded trace's operation that read the source answered `seen`: the cache asks it again of a new source. */
function noted<T>(w: Walk, regs: Regs, op: (w: Walk, regs: Regs, src?: number) => T, seen: T): T {
  const rec = w.ctx.rec;
  if (rec !== null) {
    const at = snapshot(w);
    rec.asks.push({ ask: (src) => op(at, regs, src), seen });
  }
  return seen;
}

/** The recorded trace read or changed the source in a way the cache cannot ask again. */
function notBlind(w: Walk): void {
  if (w.ctx.rec !== null) w.ctx.rec.cacheable = false;
}

/** A statement as nft lists it. */
export function stmtText(s: Stmt): string {
  const out = new TokOut();
  renderStmt(s, out, '', INLINE_LIST);
  return out.join();
}

function compileStmt(s: Stmt, c: RuleContext): Op | null {
  switch (s.kind) {
    case 'match':
      return compileMatch(s, c);
    case 'verdict':
      return verdictOp(s.verdict, s.chain, c);
    case 'vmap':
      return vmapOp(s.key, s.map, c);
    case 'reject':
      return { k: 'reject' };
    case 'nat':
      // SNAT and masquerade read the source (get_unique_tuple keeps one that already fits) and
      // change it, as iptables' SNAT and MASQUERADE targets (link.ts SOURCE_BLIND_TARGETS).
      if (s.type === 'snat' || s.type === 'masquerade') c.src = 2;
      return natOp(s, c);
    case 'set':
      return setOp(s.target, s.value, c);
    case 'setUpdate':
      return setUpdateOp(s, c);
    case 'notrack':
      // nft_notrack_eval: only a packet conntrack has not seen yet (raw priority) is left untracked.
      // Not cached, as iptables' NOTRACK (link.ts SOURCE_BLIND_TARGETS).
      c.src = 2;
      return {
        k: 'effect',
        run: (w) => {
          if (!w.ctAttached) mutConn(w).untracked = true;
        },
      };
    case 'counter':
    case 'log':
    case 'comment':
      return null;
    case 'limit':
      return { k: 'unknown', text: 'limit', reason: 'rate limits are not modelled (they depend on the traffic rate)' };
    case 'xt':
      if (s.type === 'watcher') return null;
      return s.type === 'match'
        ? { k: 'unknown', text: stmtText(s), reason: `iptables-nft's xt match ${s.name} is not modelled (nft cannot print it; trace the iptables-save dump instead)` }
        : { k: 'stop', text: stmtText(s), reason: `iptables-nft's xt target ${s.name} is not modelled` };
    case 'opaque':
      return { k: 'stop', text: s.text, reason: `${s.text.split(' ')[0]} is not modelled` };
    default: {
      const never: never = s;
      return never;
    }
  }
}

function verdictOp(v: string, chain: string | null, c: RuleContext): Op {
  const verdict = resolveVerdict(v, chain, c);
  return typeof verdict === 'string' ? { k: 'stop', text: `${v} ${chain ?? ''}`.trim(), reason: verdict } : { k: 'verdict', verdict };
}

function resolveVerdict(v: string, chain: string | null, c: Pick<RuleContext, 'table'>): NftVerdict | string {
  if (v === 'jump' || v === 'goto') {
    const target = chain === null ? undefined : c.table.chains.get(chain);
    return target ? { kind: v, chain: target } : `chain ${chain} does not exist`;
  }
  if (v === 'accept' || v === 'drop' || v === 'continue' || v === 'return' || v === 'queue') return { kind: v };
  return `verdict ${v} is not modelled`;
}

/** The getters of a key (one per concatenated part), or the first unknown part. */
function keyGetters(key: Expr, c: RuleContext): { getters: Getter[]; types: (DataType | null)[] } | { unknown: string } {
  const parts = key.kind === 'concat' ? key.parts : [key];
  const getters: Getter[] = [];
  const types: (DataType | null)[] = [];
  for (const p of parts) {
    const e = compileExpr(p, c);
    if (e.kind === 'unknown') return { unknown: e.reason };
    getters.push(e.get);
    types.push(e.type);
    c.src = bothRead(c.src, e.src);
  }
  return { getters, types };
}

/** Reads the key's parts (`src`: Getter's); undefined when a part breaks. */
function readKey(getters: readonly Getter[], w: Walk, regs: Regs, src?: number): Val[] | undefined {
  const vals: Val[] = new Array(getters.length);
  for (let i = 0; i < getters.length; i++) {
    const v = getters[i](w, regs, src);
    if (v === undefined) return undefined;
    vals[i] = v;
  }
  return vals;
}

type Find = (w: Walk, vals: readonly Val[]) => { readonly data: Expr | null } | null;

/** A set or map expression as a lookup: a named one, or an anonymous one of the rule. */
function lookupOf(map: SetExpr | SetRefExpr, c: RuleContext): Find | string {
  if (map.kind === 'setRef') {
    const s = c.sets.get(map.name);
    if (!s) return `set @${map.name} does not exist`;
    if (s.lookup.dynamic !== null) c.recalls = true;
    timedKey(s.lookup, c);
    return (w, vals) => s.lookup.find(w, vals);
  }
  const bad: SetProblem[] = [];
  const lookup = new SetLookup(map.elements, null, bad);
  if (bad.length) return bad[0].reason;
  timedKey(lookup, c);
  return (w, vals) => lookup.find(w, vals);
}

/** A key read of the source, looked up where the clock or earlier packets decide: not asked again (the key's getters are compiled first). */
function timedKey(lookup: SetLookup, c: RuleContext): void {
  if (lookup.timed && c.src !== 0) c.src = 2;
}

function compileMatch(s: MatchStmt, c: RuleContext): Op {
  const unknownOp = (reason: string): Op => ({ k: 'unknown', text: stmtText(s), reason });
  const right = s.right;
  // A set lookup: `ip saddr @s`, `ip daddr != { a, b }`, `ip daddr . th dport { ... }`.
  if (right.kind === 'set' || right.kind === 'setRef') {
    if (s.op !== 'implicit' && s.op !== 'eq' && s.op !== 'ne') return unknownOp(`${s.opSpelling} with a set`);
    const k = keyGetters(s.left, c);
    if ('unknown' in k) return unknownOp(k.unknown);
    const find = lookupOf(right, c);
    if (typeof find === 'string') return unknownOp(find);
    const want = s.op !== 'ne';
    const { getters } = k;
    return {
      k: 'test',
      test: (w, regs, src) => {
        const vals = readKey(getters, w, regs, src);
        return vals !== undefined && (find(w, vals) !== null) === want;
      },
    };
  }
  const left = compileExpr(s.left, c);
  if (left.kind === 'unknown') return unknownOp(left.reason);
  c.src = left.src;
  const g = left.get;
  // `tcp flags syn / syn,ack`: (value & mask) == flags.
  if (right.kind === 'masked') {
    const v = constant(right.value);
    const m = constant(right.mask);
    if (typeof v !== 'number' || typeof m !== 'number') return unknownOp('a masked value kpsim cannot read');
    const want = s.op !== 'ne';
    return { k: 'test', test: (w, regs, src) => {
      const x = g(w, regs, src);
      return typeof x === 'number' && ((x & m) >>> 0 === v) === want;
    } };
  }
  const part = right.kind === 'value' ? keyParts(right) : 'not a value';
  if (typeof part === 'string' || part.length !== 1) return unknownOp(typeof part === 'string' ? part : 'a concatenation compared');
  const m = part[0];
  // No operator on a flag type is a flag test (nft: `ct state new` is `(ct state & new) != 0`).
  if (s.op === 'implicit' && left.type !== null && BITMASK_TYPES.has(left.type) && m.k === 'eq' && typeof m.v === 'number') {
    const bits = m.v;
    return { k: 'test', test: (w, regs, src) => {
      const x = g(w, regs, src);
      return typeof x === 'number' && (x & bits) !== 0;
    } };
  }
  return { k: 'test', test: relation(s.op, m, g) };
}

function relation(op: MatchStmt['op'], m: PartMatch, g: Getter): (w: Walk, regs: Regs, src?: number) => boolean {
  switch (op) {
    case 'implicit':
    case 'eq':
      return (w, regs, src) => {
        const x = g(w, regs, src);
        return x !== undefined && partMatches(m, x);
      };
    case 'ne':
      return (w, regs, src) => {
        const x = g(w, regs, src);
        return x !== undefined && !partMatches(m, x);
      };
    default: {
      const k = m.k === 'eq' ? m.v : null;
      return (w, regs, src) => {
        const x = g(w, regs, src);
        if (x === undefined || k === null || typeof x !== typeof k) return false;
        switch (op) {
          case 'lt': return x < k;
          case 'gt': return x > k;
          case 'le': return x <= k;
          default: return x >= k;
        }
      };
    }
  }
}

function verdictData(data: Expr | null, c: RuleContext): NftVerdict | string {
  if (!data || data.kind !== 'verdict') return 'a map element without a verdict';
  return resolveVerdict(data.verdict, data.chain, c);
}

function vmapOp(key: Expr, map: SetExpr | SetRefExpr, c: RuleContext): Op {
  const k = keyGetters(key, c);
  const text = () => stmtText({ kind: 'vmap', key, map });
  if ('unknown' in k) return { k: 'stop', text: text(), reason: k.unknown };
  const find = lookupOf(map, c);
  if (typeof find === 'string') return { k: 'stop', text: text(), reason: find };
  const { getters } = k;
  // Each element's verdict is resolved once, when first found.
  const verdicts = new WeakMap<object, NftVerdict | null>();
  return {
    k: 'vmap',
    pick: (w, regs, src) => {
      const vals = readKey(getters, w, regs, src);
      if (vals === undefined) return undefined;
      const e = find(w, vals);
      if (e === null) return null;
      let v = verdicts.get(e);
      if (v === undefined) {
        const r = verdictData(e.data, c);
        v = typeof r === 'string' ? null : r;
        verdicts.set(e, v);
      }
      return v;
    },
  };
}

/** `meta mark set EXPR`, `ct mark set EXPR`: the value written. */
function setOp(target: Expr, value: Expr, c: RuleContext): Op | null {
  const v = compileExpr(value, c);
  const what = target.kind === 'meta' ? `meta ${target.key}` : target.kind === 'ct' ? `ct ${target.key}` : target.kind;
  if (v.kind === 'unknown') return { k: 'stop', text: `${what} set`, reason: v.reason };
  c.src = v.src;
  const g = v.get;
  if (target.kind === 'meta' && target.key === 'mark') {
    return { k: 'effect', run: (w, regs) => {
      const x = g(w, regs);
      if (typeof x === 'number') mutPkt(w).mark = x >>> 0;
    } };
  }
  if (target.kind === 'ct' && target.key === 'mark' && !target.direction) {
    return { k: 'effect', run: (w, regs) => {
      const x = g(w, regs);
      if (typeof x === 'number' && w.ctAttached && !w.conn.untracked) mutConn(w).mark = x >>> 0;
    } };
  }
  // nftrace, priority and the like change nothing the trace follows.
  if (target.kind === 'meta' && (target.key === 'nftrace' || target.key === 'priority')) return null;
  return { k: 'stop', text: `${what} set`, reason: `setting ${what} is not modelled` };
}

/** `update @s { KEY [timeout T] }`, `add @s { ... }`, `delete @s { ... }`: the packet's key into the set, in the world. */
function setUpdateOp(s: Extract<Stmt, { kind: 'setUpdate' }>, c: RuleContext): Op {
  const named = c.sets.get(s.set);
  if (!named) return { k: 'stop', text: `${s.op} @${s.set}`, reason: `set @${s.set} does not exist` };
  if (named.state.map || s.element.data) return { k: 'stop', text: `${s.op} @${s.set}`, reason: 'adding to a map from the packet path is not modelled' };
  const k = keyGetters(s.element.key, c);
  if ('unknown' in k) return { k: 'stop', text: `${s.op} @${s.set}`, reason: k.unknown };
  const t = s.element.options.find((o) => o.kind === 'timeout');
  const timeout = t && t.kind === 'timeout' ? (t.value.kind === 'time' ? t.value.ms : t.value.value * 1000) / 1000 : named.timeout;
  const prefix = named.lookup.dynamic!;
  const { getters } = k;
  return {
    k: 'effect',
    run: (w, regs) => {
      const vals = readKey(getters, w, regs);
      if (vals === undefined) return;
      const now = w.ctx.world.now;
      if (s.op === 'add' && named.lookup.find(w, vals) !== null) return;
      const key = prefix + (vals.length === 1 ? String(vals[0]) : vals.map(String).join('\u0000'));
      w.delta = { kind: 'ext', key, slot: { value: '1', expires: s.op === 'delete' ? -Infinity : now + timeout }, prev: w.delta };
    },
  };
}

/** A nat statement's destination: constant, or looked up in a map (`dnat to ip daddr map @m`). */
function natOp(s: NatStmt, c: RuleContext): Op {
  const stop = (reason: string): Op => ({ k: 'stop', text: stmtText(s), reason });
  // random, fully-random and persistent choose within a range of addresses or ports; kpsim's NAT
  // keeps the packet's port where none is given, as it does for iptables' --random-fully.
  let addr: ((w: Walk, regs: Regs) => { addr: number | bigint | null; port: number | null } | undefined) | null = null;
  const a = s.address;
  if (a === null) addr = () => ({ addr: null, port: null });
  else if (a.kind === 'map') {
    const k = keyGetters(a.key, c);
    if ('unknown' in k) return stop(k.unknown);
    const find = lookupOf(a.map, c);
    if (typeof find === 'string') return stop(find);
    const { getters } = k;
    addr = (w, regs) => {
      const vals = readKey(getters, w, regs);
      if (vals === undefined) return undefined;
      const e = find(w, vals);
      if (!e || !e.data) return undefined;
      const parts = e.data.kind === 'concat' ? e.data.parts : [e.data];
      const at = constant(parts[0]);
      const port = parts[1] ? constant(parts[1]) : null;
      return { addr: typeof at === 'number' || typeof at === 'bigint' ? at : null, port: typeof port === 'number' ? port : null };
    };
  } else {
    const one = singleValue(a);
    if (one === undefined) return stop('a NAT address range (the kernel picks within it by hash) is not modelled');
    addr = () => ({ addr: one, port: null });
  }
  let port: number | null = null;
  if (s.port) {
    const p = singleValue(s.port);
    if (typeof p !== 'number') return stop('a NAT port range or map is not modelled');
    port = p;
  }
  const base = addr;
  return {
    k: 'nat',
    type: s.type,
    resolve: port === null ? base : (w, regs) => {
      const r = base(w, regs);
      return r === undefined ? undefined : { addr: r.addr, port };
    },
  };
}

/** One address or port (a range from X to X included); undefined for a range of several. */
function singleValue(e: Expr): number | bigint | undefined {
  if (e.kind === 'value' && e.value.kind === 'range') {
    const lo = constant({ kind: 'value', value: e.value.from });
    const hi = constant({ kind: 'value', value: e.value.to });
    return lo !== null && lo === hi && typeof lo !== 'string' ? lo : undefined;
  }
  const v = constant(e);
  return typeof v === 'number' || typeof v === 'bigint' ? v : undefined;
}

export type { CompiledExpr };
