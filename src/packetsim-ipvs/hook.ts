// IPVS in the simulator's hook programs (net/netfilter/ipvs/ip_vs_core.c). ip_vs_remote_request
// sits in LOCAL_IN at NF_IP_PRI_NAT_SRC - 2 (after filter INPUT and security, before nat INPUT)
// and ip_vs_local_request in LOCAL_OUT at NF_IP_PRI_NAT_DST + 1 (after nat OUTPUT, before filter
// OUTPUT). A new connection to a virtual service is given a real server (schedule.ts) and, in NAT
// forwarding (kube-proxy's only method), ip_vs_nat_xmit rewrites the destination: with
// net.ipv4.vs.conntrack=1 the conntrack entry's reply tuple is altered to the real server
// (ip_vs_update_conntrack), and ip_vs_nat_send_or_cont sends the packet through LOCAL_OUT again
// (raw, mangle, filter OUTPUT), routing and POSTROUTING, where kube-proxy's masquerade rules act;
// a real server that is a local address is accepted and delivered locally. No usable real server:
// ip_vs_leave answers ICMP port unreachable and drops. Later packets of the connection follow the
// connection entry (here: the conntrack entry's altered reply tuple); persistence templates (flag
// 0x1, ClientIP affinity) and rr's position are World state, so `--flows` carries them from packet
// to packet. Replies (ip_vs_reply / ip_vs_local_reply, in LOCAL_IN, LOCAL_OUT and FORWARD after
// the filter chains) get the virtual address back as their source.
//
// Approximations: an IPVS connection entry lives as long as its conntrack entry (the kernel's own
// timers, TCP 60 s SYN_RECV / 900 s established, UDP 300 s, differ); a persistence template
// expires `timeout` seconds after its last use (the kernel also keeps it while connections it
// controls live); mh builds its table from the real servers in the table's order, taken as the
// kernel's destination list order (schedule.ts), and no server is ever overloaded (no connection
// counts against the -x threshold).
import { hostPort, serviceKey, type IpvsProtocol, type IpvsTable, type RealServer, type VirtualServer } from '../ipvs/ir.js';
import type { Family } from '../iptables/ir.js';
import { formatHostPort, parseAddress, type Ip } from '../net/index.js';
import { clearFrames, fork, mutConn, mutPkt, recordStep, type Programs } from '../packetsim/evaluate.js';
import { extensionChain, extensionRule } from '../packetsim/extension-rule.js';
import { timesRatio } from '../packetsim/fraction.js';
import { TCP_FLAGS, type IpvsMark } from '../packetsim/packet.js';
import { NF_PRIORITY } from '../packetsim/hook-order.js';
import { addUnknown, type CompiledChain, type CompiledRule, type ExtensionHook, type HookExtension, type HookPriority, type ListedRef, type Step, type Walk } from '../packetsim/types.js';
import { HOOK_LISTINGS } from '../node/extension-listing.js';
import { readExtension } from '../packetsim/world.js';
import { choose } from './schedule.js';

export interface IpvsTraceOptions {
  /**
   * Packets in sequence (`--flows`): rr takes the next server after the last one it gave, as the
   * kernel's rotation does. Off (one packet), rr is its steady state: equal shares.
   */
  readonly rotate?: boolean;
}

const PROTOCOLS: Readonly<Record<number, IpvsProtocol>> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

interface Server {
  readonly rs: RealServer;
  readonly addr: Ip;
  /** `ip:port`, the key templates and rr positions store. */
  readonly key: string;
}

interface Service {
  readonly vs: VirtualServer;
  /** What -m ipvs sees on a packet IPVS forwarded for this service, and on a reply it rewrote (one object each, shared by every packet). */
  readonly sent: IpvsMark;
  readonly replied: IpvsMark;
  readonly servers: readonly Server[];
  readonly head: string;
  readonly id: string;
}

/** Where IPVS's hook functions run (ipvsPrograms below): the trace's hook lanes show them there. */
const HOOK_PRIORITY = { INPUT: NF_PRIORITY.NAT_SRC - 2, OUTPUT: NF_PRIORITY.NAT_DST + 1, FORWARD: NF_PRIORITY.NAT_SRC - 1 } as const;

function chain(name: 'LOCAL_IN' | 'LOCAL_OUT' | 'FORWARD', hook: 'INPUT' | 'OUTPUT' | 'FORWARD'): CompiledChain {
  return extensionChain({ table: 'ipvs', name, hookFn: { hook, name: 'ipvs', priority: HOOK_PRIORITY[hook] } });
}

/** A step's line in the node's ipvsadm-save listing: the real server's `-a` line, or the virtual server's `-A` line. */
function listedAt(vs: VirtualServer, rs: RealServer | null): ListedRef {
  const i = rs ? vs.realServers.indexOf(rs) : -1;
  return { listing: HOOK_LISTINGS.ipvs, table: 'ipvs', chain: serviceKey(vs), index: i < 0 ? null : i };
}

/**
 * The IPVS steps in the hook programs: before nat INPUT, after nat OUTPUT (and its reroute), and
 * in FORWARD after the filter and security chains (ip_vs_reply4 at priority 100).
 */
export function ipvsPrograms(p: Programs, step: (hook: ExtensionHook, at: HookPriority) => Step): Programs {
  const input = [...p.input];
  const i = input.findIndex((s) => (s.kind === 'table' && s.table === 'nat' && s.hook === 'INPUT') || (s.kind === 'nat' && s.hook === 'INPUT'));
  input.splice(i < 0 ? input.length - 2 : i, 0, step('INPUT', { priority: HOOK_PRIORITY.INPUT, nat: false }));
  const local = [...p.local];
  const j = local.findIndex((s) => s.kind === 'reroute');
  local.splice(j + 1, 0, step('OUTPUT', { priority: HOOK_PRIORITY.OUTPUT, nat: false }));
  const forward = [...p.forward];
  const k = forward.findIndex((s) => s.kind === 'table' && s.hook === 'POSTROUTING');
  forward.splice(k < 0 ? forward.length - 3 : k, 0, step('FORWARD', { priority: HOOK_PRIORITY.FORWARD, nat: false }));
  return { ...p, input, local, forward };
}

/** A connection IPVS handles: conntrack's reply tuple altered to the real server (not an iptables DNAT). */
function ipvsBound(w: Walk): boolean {
  const c = w.conn;
  return w.known && !c.dnat && (c.reply.src !== c.orig.dst || c.reply.sport !== c.orig.dport);
}

/** Masks a client address to the persistence netmask (`-M`), as a key. */
function clientKey(addr: Ip, prefix: number, family: Family): string {
  if (family === 'ipv4') {
    const p = Math.min(32, Math.max(0, prefix));
    return String(p === 0 ? 0 : ((addr as number) & (~0 << (32 - p))) >>> 0);
  }
  const p = BigInt(Math.min(128, Math.max(0, prefix)));
  const mask = ((1n << p) - 1n) << (128n - p);
  return String((addr as bigint) & mask);
}

/** The IPVS table of one family as a hook extension of the simulator. */
export function ipvsExtension(table: IpvsTable, family: Family, opts: IpvsTraceOptions = {}): HookExtension {
  const services = new Map<string, Service>();
  for (const vs of table.services) {
    if (vs.family !== family) continue;
    const addr = parseAddress(vs.address, family, true);
    const proto = vs.protocol === 'TCP' ? 6 : vs.protocol === 'UDP' ? 17 : 132;
    if (addr === null) continue;
    const servers: Server[] = [];
    for (const rs of vs.realServers) {
      const a = parseAddress(rs.address, family, true);
      if (a !== null) servers.push({ rs, addr: a, key: hostPort(rs.address, rs.port) });
    }
    const id = `${vs.protocol}|${hostPort(vs.address, vs.port)}`;
    const sent: IpvsMark = { vaddr: addr, vport: vs.port, method: 'MASQ', found: true };
    services.set(`${proto}|${addr}|${vs.port}`, { vs, sent, replied: { ...sent, found: false }, servers, head: `ipvs:${vs.protocol} ${hostPort(vs.address, vs.port)} ${vs.scheduler}`, id });
  }
  const chains = { INPUT: chain('LOCAL_IN', 'INPUT'), OUTPUT: chain('LOCAL_OUT', 'OUTPUT'), FORWARD: chain('FORWARD', 'FORWARD') };
  const rules = new Map<string, CompiledRule>();
  /** The step's pseudo-rule; its `comment` says in words what the step means for later packets (persistence). */
  const ruleFor = (ch: CompiledChain, label: string, listed: ListedRef, span: CompiledRule['span'], comment: string | null = null): CompiledRule => {
    const k = `${ch.name} ${label}`;
    let r = rules.get(k);
    if (!r) {
      r = extensionRule(ch, { num: 1, text: '', action: label, span, comment, listed });
      rules.set(k, r);
    }
    return r;
  };
  // After IPVS, a packet for a remote real server goes through LOCAL_OUT from its start (without
  // IPVS): the program as it was before the IPVS steps were placed in it.
  let reinject: readonly Step[] = [];
  const place = (p: Programs, stepAt: (hook: ExtensionHook, at: HookPriority) => Step): Programs => {
    reinject = p.local;
    return ipvsPrograms(p, stepAt);
  };

  const mark = (w: Walk, hook: 'INPUT' | 'OUTPUT' | 'FORWARD', label: string, listed: ListedRef, span: CompiledRule['span'], comment: string | null = null) => {
    const ch = chains[hook];
    const r = ruleFor(ch, label, listed, span, comment);
    recordStep(w, ch, r);
    return r;
  };

  const forward = (w: Walk, hook: 'INPUT' | 'OUTPUT' | 'FORWARD', svc: Service, s: Server, label: string) => {
    // A persistent virtual server (ClientIP affinity, `-p TIMEOUT`): the client's template keeps it here.
    const persistent = (svc.vs.flags & 0x1) !== 0 && !label.endsWith('(connection)');
    const words = persistent ? `sticks to ${s.key} for ${svc.vs.timeout} s (IPVS persistence of ${hostPort(svc.vs.address, svc.vs.port)})` : null;
    const r = mark(w, hook, label, listedAt(svc.vs, s.rs), s.rs.span ?? svc.vs.span, words);
    if (s.rs.forward !== 'masq') {
      addUnknown(w, { rule: r, text: label, reason: `forwarding method ${s.rs.forward} (not masquerading) is not modelled`, assumed: 'target' });
      clearFrames(w);
      w.verdict = 'UNKNOWN';
      return;
    }
    const c = mutConn(w);
    c.reply.src = s.addr;
    c.reply.sport = s.rs.port;
    const p = mutPkt(w);
    p.dst = s.addr;
    p.dport = s.rs.port;
    // ip_vs_nat_send_or_cont marks the packet as IPVS's (skb->ipvs_property): -m ipvs finds its connection.
    p.ipvs = svc.sent;
    w.dnat = true;
    // A local real server: ip_vs_nat_send_or_cont returns NF_ACCEPT, the packet goes on in this hook.
    if (w.ctx.env.isLocal(s.addr)) return;
    p.inIface = null;
    w.program = reinject;
    w.pc = 0;
  };

  const setSlot = (w: Walk, key: string, server: string, expires: number) => {
    w.delta = { kind: 'ext', key, slot: { value: server, expires }, prev: w.delta };
  };

  /** A reply from the real server: its source becomes the virtual service again (ip_vs_out, handle_response). */
  const reply = (w: Walk, hook: 'INPUT' | 'OUTPUT' | 'FORWARD') => {
    if (!ipvsBound(w)) return;
    const c = w.conn;
    const p = w.pkt;
    if (p.src !== c.reply.src || p.sport !== c.reply.sport) return;
    const svc = services.get(`${p.proto}|${c.orig.dst}|${c.orig.dport}`);
    if (!svc) return;
    const s = svc.servers.find((x) => x.addr === p.src && x.rs.port === p.sport);
    mark(w, hook, `${svc.head} reply ${formatHostPort(p.src, p.sport, family)} -> ${hostPort(svc.vs.address, svc.vs.port)}`, listedAt(svc.vs, s?.rs ?? null), svc.vs.span);
    const q = mutPkt(w);
    q.src = c.orig.dst;
    q.sport = c.orig.dport;
    // handle_response marks the reply too; xt_ipvs's inverted lookup does not find its connection.
    q.ipvs = svc.replied;
  };

  const step = (w: Walk, hook: 'INPUT' | 'OUTPUT' | 'FORWARD', pending: Walk[]): void => {
    if (w.dir === 'reply') return reply(w, hook);
    if (hook === 'FORWARD') return;
    const p = w.pkt;
    if (!PROTOCOLS[p.proto]) return;
    const svc = services.get(`${p.proto}|${p.dst}|${p.dport}`);
    if (!svc) return;
    const vs = svc.vs;
    const c = w.conn;
    // A packet of a connection IPVS already handles (ip_vs_conn_in_get): the same real server.
    if (ipvsBound(w)) {
      const s = svc.servers.find((x) => x.addr === c.reply.src && x.rs.port === c.reply.sport);
      if (s) return forward(w, hook, svc, s, `${svc.head} -> ${s.key} (connection)`);
      // expire_nodest_conn=1 (kube-proxy sets it): a connection to a removed server is dropped.
      mark(w, hook, `${svc.head} -> (server gone)`, listedAt(vs, null), vs.span);
      clearFrames(w);
      w.verdict = 'DROP';
      w.note = 'ipvs: the connection\'s real server is gone (expire_nodest_conn drops the packet)';
      return;
    }
    // Only a TCP SYN starts a connection (tcp_conn_schedule); other segments go to the local stack.
    if (p.proto === 6 && (p.tcpFlags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) !== TCP_FLAGS.SYN) return;
    const world = w.ctx.world;
    const now = world.now;
    const persistent = (vs.flags & 0x1) !== 0;
    const tkey = persistent ? `t|${svc.id}|${clientKey(p.src, vs.netmaskPrefix, family)}` : '';
    if (persistent) {
      const t = readExtension(world, w.delta, tkey);
      const s = t && t.expires > now ? svc.servers.find((x) => x.key === t.value && x.rs.weight > 0) : undefined;
      if (s) {
        setSlot(w, tkey, s.key, now + vs.timeout);
        return forward(w, hook, svc, s, `${svc.head} -> ${s.key} (persistent)`);
      }
    }
    const usable = svc.servers.filter((x) => x.rs.weight > 0);
    const take = (x: Walk, s: Server, label: string) => {
      if (persistent) setSlot(x, tkey, s.key, now + vs.timeout);
      forward(x, hook, svc, s, label);
    };
    if (opts.rotate && vs.scheduler === 'rr' && usable.length > 0) {
      const rkey = `rr|${svc.id}`;
      const last = readExtension(world, w.delta, rkey);
      const n = svc.servers.length;
      const at = last ? svc.servers.findIndex((x) => x.key === last.value) : -1;
      let s = usable[0];
      for (let k = 1; k <= n; k++) {
        const x = svc.servers[(((at + k) % n) + n) % n];
        if (x.rs.weight > 0) {
          s = x;
          break;
        }
      }
      setSlot(w, rkey, s.key, Infinity);
      return take(w, s, `${svc.head} -> ${s.key}`);
    }
    const choice = choose(vs, { source: BigInt(p.src), sourcePort: p.sport, destination: BigInt(p.dst), ipv6: family === 'ipv6' });
    switch (choice.kind) {
      case 'none':
        mark(w, hook, `${svc.head} -> (no real server)`, listedAt(vs, null), vs.span);
        clearFrames(w);
        w.verdict = 'REJECT';
        w.note = 'ipvs: no real server; ip_vs_leave answers ICMP port unreachable and drops the packet';
        return;
      case 'unsupported': {
        const r = mark(w, hook, svc.head, listedAt(vs, null), vs.span);
        addUnknown(w, { rule: r, text: svc.head, reason: choice.reason, assumed: 'target' });
        clearFrames(w);
        w.verdict = 'UNKNOWN';
        return;
      }
      case 'fixed': {
        const s = svc.servers.find((x) => x.rs === choice.server)!;
        return take(w, s, `${svc.head} -> ${s.key}`);
      }
      case 'shares': {
        const shares = choice.shares;
        for (let i = 0; i < shares.length; i++) {
          const sh = shares[i];
          const s = svc.servers.find((x) => x.rs === sh.server)!;
          const x = i === shares.length - 1 ? w : fork(w);
          x.prob = timesRatio(w.prob, sh.numerator, sh.denominator);
          take(x, s, `${svc.head} -> ${s.key}`);
          if (x !== w) pending.push(x);
        }
        return;
      }
      default: {
        const never: never = choice;
        void never;
      }
    }
  };
  return {
    name: 'ipvs',
    place,
    run: (w, hook, pending) => {
      if (hook === 'INPUT' || hook === 'OUTPUT' || hook === 'FORWARD') step(w, hook, pending);
    },
  };
}
