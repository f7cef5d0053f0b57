// `kpsim trace`: where does this packet go, and why. The node comes from a compiled cluster (the
// same inputs and flags as `kpsim compile`) or from a node's dumps (--rules, with --ipsets and, in
// IPVS mode, --ipvs); either way it is one node value (src/node), traced by the simulator with the
// extensions its mode's row names. The packet comes from --src/--dst or a --flows file.
import type { Command } from 'commander';
import { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import { parseIP } from '../net/index.js';
import { MODES, type ModeRow } from '../modes.js';
import { nodeFromDumps, withDescription } from '../node/assemble.js';
import { isNftText } from '../nftables/detect.js';
import { simpleInterfaces, type Node, type NodeInterface } from '../node/node.js';
import { familyOfText } from '../net/index.js';
import { CONN_STATES, NoConnection, traceConnection, type ConnState } from '../packetsim/connection.js';
import { explainer, worldFacts, type Explainer } from '../packetsim/explain.js';
import type { PacketProtocol } from '../packetsim/packet.js';
import { prepareNode, type SimNode } from '../packetsim/prepare.js';
import { FlowCache } from '../packetsim/flow-cache.js';
import { traceFlows } from '../packetsim/flows.js';
import { TraceInputError, TooManyPaths, type FlowSpec } from '../packetsim/trace.js';
import { traceJson, type JsonOptions, type TraceJsonInput } from '../report/json.js';
import { ClassJson, fillOf } from '../report/json-class.js';
import { renderHtml } from '../report/html.js';
import { FIELD_NAMES, type ConnectionView, type TraceReport } from '../report/model.js';
import { PAGE_DATA_VERSION, reachedChains, traceData, type ListingData, type PageData } from '../report/page-data.js';
import { sampleJson, sampleText } from '../report/sample.js';
import { ANSI, PLAIN, renderText, type TextOptions } from '../report/text.js';
import { buildReport, type ReportInput } from '../report/tree.js';
import { parseFlowsFile } from '../golden/flows-file.js';
import { action, checkOutputPath, emit, openOutput, InputError, printDiagnostics, readInputs, UsageError, useColor } from './common.js';
import { addClusterFlags, chooseMode, compileLoaded, loadClusterInputs, type ClusterFlags, type LoadedCluster } from './load-cluster.js';
import { parseInterfacesFlag } from './interfaces-flag.js';
import { checkNodeDir, descriptionFiles, NODE_DIR_FILES, nodeDirFile, readDescription, readDump } from './node-files.js';
import { resolveServiceDestination, VIAS, type Via } from '../explain/service-destination.js';
import { collect, namesFromObjects } from './node-input.js';

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
  objects?: string[];
  ttl?: string;
  tos?: string;
  length?: string;
  uid?: string;
  gid?: string;
  socket?: string;
  cgroup?: string;
  classid?: string;
  now?: string;
  verbose?: boolean;
  exact?: boolean;
  state?: string;
  reply?: boolean;
  paths: boolean;
  html?: string;
  nodeDir?: string;
  ipAddr?: string;
  ipRoute?: string[];
  sysctls?: string;
  bridgeLinks?: string;
  outPort?: string;
}

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'icmp'] as const;
/** `NS/NAME[:PORT]`: a Service, not an address. */
const SERVICE_DST = /^[^/:[\]]+\/[^/]+$/;

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description('trace packets through the node\'s netfilter rules: every outcome with its exact probability')
    .argument('[inputs...]', 'cluster YAML/JSON files or directories (compiled as by kpsim compile), or - for stdin')
    .option('--rules <file>', 'trace through a node\'s dump instead of a compiled cluster: iptables-save / ip6tables-save, or `nft list ruleset` (told apart by content)')
    .option('--ipvs <file>', 'with --rules: the node\'s `ipvsadm-save -n` output (IPVS mode)')
    .option('--ipsets <file>', 'with --rules: the node\'s `ipset save` output, for -m set')
    .option('--objects <path>', "with --rules and --dst NS/NAME: names for a dump without kube-proxy's comments, by recomputing its hashes from these objects (repeatable)", collect)
    .option('--src <ip[:port]>', 'the packet source (a local address starts in OUTPUT)')
    .option('--dst <ip:port|ns/name[:port]>', 'the destination address, or a Service and port name/number')
    .option('--via <kind>', `with --dst NS/NAME: ${VIAS.join(', ')}`, 'clusterip')
    .option('-p, --protocol <proto>', PROTOCOLS.join(', '), 'tcp')
    .option('--in-iface <name>', 'the interface the packet arrives on (makes it a received packet); a bridge port: it enters the bridge')
    .option('--out-port <name>', 'for a packet a bridge forwards: the bridge port leading to the destination')
    .option('--node-dir <dir>', 'a folder of the node\'s files under their usual names (iptables.save, ip6tables.save, ipset.save, ipvsadm.save, ip-addr.json, ip-route.json, ip6-route.json, bridge-link.json, sysctl.txt: see the README)')
    .option('--ip-addr <file>', 'the node\'s `ip -j addr` output: its interfaces and addresses')
    .option('--ip-route <file>', 'the node\'s `ip -j route` / `ip -6 -j route` output (repeatable; `show table all` too)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--sysctls <file>', 'the node\'s `sysctl -a` output (rp_filter, route_localnet, forwarding, br_netfilter)')
    .option('--bridge-links <file>', 'the node\'s `bridge -j link` output: bridges and their ports')
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
    .option('--json', 'one JSON object per packet (schema/trace.schema.json)')
    .option('--verbose', 'every rule tried, and why each that did not match failed')
    .option('--exact', 'whole fractions instead of their short forms')
    .option('--state <state>', `the packet's conntrack state: ${CONN_STATES.join(', ')} (an established packet's connection is made by its first packet)`)
    .option('--reply', "trace the reply of the packet's connection, back through reverse NAT")
    .option('--no-paths', 'outcomes only, without the rules on the way (bulk checks)')
    .option('--interfaces <spec>', 'the node\'s interfaces, `lo=127.0.0.1/8 eth0=192.168.0.2/24` (default: from the Node or --node-ip)')
    .option('--sample <n>', 'draw N concrete packets instead of listing the exact outcomes')
    .option('--seed <s>', 'random seed for --sample', '1')
    .option('--no-index', 'evaluate every chain rule by rule (same results, slower)')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .option('--html <file>', 'also write the trace as one self-contained interactive page (open it in a browser)')
    .addHelpText(
      'after',
      `
nftables base chains of every table run at their hook in priority order among the iptables
tables (nat chains from the NAT core); numgen splits are exact: outcome i of N has
(ceil((i+1)*2^32/N) - ceil(i*2^32/N)) / 2^32.

Examples:
  kpsim trace cluster.yaml --src 10.244.1.7 --dst shop/web:http
  kpsim trace cluster.yaml --src 203.0.113.2 --dst shop/web:http --via nodeport
  kpsim trace --rules node.rules --node-ip 192.168.0.2 --src 10.0.0.2 --dst 10.96.0.10:80
  kpsim trace --rules node.rules --src 10.244.1.7 --dst shop/web:http
  kpsim trace cluster.yaml --flows flows.yaml --html report.html
  kpsim trace --node-dir node/ --src 10.244.1.7 --dst 10.96.0.10:80 --in-iface veth1a2b
  kpsim trace --mode nftables cluster.yaml --src 203.0.113.2 --dst shop/web:http --via nodeport
  kpsim trace --rules node.nft --node-ip 192.168.0.2 --src 10.0.0.2 --dst 172.30.0.41:80`,
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
  const description = readDescription(flags);
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
        if (description) {
          const sink = new DiagnosticSink();
          const described = withDescription(n, description, sink);
          reportNodeProblems(sink, descriptionFiles(description), described !== null);
          n = row.completeDumpNode(described!);
        }
        nodes.set(family, n);
      }
      return n;
    },
  };
}

/** Prints the problems of the node's files; an error (or a node that could not be built) is bad input. */
function reportNodeProblems(sink: DiagnosticSink, files: readonly { name: string; text: string }[], built: boolean): void {
  if (printDiagnostics(sink.items, files) || !built) {
    const n = sink.errors.length;
    throw new InputError(`${n} error${n === 1 ? '' : 's'} in ${[...new Set(sink.errors.map((e) => e.file))].join(', ')}`);
  }
}

function dumpSource(flags: TraceFlags): NodeSource {
  // --rules for whichever family is traced; from --node-dir, iptables.save and ip6tables.save.
  const rulesPathFor = (family: Family) => flags.rules ?? nodeDirFile(flags, family === 'ipv4' ? 'rules4' : 'rules6');
  const firstPath = flags.rules ?? nodeDirFile(flags, 'rules4') ?? nodeDirFile(flags, 'rules6');
  const first = firstPath ? readDump(firstPath) : null;
  // nft text (`nft list ruleset`, or what kube-proxy hands `nft -f`) is told apart by its content.
  const nft = !!first && isNftText(first.text);
  // --mode, else IPVS when the virtual servers are given, else the first mode whose dumps are written so.
  const hasIpvs = !!(flags.ipvs ?? nodeDirFile(flags, 'ipvs'));
  const format = nft ? 'nft' : 'iptables-save';
  const row = chooseMode(flags.mode ?? (hasIpvs ? 'ipvs' : MODES.find((m) => m.rulesFormat === format)!.name), null);
  for (const d of row.dumps) {
    if (d.required && !flags[d.flag] && !nodeDirFile(flags, d.flag)) throw new UsageError(`${row.name} mode with --rules needs ${d.what}: give --${d.flag} FILE`);
  }
  if (flags.ipvs && !row.dumps.some((d) => d.flag === 'ipvs')) throw new UsageError(`--ipvs is for IPVS mode, not --mode ${row.name}`);
  const rulesFor = (family: Family) => {
    const path = rulesPathFor(family);
    if (!path) throw new UsageError(`--node-dir ${flags.nodeDir} has no ${family === 'ipv4' ? NODE_DIR_FILES.rules4 : NODE_DIR_FILES.rules6}: give --rules FILE`);
    return path === firstPath && first ? first : readDump(path);
  };
  const ipsetsPath = flags.ipsets ?? nodeDirFile(flags, 'ipsets');
  const ipvsPath = flags.ipvs ?? nodeDirFile(flags, 'ipvs');
  const ipsets = ipsetsPath ? readDump(ipsetsPath) : null;
  const ipvs = ipvsPath ? readDump(ipvsPath) : null;
  const interfaces = interfacesOverride(flags) ?? simpleInterfaces([]);
  const description = readDescription(flags);
  const nodes = new Map<Family, Node>();
  return {
    row,
    loaded: null,
    node(family) {
      let n = nodes.get(family);
      if (!n) {
        const rules = rulesFor(family);
        const sink = new DiagnosticSink();
        const read = nodeFromDumps({ iptables: nft ? [] : [{ family, ...rules }], nft: nft ? rules : null, ipsets, ipvs, interfaces, description: description ?? undefined }, sink);
        const files = [rules, ...(ipsets ? [ipsets] : []), ...(ipvs ? [ipvs] : [])].map((f) => ({ name: f.file, text: f.text }));
        reportNodeProblems(sink, [...files, ...descriptionFiles(description)], read !== null);
        nodes.set(family, (n = row.completeDumpNode(read!)));
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

/** The node's first address of the family that is not loopback (where a NodePort is reached). */
function nodeAddress(node: Node, family: Family): string | null {
  for (const i of node.interfaces) {
    for (const a of i.addresses) {
      const ip = a.split('/')[0];
      const parsed = parseIP(ip);
      if (parsed && parsed.family === family && i.name !== 'lo' && i.name !== 'kube-ipvs0' && !ip.startsWith('127.') && ip !== '::1') return ip;
    }
  }
  return null;
}

/** --dst NS/NAME[:PORT] on a node's dumps: the service port as the node shows it (explain's view). */
function resolveFromNode(source: NodeSource, flags: TraceFlags, dst: string, family: Family, via: Via): { ip: string; port: number; protocol: PacketProtocol } {
  const node = source.node(family);
  const view = source.row.services(node, family, namesFromObjects(flags, source.row, family));
  const r = resolveServiceDestination(view, dst, via);
  if (!r.ok) throw new UsageError(r.why);
  const ip = r.address ?? nodeAddress(node, family);
  if (!ip) throw new UsageError(`${r.port.name}: a NodePort is reached at the node's address; give --node-ip`);
  return { ip, port: r.portNumber, protocol: r.protocol.toLowerCase() as PacketProtocol };
}

/** --dst NS/NAME[:PORT] -> address and port, from the cluster's Service or the node's dumps. */
function resolveService(source: NodeSource, flags: TraceFlags, dst: string, family: Family): { ip: string; port: number; protocol: PacketProtocol } {
  const via = flags.via ?? 'clusterip';
  if (!(VIAS as readonly string[]).includes(via)) throw new UsageError(`--via must be one of ${VIAS.join(', ')}, not '${via}'`);
  if (!source.loaded) return resolveFromNode(source, flags, dst, family, via as Via);
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
  const protocol = sp.protocol.toLowerCase() as PacketProtocol;
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

/** The node's rules come from its dumps (--rules, or the folder's), not from a compile. */
const fromDumps = (inputs: string[], flags: TraceFlags) => !!flags.rules || (inputs.length === 0 && !!flags.nodeDir);

function checkFlags(inputs: string[], flags: TraceFlags): void {
  if (!(PROTOCOLS as readonly string[]).includes(flags.protocol)) throw new UsageError(`-p must be one of ${PROTOCOLS.join(', ')}, not '${flags.protocol}'`);
  checkNodeDir(flags);
  if (!fromDumps(inputs, flags) && inputs.length === 0) throw new UsageError('no rules: give cluster inputs, --rules FILE or --node-dir DIR');
  if (flags.rules && inputs.length) throw new UsageError('give either cluster inputs or --rules, not both');
  if (!flags.rules && flags.objects) throw new UsageError('--objects goes with --rules (names for a dump without comments); cluster inputs name their Services themselves');
  if (flags.ipAddr && flags.interfaces) throw new UsageError('give either --ip-addr or --interfaces, not both');
  if (flags.ipAddr && flags.nodeIp && fromDumps(inputs, flags)) throw new UsageError('give either --ip-addr or --node-ip, not both: the addresses come from the file');
  if (!fromDumps(inputs, flags) && (flags.ipvs || flags.ipsets)) throw new UsageError(`--${flags.ipvs ? 'ipvs' : 'ipsets'} goes with --rules (a node's dumps); a cluster's ${flags.ipvs ? 'virtual servers' : 'sets'} come from its compile`);
  if (flags.flows && (flags.src || flags.dst)) throw new UsageError('give either --flows or --src/--dst, not both');
  if (flags.state !== undefined && !(CONN_STATES as readonly string[]).includes(flags.state)) throw new UsageError(`--state must be one of ${CONN_STATES.join(', ')}, not '${flags.state}'`);
  if (flags.flows && (flags.state !== undefined || flags.reply)) throw new UsageError(`--${flags.reply ? 'reply' : 'state'} is for one packet (--src/--dst); in --flows, later packets of a connection meet the state earlier ones left`);
  if (flags.reply && (flags.state === 'related' || flags.state === 'invalid')) throw new UsageError(`--reply traces the reply of a new or established connection, not of a ${flags.state} one`);
  if (flags.verbose && !flags.paths) throw new UsageError('--verbose shows every rule of the paths, --no-paths none: give one of them');
  if (flags.html !== undefined && !flags.paths) throw new UsageError('--html draws the paths, --no-paths has none: give one of them');
  if (flags.html !== undefined && flags.sample !== undefined) throw new UsageError('--html draws the exact outcomes; --sample draws packets: give one of them');
  if (!flags.flows && (!flags.src || !flags.dst)) throw new UsageError('give --src and --dst (or --flows FILE)');
  for (const ip of (flags.nodeIp ?? '').split(',').filter(Boolean)) if (!parseIP(ip)) throw new UsageError(`--node-ip ${flags.nodeIp}: '${ip}' is not an IPv4 or IPv6 address`);
}

/** Says what kpsim assumes where the user did not say (one line each, on stderr). */
function warnAssumptions(flags: TraceFlags, viaGiven: boolean, dstIsService: boolean): void {
  const warn = (code: string, message: string) => printDiagnostics([{ severity: 'warning', code, message, file: null, span: null }], []);
  const dumps = !!flags.rules || !!flags.nodeDir;
  const ipAddr = flags.ipAddr ?? nodeDirFile(flags, 'ipAddr');
  if (dumps && !flags.nodeIp && !flags.interfaces && !ipAddr) {
    warn('TRACE_NO_NODE_ADDRESS', "no node address: give --ip-addr, --node-ip or --interfaces, or packets to the node's own addresses (NodePorts among them) are taken for forwarded ones");
  }
  if (dumps && ipAddr && !flags.sysctls && !nodeDirFile(flags, 'sysctls')) {
    warn('TRACE_NO_SYSCTLS', 'no sysctls (--sysctls FILE from `sysctl -a`): assumed rp_filter=0, route_localnet=0, accept_local=0, forwarding on, br_netfilter on');
  }
  if (viaGiven && flags.dst !== undefined && !dstIsService) warn('TRACE_VIA_IGNORED', `--via applies to --dst NS/NAME; --dst ${flags.dst} is an address, so --via ${flags.via} is ignored`);
  if (flags.protocol === 'icmp' && flags.dst !== undefined && !dstIsService && /(^[^:]+:\d+$)|(\]:\d+$)/.test(flags.dst)) warn('TRACE_ICMP_PORT', `ICMP has no ports: the port of --dst ${flags.dst} is ignored`);
}

async function runTrace(inputs: string[], flags: TraceFlags, viaGiven: boolean): Promise<number> {
  checkFlags(inputs, flags);
  checkOutputPath(flags.output, 'file');
  checkOutputPath(flags.html, 'file', '--html');
  const dstIsService = flags.dst !== undefined && SERVICE_DST.test(flags.dst);
  warnAssumptions(flags, viaGiven, dstIsService);
  const sample = flags.sample === undefined ? null : Number(flags.sample);
  if (sample !== null && !(Number.isInteger(sample) && sample > 0)) throw new UsageError(`--sample ${flags.sample}: give a positive number`);
  const seed = Number(flags.seed ?? 1);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${flags.seed}: give an integer`);
  const source = fromDumps(inputs, flags) ? dumpSource(flags) : clusterSource(inputs, flags);
  let flows: FlowSpec[];
  if (flags.flows) flows = flowsFrom(flags.flows);
  else {
    const src = splitHostPort(flags.src!, '--src', false);
    let protocol = flags.protocol as PacketProtocol;
    let dst: { ip: string; port: number | null };
    if (dstIsService) {
      const r = resolveService(source, flags, flags.dst!, familyOfText(src.ip));
      dst = { ip: r.ip, port: r.port };
      if (cmdProtocolIsDefault(flags)) protocol = r.protocol;
    } else {
      dst = splitHostPort(flags.dst!, '--dst', flags.protocol !== 'icmp');
      if (flags.protocol === 'icmp') dst = { ip: dst.ip, port: null };
    }
    flows = [{ protocol, sourceIP: src.ip, sourcePort: src.port, destIP: dst.ip, destPort: dst.port, inInterface: flags.inIface ?? null, outPort: flags.outPort ?? null, mark: parseMark(flags.mark) }];
  }
  // What the flags say of the packet's header, socket and time, unless a flow says otherwise.
  const given = packetFacts(flags);
  flows = flows.map((f) => ({ ...given, ...Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && v !== null)) }) as FlowSpec);
  const byFamily = new Map<Family, number[]>();
  flows.forEach((f, i) => {
    const fam = familyOfText(f.sourceIP);
    if (familyOfText(f.destIP) !== fam) throw new UsageError(`${f.name ?? 'packet'}: source and destination are of different families`);
    const list = byFamily.get(fam);
    if (list) list.push(i);
    else byFamily.set(fam, [i]);
  });
  const targets = new Map<Family, { sim: SimNode; node: Node }>();
  for (const fam of byFamily.keys()) {
    const node = source.node(fam);
    const { sim, problems } = prepareNode(node, fam, { index: flags.index, extensions: source.row.extensions(node, fam, { rotate: !!flags.flows }) });
    if (problems.length) throw new UsageError(problems.map((p) => p.message).join('; '));
    targets.set(fam, { sim, node });
  }
  // The dump's text and rule IR are garbage now. In a trace of many packets, every young-generation
  // collection costs time in proportion to the old generation, dead objects included, and nothing
  // else would collect it soon: one full collection now (bin/kpsim.ts runs node with --expose-gc).
  if (flags.flows && [...targets.values()].some((t) => t.sim.rs.ruleCount >= LARGE_RULESET)) (globalThis as { gc?: () => void }).gc?.();
  const reports: TraceReport[] = new Array(flows.length);
  const listings: ListingData[] = [];
  // Each packet's text, in the order of the flows: with one family and no page, written as it is
  // made (a bulk run's output is hundreds of MB), else kept and put in order at the end.
  const separator = flags.json ? '' : '\n';
  const stream = flags.flows && byFamily.size === 1 && flags.html === undefined ? openOutput(flags.output) : null;
  const chunks: string[] = stream ? [] : new Array(flows.length);
  let written = 0;
  const put = (at: number, text: string) => {
    if (stream === null) chunks[at] = text;
    else {
      if (written++ > 0 && separator) stream.write(separator);
      stream.write(text);
    }
  };
  try {
    for (const [fam, idx] of byFamily) {
      const { sim, node } = targets.get(fam)!;
      const ex = explainer(node, fam);
      const out = output(flags, ex, fam, sample, seed, (k, r) => (reports[idx[k]] = r));
      const { rs, env } = sim;
      const subset = idx.map((i) => flows[i]);
      // Text and the page read each step's packet and why (explain mode); JSON only with --verbose.
      const explain = flags.paths && (flags.verbose || (!flags.json && sample === null) || flags.html !== undefined);
      const options = { explain, index: flags.index, paths: flags.paths };
      if (flags.flows) {
        // JSON of a packet the flow cache answered: its class's text with its own name and source.
        const classes = flags.json && sample === null && flags.html === undefined ? new ClassJson() : null;
        const cache = new FlowCache(env);
        traceFlows(rs, env, subset, options, (r, k) => {
          const full = () => out({ result: r.result, outcomes: r.outcomes, name: r.flow.name, approximate: r.approximate }, k, { input: r.result, traces: r.traces, outcomes: r.outcomes });
          put(idx[k], classes === null ? full() : classes.text(r.cls ?? null, fillOf(r.flow.name, r.result.input), full));
        }, cache);
        // For measurements (not a user-facing output): how many packets the flow cache answered.
        if (process.env.KPSIM_DEBUG_FLOW_CACHE) process.stderr.write(`kpsim: flow cache (${fam}): ${cache.hits} of ${subset.length} packets answered, ${cache.remembered} traces remembered\n`);
      } else {
        const how = { state: (flags.state ?? 'new') as ConnState, reply: !!flags.reply };
        const ct = traceConnection(rs, env, subset[0], how, options);
        const connection: ConnectionView = { ...how, accepted: ct.accepted };
        const input = ct.first ?? ct.traces[0].result;
        const replies = how.reply ? ct.traces.map((t) => t.result) : undefined;
        put(idx[0], out({ result: input, outcomes: ct.outcomes, connection, replies }, 0, { input, traces: ct.traces, outcomes: ct.outcomes, connection }));
      }
      if (flags.html !== undefined) listings.push(...reachedChains(idx.map((i) => reports[i]), rs, ex));
    }
  } catch (e) {
    stream?.abort();
    if (e instanceof TraceInputError || e instanceof TooManyPaths) throw new UsageError(e.message);
    if (e instanceof NoConnection) throw new InputError(e.message);
    throw e;
  }
  // What the simulator could not model in the rules the packets reached (chains are compiled when
  // a packet first reaches them: a rule no packet met changes no result).
  for (const { sim } of targets.values()) {
    for (const p of sim.rs.problems) process.stderr.write(`kpsim: warning: ${p.span ? `${flags.rules ?? 'rules'}:${p.span.line}:${p.span.col}: ` : ''}${p.message}\n`);
  }
  if (flags.html !== undefined) {
    const page: PageData = {
      version: PAGE_DATA_VERSION,
      command: ['kpsim', ...process.argv.slice(2)].join(' '),
      mode: source.row.name,
      traces: reports.map((r, i) => traceData(r, `trace-${i + 1}`)),
      listings,
      fieldNames: FIELD_NAMES,
    };
    const texts = reports.map((r) => renderText(r, { style: PLAIN, exact: false, paths: true }));
    emit(flags.html, renderHtml(page, texts));
    // `--html -`: the page is standard output; the trace itself goes only to -o FILE.
    if (flags.html === '-' && (flags.output === undefined || flags.output === '-')) return 0;
  }
  if (stream) stream.close();
  else emit(flags.output, chunks.join(separator));
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

/**
 * How one traced packet is printed: JSON, samples, the outcome table alone (--no-paths) or the
 * whole report. With --html the report is built once, every rule tried (the page folds the ones
 * that did not match), and handed to `keep`; the text shows what --verbose asks.
 */
function output(flags: TraceFlags, ex: Explainer, family: Family, sample: number | null, seed: number, keep: (k: number, r: TraceReport) => void) {
  const json: JsonOptions = { paths: flags.paths, verbose: !!flags.verbose };
  const text: TextOptions = { style: flags.json ? PLAIN : useColor(process.stdout) && !flags.output ? ANSI : PLAIN, exact: !!flags.exact, paths: flags.paths };
  const html = flags.html !== undefined;
  return (t: TraceJsonInput, k: number, report: Omit<ReportInput, 'verbose'>): string => {
    if (sample !== null) return flags.json ? JSON.stringify(sampleJson(t, sample, seed + k, ex, json)) + '\n' : sampleText(t, sample, seed + k, ex);
    const built = html || !flags.json ? buildReport({ ...report, name: t.name ?? null, approximate: t.approximate, verbose: html || !!flags.verbose }, ex, (w) => worldFacts(w, family)) : null;
    if (built && html) keep(k, built);
    if (flags.json) return JSON.stringify(traceJson(t, ex, json)) + '\n';
    return renderText({ ...built!, verbose: !!flags.verbose }, text);
  };
}

function cmdProtocolIsDefault(flags: TraceFlags): boolean {
  return flags.protocol === 'tcp' && !process.argv.some((a) => a === '-p' || a.startsWith('--protocol'));
}
