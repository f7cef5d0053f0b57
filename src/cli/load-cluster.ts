// Shared by every command that reads Kubernetes objects: read inputs, load, compile, and report
// problems the compiler's way (exit 1 with every diagnostic printed, nothing written).
import type { Command } from 'commander';
import { compileCluster, type Compiled, type CompileOptions } from '../compiler/index.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import { loadCluster } from '../model/load.js';
import type { Cluster } from '../model/types.js';
import { InputError, printDiagnostics, readInputs, UsageError, type InputFile } from './common.js';

export interface ClusterFlags {
  node?: string;
  family?: string;
  clusterCidr?: string;
  masqueradeAll?: boolean;
  nodeIp?: string;
  randomFully?: boolean;
  nfacct?: boolean;
}

/** The flags that choose the node and override the configuration, shared by compile and trace. */
export function addClusterFlags(cmd: Command): Command {
  return cmd
    .option('--node <name>', "the node to compile for (default: the configuration's hostnameOverride, else the only Node)")
    .option('--family <family>', 'ipv4 (iptables) or ipv6 (ip6tables); default: the primary family of the node')
    .option('--cluster-cidr <cidrs>', 'pod CIDR(s) for local-traffic detection, overriding clusterCIDR')
    .option('--masquerade-all', 'masquerade all service traffic, overriding iptables.masqueradeAll')
    .option('--node-ip <ip>', "the node's IP, overriding its InternalIP")
    .option('--no-random-fully', 'the host iptables lacks MASQUERADE --random-fully (a Node kpsim.io/host-features annotation wins)')
    .option('--no-nfacct', 'the host lacks the nfacct counters (a Node kpsim.io/host-features annotation wins)');
}

export function compileOptions(flags: ClusterFlags): CompileOptions {
  if (flags.family !== undefined && flags.family !== 'ipv4' && flags.family !== 'ipv6') throw new UsageError(`--family must be ipv4 or ipv6, not '${flags.family}'`);
  return {
    node: flags.node,
    family: flags.family as CompileOptions['family'],
    clusterCIDR: flags.clusterCidr,
    masqueradeAll: flags.masqueradeAll,
    nodeIP: flags.nodeIp,
    randomFully: flags.randomFully,
    nfacct: flags.nfacct,
  };
}

export function loadAndCompile(paths: readonly string[], flags: ClusterFlags): { cluster: Cluster; compiled: Compiled } {
  if (paths.length === 0) throw new UsageError('no input: give cluster files or directories, or - for stdin');
  compileOptions(flags);
  return loadAndCompileFiles(readInputs(paths), flags);
}

/** loadAndCompile on inputs already read (a command that reads them once, stdin included). */
export function loadAndCompileFiles(inputs: InputFile[], flags: ClusterFlags): { cluster: Cluster; compiled: Compiled } {
  const opts = compileOptions(flags);
  const sink = new DiagnosticSink();
  const cluster = loadCluster(inputs, sink);
  const compiled = sink.hasErrors ? null : compileCluster(cluster, opts, sink);
  if (printDiagnostics(sink.items, inputs) || !compiled) {
    const n = sink.errors.length;
    throw new InputError(`${n} error${n === 1 ? '' : 's'}; nothing written`);
  }
  return { cluster, compiled };
}
