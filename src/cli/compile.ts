// `kpsim compile`: Kubernetes objects -> the rules kube-proxy installs on one node.
import type { Command } from 'commander';
import { ruleStats } from '../compiler/iptables/stats.js';
import { action, emit, UsageError } from './common.js';
import { addClusterFlags, loadAndCompile, type ClusterFlags } from './load-cluster.js';

interface CompileFlags extends ClusterFlags {
  format: string;
  output?: string;
  stats?: boolean;
}

export const FORMATS = ['save', 'restore'] as const;

export function registerCompile(program: Command): void {
  const cmd = program
    .command('compile')
    .description("compile Services, EndpointSlices, Nodes and a KubeProxyConfiguration into kube-proxy's rules for one node")
    .argument('[inputs...]', 'YAML/JSON files, directories, or - for stdin')
    .option('-f, --format <format>', "save: what iptables-save prints on the node; restore: kube-proxy's iptables-restore input", 'save')
    .option('-o, --output <file>', 'write to FILE atomically instead of stdout')
    .option('--stats', 'print rule counts per table and chain on stderr');
  addClusterFlags(cmd).action(
    action(async (inputs: string[], flags: CompileFlags) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${flags.format}'`);
      const { compiled } = loadAndCompile(inputs, flags);
      // The save spelling needs the reader and the kernel-state model; restore output does not.
      const text = flags.format === 'restore' ? compiled.restore : (await import('../pipeline/node-save.js')).renderNodeSave(compiled);
      if (flags.stats) process.stderr.write(ruleStats(compiled.iptables.data));
      emit(flags.output, text);
    }),
  );
}
