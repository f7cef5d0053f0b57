// One packet of a connection in a given conntrack state (`kpsim trace --state`), or the
// connection's reply (`--reply`): "why is my reply dropped" is half of what people debug.
//
// NEW, RELATED and INVALID packets have no history: the packet is traced as the first of its
// connection, conntrack seeing it as that state (trace.ts PacketSpec.state). An ESTABLISHED packet
// and a reply belong to a connection its first packet made: that packet is traced first, and each
// way it was accepted (a DNAT to one endpoint, an IPVS real server, a masquerade) leaves a world
// holding the connection, as traceFlows' worlds do; the packet is then traced in each world, with
// the world's probability given that the connection exists. A reply's tuple is the connection's
// reply tuple (nf_conntrack_tuple: the endpoint answers the client, or the node after masquerade),
// so reverse NAT (nf_nat_packet on the reply direction) puts the original addresses back.
// Conntrack marks the entry IPS_SEEN_REPLY when the first reply passes its hook
// (nf_conntrack_in, before any filter chain), so an ESTABLISHED packet's world has it set.
import { formatIp } from '../net/index.js';
import { copyConn, timeoutSeconds, type Conn } from './conntrack.js';
import type { NodeEnv } from './env.js';
import { add, div, mul, ONE, ZERO, type Prob } from './fraction.js';
import { mergeOutcome, outcomeOf, tracePacket, worldAfter, type Outcome, type PacketSpec, type TraceResult, type WorldTrace } from './trace.js';
import type { CompiledRuleset, TraceOptions, Walk } from './types.js';
import { EMPTY_WORLD, type World } from './world.js';

export const CONN_STATES = ['new', 'established', 'related', 'invalid'] as const;
export type ConnState = (typeof CONN_STATES)[number];

export interface ConnectionWorld extends WorldTrace {
  /** The first packet's outcome that left this world (null: the packet has no history). */
  readonly after: Outcome | null;
  /** The connection the world holds for the traced packet. */
  readonly conn: Conn | null;
}

export interface ConnectionTrace {
  /** The packet traced in each world (a reply's tuple is that world's connection's). */
  readonly traces: readonly ConnectionWorld[];
  /** Outcomes over every world, their probabilities combined. */
  readonly outcomes: Outcome[];
  /** The connection's first packet, traced to make the worlds (null: the packet is the first). */
  readonly first: TraceResult | null;
  /** The probability that the first packet is accepted and its connection confirmed (ONE when it has no history). */
  readonly accepted: Prob;
}

export class NoConnection extends Error {}

/** The world with every connection's reply seen (IPS_SEEN_REPLY), its timeout that of an answered one. */
function replySeen(world: World): World {
  const conns = new Map<string, Conn>();
  const copies = new Map<Conn, Conn>();
  for (const [k, c] of world.conns) {
    let d = copies.get(c);
    if (!d) {
      d = copyConn(c);
      d.seenReply = true;
      d.expires = world.now + timeoutSeconds(d);
      copies.set(c, d);
    }
    conns.set(k, d);
  }
  return { ...world, conns };
}

/** The reply the connection's other end sends: the reply tuple, from its source to its destination. */
function replySpec(spec: PacketSpec, c: Conn, w: Walk): PacketSpec {
  const family = w.pkt.family;
  return { protocol: spec.protocol, sourceIP: formatIp(c.reply.src, family), sourcePort: c.reply.sport, destIP: formatIp(c.reply.dst, family), destPort: c.reply.dport };
}

/**
 * The packet `spec` in conntrack state `state`, or (reply) the reply of its connection. Throws
 * NoConnection when the packet needs a connection and its first packet is never accepted.
 */
export function traceConnection(rs: CompiledRuleset, env: NodeEnv, spec: PacketSpec, how: { state: ConnState; reply: boolean }, options: Partial<TraceOptions> = {}): ConnectionTrace {
  if (!how.reply && how.state !== 'established') {
    const r = tracePacket(rs, env, how.state === 'new' ? spec : { ...spec, state: how.state }, options);
    return { traces: [{ prob: ONE, world: EMPTY_WORLD, result: r, after: null, conn: null }], outcomes: r.outcomes, first: null, accepted: ONE };
  }
  if (how.state === 'related' || how.state === 'invalid') throw new NoConnection(`a reply is traced on a new or established connection, not a ${how.state} one`);
  // The first packet: only its outcomes and worlds matter here.
  const first = tracePacket(rs, env, spec, { ...options, explain: false });
  const made = first.walks.filter((w) => w.verdict === 'ACCEPT' && w.confirmed && !w.unknown && !w.conn.untracked);
  let accepted = ZERO;
  for (const w of made) accepted = add(accepted, w.prob);
  if (made.length === 0) throw new NoConnection('the connection\'s first packet is never accepted here (see the trace without --state/--reply): there is no connection to trace');
  const traces: ConnectionWorld[] = [];
  const outcomes: Outcome[] = [];
  for (const w of made) {
    let world = worldAfter(EMPTY_WORLD, w);
    if (how.state === 'established') world = replySeen(world);
    const traced = how.reply ? replySpec(spec, w.conn, w) : spec;
    const prob = div(w.prob, accepted);
    const r = tracePacket(rs, env, traced, options, world);
    traces.push({ prob, world, result: r, after: outcomeOf(w), conn: w.conn });
    for (const x of r.walks) mergeOutcome(outcomes, outcomeOf(x, mul(prob, x.prob)));
  }
  return { traces, outcomes, first, accepted };
}
