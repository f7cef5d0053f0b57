// Shared by every command that reads Kubernetes objects: the compile options (defined once, so
// compile, trace and golden init take the same flags), reading and loading the inputs, choosing the
// proxy mode's row (src/modes.ts) once, and compiling per family with every problem reported the
// compiler's way (exit 1 with every diagnostic printed, nothing written).
import type { Command } from 'commander';
import type { CompileOptions } from '../compiler/settings.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import { parseCIDR, parseIP } from '../net/index.js';
import { loadCluster } from '../model/load.js';
import type { Cluster } from '../model/types.js';
import { configuredMode, MODE_NAMES, modeNamed, NOT_BUILT_MODES, type ModeCompiled, type ModeRow } from '../modes.js';
import { InputError, printDiagnostics, readInputs, UsageError, type InputFile } from './common.js';

export interface ClusterFlags {
  node?: string;
  family?: string;
  clusterCidr?: string;
  masqueradeAll?: boolean;
  nodeIp?: string;
  randomFully?: boolean;
  nfacct?: boolean;
  mode?: string;
}

/** The flags that choose the node and the mode and override the configuration. */
export function addClusterFlags(cmd: Command): Command {
  return cmd
    .option('--mode <mode>', `the proxy mode: ${MODE_NAMES.join(' or ')} (default: the configuration's mode, else iptables)`)
    .option('--node <name>', "the node to compile for (default: the configuration's hostnameOverride, else the only Node)")
    .option('--family <family>', 'ipv4 or ipv6 (which of a dual-stack node\'s two proxiers); default: the primary family of the node')
    .option('--cluster-cidr <cidrs>', 'pod CIDR(s) for local-traffic detection, overriding clusterCIDR')
    .option('--masquerade-all', 'masquerade all service traffic, overriding the configuration (iptables.masqueradeAll; nftables.masqueradeAll in nftables mode)')
    .option('--node-ip <ip>', "the node's IP, overriding its InternalIP")
    .option('--no-random-fully', 'the host iptables lacks MASQUERADE --random-fully (a Node kpsim.io/host-features annotation wins)')
    .option('--no-nfacct', 'the host lacks the nfacct counters (a Node kpsim.io/host-features annotation wins)');
}

export function compileOptions(flags: ClusterFlags, family?: Family): CompileOptions {
  if (flags.family !== undefined && flags.family !== 'ipv4' && flags.family !== 'ipv6') throw new UsageError(`--family must be ipv4 or ipv6, not '${flags.family}'`);
  // A bad flag value is bad usage (exit 2), caught before anything is read.
  if (flags.nodeIp !== undefined && !parseIP(flags.nodeIp)) throw new UsageError(`--node-ip ${flags.nodeIp}: expected an IPv4 or IPv6 address`);
  for (const c of (flags.clusterCidr ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!parseCIDR(c)) throw new UsageError(`--cluster-cidr ${flags.clusterCidr}: '${c}' is not a CIDR (expected ADDRESS/LENGTH, comma-separated)`);
  }
  return {
    node: flags.node,
    family: family ?? (flags.family as Family | undefined),
    clusterCIDR: flags.clusterCidr,
    masqueradeAll: flags.masqueradeAll,
    nodeIP: flags.nodeIp,
    randomFully: flags.randomFully,
    nfacct: flags.nfacct,
  };
}

/** The mode's row: --mode, else the configuration's mode (empty means iptables, kube-proxy's default on Linux). */
export function chooseMode(flag: string | undefined, cluster: Cluster | null): ModeRow {
  const name = flag ?? (cluster ? configuredMode(cluster) : 'iptables');
  const row = modeNamed(name);
  if (typeof row !== 'string') return row;
  if (flag !== undefined && !(name in NOT_BUILT_MODES)) throw new UsageError(`--mode must be one of ${MODE_NAMES.join(', ')}, not '${name}'`);
  throw new UsageError(flag !== undefined ? `--mode ${name}: ${row}` : `the configuration says mode: ${name}: ${row}; choose --mode ${MODE_NAMES.join(' or --mode ')}`);
}

/** Cluster inputs read and loaded once; load problems wait in `sink` to be printed with the compile's. */
export interface LoadedCluster {
  readonly files: readonly InputFile[];
  readonly cluster: Cluster;
  readonly sink: DiagnosticSink;
  readonly row: ModeRow;
}

export function loadClusterInputs(paths: readonly string[], flags: ClusterFlags): LoadedCluster {
  if (paths.length === 0) throw new UsageError('no input: give cluster files or directories, or - for stdin');
  if (flags.mode !== undefined) chooseMode(flags.mode, null);
  compileOptions(flags);
  const files = readInputs(paths);
  const sink = new DiagnosticSink();
  const cluster = loadCluster(files, sink);
  return { files, cluster, sink, row: chooseMode(flags.mode, cluster) };
}

function fail(sink: DiagnosticSink): never {
  const n = sink.errors.length;
  throw new InputError(`${n} error${n === 1 ? '' : 's'}; nothing written`);
}

/** Compiles the loaded cluster for one family (the node's primary one when not given), printing every problem. */
export function compileLoaded(loaded: LoadedCluster, flags: ClusterFlags, family?: Family): ModeCompiled {
  const sink = new DiagnosticSink();
  for (const d of loaded.sink.items) sink.report(d);
  const compiled = sink.hasErrors ? null : loaded.row.compile(loaded.cluster, compileOptions(flags, family), sink);
  if (printDiagnostics(sink.items, loaded.files) || !compiled) fail(sink);
  return compiled;
}
