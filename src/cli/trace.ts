// `kpsim trace`: where does this packet go, and why. The rules come from a compiled cluster (the
// same inputs and flags as `kpsim compile`) or from any iptables-save dump (--rules); the packet
// from --src/--dst or a --flows file. Only this file touches the file system for the simulator.
import type { Command } from 'commander';
import type { Family, Ruleset } from '../iptables/ir.js';
import { familyOfText } from '../net/index.js';
import { compileRuleset } from '../packetsim/compile.js';
import { buildEnv, parseInterfacesText, simpleNode, type NodeEnv, type NodeSpec } from '../packetsim/env.js';
import type { IpsetDump } from '../ipset/ir.js';
import { parseIpsetSave } from '../ipset/parse.js';
import { ipsetDb, type IpsetDb } from '../packetsim/ipset.js';
import { ANSI, formatHuman, PLAIN, traceJson } from '../packetsim/output.js';
import type { Protocol } from '../packetsim/packet.js';
import { sampleOutcomes } from '../packetsim/sample.js';
import { traceFlows, tracePacket, TraceInputError, TooManyPaths, type FlowSpec } from '../packetsim/trace.js';
import type { CompiledRuleset } from '../packetsim/types.js';
import { parseFlowsFile } from '../golden/flows-file.js';
import { nodeSpec } from '../pipeline/node-spec.js';
import { action, emit, InputError, printDiagnostics, readInputs, UsageError, useColor, type InputFile } from './common.js';
import { chooseMode } from './compile.js';
import { addClusterFlags, loadAndCompileFiles, type ClusterFlags } from './load-cluster.js';
import { ipvsClusterTarget, ipvsCompiledFor, ipvsDumpTarget } from './trace-ipvs.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import { loadCluster } from '../model/load.js';

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
  mode?: string;
  ipvs?: string;
}

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'icmp'] as const;
const VIAS = ['clusterip', 'nodeport', 'loadbalancer', 'externalip'] as const;

export function registerTrace(program: Command): void {
  const cmd = program
    .command('trace')
    .description('trace packets through the node\'s netfilter rules: every outcome with its exact probability')
    .argument('[inputs...]', 'cluster YAML/JSON files or directories (compiled as by kpsim compile), or - for stdin')
    .option('--rules <file>', 'trace through an iptables-save / ip6tables-save dump instead of a compiled cluster')
    .option('--mode <mode>', "iptables or ipvs (default: the configuration's mode; with --rules, ipvs when --ipvs is given)")
    .option('--ipvs <file>', 'with --rules: the node\'s `ipvsadm-save -n` output (IPVS mode)')
    .option('--src <ip[:port]>', 'the packet source (a local address starts in OUTPUT)')
    .option('--dst <ip:port|ns/name[:port]>', 'the destination address, or a Service and port name/number')
    .option('--via <kind>', `with --dst NS/NAME: ${VIAS.join(', ')}`, 'clusterip')
    .option('-p, --protocol <proto>', PROTOCOLS.join(', '), 'tcp')
    .option('--in-iface <name>', 'the interface the packet arrives on (makes it a received packet)')
    .option('--mark <n>', 'the packet mark at the start')
    .option('--flows <file>', "a YAML list of packets in kube-proxy's flow-test shape; state persists between them")
    .option('--json', 'one JSON object per packet')
    .option('--ipsets <file>', 'ipset contents (`ipset save` output) for -m set')
    .option('--interfaces <spec>', 'the node\'s interfaces, `lo=127.0.0.1/8 eth0=192.168.0.2/24` (default: from the Node or --node-ip)')
    .option('--sample <n>', 'draw N concrete packets instead of listing the exact outcomes')
    .option('--seed <s>', 'random seed for --sample', '1')
    .option('--no-index', 'evaluate every chain rule by rule (same results, slower)')
    .option('-o, --output <file>', 'write to FILE instead of stdout');
  addClusterFlags(cmd).action(action(async (inputs: string[], flags: TraceFlags) => runTrace(inputs, flags)));
}

interface Target {
  readonly rs: CompiledRuleset;
  readonly env: NodeEnv;
}

/** The cluster inputs, read once (stdin included) for the mode, the compiles and --dst NS/NAME. */
let filesCache: InputFile[] | null = null;
function clusterFiles(inputs: string[]): InputFile[] {
  if (inputs.length === 0) throw new UsageError('no input: give cluster files or directories, or - for stdin');
  return (filesCache ??= readInputs(inputs));
}

/** One load + compile per family (its warnings print once). */
const compiledCache = new Map<string, ReturnType<typeof loadAndCompileFiles>>();
function compiledFor(inputs: string[], flags: TraceFlags, family: Family | undefined): ReturnType<typeof loadAndCompileFiles> {
  const key = family ?? '';
  let c = compiledCache.get(key);
  if (!c) compiledCache.set(key, (c = loadAndCompileFiles(clusterFiles(inputs), { ...flags, family })));
  return c;
}

/** iptables or ipvs: --mode, else (cluster inputs) the configuration's mode, else (dumps) ipvs when --ipvs is given. */
let modeCache: 'iptables' | 'ipvs' | null = null;
function traceMode(inputs: string[], flags: TraceFlags): 'iptables' | 'ipvs' {
  return (modeCache ??= resolveMode(inputs, flags));
}

function resolveMode(inputs: string[], flags: TraceFlags): 'iptables' | 'ipvs' {
  if (flags.mode !== undefined) chooseMode(flags.mode, null);
  let mode: 'iptables' | 'ipvs';
  if (flags.rules) mode = flags.mode ? chooseMode(flags.mode, null) : flags.ipvs ? 'ipvs' : 'iptables';
  else if (flags.mode) mode = chooseMode(flags.mode, null);
  else mode = chooseMode(undefined, loadCluster(clusterFiles(inputs), new DiagnosticSink()));
  if (mode === 'ipvs' && flags.rules && !flags.ipvs) throw new UsageError('IPVS mode with --rules needs the node\'s virtual servers: give --ipvs FILE (ipvsadm-save -n)');
  if (flags.ipvs && !flags.rules) throw new UsageError('--ipvs goes with --rules (a node\'s dumps); a cluster\'s virtual servers come from its compile');
  if (flags.ipvs && mode !== 'ipvs') throw new UsageError('--ipvs is for IPVS mode, not --mode iptables');
  return mode;
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

function nodeSpecFor(flags: TraceFlags, fromCluster: NodeSpec | null): NodeSpec {
  if (flags.interfaces) return { interfaces: parseInterfacesText(flags.interfaces) };
  if (flags.nodeIp) return simpleNode(flags.nodeIp.split(','));
  return fromCluster ?? simpleNode([]);
}

async function loadRules(path: string, family: Family): Promise<{ ruleset: Ruleset; file: InputFile }> {
  const [file] = readInputs([path], { extensions: /.*/ });
  const { parseIptablesSave } = await import('../iptables-save/index.js');
  const { ruleset, diagnostics } = parseIptablesSave(file.text, { file: file.name, family });
  if (printDiagnostics(diagnostics, [file]) || !ruleset) {
    const n = diagnostics.filter((d) => d.severity === 'error').length;
    throw new InputError(`${n} error${n === 1 ? '' : 's'} in ${file.name}`);
  }
  return { ruleset, file };
}

/** An `ipset save` dump through the ipset reader, every problem reported as file:line:col (exit 1). */
function loadIpsets(path: string | undefined): IpsetDump | null {
  if (!path) return null;
  const [file] = readInputs([path], { extensions: /.*/ });
  const { dump, diagnostics } = parseIpsetSave(file.text, { file: file.name });
  if (printDiagnostics(diagnostics, [file])) {
    const n = diagnostics.filter((d) => d.severity === 'error').length;
    throw new InputError(`${n} error${n === 1 ? '' : 's'} in ${file.name}`);
  }
  return dump;
}

/**
 * What the node's kernel holds after kube-proxy ran: the host setup (canary chains, the jump rules
 * from the built-in chains) and kube-proxy's restore input applied to an empty state.
 */
async function nodeRuleset(restore: string, family: Family): Promise<Ruleset> {
  const { parseIptablesSave } = await import('../iptables-save/index.js');
  const { hostSetup, renderHostSetup } = await import('../compiler/iptables/host.js');
  const { applyRestore, emptyState, stateToRuleset } = await import('../iptables/state.js');
  const state = emptyState(family);
  for (const [file, text] of [['host setup', renderHostSetup(hostSetup())], ['restore input', restore]] as const) {
    const { ruleset, diagnostics } = parseIptablesSave(text, { file, family });
    // kpsim's own output failing to parse is a kpsim bug, not bad input.
    if (!ruleset || diagnostics.some((d) => d.severity === 'error')) throw new Error(`kpsim's ${file} does not parse: ${diagnostics[0]?.message}`);
    applyRestore(state, ruleset);
  }
  return stateToRuleset(state);
}

/** Rules from which the compile's garbage is worth a full collection before a bulk trace. */
const LARGE_RULESET = 20_000;

async function targetFor(inputs: string[], flags: TraceFlags, family: Family, ipsets: IpsetDb | null): Promise<Target> {
  if (traceMode(inputs, flags) === 'ipvs') {
    const t = { family, rotate: !!flags.flows, index: flags.index, ipsets: flags.ipsets, nodeOverride: flags.interfaces || flags.nodeIp || flags.rules ? nodeSpecFor(flags, null) : null };
    if (flags.rules) {
      if (inputs.length) throw new UsageError('give either cluster inputs or --rules, not both');
      return ipvsDumpTarget((await loadRules(flags.rules, family)).ruleset, flags.ipvs!, t);
    }
    return ipvsClusterTarget(clusterFiles(inputs), flags, t);
  }
  let ruleset: Ruleset;
  let clusterNode: NodeSpec | null = null;
  if (flags.rules) {
    if (inputs.length) throw new UsageError('give either cluster inputs or --rules, not both');
    ruleset = (await loadRules(flags.rules, family)).ruleset;
  } else {
    const { compiled } = compiledFor(inputs, flags, family);
    ruleset = await nodeRuleset(compiled.restore, family);
    clusterNode = nodeSpec(compiled.settings);
  }
  const rs = compileRuleset(ruleset, { ipsets, index: flags.index });
  const problems: { message: string }[] = [];
  const env = buildEnv(nodeSpecFor(flags, clusterNode), family, problems);
  if (problems.length) throw new UsageError(problems.map((p) => p.message).join('; '));
  return { rs, env };
}

/** --dst NS/NAME[:PORT] -> address and port, from the cluster's Service. */
function resolveService(inputs: string[], flags: TraceFlags, dst: string, family: Family): { ip: string; port: number; protocol: Protocol } {
  if (flags.rules) throw new UsageError('--dst NS/NAME needs cluster inputs, not --rules');
  const via = flags.via ?? 'clusterip';
  if (!(VIAS as readonly string[]).includes(via)) throw new UsageError(`--via must be one of ${VIAS.join(', ')}, not '${via}'`);
  const [nsName, portSel] = dst.split(':');
  const [ns, name] = nsName.split('/');
  const { cluster, compiled } = traceMode(inputs, flags) === 'ipvs' ? ipvsCompiledFor(clusterFiles(inputs), flags, family) : compiledFor(inputs, flags, family);
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
      const ip = compiled.settings.nodeIP?.text;
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
  const [file] = readInputs([path], { extensions: /.*/ });
  const { flows, diagnostics } = parseFlowsFile(file.text, file.name);
  if (printDiagnostics(diagnostics, [file])) throw new InputError(`${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'} in ${file.name}`);
  return flows.map((f) => f.spec);
}

async function runTrace(inputs: string[], flags: TraceFlags): Promise<number> {
  if (!(PROTOCOLS as readonly string[]).includes(flags.protocol)) throw new UsageError(`-p must be one of ${PROTOCOLS.join(', ')}, not '${flags.protocol}'`);
  if (!flags.rules && inputs.length === 0) throw new UsageError('no rules: give cluster inputs or --rules FILE');
  const sample = flags.sample === undefined ? null : Number(flags.sample);
  if (sample !== null && !(Number.isInteger(sample) && sample > 0)) throw new UsageError(`--sample ${flags.sample}: give a positive number`);
  const seed = Number(flags.seed ?? 1);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${flags.seed}: give an integer`);
  let flows: FlowSpec[];
  if (flags.flows) {
    if (flags.src || flags.dst) throw new UsageError('give either --flows or --src/--dst, not both');
    flows = flowsFrom(flags.flows);
  } else {
    if (!flags.src || !flags.dst) throw new UsageError('give --src and --dst (or --flows FILE)');
    const src = splitHostPort(flags.src, '--src', false);
    let protocol = flags.protocol as Protocol;
    let dst: { ip: string; port: number | null };
    if (/^[^/:[\]]+\/[^/]+$/.test(flags.dst)) {
      const r = resolveService(inputs, flags, flags.dst, familyOfText(src.ip));
      dst = { ip: r.ip, port: r.port };
      if (cmdProtocolIsDefault(flags)) protocol = r.protocol;
    } else dst = splitHostPort(flags.dst, '--dst', flags.protocol !== 'icmp');
    flows = [{ protocol, sourceIP: src.ip, sourcePort: src.port, destIP: dst.ip, destPort: dst.port, inInterface: flags.inIface ?? null, mark: parseMark(flags.mark) }];
  }
  const mode = traceMode(inputs, flags);
  // IPVS mode reads --ipsets with the ipset reader (per family, in targetFor).
  const ipsets = mode === 'ipvs' ? null : loadIpsets(flags.ipsets);
  const targets = new Map<Family, Target>();
  const byFamily = new Map<Family, number[]>();
  flows.forEach((f, i) => {
    const fam = familyOfText(f.sourceIP);
    if (familyOfText(f.destIP) !== fam) throw new UsageError(`${f.name ?? 'packet'}: source and destination are of different families`);
    byFamily.set(fam, [...(byFamily.get(fam) ?? []), i]);
  });
  for (const fam of byFamily.keys()) targets.set(fam, await targetFor(inputs, flags, fam, ipsets && ipsetDb(ipsets, fam)));
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
