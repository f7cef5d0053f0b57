// Packets in order, with state carried over, the state after each packet held as one list of whole
// worlds: every packet traced in every world, identical worlds merged. Simple and exact, and
// exponential in independent choices (a thousand clients of ClientIP-affinity services, each
// remembered at one of ten endpoints, are 10^1000 worlds). flows.ts holds the same distribution as
// independent factors and comes here only for what it does not model (a packet that rests on
// unmodelled matches); test/packetsim/flows-factored.test.ts holds the two to the same answers.
import { packetKey, type Conn } from './conntrack.js';
import type { NodeEnv } from './env.js';
import { compare, fractionText, mul, ONE } from './fraction.js';
import { addWorld, makePacket, MAX_WORLDS, outcomesOf, tracePacket, worldAfter, type FlowResult, type FlowSpec, type Leaf, type WeightedWorld, type WorldTrace } from './trace.js';
import type { Packet } from './packet.js';
import type { CompiledRuleset, TraceOptions, UnknownNode } from './types.js';
import { innermostFork } from './unknown-bounds.js';
import { advance, EMPTY_WORLD, worldFingerprint, type World } from './world.js';

/** The list of worlds between two packets. */
export interface WholeWorlds {
  worlds: WeightedWorld[];
  /** Set for good once the number of possible worlds was capped and the least likely were dropped. */
  approximate: boolean;
}

/** Tuple keys of the flows still to come, with their counts: a connection none of them has is dropped. */
export type Remaining = Map<string, number>;

/** The packets of `flows`, their tuple keys (one per flow) and the keys' counts. */
export function remainingKeys(rs: CompiledRuleset, flows: readonly FlowSpec[]): { packets: Packet[]; keys: string[]; remaining: Remaining } {
  const remaining: Remaining = new Map();
  const packets = flows.map((f) => makePacket(f, rs.family));
  const keys = packets.map(packetKey);
  for (const k of keys) remaining.set(k, (remaining.get(k) ?? 0) + 1);
  return { packets, keys, remaining };
}

/**
 * One packet traced in every world of `state`, which becomes the worlds it leaves. `remaining`
 * must no longer count this packet's key. The packet's time is `f.at`, else the worlds' clock
 * (the first packet of a run at 0).
 */
export function wholeWorldsStep(rs: CompiledRuleset, env: NodeEnv, f: FlowSpec, first: boolean, options: Partial<TraceOptions>, state: WholeWorlds, remaining: Remaining): FlowResult {
  const now = f.at ?? (first ? 0 : state.worlds[0].world.now);
  const leaves: Leaf[] = [];
  const next = new Map<string, WeightedWorld>();
  const traces: WorldTrace[] = [];
  for (const ww of state.worlds) {
    const world = advance(ww.world, now);
    const r = tracePacket(rs, env, f, options, world);
    traces.push({ prob: ww.prob, world, result: r });
    for (const w of r.walks) {
      const p = mul(ww.prob, w.prob);
      leaves.push({ walk: w, prob: p });
      const nw = pruneConns(worldAfter(world, w), remaining);
      addWorld(next, nw, p);
    }
  }
  const outcomes = outcomesOf(leaves);
  let worlds = settleForks([...next.values()]);
  if (worlds.length > MAX_WORLDS) {
    worlds.sort((a, b) => compare(b.prob, a.prob));
    worlds.length = MAX_WORLDS;
    state.approximate = true;
  }
  state.worlds = worlds;
  return { flow: f, result: traces[0].result, traces, outcomes, approximate: state.approximate };
}

/**
 * Packets in order, with state carried over. The state after a packet is a distribution over
 * worlds (one per distinct outcome path); each next packet is traced in each world, and worlds
 * that end up identical merge. Connections no later packet can belong to are dropped from the
 * worlds, so independent connections don't multiply them.
 */
export function traceFlowsWhole(
  rs: CompiledRuleset,
  env: NodeEnv,
  flows: readonly FlowSpec[],
  options: Partial<TraceOptions> = {},
  /** Called with each packet's result as soon as it is traced; then nothing is kept (returns []). */
  onFlow?: (r: FlowResult, i: number) => void,
): FlowResult[] {
  const { keys, remaining } = remainingKeys(rs, flows);
  const state: WholeWorlds = { worlds: [{ world: EMPTY_WORLD, prob: ONE }], approximate: false };
  const results: FlowResult[] = [];
  for (let i = 0; i < flows.length; i++) {
    remaining.set(keys[i], remaining.get(keys[i])! - 1);
    const result = wholeWorldsStep(rs, env, flows[i], i === 0, options, state, remaining);
    if (onFlow) onFlow(result, i);
    else results.push(result);
  }
  return results;
}

/**
 * Worlds that rest on an unmodelled fork whose two sides left the same worlds with the same
 * probabilities (the packet's connection is of no later packet's concern, and no state differs)
 * no longer depend on it: one copy, resting on what the fork itself rested on. Innermost forks
 * first, until none is left to settle; keeps the number of worlds from doubling at every
 * unmodelled match of every packet.
 */
function settleForks(worlds: WeightedWorld[]): WeightedWorld[] {
  for (;;) {
    const byNode = new Map<UnknownNode, WeightedWorld[]>();
    const inner = new Set<UnknownNode>();
    for (const ww of worlds) {
      const a = ww.world.assumed;
      if (a === null) continue;
      byNode.set(a, [...(byNode.get(a) ?? []), ww]);
      for (let n = innermostFork(a.prev); n !== null; n = innermostFork(n.prev)) inner.add(n);
    }
    let settled: { drop: Set<WeightedWorld>; keep: WeightedWorld[]; to: UnknownNode | null } | null = null;
    for (const [node, ws] of byNode) {
      if (inner.has(node)) continue;
      const other = [...byNode].find(([n]) => n !== node && n.note.fork === node.note.fork && n.prev === node.prev && !inner.has(n));
      if (!other || !sameWorlds(ws, other[1])) continue;
      settled = { drop: new Set([...ws, ...other[1]]), keep: ws, to: innermostFork(node.prev) };
      break;
    }
    if (!settled) {
      // Worlds no longer kept apart by an assumption merge with their equals.
      const merged = new Map<string, WeightedWorld>();
      for (const ww of worlds) addWorld(merged, ww.world, ww.prob);
      return [...merged.values()];
    }
    const { drop, keep, to } = settled;
    worlds = [...worlds.filter((ww) => !drop.has(ww)), ...keep.map((ww) => ({ world: { ...ww.world, assumed: to }, prob: ww.prob }))];
  }
}

function sameWorlds(a: readonly WeightedWorld[], b: readonly WeightedWorld[]): boolean {
  if (a.length !== b.length) return false;
  const key = (ww: WeightedWorld) => `${worldFingerprint({ ...ww.world, assumed: null })}=${fractionText(ww.prob)}`;
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.every((k, i) => k === kb[i]);
}

function pruneConns(world: World, remaining: ReadonlyMap<string, number>): World {
  let drop = false;
  for (const [k] of world.conns) {
    if (!(remaining.get(k) ?? 0)) {
      drop = true;
      break;
    }
  }
  if (!drop) return world;
  const byConn = new Map<Conn, string[]>();
  for (const [k, c] of world.conns) byConn.set(c, [...(byConn.get(c) ?? []), k]);
  const conns = new Map<string, Conn>();
  for (const [c, ks] of byConn) {
    if (ks.some((k) => (remaining.get(k) ?? 0) > 0)) for (const k of ks) conns.set(k, c);
  }
  return { ...world, conns };
}
