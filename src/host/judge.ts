// The kernel judge: a node's rules loaded into a throwaway service-node topology, real packets sent
// for every flow (several each, from distinct source ports), and what netfilter did with them
// compared with what `kpsim trace` says for the same packets. Shared by the kernel trace test,
// the differential tests and the golden-case tooling.
//
// What the kernel did is read from the node's conntrack table: a connection that netfilter let
// through is confirmed (in POSTROUTING or INPUT) with its reply tuple, whose source is the DNAT
// destination and whose destination is the address the endpoint saw (SNAT/MASQUERADE). A packet
// dropped or rejected before confirmation leaves no entry; the client then tells which: a REJECT
// (icmp-port-unreachable or tcp-reset) fails connect() and a connected UDP socket with
// ECONNREFUSED, a DROP times out (or fails with EPERM for a packet the node itself sends). SCTP is
// probed with raw INITs (sctp-probe.ts), read the same way.
//
// Bounds: probes per flow are capped (`maxProbes`), each probe waits at most `timeoutMs`, the
// whole judgement stops sending after `budgetMs` (remaining flows are reported skipped), and every
// namespace is deleted afterwards (withServiceNode). Nothing touches the root namespace.
import type { Compiled } from '../compiler/index.js';
import { hostSetup, renderHostSetup } from '../compiler/iptables/host.js';
import type { Family } from '../iptables/ir.js';
import { applyRestore, emptyState, stateToRuleset } from '../iptables/state.js';
import { parseIptablesSave } from '../iptables-save/index.js';
import { familyOfText, formatHostPort, formatIp, parseIp } from '../packetsim/addr.js';
import { compileRuleset } from '../packetsim/compile.js';
import { buildEnv, type NodeEnv, type NodeSpec } from '../packetsim/env.js';
import { add, equal, fractionText, toDecimal, ZERO, type Prob } from '../packetsim/fraction.js';
import { traceFlows, type FlowSpec, type Outcome } from '../packetsim/trace.js';
import type { CompiledRule, CompiledRuleset } from '../packetsim/types.js';
import { createNfacct, nfacctNamesIn, restoreRules, type IptablesTool } from './iptables.js';
import type { Namespace } from './netns.js';
import { startResponder, type ProbeProtocol } from './probe.js';
import { SCTP_CLIENT, sctpProbesAvailable } from './sctp-probe.js';
import { CLIENT_IFNAME, DEFAULT_PODS_IFNAME, withServiceNode, type ServiceNode, type ServiceNodeSide, type ServiceNodeSpec } from './service-node.js';

/** A packet flow in kube-proxy's flow-test shape (other keys are ignored). */
export interface JudgeFlow {
  readonly name: string;
  readonly sourceIP: string;
  /** tcp, udp or sctp, any case. */
  readonly protocol: string;
  readonly destIP: string;
  readonly destPort: number;
  /** The first probe's source port; later probes use other ports. */
  readonly sourcePort?: number;
  /**
   * The node interface the packet arrives on: `eth0` (the client side) or the pods side's name,
   * which the default topology then gives the node's pods-side interface (one name per judgement).
   */
  readonly inInterface?: string;
}

/** A node's rules: texts loaded in order (each with --noflush, as kube-proxy restores) into an empty kernel. */
export interface JudgeRules {
  readonly family: Family;
  readonly texts: readonly { readonly label: string; readonly text: string }[];
  /** The node's own addresses (both families may be given); loopback is always local. */
  readonly nodeAddrs: readonly string[];
}

export interface JudgeOptions {
  /** Probes for a flow kpsim gives a single outcome; default 3. */
  readonly probes?: number;
  /** Most probes for a split; default 150. */
  readonly maxProbes?: number;
  /**
   * False-alarm rate of each split check (chi-square, never-seen outcome); default 1e-6, so that a
   * corpus with ~100 split checks raises a false alarm about once in 10 000 runs.
   */
  readonly alpha?: number;
  /** Per probe; default 1000 ms. */
  readonly timeoutMs?: number;
  /** No flow is started after this long; default 120 s. */
  readonly budgetMs?: number;
  /** Where addresses live; default: DNAT targets on the pods side, other non-node sources on the client side. */
  readonly topology?: ServiceNodeSpec;
}

/** One way a packet ends, as both sides can observe it. */
export interface Observed {
  /** `ACCEPT 10.180.0.1:80 from 169.254.2.1`, `DROP`, `REJECT`, `UNKNOWN`, `ERROR EHOSTUNREACH`. */
  readonly key: string;
  readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'UNKNOWN' | 'ERROR';
  /** After DNAT (ACCEPT only). */
  readonly dest: string | null;
  /** Source address after SNAT/MASQUERADE (ACCEPT only). */
  readonly source: string | null;
  readonly dnat: boolean;
  readonly masquerade: boolean;
}

export interface ProbeRecord {
  readonly sourcePort: number;
  readonly observed: Observed;
  /** The responder's line or the client's error. */
  readonly client: string;
  /** The node's conntrack entry for the probe, when there is one. */
  readonly conntrack: string | null;
}

/** A flow's answer in kube-proxy's tracer shape, for a golden flows.yaml entry. */
export interface TracerAnswer {
  /** DNAT destinations, DROP, REJECT, sorted, `, `-joined (`""` for untouched). */
  readonly output: string;
  readonly masq: boolean;
}

export interface ChiSquare {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  readonly alpha: number;
}

export interface FlowJudgement {
  readonly flow: JudgeFlow;
  readonly verdict: 'agree' | 'disagree' | 'skipped';
  /** Why it disagrees or was skipped. */
  readonly why: readonly string[];
  readonly kpsim: TracerAnswer & { readonly outcomes: readonly { readonly key: string; readonly fraction: string; readonly probability: number }[] };
  readonly kernel: (TracerAnswer & { readonly outcomes: readonly { readonly key: string; readonly count: number }[]; readonly probes: readonly ProbeRecord[] }) | null;
  /** The goodness-of-fit check of a split, when it ran. */
  readonly chiSquare: ChiSquare | null;
}

export interface JudgeReport {
  readonly family: Family;
  readonly flows: readonly FlowJudgement[];
  /** The rules did not load; no packet was sent. */
  readonly error: string | null;
  /** Wall time per phase (topology, load, responders, kpsim, probes, teardown) and in total. */
  readonly ms: Readonly<Record<string, number>>;
}

type Bounds = Required<Omit<JudgeOptions, 'topology'>>;

export const JUDGE_DEFAULTS: Readonly<Bounds> = { probes: 3, maxProbes: 150, alpha: 1e-6, timeoutMs: 1000, budgetMs: 120_000 };

/** kube-proxy's syncs on one node (host setup, then each restore input), judged by the kernel. */
export function judgeCluster(syncs: Compiled | readonly Compiled[], flows: readonly JudgeFlow[], opts: JudgeOptions = {}): Promise<JudgeReport> {
  const list: readonly Compiled[] = Array.isArray(syncs) ? syncs : [syncs as Compiled];
  const last = list[list.length - 1];
  if (!last) throw new Error('judgeCluster: no sync given');
  const loopback = (a: string) => a.startsWith('127.') || a === '::1';
  return judgeRules(
    {
      family: last.settings.family,
      texts: [{ label: 'host setup', text: renderHostSetup(hostSetup()) }, ...list.map((c, i) => ({ label: `restore input ${i + 1}`, text: c.restore }))],
      nodeAddrs: [...new Set(last.settings.localAddresses.map((a) => a.text).filter((a) => !loopback(a)))],
    },
    flows,
    opts,
  );
}

export async function judgeRules(rules: JudgeRules, flows: readonly JudgeFlow[], opts: JudgeOptions = {}): Promise<JudgeReport> {
  const started = Date.now();
  const o = { ...JUDGE_DEFAULTS, ...opts };
  const rs = simulatorRuleset(rules);
  const topology = opts.topology ?? defaultTopology(rules, flows);
  const ms: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    ms[name] = Date.now() - mark;
    mark = Date.now();
  };
  const report = await withServiceNode(topology, async (n) => {
    phase('topology');
    await quietNode(n.node, topology.podsIfname ?? DEFAULT_PODS_IFNAME);
    const env = buildEnv(await nodeSpecOf(n.node), rules.family);
    const loaded = await loadNode(n.node, rules);
    phase('load');
    if (loaded) return { family: rules.family, flows: flows.map((f) => skipped(f, [`not sent: ${loaded}`])), error: loaded, ms };
    await startResponders(n, rules, flows, topology);
    await sameSideViaNode(n, flows, topology);
    phase('responders');
    const plan = planProbes(rs, env, flows, o);
    const marginals = probeMarginals(rs, env, plan);
    phase('kpsim');
    const out: FlowJudgement[] = [];
    for (const p of plan) {
      const m = marginals.slice(p.first, p.first + p.ports.length);
      if (p.skip) out.push(skipped(p.flow, [p.skip], m[0]));
      else if (Date.now() - started > o.budgetMs) out.push(skipped(p.flow, [`not sent: the judge's time budget of ${o.budgetMs} ms ran out`], m[0]));
      else out.push(compare(p, m, await sendFlow(n, p, !m.some((x) => x.stateful) && m.every((x) => sameOdds(m[0], x)), env, o.timeoutMs), rules.family, o.alpha));
    }
    phase('probes');
    return { family: rules.family, flows: out, error: null, ms };
  });
  phase('teardown');
  return { ...report, ms: { ...ms, total: Date.now() - started } };
}

// ---- the simulator's side -------------------------------------------------------------------

function simulatorRuleset(rules: JudgeRules): CompiledRuleset {
  const state = emptyState(rules.family);
  for (const t of rules.texts) {
    const { ruleset, diagnostics } = parseIptablesSave(t.text, { file: t.label, family: rules.family, noflush: true });
    const err = diagnostics.find((d) => d.severity === 'error');
    if (!ruleset || err) throw new Error(`judge: ${t.label} does not parse: ${err?.span?.line}:${err?.span?.col} ${err?.message ?? ''}`);
    applyRestore(state, ruleset);
  }
  return compileRuleset(stateToRuleset(state));
}

/** The node namespace as the simulator's node: its global and host-scope addresses, its gateway routes. */
async function nodeSpecOf(node: Namespace): Promise<NodeSpec> {
  const links = JSON.parse(await node.ip(['-j', 'addr', 'show'])) as { ifname: string; addr_info?: { local: string; prefixlen: number; scope: string }[] }[];
  const interfaces = links.map((l) => ({ name: l.ifname, addresses: (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`) }));
  const routes: { to: string; dev: string }[] = [];
  for (const fam of ['-4', '-6']) {
    const rows = JSON.parse(await node.ip([fam, '-j', 'route', 'show'])) as { dst: string; gateway?: string; dev: string }[];
    for (const r of rows) {
      if (!r.gateway) continue;
      const to = r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`;
      routes.push({ to, dev: r.dev });
    }
  }
  return { interfaces, routes };
}

interface PlannedFlow {
  readonly flow: JudgeFlow;
  readonly protocol: ProbeProtocol | 'sctp';
  /** One per probe; the first is sent alone, the rest together. */
  readonly ports: readonly number[];
  /** Index of the first probe in the probe sequence. */
  readonly first: number;
  readonly skip: string | null;
}

type Marginal = Map<string, { obs: Observed; prob: Prob }> & { stateful?: boolean };

function observedOf(o: Outcome, input: FlowSpec, family: Family): Observed {
  if (o.verdict !== 'ACCEPT') return { key: o.verdict, verdict: o.verdict, dest: null, source: null, dnat: false, masquerade: false };
  const dest = formatHostPort(o.packet.dst, o.packet.dport, family);
  const source = formatIp(o.packet.src, family);
  return accepted(dest, source, o.dnat || dest !== formatHostPort(parseIp(input.destIP, family)!, input.destPort ?? 0, family), source !== normalIp(input.sourceIP, family));
}

function accepted(dest: string, source: string, dnat: boolean, masquerade: boolean): Observed {
  return { key: `ACCEPT ${dest} from ${source}`, verdict: 'ACCEPT', dest, source, dnat, masquerade };
}

function normalIp(text: string, family: Family): string {
  const ip = parseIp(text, family);
  return ip === null ? text : formatIp(ip, family);
}

function marginal(outcomes: readonly Outcome[], input: FlowSpec, family: Family): Marginal {
  const m: Marginal = new Map();
  for (const o of outcomes) {
    const obs = observedOf(o, input, family);
    const prev = m.get(obs.key);
    m.set(obs.key, { obs, prob: add(prev?.prob ?? ZERO, o.prob) });
  }
  return m;
}

const specOf = (f: JudgeFlow, sourcePort: number): FlowSpec => ({
  name: f.name,
  protocol: f.protocol.toLowerCase() as FlowSpec['protocol'],
  sourceIP: f.sourceIP,
  sourcePort,
  destIP: f.destIP,
  destPort: f.destPort,
});

/**
 * How many probes each flow gets: `probes` when kpsim gives one outcome; for a split, enough that
 * every outcome is expected at least 5 times (chi-square's rule of thumb) and that missing one
 * has odds below alpha, at most maxProbes. Decided on the flows traced once each, in order.
 */
function planProbes(rs: CompiledRuleset, env: NodeEnv, flows: readonly JudgeFlow[], o: Bounds): PlannedFlow[] {
  const family = rs.family;
  const firstPorts = assignPorts(flows);
  const once = traceFlows(rs, env, flows.map((f, i) => specOf(f, firstPorts[i])));
  const used = new Set(firstPorts.map((p, i) => `${flows[i].sourceIP} ${p}`));
  let next = 20000;
  let first = 0;
  return flows.map((f, i) => {
    const protocol = f.protocol.toLowerCase();
    let skip: string | null = null;
    if (protocol === 'sctp' && !sctpProbesAvailable()) skip = 'not sent: SCTP probes need python3 (raw sockets), which is not on the PATH';
    else if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') skip = `not sent: protocol ${f.protocol} is not probed`;
    else if (familyOfText(f.sourceIP) !== family || familyOfText(f.destIP) !== family) skip = `not sent: the flow is not ${family}`;
    const m = marginal(once[i].outcomes, specOf(f, firstPorts[i]), family);
    const probs = [...m.values()].map((v) => toDecimal(v.prob)).filter((p) => p > 0);
    let count = o.probes;
    if (probs.length > 1) {
      const pmin = Math.min(...probs);
      count = Math.min(o.maxProbes, Math.max(o.probes, Math.ceil(5 / pmin), Math.ceil(Math.log(o.alpha) / Math.log(1 - pmin))));
    }
    const ports = [firstPorts[i]];
    while (ports.length < (skip ? 1 : count)) {
      const p = next++;
      if (!used.has(`${f.sourceIP} ${p}`)) ports.push(p);
    }
    const planned = { flow: f, protocol: protocol as PlannedFlow['protocol'], ports, first, skip };
    first += ports.length;
    return planned;
  });
}

/** Each flow's own source port, or one from 10000 up that no flow from the same source uses. */
function assignPorts(flows: readonly JudgeFlow[]): number[] {
  const taken = new Set(flows.filter((f) => f.sourcePort).map((f) => `${f.sourceIP} ${f.sourcePort}`));
  let next = 10000;
  return flows.map((f) => {
    if (f.sourcePort) return f.sourcePort;
    while (taken.has(`${f.sourceIP} ${next}`)) next++;
    taken.add(`${f.sourceIP} ${next}`);
    return next++;
  });
}

/** kpsim's outcome distribution for every probe, traced in the order they are sent, state carried (affinity). */
function probeMarginals(rs: CompiledRuleset, env: NodeEnv, plan: readonly PlannedFlow[]): Marginal[] {
  const specs = plan.flatMap((p) => p.ports.map((port) => specOf(p.flow, port)));
  return traceFlows(rs, env, specs).map((r, i) => {
    const m = marginal(r.outcomes, specs[i], rs.family);
    // A rule whose match depends on what earlier packets did (`-m recent`: ClientIP affinity;
    // `statistic --mode nth`): the odds kpsim gives such a probe are a mixture over the worlds
    // earlier probes may have left, while the kernel is in one of them, so its probes are not
    // independent draws.
    m.stateful = r.outcomes.some((o) => o.path.some((e) => e.rule?.stateful === true));
    return m;
  });
}


// ---- the kernel's side ----------------------------------------------------------------------

function defaultTopology(rules: JudgeRules, flows: readonly JudgeFlow[]): ServiceNodeSpec {
  const node = new Set(rules.nodeAddrs);
  const endpoints = new Set<string>();
  for (const t of rules.texts) for (const d of dnatTargets(t.text)) if (!node.has(d.addr)) endpoints.add(d.addr);
  const podsIfname = podsInterfaceOf(flows);
  const clients = new Set<string>();
  for (const f of flows) {
    if (node.has(f.sourceIP) || isLoopback(f.sourceIP) || endpoints.has(f.sourceIP)) continue;
    // A source said to arrive on the pods side's interface is a pod there, not an outside client.
    if (podsIfname && f.inInterface === podsIfname) endpoints.add(f.sourceIP);
    else clients.add(f.sourceIP);
  }
  return { nodeAddrs: [...node], clientAddrs: [...clients].filter((a) => !endpoints.has(a)), endpointAddrs: [...endpoints], ...(podsIfname ? { podsIfname } : {}) };
}

/** The one interface other than eth0 that flows arrive on, if any; two different ones cannot be built. */
export function podsInterfaceOf(flows: readonly JudgeFlow[]): string | null {
  const names = new Set(flows.map((f) => f.inInterface).filter((n): n is string => !!n && n !== CLIENT_IFNAME));
  if (names.size > 1) throw new Error(`judge: flows arrive on ${[...names].join(', ')}; the topology has one pods-side interface`);
  return names.size ? [...names][0] : null;
}

/** Every `-p PROTO ... -j DNAT --to-destination ADDR:PORT` (IPv6 as `[ADDR]:PORT`) in a restore text. */
function dnatTargets(text: string): { addr: string; port: number; protocol: string }[] {
  const out: { addr: string; port: number; protocol: string }[] = [];
  for (const m of text.matchAll(/^.*--to-destination (?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d+).*$/gm)) {
    out.push({ addr: m[1] ?? m[2], port: Number(m[3]), protocol: /-p (\w+)/.exec(m[0])?.[1] ?? '' });
  }
  return out;
}

const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';

/**
 * Sysctls of the node namespace that would otherwise make the kernel's answer depend on timing:
 * ICMP errors (a REJECT's port unreachable) are rate-limited per destination host after a burst
 * of 6 (icmp_ratelimit, icmpv4_xrlim_allow) and, across all destinations, after a burst of 50
 * (icmp_msgs_burst, icmp_global_allow), which would turn the later REJECTs of a batch into
 * timeouts that look like DROP. Clearing the rate masks exempts every ICMP type from both limits
 * (icmpv4_mask_allow / icmpv6_mask_allow): measured here, 120 connections at once to a REJECT
 * rule got 51 IPv6 and 112 IPv4 port unreachables with the masks at their defaults, 120 and 120
 * without. Also no redirects for hairpin traffic leaving by the interface it arrived on.
 */
async function quietNode(node: Namespace, podsIfname: string): Promise<void> {
  await node.sysctl('net.ipv4.icmp_ratelimit', 0);
  await node.sysctl('net.ipv6.icmp.ratelimit', 0);
  await node.sysctl('net.ipv4.icmp_ratemask', 0);
  await node.sysctl('net.ipv6.icmp.ratemask', '');
  for (const key of ['all', 'default', CLIENT_IFNAME, podsIfname]) await node.sysctl(`net.ipv4.conf.${key}.send_redirects`, 0);
}

/** Loads the rules; null when the kernel took them, else what it said. */
async function loadNode(node: Namespace, rules: JudgeRules): Promise<string | null> {
  const tool: IptablesTool = rules.family === 'ipv6' ? 'ip6tables' : 'iptables';
  // kube-proxy creates its nfacct counters at start-up when the host has nfacct.
  await createNfacct(node, [...new Set(rules.texts.flatMap((t) => nfacctNamesIn(t.text)))]);
  for (const t of rules.texts) {
    const r = await restoreRules(node, tool, t.text, { noflush: true });
    if (r.code !== 0) return `${tool}-restore --noflush refuses the ${t.label}: ${r.stderr.trim()}`;
  }
  return null;
}

/** A responder on every port a DNAT target or a flow's destination may answer on, on the side holding that address. */
async function startResponders(n: ServiceNode, rules: JudgeRules, flows: readonly JudgeFlow[], topology: ServiceNodeSpec): Promise<void> {
  const want = new Map<string, { side: ServiceNodeSide; protocol: ProbeProtocol; port: number }>();
  const addTarget = (side: ServiceNodeSide, protocol: string, port: number) => {
    if ((protocol === 'tcp' || protocol === 'udp') && port > 0) want.set(`${side} ${protocol} ${port}`, { side, protocol, port });
  };
  for (const t of rules.texts) for (const d of dnatTargets(t.text)) addTarget(sideOf(d.addr, topology), d.protocol, d.port);
  for (const f of flows) addTarget(isLoopback(f.destIP) ? 'node' : sideOf(f.destIP, topology), f.protocol.toLowerCase(), f.destPort);
  for (const w of want.values()) if (w.side !== 'client') await startResponder(n.ns(w.side), w.protocol, w.port, w.side);
}

/**
 * A flow from the client side to an address the client side also holds (kube-proxy's flows from a
 * load-balancer IP to itself: traffic SNATed to the LB IP by the cloud) would be delivered inside
 * the client namespace and never meet the node. Policy routing in that namespace sends its own
 * packets for such addresses to the node instead (a rule before the local table, `iif lo`: only
 * locally generated ones), and accept_local lets the replies in. Same for the pods side.
 */
async function sameSideViaNode(n: ServiceNode, flows: readonly JudgeFlow[], t: ServiceNodeSpec): Promise<void> {
  for (const side of ['client', 'pods'] as const) {
    const addrs = [...new Set(flows.filter((f) => n.sideOf(f.sourceIP) === side && sideOf(f.sourceIP, t) === side && sideOf(f.destIP, t) === side).map((f) => f.destIP))];
    if (!addrs.length) continue;
    const ns = n.ns(side);
    for (const fam of ['-4', '-6'] as const) {
      const gw = (JSON.parse(await ns.ip([fam, '-j', 'route', 'show', 'default'])) as { gateway?: string }[])[0]?.gateway;
      if (!gw) continue;
      await ns.ip([fam, 'route', 'add', 'default', 'via', gw, 'table', '200']);
      await ns.ip([fam, 'rule', 'add', 'pref', '100', 'lookup', 'local']);
      await ns.ip([fam, 'rule', 'del', 'pref', '0']);
      for (const a of addrs) if ((fam === '-6') === a.includes(':')) await ns.ip([fam, 'rule', 'add', 'pref', '10', 'iif', 'lo', 'to', a, 'lookup', '200']);
    }
    for (const key of ['all', 'eth0']) await ns.sysctl(`net.ipv4.conf.${key}.accept_local`, 1);
  }
}

function sideOf(addr: string, t: ServiceNodeSpec): ServiceNodeSide {
  return t.nodeAddrs.includes(addr) || isLoopback(addr) ? 'node' : t.endpointAddrs.includes(addr) ? 'pods' : 'client';
}

// Sends a batch of probes from one process, each bounded by the timeout: all at once, or the first
// alone (it may set state such as an affinity entry that the others then meet) and then the rest. Prints a JSON
// array of {port, reply} or {port, error}; UDP sockets are connected so that an ICMP port
// unreachable (REJECT) surfaces as ECONNREFUSED.
const CLIENT = `
const [proto, host, port, ports, timeoutMs, sourceAddress, together] = process.argv.slice(1);
function once(sport) {
  return new Promise((resolve) => {
    const done = (r) => { clearTimeout(timer); close(); resolve({ port: sport, ...r }); };
    const timer = setTimeout(() => done({ error: 'TIMEOUT' }), Number(timeoutMs));
    let close = () => {};
    if (proto === 'tcp') {
      const s = require('node:net').connect({ host, port: Number(port), localPort: sport, localAddress: sourceAddress || undefined });
      close = () => s.destroy();
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('end', () => done({ reply: data.trim() }));
      s.on('error', (e) => done({ error: e.code || String(e) }));
    } else {
      const sock = require('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
      close = () => { try { sock.close(); } catch {} };
      sock.on('message', (m) => done({ reply: String(m).trim() }));
      sock.on('error', (e) => done({ error: e.code || String(e) }));
      sock.bind({ port: sport, address: sourceAddress || undefined }, () => sock.connect(Number(port), host, (e) => e ? done({ error: e.code || String(e) }) : sock.send('probe')));
    }
  });
}
(async () => {
  const all = ports.split(',').map(Number);
  const results = together === '1' ? [] : [await once(all.shift())];
  results.push(...(await Promise.all(all.map(once))));
  process.stdout.write(JSON.stringify(results));
})();
`;

interface ClientResult {
  readonly port: number;
  readonly reply?: string;
  readonly error?: string;
}

/**
 * How long a TCP probe waits at least. A REJECT's ICMP error can come back through the veth pairs
 * while the client's connect() still holds the socket lock; tcp_v4_err / tcp_v6_err then only
 * record it as a soft error (counted as TcpExtLockDroppedIcmps) and the refusal surfaces when
 * the SYN is retransmitted, after the initial RTO of 1 s (TCP_TIMEOUT_INIT). Seen here with IPv6
 * NodePort REJECTs every time; waiting past the retransmission turns them back into ECONNREFUSED.
 */
export const TCP_PROBE_MIN_MS = 1600;

async function sendFlow(n: ServiceNode, p: PlannedFlow, together: boolean, env: NodeEnv, probeTimeoutMs: number): Promise<ProbeRecord[]> {
  const family = env.family;
  const f = p.flow;
  const timeoutMs = p.protocol === 'tcp' ? Math.max(probeTimeoutMs, TCP_PROBE_MIN_MS) : probeTimeoutMs;
  // Node-originated flows (a node address or loopback as source) leave from the node itself.
  const side = isLoopback(f.sourceIP) ? 'node' : n.sideOf(f.sourceIP);
  const probeArgs = [f.destIP, String(f.destPort), p.ports.join(','), String(timeoutMs), f.sourceIP, together ? '1' : '0'];
  // Two rounds of timeouts, plus start-up.
  const bound = { timeoutMs: 2 * timeoutMs + 15_000 };
  const stdout =
    p.protocol === 'sctp'
      ? await n.ns(side).exec('python3', ['-c', SCTP_CLIENT, ...probeArgs], bound)
      : await n.ns(side).exec(process.execPath, ['-e', CLIENT, p.protocol, ...probeArgs], bound);
  const results = JSON.parse(stdout) as ClientResult[];
  const entries = await conntrackOf(n.node, family);
  const src = normalIp(f.sourceIP, family);
  const dst = formatHostPort(parseIp(f.destIP, family)!, f.destPort, family);
  return results.map((r) => {
    const e = entries.find((x) => x.proto === p.protocol && x.orig.src === src && x.orig.sport === r.port && x.orig.dst === dst);
    const client = r.reply ?? r.error ?? '';
    // The node's own packets are confirmed in POSTROUTING, before they loop back through INPUT:
    // for a node-local destination the entry proves nothing, the client's answer decides (a
    // responder listens on every such port, so a refusal is a REJECT).
    const loopedBack = e !== undefined && side === 'node' && env.isLocal(parseIp(e.reply.srcIp, family)!);
    if (e && !(loopedBack && r.reply === undefined)) return { sourcePort: r.port, observed: accepted(e.reply.src, e.reply.dstIp, e.reply.src !== dst, e.reply.dstIp !== src), client, conntrack: e.line };
    const verdict = r.error === 'ECONNREFUSED' ? 'REJECT' : r.error === 'TIMEOUT' || r.error === 'EPERM' ? 'DROP' : null;
    const observed: Observed = verdict
      ? { key: verdict, verdict, dest: null, source: null, dnat: false, masquerade: false }
      : { key: `ERROR ${r.error ?? `reply without a conntrack entry: ${r.reply}`}`, verdict: 'ERROR', dest: null, source: null, dnat: false, masquerade: false };
    return { sourcePort: r.port, observed, client, conntrack: e?.line ?? null };
  });
}

interface CtEntry {
  readonly line: string;
  readonly proto: string;
  readonly orig: { src: string; sport: number; dst: string };
  /** src: `IP:PORT` the reply comes from (the DNAT destination); dstIp: where it goes (the post-SNAT source). */
  readonly reply: { src: string; srcIp: string; dstIp: string };
}

/** The node's conntrack table: `tcp 6 117 TIME_WAIT src=A dst=B sport=P dport=Q src=C dst=D sport=R dport=S ...`. */
async function conntrackOf(node: Namespace, family: Family): Promise<CtEntry[]> {
  const out = await node.exec('conntrack', ['-L', '-f', family]);
  const entries: CtEntry[] = [];
  for (const line of out.split('\n')) {
    const get = (k: string) => Array.from(line.matchAll(new RegExp(`\\b${k}=(\\S+)`, 'g')), (m) => m[1]);
    const [src, dst, sport, dport] = [get('src'), get('dst'), get('sport'), get('dport')];
    if (src.length < 2 || dst.length < 2 || sport.length < 2 || dport.length < 2) continue;
    const ip = (t: string) => normalIp(t, family);
    entries.push({
      line: line.trim(),
      proto: line.trim().split(/\s+/)[0],
      orig: { src: ip(src[0]), sport: Number(sport[0]), dst: formatHostPort(parseIp(dst[0], family)!, Number(dport[0]), family) },
      reply: { src: formatHostPort(parseIp(src[1], family)!, Number(sport[1]), family), srcIp: ip(src[1]), dstIp: ip(dst[1]) },
    });
  }
  return entries;
}

// ---- comparing ------------------------------------------------------------------------------

/** kube-proxy's tracer view of a set of outcomes (an explicit filter ACCEPT is not visible to the kernel, so it is not included). */
function tracerAnswer(obs: Iterable<Observed>): TracerAnswer {
  const out = new Set<string>();
  let masq = false;
  for (const o of obs) {
    if (o.verdict === 'ACCEPT' && o.dnat && o.dest) out.add(o.dest);
    if (o.verdict === 'DROP' || o.verdict === 'REJECT') out.add(o.verdict);
    if (o.masquerade) masq = true;
  }
  return { output: [...out].sort().join(', '), masq };
}

function kpsimSide(m: Marginal | undefined): FlowJudgement['kpsim'] {
  const vals = [...(m?.values() ?? [])].filter((v) => toDecimal(v.prob) > 0);
  return {
    ...tracerAnswer(vals.map((v) => v.obs)),
    outcomes: vals.map((v) => ({ key: v.obs.key, fraction: fractionText(v.prob), probability: toDecimal(v.prob) })).sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

function skipped(flow: JudgeFlow, why: string[], m?: Marginal): FlowJudgement {
  return { flow, verdict: 'skipped', why, kpsim: kpsimSide(m), kernel: null, chiSquare: null };
}

function compare(p: PlannedFlow, m: readonly Marginal[], probes: ProbeRecord[], family: Family, alpha: number): FlowJudgement {
  const why: string[] = [];
  const counts = new Map<string, { obs: Observed; count: number }>();
  for (const r of probes) counts.set(r.observed.key, { obs: r.observed, count: (counts.get(r.observed.key)?.count ?? 0) + 1 });
  const kernel = {
    ...tracerAnswer([...counts.values()].map((c) => c.obs)),
    outcomes: [...counts.values()].map((c) => ({ key: c.obs.key, count: c.count })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    probes,
  };
  const kpsim = kpsimSide(m[0]);
  if (m.some((x) => [...x.keys()].includes('UNKNOWN'))) why.push('kpsim: some outcome rests on a rule it does not model (UNKNOWN)');
  // Every probe's kernel outcome must be possible for that probe.
  probes.forEach((r, i) => {
    const v = m[i]?.get(r.observed.key);
    if (!v || toDecimal(v.prob) === 0) why.push(`kernel: probe from port ${r.sourcePort} ended ${r.observed.key}, which kpsim gives no chance (${[...(m[i]?.keys() ?? [])].join(' | ')})`);
  });
  // Every outcome kpsim expects must show, unless missing it is plausible; with state between
  // the probes (affinity) they are not independent draws, and only the check above applies.
  const dependent = m.some((x) => x.stateful);
  const keys = new Set(dependent ? [] : m.flatMap((x) => [...x.keys()]));
  for (const k of keys) {
    if (counts.has(k)) continue;
    const miss = m.reduce((q, x) => q * (1 - toDecimal(x.get(k)?.prob ?? ZERO)), 1);
    if (miss < alpha) why.push(`kernel: never ended ${k} in ${probes.length} probes (odds of that ${miss.toExponential(2)} < ${alpha})`);
  }
  const chi = dependent ? null : splitCheck(m, probes, alpha);
  if (chi && chi.pValue < alpha) why.push(`kernel: split implausible under kpsim's odds (chi-square ${chi.statistic.toFixed(2)}, df ${chi.df}, p ${chi.pValue.toExponential(2)} < ${alpha})`);
  void family;
  return { flow: p.flow, verdict: why.length ? 'disagree' : 'agree', why, kpsim, kernel, chiSquare: chi };
}

/** Whether two probes face the same outcomes with the same odds (nothing an earlier probe did changes them). */
function sameOdds(a: Marginal, b: Marginal): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.has(k) && equal(b.get(k)!.prob, v.prob));
}

/** Chi-square goodness of fit, when every probe faces the same odds (no state between them) and every outcome is expected at least 5 times. */
function splitCheck(m: readonly Marginal[], probes: readonly ProbeRecord[], alpha: number): ChiSquare | null {
  const first = m[0];
  if (!first || first.size < 2 || probes.length < 2) return null;
  if (!m.slice(1, probes.length).every((x) => sameOdds(first, x))) return null;
  const n = probes.length;
  const cells = [...first.values()].map((v) => ({ key: v.obs.key, expected: n * toDecimal(v.prob) }));
  if (cells.some((c) => c.expected < 5)) return null;
  let statistic = 0;
  for (const c of cells) {
    const seen = probes.filter((r) => r.observed.key === c.key).length;
    statistic += (seen - c.expected) ** 2 / c.expected;
  }
  const df = cells.length - 1;
  return { statistic, df, pValue: chiSquareSurvival(statistic, df), alpha };
}

/** P(X >= x) for X ~ chi-square(df): the regularised upper incomplete gamma Q(df/2, x/2) (Numerical Recipes 6.2). */
export function chiSquareSurvival(x: number, df: number): number {
  const a = df / 2;
  const z = x / 2;
  if (z <= 0) return 1;
  const lnPre = a * Math.log(z) - z - lnGamma(a);
  if (z < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let k = 1; k < 500; k++) {
      term *= z / (a + k);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPre));
  }
  // Lentz's continued fraction for Q.
  let b = z + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(lnPre) * h;
}

function lnGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const xx = x - 1;
  let s = c[0];
  for (let i = 1; i < 9; i++) s += c[i] / (xx + i);
  const t = xx + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(s);
}

/** The flow as a golden flows.yaml entry holding the kernel's answer (kpsim's when nothing was sent). */
export function goldenFlowEntry(j: FlowJudgement): JudgeFlow & TracerAnswer {
  const answer = j.kernel ?? j.kpsim;
  const f = j.flow;
  return { name: f.name, sourceIP: f.sourceIP, protocol: f.protocol, destIP: f.destIP, destPort: f.destPort, ...(f.sourcePort ? { sourcePort: f.sourcePort } : {}), output: answer.output, masq: answer.masq };
}
