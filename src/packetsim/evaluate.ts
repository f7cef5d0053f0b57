// The walker: a packet's path through the hooks in the kernel's order, each table's chains
// evaluated as ipt_do_table does (built-in matches first, then extension matches in order; jump
// pushes, goto replaces, RETURN or the end of a user chain pops, the base chain's end is its
// policy), forking at `statistic --mode random` (exactly, with the kernel's quantised odds) and at
// an unmodelled match (both ways, marked UNKNOWN) unless the rule's target changes nothing that
// decides the outcome (CompiledRule.inert).
//
// Hook order (netfilter priorities): PREROUTING raw -300, conntrack -200, mangle -150, nat DNAT
// -100; routing; INPUT mangle, filter 0, security 50, nat SNAT 100, confirm; or FORWARD mangle,
// filter, security, then POSTROUTING mangle, nat SNAT, confirm. Locally generated: routing, OUTPUT
// raw, conntrack, mangle, nat DNAT, reroute, filter, security, POSTROUTING; a packet for a local
// address then loops back through PREROUTING and INPUT (its connection is already set up, so the
// nat table is skipped there).
import { protocolHasPorts, type Ip } from '../net/index.js';
import { copyConn, type Conn } from './conntrack.js';
import { matchIPv4 } from './matches/builtin.js';
import { timesNot31, times31, timesRatio } from './fraction.js';
import { drawWeight, MAX_PORT_FORKS, natPortBinding } from './targets/nat.js';
import { memoKey, remember, replay } from './memo.js';
import { copyPacket, type Packet } from './packet.js';
import { isInert } from './inert.js';
import { addUnknown, newFork, baseSlot, type CompiledChain, type CompiledRule, type CompiledRuleset, type CompileProblem, type CTarget, type Hook, type HookExtension, type NatSpec, type PathNode, type RandomCache, type RuleList, type Step, type TraceRecord, type Walk } from './types.js';

const t = (table: string, hook: Hook): Step => ({ kind: 'table', table, hook, slot: baseSlot(table, hook) });
const manip = (hook: Hook, m: 'dst' | 'src'): Step => ({ kind: 'nat', hook, manip: m });

export const PROGRAMS = {
  remote: [{ kind: 'receive' }, t('raw', 'PREROUTING'), { kind: 'conntrack', hook: 'PREROUTING' }, t('mangle', 'PREROUTING'), t('nat', 'PREROUTING'), manip('PREROUTING', 'dst'), { kind: 'routeIn' }],
  input: [t('mangle', 'INPUT'), t('filter', 'INPUT'), t('security', 'INPUT'), t('nat', 'INPUT'), manip('INPUT', 'src'), { kind: 'confirm', hook: 'INPUT' }, { kind: 'deliver', to: 'local' }],
  forward: [
    t('mangle', 'FORWARD'), t('filter', 'FORWARD'), t('security', 'FORWARD'),
    t('mangle', 'POSTROUTING'), t('nat', 'POSTROUTING'), manip('POSTROUTING', 'src'), { kind: 'confirm', hook: 'POSTROUTING' }, { kind: 'deliver', to: 'forward' },
  ],
  local: [
    { kind: 'routeOut' }, t('raw', 'OUTPUT'), { kind: 'conntrack', hook: 'OUTPUT' }, t('mangle', 'OUTPUT'), t('nat', 'OUTPUT'), manip('OUTPUT', 'dst'), { kind: 'reroute' },
    t('filter', 'OUTPUT'), t('security', 'OUTPUT'), t('mangle', 'POSTROUTING'), t('nat', 'POSTROUTING'), manip('POSTROUTING', 'src'), { kind: 'confirm', hook: 'POSTROUTING' }, { kind: 'loopback' },
  ],
  loopback: [
    t('raw', 'PREROUTING'), t('mangle', 'PREROUTING'), t('nat', 'PREROUTING'), t('mangle', 'INPUT'), t('filter', 'INPUT'), t('security', 'INPUT'), t('nat', 'INPUT'),
    { kind: 'deliver', to: 'local' },
  ],
} as const satisfies Record<string, readonly Step[]>;

const MAX_DEPTH = 128;

export type Programs = { readonly [K in keyof typeof PROGRAMS]: readonly Step[] };

/** The programs without the table steps of tables the ruleset lacks (they would do nothing). */
export function programsFor(bases: readonly (CompiledChain | null)[]): Programs {
  const keep = (p: readonly Step[]) => p.filter((s) => s.kind !== 'table' || bases[s.slot] !== null);
  return { remote: keep(PROGRAMS.remote), input: keep(PROGRAMS.input), forward: keep(PROGRAMS.forward), local: keep(PROGRAMS.local), loopback: keep(PROGRAMS.loopback) };
}

/** Leaves the table: no chain, no callers. */
export function clearFrames(w: Walk): void {
  w.chain = null;
  w.next = null;
  w.callers = null;
  w.depth = 0;
}

/** A walk, always built with the same property order so every walk shares one hidden class. */
export function makeWalk(w: Walk): Walk {
  return {
    pkt: w.pkt,
    pktShared: w.pktShared,
    connShared: w.connShared,
    prob: w.prob,
    chain: w.chain,
    next: w.next,
    callers: w.callers,
    depth: w.depth,
    program: w.program,
    pc: w.pc,
    conn: w.conn,
    dir: w.dir,
    known: w.known,
    ctAttached: w.ctAttached,
    confirmed: w.confirmed,
    hook: w.hook,
    base: w.base,
    path: w.path,
    delta: w.delta,
    unknown: w.unknown,
    masquerade: w.masquerade,
    snat: w.snat,
    dnat: w.dnat,
    verdict: w.verdict,
    delivery: w.delivery,
    note: w.note,
    portDraw: w.portDraw,
    ctx: w.ctx,
  };
}

/**
 * A copy that can go its own way: the callers are shared (never changed), the packet and
 * connection shared copy-on-write.
 */
export function fork(w: Walk): Walk {
  w.pktShared = true;
  w.connShared = true;
  return makeWalk(w);
}

export function mutPkt(w: Walk): Packet {
  if (w.pktShared) {
    w.pkt = copyPacket(w.pkt);
    w.pktShared = false;
  }
  return w.pkt;
}

export function mutConn(w: Walk): Conn {
  if (w.connShared) {
    w.conn = copyConn(w.conn);
    w.connShared = false;
  }
  return w.conn;
}


/** Notes that the walk's outcome rests on something not modelled (types.ts; here for the extensions that fork). */
export { addUnknown };

/** Adds a line to the walk's path. */
export function record(w: Walk, kind: 'rule' | 'nomatch' | 'policy' | 'return', chain: CompiledChain, rule: CompiledRule | null): void {
  w.path = { kind, chain, rule, prev: w.path, segment: null };
}

/**
 * Explain mode's record: the step with the walk as it is now (`at`), its packet and connection
 * frozen by marking them shared, so the next write copies them (mutPkt, mutConn). The plain
 * `record` above stays as it was: a trace without explain pays nothing for this.
 */
function recordAt(w: Walk, kind: 'rule' | 'nomatch' | 'policy' | 'return', chain: CompiledChain, rule: CompiledRule | null, forked?: 'random' | 'unknown', at: Walk = snapshot(w)): void {
  w.path = forked ? { kind, chain, rule, prev: w.path, segment: null, at, forked } : { kind, chain, rule, prev: w.path, segment: null, at };
}

/** The walk as it is now, its packet and connection frozen (the walk copies them before writing again). */
export function snapshot(w: Walk): Walk {
  w.pktShared = true;
  w.connShared = true;
  return makeWalk(w);
}

/**
 * A step a hook extension takes (IPVS's scheduling, an nftables rule), recorded as the core records
 * its own: in explain mode with the walk as it is (the packet's state, why a rule did not match).
 */
export function recordStep(w: Walk, chain: CompiledChain, rule: CompiledRule | null, kind: PathNode['kind'] = 'rule', forked?: 'random' | 'unknown', at: Walk | null = null): void {
  if (w.ctx.opts.explain) recordAt(w, kind, chain, rule, forked, at ?? undefined);
  else record(w, kind, chain, rule);
}

/** Whether the nat table (or a nat chain) runs for this packet at this hook: a new connection's first manip. */
export function natEligible(w: Walk, hook: Hook): boolean {
  const c = w.conn;
  if (c.untracked || w.dir === 'reply') return false;
  return hook === 'PREROUTING' || hook === 'OUTPUT' ? !c.dstManipDone : !c.srcManipDone;
}

/** The rules of `ch` to try for this packet: its index's pick, or all of them. */
function rulesFor(ch: CompiledChain, w: Walk): RuleList | null {
  return ch.index === null ? ch.start : ch.index(w);
}

/** Starts traversing `ch`, in place of the current chain (the walk's callers stay). */
function startChain(w: Walk, ch: CompiledChain, rules: RuleList | null): void {
  w.chain = ch;
  w.next = rules;
}

/** A table's base chain: the first frame. */
function enterBase(w: Walk, ch: CompiledChain): void {
  startChain(w, ch, rulesFor(ch, w));
  w.callers = null;
  w.depth = 1;
}

function enterTable(w: Walk, table: string, hook: Hook, slot: number, pending: Walk[]): void {
  const ch = w.ctx.rs.bases[slot];
  if (!ch) return;
  if (table === 'nat' && !natEligible(w, hook)) return;
  w.hook = hook;
  w.base = ch;
  // Explain mode records every rule; a trace recorded for the flow cache notes each rule's reads.
  if (w.ctx.opts.explain || w.ctx.rec !== null) return enterBase(w, ch);
  const memo = ch.memo;
  if (memo === null) return enterBase(w, ch);
  const key = memoKey(w, memo.reads);
  // The last key first: a service's endpoints all meet filter FORWARD and nat POSTROUTING with
  // the same mark and state, one walk after another.
  if (key === memo.lastKey) return replay(w, memo.lastSteps!, applyTarget);
  const steps = memo.entries.get(key);
  if (steps) {
    memo.lastKey = key;
    memo.lastSteps = steps;
    return replay(w, steps, applyTarget);
  }
  const start = w.path;
  enterBase(w, ch);
  // The traversal to remember records its steps whether or not the trace keeps paths.
  runFrames(w, pending, true);
  remember(memo, key, w, start);
}

/** The end of a chain or RETURN: back to the caller; none means the base chain's policy. */
function popFrame(w: Walk, explicit: boolean): void {
  const caller = w.callers;
  if (caller !== null) {
    if (!explicit && w.ctx.opts.explain) recordAt(w, 'return', w.chain!, null);
    w.chain = caller.chain;
    w.next = caller.next;
    w.callers = caller.caller;
    w.depth--;
    return;
  }
  clearFrames(w);
  const base = w.base!;
  // An empty built-in chain says nothing; its policy is only worth a line when it drops, or in
  // explain mode, where the report shows every table the packet passed (an empty filter FORWARD too).
  if (w.ctx.opts.explain) recordAt(w, 'policy', base, null);
  else if (base.rules.length > 0 || base.policy === 'DROP') record(w, 'policy', base, null);
  if (base.policy === 'DROP') w.verdict = 'DROP';
}

/** Ends the walk with a final verdict. */
export function stop(w: Walk, verdict: 'DROP' | 'REJECT' | 'UNKNOWN', note: string | null = null): void {
  clearFrames(w);
  w.verdict = verdict;
  if (note) w.note = note;
}

/**
 * `statistic --mode random` matching with probability pMatch / 2^31: the walk goes on as the
 * match, a fork resuming at the next rule as the non-match (false: it cannot match at all).
 */
function splitRandom(w: Walk, c: RandomCache, pMatch: number, chain: CompiledChain, r: CompiledRule, pending: Walk[]): boolean {
  if (pMatch === 0) return false;
  if (pMatch === 0x80000000) return true;
  if (c.cacheIn !== w.prob) {
    c.cacheYes = times31(w.prob, pMatch);
    c.cacheNo = timesNot31(w.prob, pMatch);
    c.cacheIn = w.prob;
  }
  const other = fork(w);
  other.prob = c.cacheNo;
  if (w.ctx.opts.explain) recordAt(other, 'nomatch', chain, r, 'random');
  pending.push(other);
  w.prob = c.cacheYes;
  return true;
}

/**
 * Runs the current table until its traversal ends (no chain left) or the walk stops. `keep`: record
 * the rules that matched (off for a trace without paths, except while a memo remembers).
 */
function runFrames(w: Walk, pending: Walk[], keep: boolean): void {
  const explain = w.ctx.opts.explain;
  const rec = w.ctx.rec;
  while (w.chain !== null && w.verdict === null) {
    const chain = w.chain;
    const list = w.next;
    if (list === null) {
      popFrame(w, false);
      continue;
    }
    const r = list.first;
    w.next = list.rest;
    if (rec !== null && r.srcRead !== 0) noteSource(w, rec, r);
    if (r.v4 !== 0 ? !matchIPv4(r, w.pkt) : r.builtin !== null && !r.builtin(w)) {
      if (explain) recordAt(w, 'nomatch', chain, r);
      continue;
    }
    let ok = true;
    const n = r.matchCount;
    for (let i = 0; i < n; i++) {
      if (i === 0) {
        if (r.dport0 >= 0) {
          if (w.pkt.dport !== r.dport0) {
            ok = false;
            break;
          }
          continue;
        }
        if (r.rand0 >= 0) {
          if (!splitRandom(w, r, r.rand0, chain, r, pending)) {
            ok = false;
            break;
          }
          continue;
        }
      }
      const m = i === 0 ? r.match0! : r.matches[i];
      // A recorded trace (flow cache) that asks a match what it may answer from the source.
      if (rec !== null && i === r.srcMatch) rec.cacheable = false;
      if (m.kind === 'test') {
        if (!m.test(w)) {
          ok = false;
          break;
        }
      } else if (m.kind === 'random') {
        if (!splitRandom(w, m, m.invert ? 0x80000000 - m.stored : m.stored, chain, r, pending)) {
          ok = false;
          break;
        }
      } else {
        let reason: string;
        if (m.kind === 'maybe') {
          // A match that may lack its input (a bridge port, the owner, the time): decided, or why not.
          const v = m.test(w);
          if (v === true) continue;
          if (v === false) {
            ok = false;
            break;
          }
          reason = v;
        } else reason = m.reason;
        if (isInert(r)) {
          // Whichever way the match goes, the walk goes on the same: no fork.
          ok = false;
          break;
        }
        const other = fork(w);
        const id = newFork();
        addUnknown(other, { rule: r, text: m.text, reason, assumed: 'no match', fork: id });
        if (explain) recordAt(other, 'nomatch', chain, r, 'unknown');
        pending.push(other);
        addUnknown(w, { rule: r, text: m.text, reason, assumed: 'match', fork: id });
      }
    }
    if (!ok) {
      if (explain) recordAt(w, 'nomatch', chain, r);
      continue;
    }
    if (explain) recordAt(w, 'rule', chain, r);
    else if (keep) record(w, 'rule', chain, r);
    if (rec !== null && r.srcTarget) rec.cacheable = false;
    applyTarget(w, r, pending);
  }
}

/**
 * A rule whose built-in check reads the source, met while the trace is recorded for the flow cache:
 * its IPv4 check kept with what it saw and answered, or the trace marked as not cacheable.
 */
function noteSource(w: Walk, rec: TraceRecord, r: CompiledRule): void {
  if (r.srcRead === 2) rec.cacheable = false;
  // The rule's check copied out: the cache asks it again for each new source, and at 10k services
  // the rule itself is cold by then.
  else rec.checks.push({ rule: { v4: r.v4, v4Src: r.v4Src, v4Dst: r.v4Dst }, dst: w.pkt.dst as number, proto: w.pkt.proto, matched: matchIPv4(r, w.pkt) });
}

/** The connection's destination binding (its reply source); null parts keep the original. */
function bindDst(w: Walk, addr: Ip | null, port: number | null): void {
  const c = mutConn(w);
  if (addr !== null) c.reply.src = addr;
  if (port !== null) c.reply.sport = port;
  c.dnat = true;
  c.dstManipDone = true;
  w.dnat = true;
  clearFrames(w);
}

/**
 * A NAT binding whose port natPortBinding decides: kept, or drawn from a range. A small range is
 * followed port by port (a fork per port, with the kernel's odds: drawWeight / 65536), a large one
 * keeps the walk's port and says it was drawn (Walk.portDraw). `bind` completes the target on a walk.
 */
function bindPort(w: Walk, spec: NatSpec, manip: 'src' | 'dst', pending: Walk[] | undefined, bind: (w: Walk, port: number | null) => void): void {
  const b = natPortBinding(manip, protocolHasPorts(w.pkt.proto), manip === 'dst' ? w.pkt.dport : w.pkt.sport, spec);
  if (b.kind === 'keep') return bind(w, null);
  const size = b.to - b.from + 1;
  if (size === 1) return bind(w, b.from);
  if (size > MAX_PORT_FORKS || pending === undefined) {
    w.portDraw = { side: manip === 'src' ? 'source' : 'destination', from: b.from, to: b.to };
    return bind(w, null);
  }
  const prob = w.prob;
  // Pushed last port first, so that the walks come out in port order.
  for (let k = size - 1; k >= 1; k--) {
    const other = fork(w);
    other.prob = timesRatio(prob, drawWeight(size, k), 65536);
    bind(other, b.from + k);
    pending.push(other);
  }
  w.prob = timesRatio(prob, drawWeight(size, 0), 65536);
  bind(w, b.from);
}

/**
 * A NAT rule's binding of the connection (nf_nat_setup_info), then the end of the chain: DNAT and
 * REDIRECT at PREROUTING/OUTPUT, SNAT and MASQUERADE at POSTROUTING/INPUT; null parts of the range
 * keep the original. The iptables targets and nftables' nat statements both land here. With the
 * whole range (`range`: a port range, --random) the port is the kernel's (bindPort), and a source
 * that already fits the range is not bound at all (get_unique_tuple's first step).
 */
export function natBind(w: Walk, hook: Hook, kind: 'dnat' | 'redirect' | 'snat' | 'masquerade', addr: Ip | null, port: number | null, range: NatSpec | null = null, pending?: Walk[]): void {
  if (kind === 'dnat' || kind === 'redirect') {
    let to = addr;
    if (kind === 'redirect') {
      // REDIRECT: to the primary address of the incoming interface, or loopback for OUTPUT
      // (nf_nat_redirect_ipv4 / _ipv6).
      const env = w.ctx.env;
      const loop = w.pkt.family === 'ipv4' ? 0x7f000001 : 1n;
      to = hook === 'OUTPUT' ? loop : w.pkt.inIface ? env.redirectAddress(w.pkt.inIface) : null;
      if (to === null) return stop(w, 'DROP', 'REDIRECT: the incoming interface has no address');
    }
    if (range === null) return bindDst(w, to, port);
    return bindPort(w, range, 'dst', pending, (x, p) => bindDst(x, to, p));
  }
  let from = addr;
  let upTo = range?.toAddr ?? from;
  if (kind === 'masquerade') {
    // MASQUERADE: the address the output interface would pick for this destination
    // (masquerade_tg -> inet_select_addr); no address means NF_DROP.
    const dev = w.pkt.outIface;
    from = upTo = dev ? w.ctx.env.sourceAddress(dev, w.pkt.dst) : null;
    if (from === null) return stop(w, 'DROP', `MASQUERADE: ${dev ?? 'no output interface'} has no address`);
    w.masquerade = true;
  }
  // get_unique_tuple, step 1: a source that already fits the range (its address, and its port
  // when a port range is given) is kept as it is, unless --random: no binding, no SNAT status.
  const spec: NatSpec = range ?? { fromAddr: from, toAddr: upTo, fromPort: port, toPort: port, random: false };
  const p = w.pkt;
  if (!spec.random && (from === null || (p.src >= from && p.src <= upTo!)) && (spec.fromPort === null || !protocolHasPorts(p.proto) || (p.sport >= spec.fromPort && p.sport <= spec.toPort!))) {
    mutConn(w).srcManipDone = true;
    return clearFrames(w);
  }
  const bind = (x: Walk, to: number | null) => {
    const c = mutConn(x);
    if (from !== null) c.reply.dst = from;
    if (to !== null) c.reply.dport = to;
    c.masqueraded = kind === 'masquerade';
    c.snat = true;
    c.srcManipDone = true;
    x.snat = true;
    clearFrames(x);
  };
  if (range === null) return bind(w, port);
  return bindPort(w, range, 'src', pending, bind);
}

function applyTarget(w: Walk, r: CompiledRule, pending?: Walk[]): void {
  // A jump or goto to an existing chain, most of kube-proxy's rules, without reading the target.
  const to = r.jumpTo;
  if (to !== null) {
    if (w.depth >= MAX_DEPTH) return stop(w, 'UNKNOWN', `jump depth over ${MAX_DEPTH}: a loop between chains`);
    // A jump saves where to resume; a goto replaces the current chain.
    if (!r.goto) {
      w.callers = { chain: w.chain!, next: w.next, caller: w.callers };
      w.depth++;
    }
    const start = r.jumpStart === undefined ? firstJump(r, to) : r.jumpStart;
    return startChain(w, to, r.jumpIndexed ? rulesFor(to, w) : start);
  }
  // The kind and any NAT range come from the rule's own fields; the target object is fetched only
  // for what else a target carries (a chain name, a mark function, a reason).
  const kind = r.targetKind;
  switch (kind) {
    case 'accept':
      clearFrames(w);
      return;
    case 'drop':
      return stop(w, 'DROP');
    case 'reject':
      return stop(w, 'REJECT');
    case 'queue':
      return stop(w, 'UNKNOWN', `${targetAs(r, kind).name}: the verdict is up to a userspace program`);
    case 'return':
      return popFrame(w, true);
    case 'jump':
      // Resolved jumps were taken above.
      addUnknown(w, { rule: r, text: r.action, reason: `chain ${targetAs(r, kind).chain} does not exist`, assumed: 'target' });
      return stop(w, 'UNKNOWN');
    case 'dnat':
    case 'redirect':
      if (r.table !== 'nat' || (w.hook !== 'PREROUTING' && w.hook !== 'OUTPUT')) {
        addUnknown(w, { rule: r, text: r.action, reason: `${kind.toUpperCase()} outside nat PREROUTING/OUTPUT`, assumed: 'target' });
        return stop(w, 'UNKNOWN');
      }
      return natBind(w, w.hook, kind, r.natAddr, r.natPort, r.natDraws ? targetAs(r, kind) : null, pending);
    case 'snat':
    case 'masquerade':
      if (r.table !== 'nat' || (w.hook !== 'POSTROUTING' && w.hook !== 'INPUT')) {
        addUnknown(w, { rule: r, text: r.action, reason: `${kind.toUpperCase()} outside nat POSTROUTING/INPUT`, assumed: 'target' });
        return stop(w, 'UNKNOWN');
      }
      // The whole range: a source already in it is not bound (get_unique_tuple), --random draws the port.
      return natBind(w, w.hook, kind, r.natAddr, r.natPort, targetAs(r, kind), pending);
    case 'mark':
      mutPkt(w).mark = targetAs(r, kind).apply(w.pkt.mark);
      return;
    case 'connmark':
      mutConn(w);
      mutPkt(w);
      targetAs(r, kind).apply(w);
      return;
    case 'notrack':
      mutConn(w).untracked = true;
      return;
    case 'continue':
    case 'none':
      return;
    case 'unknown': {
      const tg = targetAs(r, kind);
      addUnknown(w, { rule: r, text: tg.text, reason: tg.reason, assumed: 'target' });
      return stop(w, 'UNKNOWN');
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** The first jump through `r`: its chain is compiled now, and what the next jumps read is kept in the rule. */
function firstJump(r: CompiledRule, to: CompiledChain): RuleList | null {
  r.jumpIndexed = to.index !== null;
  return (r.jumpStart = to.start);
}

/** The rule's target, as the kind its targetKind names (link.ts sets both from one target). */
function targetAs<K extends CTarget['kind']>(r: CompiledRule, _kind: K): Extract<CTarget, { kind: K }> {
  return r.target as Extract<CTarget, { kind: K }>;
}

/** nf_nat_packet: rewrite the packet by the connection's binding for this manip. */
function applyManip(w: Walk, m: 'dst' | 'src'): void {
  if (w.conn.untracked) return;
  const c = mutConn(w);
  const p = mutPkt(w);
  if (m === 'dst') {
    c.dstManipDone = true;
    if (w.dir === 'original' && c.dnat) {
      p.dst = c.reply.src;
      p.dport = c.reply.sport;
      w.dnat = true;
    } else if (w.dir === 'reply' && c.snat) {
      p.dst = c.orig.src;
      p.dport = c.orig.sport;
    }
  } else {
    c.srcManipDone = true;
    if (w.dir === 'original' && c.snat) {
      p.src = c.reply.dst;
      p.sport = c.reply.dport;
      w.snat = true;
      w.masquerade ||= c.masqueraded;
    } else if (w.dir === 'reply' && c.dnat) {
      p.src = c.orig.dst;
      p.sport = c.orig.dport;
    }
  }
}

/**
 * After PREROUTING. A frame for another host on a bridge is forwarded by the bridge (FORWARD and
 * POSTROUTING with the bridge as both interfaces and the ports as physdev), unless DNAT changed
 * its destination: br_nf_pre_routing_finish then routes any frame that came through a bridge
 * port, and bridges it (bridged_dnat) when the route leaves by the same bridge, whatever MAC the
 * frame was sent to. Everything else is ip_route_input's (env.inputRoute).
 */
function routeIn(w: Walk): void {
  const env = w.ctx.env;
  const p = w.pkt;
  if (p.l2Forward && !w.dnat) return bridgeForward(w);
  const r = env.inputRoute(p.src, p.dst, p.inIface);
  if (r.kind === 'drop') return stop(w, 'DROP', r.reason);
  if (r.kind === 'local') return setProgram(w, w.ctx.rs.programs.input);
  if ((p.l2Forward || (p.viaBridge && w.dnat)) && r.dev === p.inIface) return bridgeForward(w);
  // ip_forward / ip6_forward: a packet with no hop left is dropped (ICMP time exceeded), any other
  // loses one before the FORWARD hook (a bridge forwards frames without touching it).
  if (p.ttl <= 1) return stop(w, 'DROP', 'TTL exceeded: the node does not forward a packet with no hop left');
  const q = mutPkt(w);
  q.ttl--;
  q.outIface = r.dev;
  q.l2Forward = false;
  setProgram(w, w.ctx.rs.programs.forward);
}

/** br_forward -> br_nf_forward_ip: the frame leaves by a port of the bridge it came in on. */
function bridgeForward(w: Walk): void {
  const q = mutPkt(w);
  const bridge = q.inIface!;
  q.outIface = bridge;
  q.bridged = true;
  const ports = w.ctx.env.bridgePorts(bridge).filter((x) => x !== q.physIn);
  q.physOut = w.ctx.outPort ?? (ports.length === 1 ? ports[0] : null);
  setProgram(w, w.ctx.rs.programs.forward);
}

function setProgram(w: Walk, program: readonly Step[]): void {
  w.program = program;
  w.pc = 0;
}

/** Runs one walk to its end; forks go to `pending`. */
export function runWalk(w: Walk, pending: Walk[]): void {
  const env = w.ctx.env;
  while (w.verdict === null) {
    if (w.chain !== null) {
      runFrames(w, pending, w.ctx.opts.paths !== false);
      continue;
    }
    const step = w.program[w.pc++];
    switch (step.kind) {
      case 'table':
        enterTable(w, step.table, step.hook, step.slot, pending);
        break;
      case 'nat':
        applyManip(w, step.manip);
        break;
      case 'conntrack':
        w.ctAttached = true;
        break;
      case 'receive': {
        const why = env.receiveRefusal(w.pkt.src, w.pkt.dst, w.pkt.inIface);
        if (why) stop(w, 'DROP', why);
        // A bridge without br_netfilter forwards between its ports without netfilter seeing the frame.
        else if (w.pkt.l2Forward && !w.pkt.viaBridge) {
          w.verdict = 'ACCEPT';
          w.delivery = 'forward';
          w.note = `bridged by ${w.pkt.inIface} (no br_netfilter: netfilter does not see it)`;
        }
        break;
      }
      case 'routeIn':
        routeIn(w);
        break;
      case 'routeOut':
      case 'reroute': {
        const dev = env.routeDev(w.pkt.dst);
        const refusal = dev === null ? null : env.outputRefusal(w.pkt.src, dev);
        if (dev === null) stop(w, 'DROP', 'no route to the destination');
        else if (refusal) stop(w, 'DROP', refusal);
        else if (w.pkt.outIface !== dev) mutPkt(w).outIface = dev;
        break;
      }
      case 'confirm':
        w.confirmed = true;
        break;
      case 'loopback':
        if (w.pkt.outIface === 'lo') {
          const p = mutPkt(w);
          p.inIface = 'lo';
          p.outIface = null;
          setProgram(w, w.ctx.rs.programs.loopback);
        } else {
          w.verdict = 'ACCEPT';
          w.delivery = 'forward';
        }
        break;
      case 'deliver':
        w.verdict = 'ACCEPT';
        w.delivery = step.to;
        break;
      case 'ext':
        // A hook extension may read the source, or state of its own: not cached unless it notes
        // what it reads (HookExtension.notesSource: nftables does, IPVS does not).
        if (w.ctx.rec !== null && step.ext.notesSource !== true) w.ctx.rec.cacheable = false;
        step.ext.run(w, step.hook, pending);
        break;
      default: {
        const never: never = step;
        void never;
      }
    }
  }
}

/** The ruleset with hook extensions' steps placed in its programs (IPVS: src/packetsim-ipvs). */
export function withExtensions(rs: CompiledRuleset, extensions: readonly HookExtension[]): CompiledRuleset {
  let programs = rs.programs;
  const extra: CompileProblem[] = [];
  for (const ext of extensions) {
    programs = ext.place(programs, (hook, at) => ({ kind: 'ext', ext, hook, at }));
    extra.push(...(ext.problems ?? []));
  }
  if (programs === rs.programs) return rs;
  if (extra.length === 0) return { ...rs, programs };
  // rs.problems grows as packets reach chains not compiled yet (link.ts): read it when asked.
  return {
    ...rs,
    programs,
    get problems() {
      return [...rs.problems, ...extra];
    },
  };
}
