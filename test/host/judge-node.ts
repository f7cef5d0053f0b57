// The kernel's side of the judge: a service node made ready for probes (quiet sysctls, the rules
// loaded, responders on every port a packet may reach), the node as kpsim's environment, probes
// sent from the side that holds their source, and what came of each read back from the node's
// conntrack table and the client.
import { fileURLToPath } from 'node:url';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { formatHostPort, parseAddress } from '../../src/net/index.js';
import { buildEnv, type NodeEnv, type NodeSpec } from '../../src/packetsim/env.js';
import { createNfacct, nfacctNamesIn, restoreIpsets, restoreRules, type IptablesTool } from './iptables.js';
import { accepted, HEADER_FACTS, normalIp, type JudgeFlow, type JudgeRules, type Observed, type ProbeRecord } from './judgement.js';
import type { Namespace } from './netns.js';
import { startResponder, type ProbeProtocol } from './probe.js';
import { SCTP_CLIENT } from './sctp-probe.js';
import { CLIENT_IFNAME, DEFAULT_PODS_IFNAME, type ServiceNode, type ServiceNodeSide, type ServiceNodeSpec } from './service-node.js';

/**
 * A service node made ready for probes: ICMP unthrottled, the rules loaded and, when the kernel
 * took them, responders started and same-side flows routed via the node. `refused` is what the
 * kernel said when it did not take the rules; `env` is the node as kpsim's environment.
 */
export async function prepareNode(
  n: ServiceNode,
  rules: JudgeRules,
  flows: readonly JudgeFlow[],
  topology: ServiceNodeSpec,
  phase: (name: string) => void = () => {},
): Promise<{ env: NodeEnv; refused: string | null }> {
  await quietNode(n.node, topology.podsIfname ?? DEFAULT_PODS_IFNAME);
  const env = buildEnv(await nodeSpecOf(n.node), rules.family);
  const refused = await loadNode(n.node, rules);
  phase('load');
  if (refused) return { env, refused };
  await startResponders(n, rules, flows, topology);
  await sameSideViaNode(n, flows, topology);
  phase('responders');
  return { env, refused: null };
}

/**
 * The node namespace as the simulator's node, read as a user's node is: its `ip -j addr`,
 * `ip -j route show table all` of both families and `sysctl -a`, through kpsim's own readers.
 */
async function nodeSpecOf(node: Namespace): Promise<NodeSpec> {
  const text = async (file: string, cmd: string, args: string[]) => ({ file, text: await node.exec(cmd, args) });
  const description = {
    ipAddr: await text('ip-addr.json', 'ip', ['-j', 'addr', 'show']),
    ipRoutes: [await text('ip-route.json', 'ip', ['-4', '-j', 'route', 'show', 'table', 'all']), await text('ip6-route.json', 'ip', ['-6', '-j', 'route', 'show', 'table', 'all'])],
    // sysctl -a exits non-zero when some key cannot be read; what it printed is the node's.
    sysctls: { file: 'sysctl.txt', text: (await node.run('sysctl', ['-a'])).stdout },
  };
  const sink = new DiagnosticSink();
  const n = nodeFromDumps({ iptables: [], interfaces: [], description }, sink);
  if (!n || sink.hasErrors) throw new Error(`kpsim cannot read the node namespace's own files: ${sink.errors.map((e) => `${e.file}:${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
  return n;
}

export function defaultTopology(rules: JudgeRules, flows: readonly JudgeFlow[]): ServiceNodeSpec {
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

/**
 * Every `-p PROTO ... -j DNAT --to-destination ADDR:PORT[-PORT]` (IPv6 as `[ADDR]:PORT`) in a
 * restore text, and every `meta l4proto PROTO dnat to ADDR:PORT` in nft text (kube-proxy's
 * endpoint chains); a port range of at most 16 ports gives each of them.
 */
function dnatTargets(text: string): { addr: string; port: number; protocol: string; ranged: boolean }[] {
  const out: { addr: string; port: number; protocol: string; ranged: boolean }[] = [];
  for (const m of text.matchAll(/^.*(?:--to-destination|dnat (?:ip6? )?to) (?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d+)(?:-(\d+))?.*$/gm)) {
    const from = Number(m[3]);
    const to = m[4] === undefined || Number(m[4]) - from >= 16 ? from : Number(m[4]);
    for (let port = from; port <= to; port++) out.push({ addr: m[1] ?? m[2], port, protocol: /(?:-p|meta l4proto) (\w+)/.exec(m[0])?.[1] ?? '', ranged: m[4] !== undefined });
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
  if (rules.format === 'nft') {
    for (const t of rules.texts) {
      const r = await node.run('nft', ['-f', '-'], { stdin: t.text });
      if (r.code !== 0) return `nft -f refuses the ${t.label}: ${r.stderr.trim()}`;
    }
    return null;
  }
  const tool: IptablesTool = rules.family === 'ipv6' ? 'ip6tables' : 'iptables';
  // Sets must exist before the rules that name them.
  if (rules.ipsets) await restoreIpsets(node, rules.ipsets);
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
  const targets = rules.texts.flatMap((t) => dnatTargets(t.text));
  for (const d of targets) addTarget(sideOf(d.addr, topology), d.protocol, d.port);
  for (const f of flows) {
    addTarget(isLoopback(f.destIP) ? 'node' : sideOf(f.destIP, topology), f.protocol.toLowerCase(), f.destPort);
    // A DNAT to a port range may keep the flow's port (get_unique_tuple): the endpoint listens there too.
    if (targets.some((t) => t.ranged && sideOf(t.addr, topology) === 'pods')) addTarget('pods', f.protocol.toLowerCase(), f.destPort);
  }
  const remote = new Set(topology.remoteServers ?? []);
  const serveRemote = flows.some((f) => remote.has(f.destIP));
  for (const w of want.values()) if (w.side !== 'client' || serveRemote) await startResponder(n.ns(w.side), w.protocol, w.port, w.side);
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

/**
 * The TCP/UDP client: a batch of probes from one process, all at once or the first alone, not
 * before a start time; prints what came of each (see the file).
 */
const CLIENT = fileURLToPath(new URL('./flow-client.cjs', import.meta.url));

/** The same for flows whose headers or owner are given (TTL, TOS, length, user): see the file. */
const FACTS_CLIENT = fileURLToPath(new URL('./flow-client.py', import.meta.url));

interface ClientResult {
  readonly port: number;
  readonly sentAt: number;
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

/** Probes of one flow: from these source ports, by this protocol. */
export interface ProbeBatch {
  readonly flow: JudgeFlow;
  readonly protocol: ProbeProtocol | 'sctp';
  readonly ports: readonly number[];
}

/** Sends the probes (not before `startAt`, epoch ms) and reads what came of each. */
export async function sendFlow(n: ServiceNode, p: ProbeBatch, together: boolean, env: NodeEnv, probeTimeoutMs: number, startAt = 0): Promise<ProbeRecord[]> {
  const family = env.family;
  const f = p.flow;
  const timeoutMs = p.protocol === 'tcp' ? Math.max(probeTimeoutMs, TCP_PROBE_MIN_MS) : probeTimeoutMs;
  // Node-originated flows (a node address or loopback as source) leave from the node itself.
  const side = isLoopback(f.sourceIP) ? 'node' : n.sideOf(f.sourceIP);
  const probeArgs = [f.destIP, String(f.destPort), p.ports.join(','), String(timeoutMs), f.sourceIP, together ? '1' : '0', String(startAt)];
  // The wait, two rounds of timeouts, plus start-up.
  const bound = { timeoutMs: Math.max(0, startAt - Date.now()) + 2 * timeoutMs + 15_000 };
  const facts = Object.fromEntries(HEADER_FACTS.filter((k) => f[k] !== undefined).map((k) => [k, f[k]]));
  const stdout =
    p.protocol === 'sctp'
      ? await n.ns(side).exec('python3', [SCTP_CLIENT, ...probeArgs], bound)
      : Object.keys(facts).length
        ? await n.ns(side).exec('python3', [FACTS_CLIENT, p.protocol, ...probeArgs, JSON.stringify(facts)], bound)
        : await n.ns(side).exec(process.execPath, [CLIENT, p.protocol, ...probeArgs], bound);
  const results = JSON.parse(stdout) as ClientResult[];
  const entries = await conntrackOf(n.node, family);
  const src = normalIp(f.sourceIP, family);
  const dst = formatHostPort(parseAddress(f.destIP, family, true)!, f.destPort, family);
  return results.map((r) => {
    const e = entries.find((x) => x.proto === p.protocol && x.orig.src === src && x.orig.sport === r.port && x.orig.dst === dst);
    const client = r.reply ?? r.error ?? '';
    // The node's own packets are confirmed in POSTROUTING, before they loop back through INPUT:
    // for a node-local destination the entry proves nothing, the client's answer decides (a
    // responder listens on every such port, so a refusal is a REJECT).
    const loopedBack = e !== undefined && side === 'node' && env.isLocal(parseAddress(e.reply.srcIp, family, true)!);
    if (e && !(loopedBack && r.reply === undefined)) return { sourcePort: r.port, sentAt: r.sentAt, observed: accepted(e.reply.src, e.reply.dstIp, e.reply.src !== dst, e.reply.dstIp !== src), client, conntrack: e.line };
    const verdict = r.error === 'ECONNREFUSED' ? 'REJECT' : r.error === 'TIMEOUT' || r.error === 'EPERM' ? 'DROP' : null;
    const observed: Observed = verdict
      ? { key: verdict, verdict, dest: null, source: null, dnat: false, masquerade: false }
      : { key: `ERROR ${r.error ?? `reply without a conntrack entry: ${r.reply}`}`, verdict: 'ERROR', dest: null, source: null, dnat: false, masquerade: false };
    return { sourcePort: r.port, sentAt: r.sentAt, observed, client, conntrack: e?.line ?? null };
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
      orig: { src: ip(src[0]), sport: Number(sport[0]), dst: formatHostPort(parseAddress(dst[0], family, true)!, Number(dport[0]), family) },
      reply: { src: formatHostPort(parseAddress(src[1], family, true)!, Number(sport[1]), family), srcIp: ip(src[1]), dstIp: ip(dst[1]) },
    });
  }
  return entries;
}
