// The probability kpsim gives one observed run of a sequence of packets. traceFlows answers "how
// may each packet end", a mixture over the worlds the earlier packets may have left; a real node
// lives in one of those worlds, so when the packets share state (ClientIP affinity's `recent`
// lists, `statistic --mode nth` counters, connections) their outcomes are not independent draws
// and each packet's own odds cannot judge them. Here every packet is traced as traceFlows does,
// but only the walks that end as observed carry on: the next packet meets just the worlds
// consistent with what was seen so far. The mass left after the last packet is the joint
// probability of the whole observation; it is 0 from the first packet whose observed end no such
// world allows.
import { formatHostPort, formatIp } from '../net/index.js';
import type { NodeEnv } from './env.js';
import { add, div, mul, ONE, ZERO, type Prob } from './fraction.js';
import { addWorld, MAX_WORLDS, mergeOutcome, outcomeOf, tracePacket, TooManyPaths, worldAfter, type FlowSpec, type Outcome, type WeightedWorld } from './trace.js';
import type { CompiledRuleset, TraceOptions } from './types.js';
import { advance, EMPTY_WORLD } from './world.js';

/** How a packet was seen to end, as a node's conntrack table and the client show it. */
export interface SeenOutcome {
  /** Only ACCEPT, DROP and REJECT can match; anything else (a client error) has probability 0. */
  readonly verdict: string;
  /** ACCEPT: the destination after DNAT, `IP:PORT` (formatHostPort). */
  readonly dest: string | null;
  /** ACCEPT: the source after SNAT or MASQUERADE (formatIp). */
  readonly source: string | null;
}

export interface SequenceStep {
  /** P(this packet's observation | the earlier ones). */
  readonly conditional: Prob;
  /** P(this observation and every earlier one). */
  readonly joint: Prob;
  /** This packet's outcomes given the earlier observations (they sum to 1). */
  readonly outcomes: Outcome[];
}

export interface SequenceResult {
  /** The joint probability of every observation. */
  readonly probability: Prob;
  /** The first packet whose observation has probability 0 given the earlier ones; null if none. */
  readonly impossibleAt: number | null;
  /** One per packet, up to and including `impossibleAt`. */
  readonly steps: SequenceStep[];
}

/**
 * Whether an outcome is what was seen: the verdict and, when accepted, where the packet went and
 * from which source. An outcome that rests on a rule kpsim does not model (UNKNOWN) counts by
 * the verdict it assumed; whoever judges should say so (its outcomes show UNKNOWN).
 */
export function endsAs(o: Outcome, seen: SeenOutcome, family: CompiledRuleset['family']): boolean {
  if (o.assumedVerdict !== seen.verdict) return false;
  if (seen.verdict !== 'ACCEPT') return true;
  return formatHostPort(o.packet.dst, o.packet.dport, family) === seen.dest && formatIp(o.packet.src, family) === seen.source;
}

/**
 * The exact probability of `seen[i]` for every `flows[i]`, in order, with state carried (the
 * clock set by `at` as traceFlows sets it). Unlike traceFlows no world is ever dropped for being
 * unlikely: past MAX_WORLDS consistent worlds it throws TooManyPaths rather than give an
 * approximate answer.
 */
export function sequenceProbability(
  rs: CompiledRuleset,
  env: NodeEnv,
  flows: readonly FlowSpec[],
  seen: readonly SeenOutcome[],
  options: Partial<TraceOptions> = {},
): SequenceResult {
  if (seen.length !== flows.length) throw new Error(`sequenceProbability: ${flows.length} flows but ${seen.length} observations`);
  let worlds: WeightedWorld[] = [{ world: EMPTY_WORLD, prob: ONE }];
  let joint = ONE;
  const steps: SequenceStep[] = [];
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i];
    const now = f.at ?? (i === 0 ? 0 : worlds[0].world.now);
    const outcomes: Outcome[] = [];
    const next = new Map<string, WeightedWorld>();
    let mass = ZERO;
    for (const ww of worlds) {
      const world = advance(ww.world, now);
      for (const w of tracePacket(rs, env, f, options, world).walks) {
        const p = mul(ww.prob, w.prob);
        const o = outcomeOf(w, div(p, joint));
        mergeOutcome(outcomes, o);
        if (p.num === 0n || !endsAs(o, seen[i], rs.family)) continue;
        mass = add(mass, p);
        addWorld(next, worldAfter(world, w), p);
      }
    }
    steps.push({ conditional: div(mass, joint), joint: mass, outcomes });
    if (mass.num === 0n) return { probability: ZERO, impossibleAt: i, steps };
    if (next.size > MAX_WORLDS) throw new TooManyPaths(`more than ${MAX_WORLDS} worlds are consistent with the first ${i + 1} observations`);
    worlds = [...next.values()];
    joint = mass;
  }
  return { probability: joint, impossibleAt: null, steps };
}
