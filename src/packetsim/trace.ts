// The simulator's entry points: trace one packet (every outcome with its exact probability), or a
// sequence of packets whose connections, `recent` lists and counters persist from one to the next.
import type { Family } from '../iptables/ir.js';
import { familyOfText, IPPROTO, parseAddress, type Ip } from '../net/index.js';
import { newConn, copyConn, packetKey, tupleKey, type Conn } from './conntrack.js';
import { onLink, type NodeEnv } from './env.js';
import { makeWalk, runWalk } from './evaluate.js';
import { add, equal, ONE, type Prob } from './fraction.js';
import { bounds, innermostFork } from './unknown-bounds.js';
import { copyPacket, hasPorts, NO_META, protocolOf, SOCKET_KINDS, TCP_FLAGS, type Origin, type Packet, type PacketMeta, type PacketProtocol, type SocketKind } from './packet.js';
import type { CompiledChain, CompiledRule, CompiledRuleset, PathNode, PortDraw, TraceOptions, TraceRecord, UnknownNote, Walk } from './types.js';
import { applyDelta, EMPTY_WORLD, worldFingerprint, type World } from './world.js';

export interface PacketSpec {
  readonly protocol: PacketProtocol;
  readonly sourceIP: string;
  readonly sourcePort?: number | null;
  readonly destIP: string;
  readonly destPort?: number | null;
  readonly inInterface?: string | null;
  /** For a packet the bridge forwards: the port that leads to the destination (when the bridge has several). */
  readonly outPort?: string | null;
  readonly mark?: number;
  /** How conntrack sees a packet with no connection yet (kpsim trace --state; default: new). */
  readonly state?: 'related' | 'invalid';
  /** TTL / hop limit as the packet reaches the node (default 64). */
  readonly ttl?: number | null;
  /** TOS / traffic class byte (default 0). */
  readonly tos?: number | null;
  /** IP length in bytes (default: a Linux TCP SYN's, 60 or 80; otherwise not known). */
  readonly length?: number | null;
  /** Owner of the sending socket, for packets this node sends (-m owner). */
  readonly uid?: number | null;
  readonly gid?: number | null;
  readonly groups?: readonly number[] | null;
  /** The local socket that takes the packet (-m socket): a name of SOCKET_KINDS. */
  readonly socket?: string | null;
  /** The sending socket's cgroup v2 path and net_cls class id (-m cgroup). */
  readonly cgroup?: string | null;
  readonly classid?: number | null;
  /** Seconds since the epoch (UTC) at the trace's start; a flow's `at` adds to it (-m time). */
  readonly now?: number | null;
}

/** The IP length of a Linux TCP SYN (header plus MSS, SACK, timestamp and window-scale options). */
const SYN_LENGTH = { ipv4: 60, ipv6: 80 } as const;

export const DEFAULT_SOURCE_PORT = 40000;

export const DEFAULT_OPTIONS: TraceOptions = { explain: false, index: true, maxWalks: 100_000 };

export interface PathEntry {
  readonly kind: 'rule' | 'nomatch' | 'policy' | 'return';
  readonly chain: CompiledChain;
  readonly rule: CompiledRule | null;
}

export interface Outcome {
  /** Exact; for an outcome that depends on unmodelled matches, the most it can be (`min` the least). */
  prob: Prob;
  /**
   * Set when the outcome's probability depends on unmodelled matches (verdict UNKNOWN): the least
   * it can be over the ways they may go (unknown-bounds.ts); `prob` is then the most.
   */
  readonly min: Prob | null;
  /** ACCEPT / DROP / REJECT, or UNKNOWN when the outcome rests on something not modelled. */
  readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'UNKNOWN';
  /** What the walk ended with under its assumptions (differs from `verdict` only for UNKNOWN). */
  readonly assumedVerdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'UNKNOWN';
  readonly delivery: 'local' | 'forward' | null;
  readonly packet: Packet;
  readonly dnat: boolean;
  readonly snat: boolean;
  readonly masquerade: boolean;
  readonly path: readonly PathEntry[];
  readonly unknown: readonly UnknownNote[];
  readonly note: string | null;
  /** A port NAT drew from a range too large to follow, which the packet's port stands for. */
  readonly portDraw: PortDraw | null;
  /** How many distinct paths ended in this same outcome. */
  paths: number;
}

export interface TraceResult {
  readonly family: Family;
  readonly input: Packet;
  readonly origin: Origin;
  readonly outcomes: Outcome[];
  /** The finished walks, for folding into worlds. */
  readonly walks: readonly Walk[];
}

export class TraceInputError extends Error {}

function ipOf(text: string, family: Family, what: string): Ip {
  const ip = parseAddress(text, family, true);
  if (ip === null) throw new TraceInputError(`${what} ${text} is not an IP address`);
  return ip;
}

export function makePacket(spec: PacketSpec, family: Family): Packet {
  if (familyOfText(spec.sourceIP) !== familyOfText(spec.destIP)) {
    throw new TraceInputError(`source ${spec.sourceIP} and destination ${spec.destIP} are of different families`);
  }
  const ports = hasPorts(spec.protocol);
  const protocol: PacketProtocol = spec.protocol === 'icmp' && family === 'ipv6' ? 'icmpv6' : spec.protocol;
  return {
    family,
    protocol,
    proto: protocolOf(protocol),
    src: ipOf(spec.sourceIP, family, 'source'),
    dst: ipOf(spec.destIP, family, 'destination'),
    sport: ports ? (spec.sourcePort ?? DEFAULT_SOURCE_PORT) : 0,
    dport: ports ? (spec.destPort ?? 0) : 0,
    inIface: null,
    outIface: null,
    mark: spec.mark ?? 0,
    tcpFlags: 0,
    ttl: spec.ttl ?? 64,
    tos: spec.tos ?? 0,
    length: spec.length ?? (protocol === 'tcp' ? SYN_LENGTH[family] : null),
    viaBridge: false,
    physIn: null,
    l2Forward: false,
    bridged: false,
    physOut: null,
    ipvs: null,
  };
}

function lookupConn(world: World, p: Packet): { conn: Conn; dir: 'original' | 'reply' } | null {
  if (world.conns.size === 0) return null;
  const key = packetKey(p);
  const c = world.conns.get(key);
  if (!c || c.expires <= world.now) return null;
  const dir = tupleKey(c.proto, c.orig.src, c.orig.sport, c.orig.dst, c.orig.dport) === key ? 'original' : 'reply';
  return { conn: copyConn(c), dir };
}

/**
 * Where a received packet comes in. On a bridge port it enters the bridge: the IP layer sees the
 * bridge as its interface and, with br_netfilter, the port as physindev (br_nf_pre_routing). The
 * frame is for the bridge itself when the destination is the node's or off the bridge's subnets
 * (the sender's gateway is the bridge); otherwise for a host on the bridge, which forwards it.
 */
function arrive(pkt: Packet, env: NodeEnv, given: string | null): void {
  const dev = given ?? env.routeDev(pkt.src);
  const bridge = dev === null ? null : env.isBridge(dev) ? dev : env.bridgeOf(dev);
  pkt.inIface = bridge ?? dev;
  if (bridge === null) return;
  const ports = env.bridgePorts(bridge);
  pkt.physIn = bridge !== dev ? dev : ports.length === 1 ? ports[0] : null;
  pkt.viaBridge = env.brNetfilter;
  pkt.l2Forward = !env.isLocal(pkt.dst) && (!env.addresses.some((a) => a.iface === bridge) || onLink(env, bridge, pkt.dst));
}

function startWalk(rs: CompiledRuleset, env: NodeEnv, spec: PacketSpec, world: World, opts: TraceOptions, rec: TraceRecord | null): Walk {
  const pkt = makePacket(spec, rs.family);
  // A packet from a local address is generated here and starts in OUTPUT, unless the caller
  // says which interface it arrives on.
  const origin: Origin = spec.inInterface || !env.isLocal(pkt.src) ? 'remote' : 'local';
  if (origin === 'remote') arrive(pkt, env, spec.inInterface ?? null);
  const found = lookupConn(world, pkt);
  const conn = found ? found.conn : newConn(pkt);
  if (!found && spec.state === 'related') conn.related = true;
  if (!found && spec.state === 'invalid') conn.untracked = conn.invalid = true;
  const dir = found ? found.dir : 'original';
  if (found && dir === 'reply') conn.seenReply = true;
  if (pkt.proto === IPPROTO.TCP) {
    pkt.tcpFlags = !found ? TCP_FLAGS.SYN : dir === 'reply' && !found.conn.seenReply ? TCP_FLAGS.SYN | TCP_FLAGS.ACK : TCP_FLAGS.ACK;
  }
  return makeWalk({
    pkt,
    pktShared: false,
    connShared: false,
    prob: ONE,
    chain: null,
    next: null,
    callers: null,
    depth: 0,
    program: origin === 'local' ? rs.programs.local : rs.programs.remote,
    pc: 0,
    conn,
    dir,
    known: found !== null,
    ctAttached: false,
    confirmed: false,
    hook: origin === 'local' ? 'OUTPUT' : 'PREROUTING',
    base: null,
    path: null,
    delta: null,
    // A world earlier packets left under assumptions: this packet rests on them too.
    unknown: world.assumed,
    masquerade: false,
    snat: false,
    dnat: false,
    verdict: null,
    delivery: null,
    note: null,
    portDraw: null,
    ctx: { rs, env, world, origin, opts, outPort: spec.outPort ?? null, meta: metaOf(spec, world), rec },
  });
}

function socketKind(name: string): SocketKind {
  if (!Object.hasOwn(SOCKET_KINDS, name)) throw new TraceInputError(`socket ${name}: give one of ${Object.keys(SOCKET_KINDS).join(', ')}`);
  return SOCKET_KINDS[name];
}

function metaOf(spec: PacketSpec, world: World): PacketMeta {
  const m = NO_META;
  return {
    uid: spec.uid ?? m.uid,
    gid: spec.gid ?? m.gid,
    groups: spec.groups ?? m.groups,
    socket: spec.socket === undefined || spec.socket === null ? m.socket : socketKind(spec.socket),
    cgroup: spec.cgroup ?? m.cgroup,
    classid: spec.classid ?? m.classid,
    time: spec.now === undefined || spec.now === null ? null : spec.now + world.now,
  };
}

/**
 * The path's steps in order. An empty built-in chain that accepts is recorded in explain mode (the
 * report names every table a packet passed) but tried no rule: the path leaves it out, as it is
 * without explain.
 */
function pathFrom(tail: PathNode | null): PathEntry[] {
  const out: PathEntry[] = [];
  for (let n = tail; n; n = n.prev) {
    if (n.segment) for (let i = n.segment.length - 1; i >= 0; i--) out.push(n.segment[i]);
    else if (n.kind !== 'policy' || n.chain.rules.length > 0 || n.chain.policy === 'DROP') out.push(n);
  }
  return out.reverse();
}

function unknownOf(w: Walk): UnknownNote[] {
  const out: UnknownNote[] = [];
  for (let n = w.unknown; n; n = n.prev) out.push(n.note);
  return out.reverse();
}

function sameUnknown(a: readonly UnknownNote[], b: readonly UnknownNote[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].rule !== b[i].rule || a[i].assumed !== b[i].assumed) return false;
  return true;
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return sameObservable(a, b) && sameUnknown(a.unknown, b.unknown);
}

/**
 * The same end as far as anyone can see it: verdict, packet, NAT, delivery (not the path or the
 * assumptions). outcomesOf groups walks by it: the outcome a walk ends in is the one it finds.
 */
export function sameObservable(a: Outcome, b: Outcome): boolean {
  // The destination first: a service's endpoints differ there and agree on the rest.
  return (
    a.packet.dst === b.packet.dst &&
    a.packet.dport === b.packet.dport &&
    a.assumedVerdict === b.assumedVerdict &&
    a.delivery === b.delivery &&
    a.packet.src === b.packet.src &&
    a.packet.sport === b.packet.sport &&
    a.dnat === b.dnat &&
    a.snat === b.snat &&
    a.masquerade === b.masquerade &&
    a.note === b.note &&
    a.portDraw?.from === b.portDraw?.from &&
    a.portDraw?.to === b.portDraw?.to
  );
}

const NO_UNKNOWN: readonly UnknownNote[] = [];

/**
 * An outcome whose path is spelled out only when someone reads it (most outcomes of a bulk run
 * never are); a class, so every outcome shares one shape and the getter lives on the prototype.
 */
class LazyOutcome implements Outcome {
  private spelled: PathEntry[] | null = null;
  constructor(
    public prob: Prob,
    readonly min: Prob | null,
    readonly verdict: Outcome['verdict'],
    readonly assumedVerdict: Outcome['assumedVerdict'],
    readonly delivery: Outcome['delivery'],
    readonly packet: Packet,
    readonly dnat: boolean,
    readonly snat: boolean,
    readonly masquerade: boolean,
    private readonly tail: PathNode | null,
    readonly unknown: readonly UnknownNote[],
    readonly note: string | null,
    readonly portDraw: PortDraw | null,
    public paths: number,
  ) {}

  get path(): readonly PathEntry[] {
    return (this.spelled ??= pathFrom(this.tail));
  }
}

export function outcomeOf(w: Walk, prob: Prob = w.prob): Outcome {
  const unknown = w.unknown ? unknownOf(w) : NO_UNKNOWN;
  const verdict = w.verdict ?? 'UNKNOWN';
  // A trace without paths keeps none (what a walk recorded for its memos is not its path).
  const tail = w.ctx.opts.paths === false ? null : w.path;
  return new LazyOutcome(prob, null, unknown.length ? 'UNKNOWN' : verdict, verdict, w.delivery, w.pkt, w.dnat, w.snat, w.masquerade, tail, unknown, w.note, w.portDraw, 1);
}

/** Adds an outcome, merging it into an identical one (probabilities add). */
export function mergeOutcome(into: Outcome[], o: Outcome): void {
  for (const x of into) {
    if (sameOutcome(x, o)) {
      x.prob = add(x.prob, o.prob);
      x.paths += o.paths;
      return;
    }
  }
  into.push(o);
}

/** A finished walk and its probability (in --flows, times that of the world it started in). */
export interface Leaf {
  readonly walk: Walk;
  readonly prob: Prob;
}

/**
 * The distinct outcomes of finished walks. Walks that rest on no unmodelled match merge into
 * identical outcomes, probabilities added. Otherwise each distinct end (verdict, packet, NAT) is
 * one outcome, its probability bounded over the ways the unmodelled matches may go
 * (unknown-bounds.ts): exact when the bounds meet (the unknowns do not change it), else UNKNOWN
 * with the range and every unmodelled rule its walks passed.
 */
export function outcomesOf(leaves: readonly Leaf[]): Outcome[] {
  const out: Outcome[] = [];
  if (!leaves.some((l) => l.walk.unknown !== null)) {
    for (const l of leaves) mergeOutcome(out, outcomeOf(l.walk, l.prob));
    return out;
  }
  const groups: { first: Outcome; leaves: Leaf[] }[] = [];
  for (const l of leaves) {
    const o = outcomeOf(l.walk, l.prob);
    const g = groups.find((x) => sameObservable(x.first, o));
    if (g) g.leaves.push(l);
    else groups.push({ first: o, leaves: [l] });
  }
  for (const { first, leaves: ls } of groups) {
    const { min, max } = bounds(ls.map((l) => ({ unknown: l.walk.unknown, prob: l.prob })));
    const notes: UnknownNote[] = [];
    for (const l of ls) for (const n of unknownOf(l.walk)) if (!notes.some((x) => x.rule === n.rule && x.assumed === n.assumed)) notes.push(n);
    const exact = equal(min, max) && first.assumedVerdict !== 'UNKNOWN';
    const w = ls[0].walk;
    out.push(new LazyOutcome(max, exact ? null : min, exact ? first.assumedVerdict : 'UNKNOWN', first.assumedVerdict, w.delivery, w.pkt, w.dnat, w.snat, w.masquerade, w.path, exact ? NO_UNKNOWN : notes, w.note, w.portDraw, ls.length));
  }
  return out;
}

export class TooManyPaths extends Error {}

/** Every way the packet can go, each with its exact probability; identical outcomes merged. */
export function tracePacket(
  rs: CompiledRuleset,
  env: NodeEnv,
  spec: PacketSpec,
  options: Partial<TraceOptions> = DEFAULT_OPTIONS,
  world: World = EMPTY_WORLD,
  /** Record what the result depends on of the packet's source, for the flow cache (flow-cache.ts). */
  rec: TraceRecord | null = null,
): TraceResult {
  // Bulk callers pass no options: no object to build per packet.
  const opts = options === DEFAULT_OPTIONS ? DEFAULT_OPTIONS : { ...DEFAULT_OPTIONS, ...options };
  if (env.family !== rs.family) throw new TraceInputError(`the node environment is ${env.family}, the rules ${rs.family}`);
  const first = startWalk(rs, env, spec, world, opts, rec);
  const input = copyPacket(first.pkt);
  const pending: Walk[] = [first];
  const walks: Walk[] = [];
  while (pending.length > 0) {
    const w = pending.pop()!;
    runWalk(w, pending);
    walks.push(w);
    if (walks.length > opts.maxWalks) throw new TooManyPaths(`more than ${opts.maxWalks} paths`);
  }
  const outcomes = outcomesOf(walks.map((w) => ({ walk: w, prob: w.prob })));
  return { family: rs.family, input, origin: first.ctx.origin, outcomes, walks };
}

export interface FlowSpec extends PacketSpec {
  readonly name?: string;
  /** Seconds since the first packet. */
  readonly at?: number;
}

/** One trace of a packet in one of the worlds it may meet, and that world's probability. */
export interface WorldTrace {
  readonly prob: Prob;
  readonly world: World;
  readonly result: TraceResult;
}

export interface FlowResult {
  readonly flow: FlowSpec;
  readonly result: TraceResult;
  /** The packet traced in each world it may meet (`result` is the first of them). */
  readonly traces: readonly WorldTrace[];
  /** Outcomes over every world this packet may meet, with their probabilities combined. */
  readonly outcomes: Outcome[];
  /** True when the number of possible worlds was capped and the least likely were dropped. */
  readonly approximate: boolean;
}

/** A world and its probability (traceFlows: of reaching it; sequence.ts: of it and the observations). */
export interface WeightedWorld {
  readonly world: World;
  prob: Prob;
}

/** Adds `prob` of `world` to `into`, keyed by the world's fingerprint: identical worlds merge. */
export function addWorld(into: Map<string, WeightedWorld>, world: World, prob: Prob): void {
  const fp = worldFingerprint(world);
  const prev = into.get(fp);
  if (prev) prev.prob = add(prev.prob, prob);
  else into.set(fp, { world, prob });
}

export const MAX_WORLDS = 1024;

/**
 * The world a finished walk leaves: its state changes (recent lists, counters) applied and, when
 * the packet was accepted and its connection confirmed, the connection entered under both tuples.
 */
export function worldAfter(world: World, w: Walk): World {
  // A walk that rests on unmodelled branches leaves the world those branches would: it is kept
  // apart from the others by what it assumed (World.assumed), which its fork's other side lacks.
  const assumed = innermostFork(w.unknown);
  if (!(w.confirmed && w.verdict === 'ACCEPT')) return applyDelta(world, w.delta, null, [], assumed);
  const c = w.conn;
  const keys = [tupleKey(c.proto, c.orig.src, c.orig.sport, c.orig.dst, c.orig.dport), tupleKey(c.proto, c.reply.src, c.reply.sport, c.reply.dst, c.reply.dport)];
  return applyDelta(world, w.delta, c, keys, assumed);
}
