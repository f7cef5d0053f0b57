// traceFlows: packets in order, with the state earlier packets leave (connections, `recent` lists,
// nth counters, token buckets, hook extensions' slots) carried to the later ones.
//
// After a packet the state is a distribution: each way the packet could end leaves its own world.
// Held as one list of whole worlds (flows-whole.ts), independent choices multiply: a thousand
// clients of ClientIP-affinity services, each remembered at one of ten endpoints, are 10^1000
// worlds, and a packet would be traced in every one. Here the distribution is a product of
// independent factors: each factor holds a few state keys (a connection's two tuples, one client's
// entries in the lists of one service) and the alternatives for their values with their
// probabilities; every other key has one certain value (the base). A packet is traced in each
// combination of only the factors it reads (found by tracing: a read of a key of a factor not yet
// chosen restarts the packet with that factor added), and what its walks leave of those keys, and
// of the keys they write, becomes one new factor in their place. The outcomes are those a list of
// whole worlds gives, with the same exact probabilities and in the same order
// (test/packetsim/flows-factored.test.ts compares the two), at the cost of the factors a packet
// reads. Connections no later packet can belong to are dropped, and a factor left with one
// alternative is folded into the base.
//
// Two things differ from the list of whole worlds. An outcome's `paths` counts a path once per
// combination of the factors the packet read, not once per whole world (which counted the same
// path again in every world that differs only in what the packet never reads). And a packet that
// rests on unmodelled matches (UNKNOWN: its worlds are kept apart by what it assumed, World.assumed)
// is beyond the factors: from it on the run continues as a list of whole worlds, made from the
// factors (every combination, older factors first, as that list orders them).
import { copyConn, timeoutSeconds, tupleKey, type Conn } from './conntrack.js';
import type { NodeEnv } from './env.js';
import { add, compare, div, mul, ONE, type Prob } from './fraction.js';
import { remainingKeys, wholeWorldsStep, type WholeWorlds } from './flows-whole.js';
import { MAX_WORLDS, outcomesOf, tracePacket, type FlowResult, type FlowSpec, type Leaf, type Outcome, type TraceResult, type WeightedWorld, type WorldTrace } from './trace.js';
import type { Ip } from '../net/index.js';
import type { CompiledRuleset, TraceOptions, TraceRecord, Walk } from './types.js';
import type { Packet } from './packet.js';
import { FlowCache, newRecord } from './flow-cache.js';
import type { Bucket, ExtensionSlot, RecentEntry, World } from './world.js';

/** A state value: a connection, a recent entry, an nth counter, a token bucket or an extension's slot; null: absent. */
type Value = Conn | RecentEntry | number | ExtensionSlot | Bucket | null;

/** State keys: `c` + a tuple key, `r` + a recent key, `n` + a rule uid, `x` + an extension key, `b` + a bucket key. */
type Key = string;

interface Alternative {
  prob: Prob;
  /** A value for each key of the factor. */
  readonly values: Map<Key, Value>;
}

interface Factor {
  /** Combinations are enumerated with older factors first (the order a list of whole worlds has). */
  readonly age: number;
  readonly keys: Set<Key>;
  readonly alts: Alternative[];
  /** The sum of the alternatives' probabilities (1 unless alternatives were dropped). */
  total: Prob;
}

const C = 99; // 'c'
const R = 114; // 'r'
const N = 110; // 'n'
const B = 98; // 'b'
const X = 120; // 'x'

/** The base and the factors: the distribution over worlds after the packets so far. */
class FactoredState {
  now = 0;
  /**
   * A world's probability is mass times its alternatives' probabilities: mass takes the factors
   * folded into the base. totals is the product of every factor's total, so that the worlds a
   * packet is traced in weigh what the factors it does not read add up to.
   */
  mass: Prob = ONE;
  totals: Prob = ONE;
  readonly conns = new Map<string, Conn>();
  readonly recent = new Map<string, RecentEntry>();
  readonly nth = new Map<number, number>();
  readonly ext = new Map<string, ExtensionSlot>();
  readonly buckets = new Map<string, Bucket>();
  /** Which factor holds a key (keys of no factor have the base's value). */
  readonly factorOf = new Map<Key, Factor>();
  /** How many of those keys are connections' tuples. */
  factorConns = 0;
  private ages = 0;

  /** The base's value of a key. */
  baseValue(k: Key): Value {
    const rest = k.slice(1);
    switch (k.charCodeAt(0)) {
      case C:
        return this.conns.get(rest) ?? null;
      case R:
        return this.recent.get(rest) ?? null;
      case N:
        return this.nth.get(Number(rest)) ?? null;
      case B:
        return this.buckets.get(rest) ?? null;
      default:
        return this.ext.get(rest) ?? null;
    }
  }

  /** Sets (or with null removes) a key in the base. */
  setBase(k: Key, v: Value): void {
    setIn(this, k, v);
  }

  /**
   * What replacing the factors a packet read by the one its walks leave comes to, without changing
   * anything yet: keys with the same value in every alternative go to the base, alternatives with
   * the same values merge, past MAX_WORLDS the least likely are dropped (approximate).
   */
  plan(read: readonly Factor[], alts: Alternative[], keys: Set<Key>): Replacement {
    // A key with the same value in every alternative (absent, or a counter every walk moved alike)
    // is certain: it goes to the base, and does not tie the other keys to the packets that read it.
    const certain: [Key, Value][] = [];
    for (const k of [...keys]) {
      const first = valueText(alts[0].values.get(k)!);
      if (alts.every((a) => valueText(a.values.get(k)!) === first)) {
        keys.delete(k);
        certain.push([k, alts[0].values.get(k)!]);
        for (const a of alts) a.values.delete(k);
      }
    }
    let approximate = false;
    const merged = mergeAlternatives(alts);
    if (merged.length > MAX_WORLDS) {
      merged.sort((a, b) => compare(b.prob, a.prob));
      merged.length = MAX_WORLDS;
      approximate = true;
    }
    return { read, certain, merged, keys, approximate };
  }

  /** Replaces the factors a packet read by the one its walks leave (folded into the base when certain). */
  commit({ read, certain, merged, keys }: Replacement): void {
    for (const f of read) {
      for (const k of f.keys) {
        this.factorOf.delete(k);
        if (k.charCodeAt(0) === C) this.factorConns--;
      }
      if (!isOne(f.total)) this.totals = div(this.totals, f.total);
    }
    for (const [k, v] of certain) this.setBase(k, v);
    if (merged.length === 1) {
      const only = merged[0];
      if (!isOne(only.prob)) this.mass = mul(this.mass, only.prob);
      for (const k of keys) this.setBase(k, only.values.get(k)!);
      return;
    }
    let total = merged[0].prob;
    for (let i = 1; i < merged.length; i++) total = add(total, merged[i].prob);
    const factor: Factor = { age: read.length ? Math.min(...read.map((f) => f.age)) : this.ages++, keys, alts: merged, total };
    if (!isOne(total)) this.totals = mul(this.totals, total);
    for (const k of keys) {
      this.factorOf.set(k, factor);
      if (k.charCodeAt(0) === C) this.factorConns++;
      this.setBase(k, null);
    }
  }

  /** The weight of a combination of the factors `read`: mass, the totals of the factors not read, and the chosen alternatives. */
  weight(read: readonly Factor[], chosen: ReadonlyMap<Factor, Alternative>): Prob {
    let p = this.mass;
    if (!isOne(this.totals)) {
      let others = this.totals;
      for (const f of read) if (!isOne(f.total)) others = div(others, f.total);
      p = mul(p, others);
    }
    for (const a of chosen.values()) if (!isOne(a.prob)) p = mul(p, a.prob);
    return p;
  }

  /** The factors, older first. */
  factors(): Factor[] {
    return [...new Set(this.factorOf.values())].sort((a, b) => a.age - b.age);
  }

  /** Moves the clock: expired connections and extension slots disappear, in the base and in every alternative (world.ts advance). */
  advance(now: number): void {
    if (now <= this.now) return;
    this.now = now;
    for (const [k, c] of this.conns) if (c.expires <= now) this.conns.delete(k);
    for (const [k, v] of this.ext) if (v.expires <= now) this.ext.delete(k);
    for (const f of new Set(this.factorOf.values())) {
      let changed = false;
      for (const a of f.alts) {
        for (const [k, v] of a.values) {
          if (v === null) continue;
          const kind = k.charCodeAt(0);
          if ((kind === C || kind === X) && (v as Conn | ExtensionSlot).expires <= now) {
            a.values.set(k, null);
            changed = true;
          }
        }
      }
      if (changed) {
        // Alternatives that became the same merge (their total is unchanged).
        const merged = mergeAlternatives(f.alts);
        f.alts.length = 0;
        f.alts.push(...merged);
      }
    }
  }
}

/** FactoredState.plan's answer, for commit. */
interface Replacement {
  readonly read: readonly Factor[];
  readonly certain: readonly [Key, Value][];
  readonly merged: Alternative[];
  readonly keys: Set<Key>;
  readonly approximate: boolean;
}

/** The maps a state key lives in, the base's or a whole world's. */
interface StateMaps {
  readonly conns: Map<string, Conn>;
  readonly recent: Map<string, RecentEntry>;
  readonly nth: Map<number, number>;
  readonly ext: Map<string, ExtensionSlot>;
  readonly buckets: Map<string, Bucket>;
}

/** Sets (or with null removes) a key in `m`. */
function setIn(m: StateMaps, k: Key, v: Value): void {
  const rest = k.slice(1);
  switch (k.charCodeAt(0)) {
    case C:
      if (v === null) m.conns.delete(rest);
      else m.conns.set(rest, v as Conn);
      break;
    case R:
      if (v === null) m.recent.delete(rest);
      else m.recent.set(rest, v as RecentEntry);
      break;
    case N:
      if (v === null) m.nth.delete(Number(rest));
      else m.nth.set(Number(rest), v as number);
      break;
    case B:
      if (v === null) m.buckets.delete(rest);
      else m.buckets.set(rest, v as Bucket);
      break;
    default:
      if (v === null) m.ext.delete(rest);
      else m.ext.set(rest, v as ExtensionSlot);
  }
}

const isOne = (p: Prob) => p === ONE || (p.exp === 0 && p.num === p.den);

/** Alternatives with the same values merged (probabilities added), in the order each first appears. */
function mergeAlternatives(alts: readonly Alternative[]): Alternative[] {
  const byPrint = new Map<string, Alternative>();
  for (const a of alts) {
    const p = fingerprint(a.values);
    const seen = byPrint.get(p);
    if (seen) seen.prob = add(seen.prob, a.prob);
    else byPrint.set(p, { prob: a.prob, values: a.values });
  }
  return [...byPrint.values()];
}

/** A stable text of some keys' values (world.ts worldFingerprint's spelling of each). */
function fingerprint(values: ReadonlyMap<Key, Value>): string {
  const parts: string[] = [];
  for (const [k, v] of values) parts.push(`${k}=${valueText(v)}`);
  return parts.sort().join(';');
}

function valueText(v: Value): string {
  if (v === null) return '-';
  if (typeof v === 'number') return String(v);
  if ('stamps' in v) return v.stamps.join(',');
  if ('atUs' in v) return `${v.atUs}:${v.credit}`;
  if ('value' in v) return `${v.value}@${v.expires}`;
  const c = v;
  return `${c.proto}:${c.orig.src}:${c.orig.sport}:${c.orig.dst}:${c.orig.dport}>${c.reply.src}:${c.reply.sport}:${c.reply.dst}:${c.reply.dport}:${+c.dnat}${+c.snat}${+c.seenReply}:${c.mark}:${c.expires}`;
}

/** A read of keys held by factors the packet is not being traced in: trace again with them. */
class NeedsFactors extends Error {
  constructor(readonly factors: readonly Factor[]) {
    super('needs factors');
  }
}

/** What a view reads: the base's maps and which factor holds a key. */
interface ViewSource extends StateMaps {
  readonly factorOf: ReadonlyMap<Key, Factor>;
}

/**
 * One world of the distribution as the tracer reads it: the base, with the chosen alternative of
 * each factor being enumerated; a read of any other factor's key throws NeedsFactors, and so does
 * going through all of a kind (-m connlimit counts every connection) while a factor holding keys of
 * that kind is not chosen. Once the trace is done (seal), going through a kind gives the base's and
 * the chosen alternatives' entries: what the report says of the world this packet met. The state
 * changes after each packet: a view handed to onFlow is read there (and fails if read after its
 * packet), one kept in traceFlows' results holds a copy of the base (freeze).
 */
class WorldView implements World {
  readonly assumed = null;
  private sealed = false;
  private expired = false;
  private src: ViewSource;
  /** A trace recorded for the flow cache: any read of state but the packet's own connection makes it not cacheable. */
  private rec: TraceRecord | null = null;
  private ownKey = '';

  constructor(
    private readonly clock: number,
    state: FactoredState,
    private readonly chosen: ReadonlyMap<Factor, Alternative>,
  ) {
    this.src = state;
  }

  // Each kind's view made when first read: a packet answered from the cache reads none.
  private views: { c?: ReadonlyMap<string, Conn>; r?: ReadonlyMap<string, RecentEntry>; n?: ReadonlyMap<number, number>; x?: ReadonlyMap<string, ExtensionSlot>; b?: ReadonlyMap<string, Bucket> } = {};

  get conns(): ReadonlyMap<string, Conn> {
    return (this.views.c ??= this.view('c', (s) => s.conns));
  }

  get recent(): ReadonlyMap<string, RecentEntry> {
    return (this.views.r ??= this.view('r', (s) => s.recent));
  }

  get nth(): ReadonlyMap<number, number> {
    return (this.views.n ??= this.view('n', (s) => s.nth));
  }

  get ext(): ReadonlyMap<string, ExtensionSlot> {
    return (this.views.x ??= this.view('x', (s) => s.ext));
  }

  get buckets(): ReadonlyMap<string, Bucket> {
    return (this.views.b ??= this.view('b', (s) => s.buckets));
  }

  /** The trace is done: reads give what the trace could read (a factor not chosen has no entries here). */
  seal(): void {
    this.sealed = true;
    this.rec = null;
  }

  /** Watches the trace recorded in `rec` read state (`ownKey`: the packet's own tuple, looked up first). */
  watch(rec: TraceRecord, ownKey: string): void {
    this.rec = rec;
    this.ownKey = ownKey;
  }

  get now(): number {
    if (this.rec !== null) this.rec.cacheable = false;
    return this.clock;
  }

  /** Reads from here on go to a copy of what the view reads now. */
  freeze(): void {
    const s = this.src;
    this.src = { conns: new Map(s.conns), recent: new Map(s.recent), nth: new Map(s.nth), ext: new Map(s.ext), buckets: new Map(s.buckets), factorOf: new Map(s.factorOf) };
  }

  /** The state moved on: any read from here on is a bug. */
  expire(): void {
    this.expired = true;
  }

  private view<K, V>(prefix: string, pick: (s: ViewSource) => ReadonlyMap<K, V>): ReadonlyMap<K, V> {
    const { chosen } = this;
    const source = (): ViewSource => {
      if (this.expired) throw new Error('kpsim bug: a world of traceFlows read after its packet (read it in onFlow)');
      return this.src;
    };
    const get = (key: K): V | undefined => {
      const s = source();
      const k = prefix + String(key);
      if (this.rec !== null && (prefix !== 'c' || k.length !== this.ownKey.length + 1 || k.slice(1) !== this.ownKey)) this.rec.cacheable = false;
      const f = s.factorOf.get(k);
      if (f === undefined) return pick(s).get(key);
      const alt = chosen.get(f);
      if (alt === undefined) throw new NeedsFactors([f]);
      return (alt.values.get(k) ?? undefined) as V | undefined;
    };
    const entries = (): [K, V][] => {
      const s = source();
      if (this.rec !== null) this.rec.cacheable = false;
      const missing: Factor[] = [];
      const out: [K, V][] = [...pick(s)];
      for (const [k, f] of s.factorOf) {
        if (!k.startsWith(prefix)) continue;
        const alt = chosen.get(f);
        if (alt === undefined) {
          if (!this.sealed && !missing.includes(f)) missing.push(f);
          continue;
        }
        const v = alt.values.get(k);
        if (v !== null && v !== undefined) out.push([(prefix === 'n' ? Number(k.slice(1)) : k.slice(1)) as K, v as V]);
      }
      if (missing.length > 0) throw new NeedsFactors(missing);
      return out;
    };
    const view = {
      get,
      has: (key: K) => get(key) !== undefined,
      // Only compared with 0 (lookupConn): not the count when factors hold keys of this kind.
      get size() {
        const s = source();
        return pick(s).size + (s.factorOf.size > 0 ? 1 : 0);
      },
      entries: () => entries()[Symbol.iterator](),
      keys: () => entries().map(([k]) => k)[Symbol.iterator](),
      values: () => entries().map(([, v]) => v)[Symbol.iterator](),
      forEach: (fn: (v: V, k: K, m: ReadonlyMap<K, V>) => void) => {
        for (const [k, v] of entries()) fn(v, k, view as unknown as ReadonlyMap<K, V>);
      },
      [Symbol.iterator]: () => entries()[Symbol.iterator](),
    };
    return view as unknown as ReadonlyMap<K, V>;
  }
}

/** The keys a walk writes, with their values after it, as worldAfter (trace.ts) writes them. */
function writes(w: Walk, now: number): [Key, Value][] {
  const out: [Key, Value][] = [];
  const ds: NonNullable<Walk['delta']>[] = [];
  for (let d = w.delta; d; d = d.prev) ds.push(d);
  for (let i = ds.length - 1; i >= 0; i--) {
    const d = ds[i];
    if (d.kind === 'recent') out.push(['r' + d.key, d.entry]);
    else if (d.kind === 'ext') out.push(['x' + d.key, d.slot]);
    else if (d.kind === 'bucket') out.push(['b' + d.key, d.bucket]);
    else out.push(['n' + d.uid, d.count]);
  }
  if (w.confirmed && w.verdict === 'ACCEPT') {
    const c = w.conn;
    if (!c.untracked) {
      const stored = copyConn(c);
      stored.confirmed = true;
      stored.expires = now + timeoutSeconds(stored);
      out.push(['c' + tupleKey(c.proto, c.orig.src, c.orig.sport, c.orig.dst, c.orig.dport), stored]);
      out.push(['c' + tupleKey(c.proto, c.reply.src, c.reply.sport, c.reply.dst, c.reply.dport), stored]);
    }
  }
  return out;
}

/** One combination of factors a packet was traced in. */
interface Traced {
  readonly prob: Prob;
  readonly chosen: ReadonlyMap<Factor, Alternative>;
  readonly view: WorldView;
  readonly r: TraceResult;
  /** What each walk writes; null: nothing any later packet can read (see leavesNothing). */
  readonly writes: [Key, Value][][] | null;
  /** The flow cache's remembered trace `r` is or was made from (FlowResult.cls). */
  readonly cls: object | null;
  /** Whether `r` is the cache's answer (its walks made when first read). */
  readonly answered: boolean;
}

/**
 * Whether a walk leaves no state a later packet can read; for a walk of a remembered trace, as the
 * walk the cache makes of it for a packet whose source (its reply's destination) is given.
 */
type LeavesNothing = (w: Walk, replyDst?: Ip, replyDport?: number) => boolean;

/**
 * Packets in order, with state carried over (see above). Connections no later packet can belong
 * to are dropped, so independent connections leave no state behind. The results are returned, or
 * with `onFlow` handed over one by one (the i-th flow's) and not kept.
 */
export function traceFlows(
  rs: CompiledRuleset,
  env: NodeEnv,
  flows: readonly FlowSpec[],
  options: Partial<TraceOptions> = {},
  /** Called with each packet's result as soon as it is traced; then nothing is kept (returns []). */
  onFlow?: (r: FlowResult, i: number) => void,
  /** Packets of a class traced before are answered from here (flow-cache.ts); null: every packet traced. */
  cache: FlowCache | null = new FlowCache(env),
): FlowResult[] {
  const { packets, keys, remaining } = remainingKeys(rs, flows);
  // The sources and destinations of the flows still to come: a connection's reply tuple can be a
  // later flow's only if its source is one of the first and its destination one of the second.
  const sources = new Map<Ip, number>();
  const dests = new Map<Ip, number>();
  for (const p of packets) {
    sources.set(p.src, (sources.get(p.src) ?? 0) + 1);
    dests.set(p.dst, (dests.get(p.dst) ?? 0) + 1);
  }
  // Explain mode keeps each step's walk for the report: traced, never cached.
  const caching = cache !== null && !options.explain ? cache : null;
  const state = new FactoredState();
  /** Set once a packet rested on unmodelled matches: the run goes on as a list of whole worlds. */
  let whole: WholeWorlds | null = null;
  const results: FlowResult[] = [];
  const done = onFlow ?? ((r: FlowResult) => results.push(r));
  let approximate = false;
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i];
    remaining.set(keys[i], remaining.get(keys[i])! - 1);
    if (whole !== null) {
      done(wholeWorldsStep(rs, env, f, i === 0, options, whole, remaining), i);
      continue;
    }
    const p = packets[i];
    sources.set(p.src, sources.get(p.src)! - 1);
    dests.set(p.dst, dests.get(p.dst)! - 1);
    state.advance(f.at ?? state.now);
    const now = state.now;
    /**
     * Whether a walk leaves no state a later packet can read: no delta (recent, nth, buckets,
     * extension slots), and a connection (if it is confirmed) that no later packet can belong to
     * and that no factor holds. Decided without making the keys of most connections.
     */
    const leavesNothing: LeavesNothing = (w, replyDst = w.conn.reply.dst, replyDport = w.conn.reply.dport) => {
      if (w.delta !== null) return false;
      if (!(w.confirmed && w.verdict === 'ACCEPT') || w.conn.untracked) return true;
      if (state.factorConns > 0 || (remaining.get(keys[i]) ?? 0) > 0) return false;
      const c = w.conn;
      return !((dests.get(replyDst) ?? 0) > 0 && (sources.get(c.reply.src) ?? 0) > 0 && (remaining.get(tupleKey(c.proto, c.reply.src, c.reply.sport, replyDst, replyDport)) ?? 0) > 0);
    };
    // A packet that meets no connection may be of a class traced before (flow-cache.ts).
    const own = keys[i];
    const classKey = caching !== null && !state.conns.has(own) && !state.factorOf.has('c' + own) ? caching.key(f, p) : null;
    let read: Factor[] = [];
    let traced: Traced[] = classKey === null ? [] : fromCache(caching!, classKey, p, state, now, leavesNothing);
    // Else the factors the packet reads (older first), found by tracing until no read needs another.
    while (traced.length === 0) {
      let more: Factor[] = [];
      for (const chosen of combinations(read)) {
        const prob = state.weight(read, chosen);
        const view = new WorldView(now, state, chosen);
        // The trace of a packet that reads no factor is recorded for the cache.
        const rec = classKey !== null && read.length === 0 ? newRecord() : null;
        if (rec !== null) view.watch(rec, own);
        let r: TraceResult;
        try {
          r = tracePacket(rs, env, f, options, view, rec);
        } catch (e) {
          if (!(e instanceof NeedsFactors)) throw e;
          more = [...e.factors];
          break;
        }
        view.seal();
        let ws: [Key, Value][][] | null = null;
        if (read.length > 0 || !r.walks.every((w) => leavesNothing(w))) {
          ws = r.walks.map((w) => writes(w, now));
          // A write to a key of a factor not chosen: that factor's alternatives decide the rest.
          for (const list of ws) {
            for (const [k] of list) {
              const other = state.factorOf.get(k);
              if (other !== undefined && !chosen.has(other) && !more.includes(other)) more.push(other);
            }
          }
          if (more.length > 0) break;
        }
        const cls = rec !== null ? caching!.remember(classKey!, rec, r) : null;
        traced.push({ prob, chosen, view, r, writes: ws, cls, answered: false });
      }
      if (more.length > 0) {
        traced = [];
        read = [...read, ...more].sort((a, b) => a.age - b.age);
      }
    }
    // A packet that rests on unmodelled matches: from here on, whole worlds (never one the cache answered).
    if (traced.some((t) => !t.answered && t.r.walks.some((w) => w.unknown !== null))) {
      whole = wholeWorlds(state, approximate);
      done(wholeWorldsStep(rs, env, f, i === 0, options, whole, remaining), i);
      continue;
    }
    const traces: WorldTrace[] = traced.map((t) => ({ prob: t.prob, world: t.view, result: t.r }));
    // Most packets of a bulk run read no factor and leave nothing a later packet can read (their
    // connection has no later packet): no state to build. Otherwise what the walks leave of the
    // keys read and written becomes one factor.
    const replacement = traced.every((t) => t.writes === null) ? null : state.plan(read, leftBy(state, read, traced, remaining), touchedBy(read, traced));
    if (replacement?.approximate) approximate = true;
    // The result is handed over before the state moves on (its worlds are views of it).
    const cls = traced.length === 1 && !approximate && isOne(traced[0].prob) ? traced[0].cls : null;
    const result: FlowResult = new PacketResult(f, traced, traces, approximate, cls);
    if (onFlow) {
      onFlow(result, i);
      for (const t of traced) t.view.expire();
    } else {
      for (const t of traced) t.view.freeze();
      results.push(result);
    }
    // Connections of the base that only this packet could still have belonged to.
    pruneBase(state, keys[i], remaining);
    if (replacement !== null) state.commit(replacement);
  }
  return results;
}

/** A packet's FlowResult; its outcomes are made when first read (the class's text of a packet the cache answered needs none). */
class PacketResult implements FlowResult {
  readonly result: TraceResult;
  private made: Outcome[] | null = null;

  constructor(
    readonly flow: FlowSpec,
    private readonly traced: readonly Traced[],
    readonly traces: readonly WorldTrace[],
    readonly approximate: boolean,
    readonly cls: object | null,
  ) {
    this.result = traced[0].r;
  }

  get outcomes(): Outcome[] {
    if (this.made === null) {
      const leaves: Leaf[] = [];
      for (const t of this.traced) for (const w of t.r.walks) leaves.push({ walk: w, prob: mul(t.prob, w.prob) });
      this.made = outcomesOf(leaves);
    }
    return this.made;
  }
}

const NO_CHOICE: ReadonlyMap<Factor, Alternative> = new Map();

/**
 * The packet answered from the cache, as the one combination (of no factor) it is traced in; none
 * when the cache has no trace of its class, or the answer's walks write a key a factor holds (the
 * packet is then traced with that factor).
 */
function fromCache(cache: FlowCache, classKey: string, p: Packet, state: FactoredState, now: number, leavesNothing: LeavesNothing): Traced[] {
  const view = new WorldView(now, state, NO_CHOICE);
  view.seal();
  const answer = cache.lookup(classKey, p, view);
  if (answer === null) return [];
  const r = answer.result;
  let ws: [Key, Value][][] | null = null;
  // The remembered walks, as the answer's walks (their reply to the packet's source) would be.
  if (!answer.remembered.walks.every((w) => leavesNothing(w, p.src, p.sport))) {
    ws = r.walks.map((w) => writes(w, now));
    if (ws.some((list) => list.some(([k]) => state.factorOf.has(k)))) return [];
  }
  return [{ prob: state.weight([], NO_CHOICE), chosen: NO_CHOICE, view, r, writes: ws, cls: answer.from, answered: true }];
}

/** The keys of the factors read and the keys the walks wrote. */
function touchedBy(read: readonly Factor[], traced: readonly Traced[]): Set<Key> {
  const touched = new Set<Key>();
  for (const fct of read) for (const k of fct.keys) touched.add(k);
  for (const t of traced) for (const list of t.writes!) for (const [k] of list) touched.add(k);
  return touched;
}

/** Per walk of each combination traced: the values it leaves of the touched keys, and its probability within the new factor. */
function leftBy(state: FactoredState, read: readonly Factor[], traced: readonly Traced[], remaining: ReadonlyMap<string, number>): Alternative[] {
  const touched = touchedBy(read, traced);
  const alts: Alternative[] = [];
  for (const t of traced) {
    t.r.walks.forEach((w, wi) => {
      const values = new Map<Key, Value>();
      for (const k of touched) {
        const fct = state.factorOf.get(k);
        values.set(k, fct ? t.chosen.get(fct)!.values.get(k)! : state.baseValue(k));
      }
      for (const [k, v] of t.writes![wi]) values.set(k, v);
      pruneConns(values, remaining);
      // The walk's probability, times the chosen alternatives'.
      let q = w.prob;
      for (const a of t.chosen.values()) if (!isOne(a.prob)) q = mul(q, a.prob);
      alts.push({ prob: q, values });
    });
  }
  return alts;
}

/**
 * The distribution as a list of whole worlds, in the order flows-whole.ts would hold it: every
 * combination of the factors, older factors outermost. Past MAX_WORLDS the least likely are dropped.
 */
function wholeWorlds(state: FactoredState, approximate: boolean): WholeWorlds {
  const worlds: WeightedWorld[] = [];
  const factors = state.factors();
  let dropped = approximate;
  for (const chosen of combinations(factors)) {
    const m: StateMaps = { conns: new Map(state.conns), recent: new Map(state.recent), nth: new Map(state.nth), ext: new Map(state.ext), buckets: new Map(state.buckets) };
    let prob = state.mass;
    for (const a of chosen.values()) {
      for (const [k, v] of a.values) setIn(m, k, v);
      if (!isOne(a.prob)) prob = mul(prob, a.prob);
    }
    worlds.push({ world: { now: state.now, ...m, assumed: null }, prob });
    if (worlds.length > MAX_WORLDS * 4) {
      worlds.sort((a, b) => compare(b.prob, a.prob));
      worlds.length = MAX_WORLDS;
      dropped = true;
    }
  }
  if (worlds.length > MAX_WORLDS) {
    worlds.sort((a, b) => compare(b.prob, a.prob));
    worlds.length = MAX_WORLDS;
    dropped = true;
  }
  return { worlds, approximate: dropped };
}

/** Every combination of one alternative per factor, the first factor's alternatives outermost. */
function* combinations(factors: readonly Factor[]): Generator<Map<Factor, Alternative>> {
  const pick = new Array<number>(factors.length).fill(0);
  for (;;) {
    yield new Map(factors.map((f, i) => [f, f.alts[pick[i]]]));
    let i = factors.length - 1;
    while (i >= 0 && ++pick[i] === factors[i].alts.length) pick[i--] = 0;
    if (i < 0) return;
  }
}

/** Drops connections none of whose tuples a later packet has (all of a connection's keys go together). */
function pruneConns(values: Map<Key, Value>, remaining: ReadonlyMap<string, number>): void {
  const byConn = new Map<Conn, Key[]>();
  for (const [k, v] of values) {
    if (k.charCodeAt(0) !== C || v === null) continue;
    const list = byConn.get(v as Conn);
    if (list) list.push(k);
    else byConn.set(v as Conn, [k]);
  }
  for (const ks of byConn.values()) {
    if (!ks.some((k) => (remaining.get(k.slice(1)) ?? 0) > 0)) for (const k of ks) values.set(k, null);
  }
}

/** pruneConns for the base's connections at `key` (the tuple of the packet just traced). */
function pruneBase(state: FactoredState, key: string, remaining: ReadonlyMap<string, number>): void {
  const c = state.conns.get(key);
  if (!c || (remaining.get(key) ?? 0) > 0) return;
  const ks = [tupleKey(c.proto, c.orig.src, c.orig.sport, c.orig.dst, c.orig.dport), tupleKey(c.proto, c.reply.src, c.reply.sport, c.reply.dst, c.reply.dport)];
  if (ks.some((k) => (remaining.get(k) ?? 0) > 0)) return;
  for (const k of ks) if (state.conns.get(k) === c) state.conns.delete(k);
}
