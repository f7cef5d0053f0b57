// The flow cache: a bulk trace (flows.ts traceFlows) remembers a packet's trace and answers a later
// packet of the same class without tracing it, as Open vSwitch's megaflow cache does. A class is
// what the trace read of the packet:
//
// - exactly, in the key of one map: the protocol, the destination address and port, the mark, the
//   interface the flow says the packet arrives on, and everything routing reads of the source
//   (NodeEnv.sourceClass: the node's own address or not, martian ranges, the type and device of
//   the route back), which also decides where a packet starts (the node's own: OUTPUT) and the
//   interface it arrives on when the flow does not say;
// - of the source address, only the answer of each IPv4 built-in check of a source network the
//   walks made (TraceRecord, noted by the walker): `! -s 10.244.0.0/16` and the hairpin
//   `-s EP/32` of ten KUBE-SEP chains answer the same for every other pod, so a service's trace
//   serves every client that is none of its endpoints. A hook extension that notes its own reads
//   of the source (HookExtension.notesSource: nftables' `ip saddr != 10.244.0.0/16`, `ip saddr
//   EP`, a firewall's `ip saddr != { ranges }`) adds questions with the answers it saw
//   (TraceRecord.asks). A key holds a short list of traces, each tried by asking its checks and
//   questions again of the new source.
//
// What else the result could depend on makes the trace one that is not remembered (the walker and
// traceFlows tell): a rule that reads the source or its port otherwise (a match or built-in check
// that reads them or does not say what it reads, a `maybe` or unmodelled match, a target that is
// not source-blind: SNAT and MASQUERADE among them), any read of state (the world beyond the
// packet's own connection, which must not exist: connections, `recent` lists, nth counters, token
// buckets, the clock), a step of a hook extension that does not note its reads (IPVS), a
// read of the source an extension cannot ask again (nftables: the source port, the connection's
// original source, a lookup by source in a set whose elements expire), a walk that writes state or rests
// on an unmodelled match or ends with a note naming the source, and a walk whose packet or connection does not carry
// the source as it came. A flow that gives facts beyond the key (TTL, TOS, length, owner, socket,
// cgroup, time, conntrack state, the bridge port out) is traced, never cached; so is IPv6. The
// answer is the remembered trace with the new packet's source address and port in its packets and
// its connection's tuples, the connection a new one. test/packetsim/flow-cache.test.ts traces
// every golden case and random flows with and without the cache and requires the same results, and
// shows that leaving any part of the key out, or the source checks, breaks that;
// test/packetsim-nft/flow-cache.test.ts does the same for nftables traces and their questions.
import { formatIp } from '../net/index.js';
import { connId, sameShape, type Conn } from './conntrack.js';
import type { NodeEnv } from './env.js';
import { makeWalk } from './evaluate.js';
import { matchIPv4 } from './matches/builtin.js';
import { copyPacket, type Packet } from './packet.js';
import { outcomesOf, type PacketSpec, type TraceResult } from './trace.js';
import type { TraceRecord, Walk, WalkContext } from './types.js';
import type { World } from './world.js';

/** The parts of the key (all in use; tests leave one out to see the cache go wrong). */
export const KEY_PARTS = ['proto', 'dst', 'dport', 'mark', 'inInterface', 'source'] as const;
export type KeyPart = (typeof KEY_PARTS)[number];

/** Traces kept per key: clients of one service that differ in the source checks (an endpoint, a host outside the pod network). */
const PER_KEY = 8;
/** Keys kept; past this the cache starts again empty. */
const MAX_KEYS = 1 << 18;

interface Entry {
  readonly rec: TraceRecord;
  readonly result: TraceResult;
}

export class FlowCache {
  private readonly map = new Map<string, Entry[]>();
  /** Packets answered from the cache, and traces remembered (for tests and measurements). */
  hits = 0;
  remembered = 0;

  /**
   * `parts` and `sourceChecks` are for the tests that show each part of a class matters: a key
   * without one of the parts, or answers given without the source checks, go wrong.
   */
  constructor(
    private readonly env: NodeEnv,
    private readonly parts: readonly KeyPart[] = KEY_PARTS,
    private readonly sourceChecks = true,
  ) {}

  /** The packet's key (`p` as makePacket built it from `spec`), or null for a packet the cache does not take. */
  key(spec: PacketSpec, p: Packet): string | null {
    if (p.family !== 'ipv4' || !plainSpec(spec)) return null;
    const src = p.src as number;
    let k = '';
    for (const part of this.parts) {
      switch (part) {
        case 'proto':
          k += `${p.proto}|`;
          break;
        case 'dst':
          k += `${p.dst}|`;
          break;
        case 'dport':
          k += `${p.dport}|`;
          break;
        case 'mark':
          k += `${p.mark}|`;
          break;
        case 'inInterface':
          k += `${spec.inInterface ?? ''}|`;
          break;
        case 'source':
          k += `${this.env.sourceClass(src)}|`;
          break;
        default: {
          const never: never = part;
          void never;
        }
      }
    }
    return k;
  }

  /**
   * The trace of the packet `p` of class `key` from a remembered one, in `world`, that remembered
   * trace, and an object that stands for it (the same for every packet answered from it); null
   * when none fits.
   */
  lookup(key: string, p: Packet, world: World): { result: TraceResult; from: object; remembered: TraceResult } | null {
    const list = this.map.get(key);
    if (list === undefined) return null;
    const src = p.src as number;
    for (const e of list) {
      if (this.sourceChecks && !(e.rec.checks.every((c) => matchIPv4(c.rule, { src, dst: c.dst, proto: c.proto } as Packet) === c.matched) && e.rec.asks.every((a) => a.ask(src) === a.seen))) continue;
      this.hits++;
      return { result: rebind(e.result, p, world), from: e, remembered: e.result };
    }
    return null;
  }

  /**
   * Remembers a trace recorded (TraceRecord) for `key`, when nothing but the key and the checks
   * decided it: the object lookup names as the answers' origin, or null.
   */
  remember(key: string, rec: TraceRecord, result: TraceResult): object | null {
    if (!rec.cacheable || !result.walks.every((w) => sourceBlind(w, result.input))) return null;
    let list = this.map.get(key);
    if (list === undefined) {
      if (this.map.size >= MAX_KEYS) this.map.clear();
      this.map.set(key, (list = []));
    }
    if (list.length >= PER_KEY) list.shift();
    const e = { rec, result };
    list.push(e);
    this.remembered++;
    return e;
  }
}

/** A fresh record for a trace to be remembered. */
export function newRecord(): TraceRecord {
  return { cacheable: true, checks: [], asks: [] };
}

/** Whether the flow gives nothing beyond what the key holds (a fact the key lacks, however rarely read, is not cached). */
function plainSpec(s: PacketSpec): boolean {
  const none = (v: unknown) => v === undefined || v === null;
  return none(s.state) && none(s.outPort) && none(s.ttl) && none(s.tos) && none(s.length) && none(s.uid) && none(s.gid) && none(s.groups) && none(s.socket) && none(s.cgroup) && none(s.classid) && none(s.now);
}

/**
 * Whether a finished walk of a recorded trace may stand for another source: nothing written to
 * state, no unmodelled match, no note that names the source, a new connection in the original direction, and the source
 * address and port as they came in its packet and in its connection (no source NAT).
 */
function sourceBlind(w: Walk, input: Packet): boolean {
  const c = w.conn;
  return (
    w.delta === null &&
    w.unknown === null &&
    // Notes are made of interfaces, routes and constants, never of the source (checked all the same).
    (w.note === null || !w.note.includes(formatIp(input.src, input.family))) &&
    !w.known &&
    w.dir === 'original' &&
    !c.snat &&
    w.pkt.src === input.src &&
    w.pkt.sport === input.sport &&
    c.orig.src === input.src &&
    c.orig.sport === input.sport &&
    c.reply.dst === input.src &&
    c.reply.dport === input.sport
  );
}

/**
 * The remembered trace with the packet's source address and port, its connection a new one, in
 * `world`. Its walks and outcomes are made when first read: a bulk run that prints the class's
 * text (report/json-class.ts) and whose walks leave nothing (flows.ts) reads neither.
 */
class Rebound implements TraceResult {
  readonly family: TraceResult['family'];
  readonly input: Packet;
  readonly origin: TraceResult['origin'];
  private made: { walks: readonly Walk[]; outcomes: TraceResult['outcomes'] } | null = null;
  /** The connection's id, taken now (as every trace takes its own when it is made). */
  private readonly id = connId();

  constructor(
    private readonly r: TraceResult,
    private readonly world: World,
  ) {
    this.family = r.family;
    this.input = copyPacket(r.input);
    this.origin = r.origin;
  }

  get walks(): readonly Walk[] {
    return (this.made ??= this.make()).walks;
  }

  get outcomes(): TraceResult['outcomes'] {
    return (this.made ??= this.make()).outcomes;
  }

  private make(): { walks: readonly Walk[]; outcomes: TraceResult['outcomes'] } {
    const { src, sport } = this.input;
    const id = this.id;
    const conns = new Map<Conn, Conn>();
    let ctx: WalkContext | null = null;
    const walks = this.r.walks.map((w) => {
      let c = conns.get(w.conn);
      if (c === undefined) {
        const o = w.conn.orig;
        const re = w.conn.reply;
        conns.set(w.conn, (c = sameShape(w.conn, id, { src, sport, dst: o.dst, dport: o.dport }, { src: re.src, sport: re.sport, dst: src, dport: sport })));
      }
      const pkt = copyPacket(w.pkt);
      pkt.src = src;
      pkt.sport = sport;
      ctx ??= { ...w.ctx, world: this.world, rec: null };
      return makeWalk({ ...w, pkt, conn: c, pktShared: false, connShared: false, ctx });
    });
    return { walks, outcomes: outcomesOf(walks.map((w) => ({ walk: w, prob: w.prob }))) };
  }
}

function rebind(r: TraceResult, p: Packet, world: World): TraceResult {
  const out = new Rebound(r, world);
  out.input.src = p.src;
  out.input.sport = p.sport;
  return out;
}
