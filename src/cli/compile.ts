// `kpsim compile`: Kubernetes objects -> the rules kube-proxy installs on one node.
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileCluster } from '../compiler/index.js';
import { compileIpvsCluster } from '../compiler/ipvs/index.js';
import { ARTEFACT_FILES, renderIpvsArtefacts, renderIpvsReport } from '../compiler/ipvs/node-save.js';
import { ruleStats } from '../compiler/iptables/stats.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import { loadCluster } from '../model/load.js';
import type { Cluster } from '../model/types.js';
import { action, emit, InputError, printDiagnostics, readInputs, UsageError, writeAtomic } from './common.js';
import { addClusterFlags, compileOptions, loadAndCompile, type ClusterFlags } from './load-cluster.js';

interface CompileFlags extends ClusterFlags {
  format: string;
  mode?: string;
  output?: string;
  stats?: boolean;
}

export const FORMATS = ['save', 'restore'] as const;
export const MODES = ['iptables', 'ipvs'] as const;

/** The proxy mode: --mode, else the configuration's `mode` (empty means iptables, kube-proxy's default on Linux). */
export function chooseMode(flag: string | undefined, cluster: Cluster | null): (typeof MODES)[number] {
  const mode = flag ?? (cluster?.config.mode || 'iptables');
  if (mode === 'nftables') throw new UsageError(flag ? '--mode nftables is not built yet' : "the configuration says mode: nftables, which kpsim does not build yet: choose --mode iptables or --mode ipvs");
  if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, not '${mode}'`);
  return mode as (typeof MODES)[number];
}

/** Reads and loads the inputs once; compiles in the chosen mode, reporting every problem the compiler's way. */
function loadInputs(paths: readonly string[]) {
  if (paths.length === 0) throw new UsageError('no input: give cluster files or directories, or - for stdin');
  const files = readInputs(paths);
  const sink = new DiagnosticSink();
  return { files, sink, cluster: loadCluster(files, sink) };
}

function compileLoaded(loaded: ReturnType<typeof loadInputs>, flags: CompileFlags) {
  const { files, sink, cluster } = loaded;
  const compiled = sink.hasErrors ? null : compileCluster(cluster, compileOptions(flags), sink);
  if (printDiagnostics(sink.items, files) || !compiled) fail(sink);
  return { compiled };
}

function fail(sink: DiagnosticSink): never {
  const n = sink.errors.length;
  throw new InputError(`${n} error${n === 1 ? '' : 's'}; nothing written`);
}

/** IPVS mode: every artefact under a header line on stdout, or the four files in `-o DIR`, each written atomically. */
function compileIpvsMode(loaded: ReturnType<typeof loadInputs>, flags: CompileFlags): void {
  const { files, sink, cluster } = loaded;
  const compiled = sink.hasErrors ? null : compileIpvsCluster(cluster, compileOptions(flags), sink);
  if (printDiagnostics(sink.items, files) || !compiled) fail(sink);
  // --format restore: the iptables artefact as kube-proxy hands it to iptables-restore (--noflush).
  if (flags.format === 'restore') {
    emit(flags.output, compiled.restore);
    return;
  }
  if (!flags.output || flags.output === '-') {
    process.stdout.write(renderIpvsReport(compiled));
    return;
  }
  const artefacts = renderIpvsArtefacts(compiled);
  mkdirSync(flags.output, { recursive: true });
  for (const f of ARTEFACT_FILES) writeAtomic(join(flags.output, f), artefacts[f]);
}

export function registerCompile(program: Command): void {
  const cmd = program
    .command('compile')
    .description("compile Services, EndpointSlices, Nodes and a KubeProxyConfiguration into kube-proxy's rules for one node")
    .argument('[inputs...]', 'YAML/JSON files, directories, or - for stdin')
    .option('-f, --format <format>', "save: what iptables-save prints on the node; restore: kube-proxy's iptables-restore input", 'save')
    .option('--mode <mode>', "iptables or ipvs (default: the configuration's mode)")
    .option('-o, --output <path>', 'iptables: write to FILE atomically instead of stdout; ipvs: write ipvsadm.save, ipset.save, iptables.save, kube-ipvs0.addrs into DIR')
    .option('--stats', 'print rule counts per table and chain on stderr');
  addClusterFlags(cmd).action(
    action(async (inputs: string[], flags: CompileFlags) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${flags.format}'`);
      if (flags.mode !== undefined) chooseMode(flags.mode, null);
      // The iptables path stays as it was unless IPVS is asked for (--mode, or the configuration's mode).
      const loaded = flags.mode === 'iptables' ? null : loadInputs(inputs);
      if (loaded && chooseMode(flags.mode, loaded.cluster) === 'ipvs') {
        compileIpvsMode(loaded, flags);
        return;
      }
      const { compiled } = loaded ? compileLoaded(loaded, flags) : loadAndCompile(inputs, flags);
      // The save spelling needs the reader and the kernel-state model; restore output does not.
      const text = flags.format === 'restore' ? compiled.restore : (await import('../pipeline/node-save.js')).renderNodeSave(compiled);
      if (flags.stats) process.stderr.write(ruleStats(compiled.iptables.data));
      emit(flags.output, text);
    }),
  );
}
