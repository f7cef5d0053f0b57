// `kpsim trace`: where does this packet go, and why. The node comes from a compiled cluster (the
// same inputs and flags as `kpsim compile`) or from a node's dumps (--rules, with --ipsets and, in
// IPVS mode, --ipvs); either way it is one node value (src/node), traced by the simulator with the
// extensions its mode's row names. The packet comes from --src/--dst or a --flows file.
import type { Command } from 'commander';
import { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import { parseIP } from '../net/index.js';
import type { ModeRow } from '../modes.js';
import { nodeFromDumps } from '../node/assemble.js';
import { isNftText } from '../nftables/detect.js';
import { simpleInterfaces, type Node, type NodeInterface } from '../node/node.js';
import { familyOfText } from '../net/index.js';
import { ANSI, formatHuman, PLAIN, traceJson } from '../packetsim/output.js';
import type { Protocol } from '../packetsim/packet.js';
import { prepareNode, type SimNode } from '../packetsim/prepare.js';
import { sampleOutcomes } from '../packetsim/sample.js';
import { traceFlows, tracePacket, TraceInputError, TooManyPaths, type FlowSpec } from '../packetsim/trace.js';
import { parseFlowsFile } from '../golden/flows-file.js';
import { action, checkOutputPath, emit, InputError, printDiagnostics, readInputs, UsageError, useColor } from './common.js';
import { addClusterFlags, chooseMode, compileLoaded, loadClusterInputs, type ClusterFlags, type LoadedCluster } from './load-cluster.js';
import { parseInterfacesFlag } from './interfaces-flag.js';

interface TraceFlags extends ClusterFlags {
  rules?: string;
  src?: string;
  dst?: string;
  via?: string;
  protocol: string;
  inIface?: string;
  mark?: string;
  flows?: string;
  json?: boolean;
  ipsets?: string;
  interfaces?: string;
  sample?: string;
  seed?: string;
  index: boolean;
  output?: string;
  ipvs?: string;
  ttl?: string;
  tos?: string;
  length?: string;
  uid?: string;
  gid?: string;
  socket?: string;
  cgroup?: string;
  classid?: string;
  now?: string;
}

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'icmp'] as const;
/** `NS/NAME[:PORT]`: a Service, not an address. */
const SERVICE_DST = /^[^/:[\]]+\/[^/]+$/;
const VIAS = ['clusterip', 'nodeport', 'loadbalancer', 'externalip'] as const;

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description('trace packets through the node\'s netfilter rules: every outcome with its exact probability')
    .argument('[inputs...]', 'cluster YAML/JSON files or directories (compiled as by kpsim compile), or - for stdin')
    .option('--rules <file>', 'trace through a node\'s iptables-save / ip6tables-save dump instead of a compiled cluster')
    .option('--ipvs <file>', 'with --rules: the node\'s `ipvsadm-save -n` output (IPVS mode)')
    .option('--ipsets <file>', 'with --rules: the node\'s `ipset save` output, for -m set')
    .option('--src <ip[:port]>', 'the packet source (a local address starts in OUTPUT)')
    .option('--dst <ip:port|ns/name[:port]>', 'the destination address, or a Service and port name/number')
    .option('--via <kind>', `with --dst NS/NAME: ${VIAS.join(', ')}`, 'clusterip')
    .option('-p, --protocol <proto>', PROTOCOLS.join(', '), 'tcp')
    .option('--in-iface <name>', 'the interface the packet arrives on (makes it a received packet)')
    .option('--mark <n>', 'the packet mark at the start')
    .option('--ttl <n>', 'the TTL / hop limit the packet arrives with (-m ttl, -m hl; default 64)')
    .option('--tos <n>', 'the TOS / traffic class byte (-m tos, -m dscp; default 0)')
    .option('--length <n>', 'the IP length in bytes (-m length, connbytes; default a TCP SYN\'s)')
    .option('--uid <n>', 'the user of the process sending the packet, for packets from this node (-m owner)')
    .option('--gid <n>', 'its group (-m owner --gid-owner)')
    .option('--socket <kind>', 'the local socket that takes the packet (-m socket): none, bound (to its address), wildcard (listening on any), transparent, transparent-wildcard')
    .option('--cgroup <path>', "the sending socket's cgroup v2 path (-m cgroup --path)")
    .option('--classid <n>', "the sending socket's net_cls class id (-m cgroup --cgroup)")
    .option('--now <time>', 'when the packet passes, as seconds since the epoch or an ISO date in UTC (-m time); a flow\'s at adds to it')
    .option('--flows <file>', "a YAML list of packets in kube-proxy's flow-test shape; state persists between them")
    .option('--json', 'one JSON object per packet')
    .option('--interfaces <spec>', 'the node\'s interfaces, `lo=127.0.0.1/8 eth0=192.168.0.2/24` (default: from the Node or --node-ip)')
    .option('--sample <n>', 'draw N concrete packets instead of listing the exact outcomes')
    .option('--seed <s>', 'random seed for --sample', '1')
    .option('--no-index', 'evaluate every chain rule by rule (same results, slower)')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  kpsim trace cluster.yaml --src 10.244.1.7 --dst shop/web:http
  kpsim trace cluster.yaml --src 203.0.113.2 --dst shop/web:http --via nodeport
  kpsim trace --rules node.rules --node-ip 192.168.0.2 --src 10.0.0.2 --dst 10.96.0.10:80`,
    );
  addClusterFlags(cmd).action(action(async (inputs: string[], flags: TraceFlags, command: Command) => runTrace(inputs, flags, command.getOptionValueSource('via') === 'cli')));
}

/** Where the node comes from: a cluster compiled per family, or a node's dumps. */
interface NodeSource {
  readonly row: ModeRow;
  /** The node's view of one family. */
  node(family: Family): Node;
  /** The cluster, for --dst NS/NAME. */
  readonly loaded: LoadedCluster | null;
}

/** --interfaces, else --node-ip, else null (the node's own). */
function interfacesOverride(flags: TraceFlags): NodeInterface[] | null {
  if (flags.interfaces) return parseInterfacesFlag(flags.interfaces);
  if (flags.nodeIp) return simpleInterfaces(flags.nodeIp.split(','));
  return null;
}

function clusterSource(inputs: string[], flags: TraceFlags): NodeSource {
  const loaded = loadClusterInputs(inputs, flags);
  const row = loaded.row;
  const override = interfacesOverride(flags);
  const nodes = new Map<Family, Node>();
  return {
    row,
    loaded,
    node(family) {
      let n = nodes.get(family);
      if (!n) {
        n = compileLoaded(loaded, flags, family).node();
        // The user's interfaces replace the compile's; what the mode adds to them (kube-ipvs0) is added again.
        if (override) n = row.completeDumpNode({ ...n, interfaces: override });
        nodes.set(family, n);
      }
      return n;
    },
  };
}

function readDump(path: string): { file: string; text: string } {
  const [f] = readInputs([path], { directories: false, what: 'the dump file' });
  return { file: f.name, text: f.text };
}

function dumpSource(flags: TraceFlags): NodeSource {
  // --mode, else IPVS when the virtual servers are given.
  const row = chooseMode(flags.mode ?? (flags.ipvs ? 'ipvs' : 'iptables'), null);
  for (const d of row.dumps) {
    if (d.required && !flags[d.flag]) throw new UsageError(`${row.name} mode with --rules needs ${d.what}: give --${d.flag} FILE`);
  }
  if (flags.ipvs && !row.dumps.some((d) => d.flag === 'ipvs')) throw new UsageError(`--ipvs is for IPVS mode, not --mode ${row.name}`);
  const rules = readDump(flags.rules!);
  if (isNftText(rules.text)) throw new UsageError(`${rules.file} is nft text: kpsim reads it (kpsim parse) but does not trace nftables rules yet`);
  const ipsets = flags.ipsets ? readDump(flags.ipsets) : null;
  const ipvs = flags.ipvs ? readDump(flags.ipvs) : null;
  const interfaces = interfacesOverride(flags) ?? simpleInterfaces([]);
  const nodes = new Map<Family, Node>();
  return {
    row,
    loaded: null,
    node(family) {
      let n = nodes.get(family);
      if (!n) {
        const sink = new DiagnosticSink();
        const read = nodeFromDumps({ iptables: [{ family, ...rules }], ipsets, ipvs, interfaces }, sink);
        const files = [rules, ...(ipsets ? [ipsets] : []), ...(ipvs ? [ipvs] : [])].map((f) => ({ name: f.file, text: f.text }));
        if (printDiagnostics(sink.items, files) || !read) {
          const n = sink.errors.length;
          throw new InputError(`${n} error${n === 1 ? '' : 's'} in ${[...new Set(sink.errors.map((e) => e.file))].join(', ')}`);
        }
        nodes.set(family, (n = row.completeDumpNode(read)));
      }
      return n;
    },
  };
}

function splitHostPort(text: string, what: string, needPort: boolean): { ip: string; port: number | null } {
  let ip = text;
  let portText: string | null = null;
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (m6) {
    ip = m6[1];
    portText = m6[2] ?? null;
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [ip, portText] = text.split(':');
  }
  const port = portText === null ? null : Number(portText);
  if (port !== null && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`${what} ${text}: bad port`);
  if (needPort && port === null) throw new UsageError(`${what} ${text}: give IP:PORT`);
  return { ip, port };
}

function parseMark(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--mark ${text}: not a 32-bit number`);
  return n;
}

/** Rules from which the compile's garbage is worth a full collection before a bulk trace. */
const LARGE_RULESET = 20_000;

/** --dst NS/NAME[:PORT] -> address and port, from the cluster's Service. */
function resolveService(source: NodeSource, flags: TraceFlags, dst: string, family: Family): { ip: string; port: number; protocol: Protocol } {
  if (!source.loaded) throw new UsageError('--dst NS/NAME needs cluster inputs, not --rules');
  const via = flags.via ?? 'clusterip';
  if (!(VIAS as readonly string[]).includes(via)) throw new UsageError(`--via must be one of ${VIAS.join(', ')}, not '${via}'`);
  const [nsName, portSel] = dst.split(':');
  const [ns, name] = nsName.split('/');
  const { cluster } = source.loaded;
  const svc = cluster.services.find((s) => s.namespace === ns && s.name === name);
  if (!svc) throw new UsageError(`no Service ${ns}/${name}`);
  const ports = portSel === undefined ? svc.ports : svc.ports.filter((p) => p.name === portSel || String(p.port) === portSel);
  if (ports.length !== 1) {
    throw new UsageError(`${ns}/${name}: ${ports.length ? 'several ports' : 'no port'}${portSel ? ` ${portSel}` : ''}; name one of ${svc.ports.map((p) => p.name || p.port).join(', ')}`);
  }
  const sp = ports[0];
  const protocol = sp.protocol.toLowerCase() as Protocol;
  switch (via) {
    case 'clusterip':
      if (!svc.clusterIP || svc.clusterIP === 'None') throw new UsageError(`${ns}/${name} has no cluster IP`);
      return { ip: svc.clusterIP, port: sp.port, protocol };
    case 'nodeport': {
      const ip = compileLoaded(source.loaded, flags, family).settings.nodeIP?.text;
      if (!sp.nodePort) throw new UsageError(`${ns}/${name} port ${sp.name || sp.port} has no nodePort`);
      if (!ip) throw new UsageError('the node has no IP; give --node-ip');
      return { ip, port: sp.nodePort, protocol };
    }
    case 'loadbalancer': {
      const ing = svc.ingress.find((i) => i.ip);
      if (!ing?.ip) throw new UsageError(`${ns}/${name} has no load-balancer IP`);
      return { ip: ing.ip.text, port: sp.port, protocol };
    }
    default: {
      const ip = svc.externalIPs[0];
      if (!ip) throw new UsageError(`${ns}/${name} has no external IP`);
      return { ip: ip.trim(), port: sp.port, protocol };
    }
  }
}

function flowsFrom(path: string): FlowSpec[] {
  const [file] = readInputs([path], { directories: false, what: 'the flows file' });
  const { flows, diagnostics } = parseFlowsFile(file.text, file.name);
  if (printDiagnostics(diagnostics, [file])) {
    const n = diagnostics.filter((d) => d.severity === 'error').length;
    throw new InputError(`${n} error${n === 1 ? '' : 's'} in ${file.name}`);
  }
  return flows.map((f) => f.spec);
}

function checkFlags(inputs: string[], flags: TraceFlags): void {
  if (!(PROTOCOLS as readonly string[]).includes(flags.protocol)) throw new UsageError(`-p must be one of ${PROTOCOLS.join(', ')}, not '${flags.protocol}'`);
  if (!flags.rules && inputs.length === 0) throw new UsageError('no rules: give cluster inputs or --rules FILE');
  if (flags.rules && inputs.length) throw new UsageError('give either cluster inputs or --rules, not both');
  if (!flags.rules && (flags.ipvs || flags.ipsets)) throw new UsageError(`--${flags.ipvs ? 'ipvs' : 'ipsets'} goes with --rules (a node's dumps); a cluster's ${flags.ipvs ? 'virtual servers' : 'sets'} come from its compile`);
  if (flags.flows && (flags.src || flags.dst)) throw new UsageError('give either --flows or --src/--dst, not both');
  if (!flags.flows && (!flags.src || !flags.dst)) throw new UsageError('give --src and --dst (or --flows FILE)');
  for (const ip of (flags.nodeIp ?? '').split(',').filter(Boolean)) if (!parseIP(ip)) throw new UsageError(`--node-ip ${flags.nodeIp}: '${ip}' is not an IPv4 or IPv6 address`);
}

/** Says what kpsim assumes where the user did not say (one line each, on stderr). */
function warnAssumptions(flags: TraceFlags, viaGiven: boolean, dstIsService: boolean): void {
  const warn = (code: string, message: string) => printDiagnostics([{ severity: 'warning', code, message, file: null, span: null }], []);
  if (flags.rules && !flags.nodeIp && !flags.interfaces) {
    warn('TRACE_NO_NODE_ADDRESS', "no node address: give --node-ip or --interfaces, or packets to the node's own addresses (NodePorts among them) are taken for forwarded ones");
  }
  if (viaGiven && flags.dst !== undefined && !dstIsService) warn('TRACE_VIA_IGNORED', `--via applies to --dst NS/NAME; --dst ${flags.dst} is an address, so --via ${flags.via} is ignored`);
  if (flags.protocol === 'icmp' && flags.dst !== undefined && !dstIsService && /(^[^:]+:\d+$)|(\]:\d+$)/.test(flags.dst)) warn('TRACE_ICMP_PORT', `ICMP has no ports: the port of --dst ${flags.dst} is ignored`);
}

async function runTrace(inputs: string[], flags: TraceFlags, viaGiven: boolean): Promise<number> {
  checkFlags(inputs, flags);
  checkOutputPath(flags.output, 'file');
  const dstIsService = flags.dst !== undefined && SERVICE_DST.test(flags.dst);
  warnAssumptions(flags, viaGiven, dstIsService);
  const sample = flags.sample === undefined ? null : Number(flags.sample);
  if (sample !== null && !(Number.isInteger(sample) && sample > 0)) throw new UsageError(`--sample ${flags.sample}: give a positive number`);
  const seed = Number(flags.seed ?? 1);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${flags.seed}: give an integer`);
  const source = flags.rules ? dumpSource(flags) : clusterSource(inputs, flags);
  let flows: FlowSpec[];
  if (flags.flows) flows = flowsFrom(flags.flows);
  else {
    const src = splitHostPort(flags.src!, '--src', false);
    let protocol = flags.protocol as Protocol;
    let dst: { ip: string; port: number | null };
    if (dstIsService) {
      const r = resolveService(source, flags, flags.dst!, familyOfText(src.ip));
      dst = { ip: r.ip, port: r.port };
      if (cmdProtocolIsDefault(flags)) protocol = r.protocol;
    } else {
      dst = splitHostPort(flags.dst!, '--dst', flags.protocol !== 'icmp');
      if (flags.protocol === 'icmp') dst = { ip: dst.ip, port: null };
    }
    flows = [{ protocol, sourceIP: src.ip, sourcePort: src.port, destIP: dst.ip, destPort: dst.port, inInterface: flags.inIface ?? null, mark: parseMark(flags.mark) }];
  }
  // What the flags say of the packet's header, socket and time, unless a flow says otherwise.
  const given = packetFacts(flags);
  flows = flows.map((f) => ({ ...given, ...Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && v !== null)) }) as FlowSpec);
  const byFamily = new Map<Family, number[]>();
  flows.forEach((f, i) => {
    const fam = familyOfText(f.sourceIP);
    if (familyOfText(f.destIP) !== fam) throw new UsageError(`${f.name ?? 'packet'}: source and destination are of different families`);
    byFamily.set(fam, [...(byFamily.get(fam) ?? []), i]);
  });
  const targets = new Map<Family, SimNode>();
  for (const fam of byFamily.keys()) {
    const node = source.node(fam);
    const { sim, problems } = prepareNode(node, fam, { index: flags.index, extensions: source.row.extensions(node, fam, { rotate: !!flags.flows }) });
    if (problems.length) throw new UsageError(problems.map((p) => p.message).join('; '));
    targets.set(fam, sim);
  }
  // The dump's text and rule IR are garbage now. In a trace of many packets, every young-generation
  // collection costs time in proportion to the old generation, dead objects included, and nothing
  // else would collect it soon: one full collection now (bin/kpsim.ts runs node with --expose-gc).
  if (flags.flows && [...targets.values()].some((t) => t.rs.ruleCount >= LARGE_RULESET)) (globalThis as { gc?: () => void }).gc?.();
  for (const t of targets.values()) {
    for (const p of t.rs.problems) process.stderr.write(`kpsim: warning: ${p.span ? `${flags.rules ?? 'rules'}:${p.span.line}:${p.span.col}: ` : ''}${p.message}\n`);
  }
  const style = flags.json ? PLAIN : useColor(process.stdout) && !flags.output ? ANSI : PLAIN;
  const chunks: string[] = new Array(flows.length);
  try {
    for (const [fam, idx] of byFamily) {
      const { rs, env } = targets.get(fam)!;
      const subset = idx.map((i) => flows[i]);
      const explain = !flags.json;
      const results = flags.flows ? traceFlows(rs, env, subset, { explain, index: flags.index }) : [{ flow: subset[0], ...oneResult(tracePacket(rs, env, subset[0], { explain, index: flags.index })) }];
      results.forEach((r, k) => {
        const name = flags.flows ? r.flow.name : undefined;
        if (sample !== null) {
          chunks[idx[k]] = sampleText(r.result, r.outcomes, sample, seed + k, !!flags.json, name);
        } else if (flags.json) {
          chunks[idx[k]] = JSON.stringify(traceJson(r.result, r.outcomes, name, r.approximate)) + '\n';
        } else {
          chunks[idx[k]] = formatHuman(r.result, r.outcomes, style, name) + (r.approximate ? 'note: too many possible states; the least likely were dropped\n' : '');
        }
      });
    }
  } catch (e) {
    if (e instanceof TraceInputError || e instanceof TooManyPaths) throw new UsageError(e.message);
    throw e;
  }
  emit(flags.output, flags.json ? chunks.join('') : chunks.join('\n'));
  return 0;
}

/** --ttl, --tos, --length, --uid, --gid, --socket, --cgroup, --classid, --now as packet facts. */
function packetFacts(flags: TraceFlags): Partial<FlowSpec> {
  const whole = (name: string, text: string | undefined, max: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`--${name} ${text}: give a whole number from 0 to ${max}`);
    return n;
  };
  let now: number | undefined;
  if (flags.now !== undefined) {
    now = /^[0-9]+(\.[0-9]+)?$/.test(flags.now) ? Number(flags.now) : Date.parse(/[zZ]|[+-][0-9]{2}:?[0-9]{2}$/.test(flags.now) ? flags.now : `${flags.now}Z`) / 1000;
    if (!Number.isFinite(now)) throw new UsageError(`--now ${flags.now}: give seconds since the epoch or a date such as 2025-06-01T12:00:00 (UTC)`);
  }
  const facts: Partial<FlowSpec> = {
    ttl: whole('ttl', flags.ttl, 255),
    tos: whole('tos', flags.tos, 255),
    length: whole('length', flags.length, 65535),
    uid: whole('uid', flags.uid, 0xffffffff),
    gid: whole('gid', flags.gid, 0xffffffff),
    classid: whole('classid', flags.classid, 0xffffffff),
    socket: flags.socket,
    cgroup: flags.cgroup,
    now,
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined));
}

function cmdProtocolIsDefault(flags: TraceFlags): boolean {
  return flags.protocol === 'tcp' && !process.argv.some((a) => a === '-p' || a.startsWith('--protocol'));
}

function oneResult(r: ReturnType<typeof tracePacket>) {
  return { result: r, outcomes: r.outcomes, approximate: false };
}

function sampleText(r: ReturnType<typeof tracePacket>, outcomes: ReturnType<typeof tracePacket>['outcomes'], n: number, seed: number, json: boolean, name?: string): string {
  const counts = sampleOutcomes(outcomes, n, seed);
  const base = traceJson(r, outcomes, name);
  if (json) {
    return JSON.stringify({ ...base, samples: n, seed, outcomes: base.outcomes.map((o, i) => ({ ...o, count: counts[i] })) }) + '\n';
  }
  const lines = [`${name ? `${name}: ` : ''}${n} packets, seed ${seed}`];
  base.outcomes.forEach((o, i) => lines.push(`  ${String(counts[i]).padStart(String(n).length)}  ${o.verdict} ${o.destIP}${o.destPort === null ? '' : ':' + o.destPort}  (p=${o.probability})`));
  return lines.join('\n') + '\n';
}
