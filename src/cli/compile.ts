// `kpsim compile`: Kubernetes objects -> the rules kube-proxy installs on one node, in the mode
// the configuration (or --mode) selects. `--format save` prints what the node shows (one artefact
// file, or several under header lines: `-o DIR` then writes each), `--format restore` what
// kube-proxy hands the kernel.
import type { Command } from 'commander';
import { join } from 'node:path';
import type { ModeCompiled } from '../modes.js';
import { action, checkOutputPath, emit, makeDirectory, UsageError, writeAtomic } from './common.js';
import { addClusterFlags, compileLoaded, loadClusterInputs, type ClusterFlags } from './load-cluster.js';

interface CompileFlags extends ClusterFlags {
  format: string;
  output?: string;
  stats?: boolean;
}

export const FORMATS = ['save', 'restore'] as const;

/** Every artefact on stdout: alone when there is one, else each under a header line after the node facts. */
function report(compiled: ModeCompiled): string {
  const artefacts = compiled.artefacts();
  if (artefacts.length === 1) return artefacts[0].text;
  let s = compiled.facts();
  for (const a of artefacts) s += `\n# ==> ${a.file} <==\n${a.text}`;
  return s;
}

function writeSave(compiled: ModeCompiled, output: string | undefined): void {
  const artefacts = compiled.artefacts();
  if (artefacts.length === 1 && artefacts[0].bytes) {
    emit(output, artefacts[0].bytes());
    return;
  }
  if (!output || output === '-' || artefacts.length === 1) {
    emit(output, report(compiled));
    return;
  }
  makeDirectory(output);
  for (const a of artefacts) writeAtomic(join(output, a.file), a.text);
}

export function registerCompile(program: Command): void {
  const cmd = program
    .command('compile')
    .description("compile Services, EndpointSlices, Nodes and a KubeProxyConfiguration into kube-proxy's rules for one node")
    .argument('[inputs...]', 'YAML/JSON files, directories, or - for stdin')
    .option('-f, --format <format>', "save: what the node shows (iptables-save; in IPVS mode also ipvsadm-save, ipset save, kube-ipvs0's addresses; in nftables mode `nft list table ip kube-proxy`); restore: what kube-proxy hands the kernel (iptables-restore input; in nftables mode the knftables transaction for nft -f)", 'save')
    .option('-o, --output <path>', 'write to FILE atomically instead of stdout; a mode with several artefacts (IPVS) writes each into DIR')
    .option('--stats', 'print rule counts per table and chain on stderr')
    .addHelpText(
      'after',
      `
nftables mode writes the ruleset in the shape of kube-proxy at kubernetes commit 81810de (the
version golden/kube-proxy-nftables asserts); later releases changed it (1.36: endpoint chains
only with session affinity, \`dnat to numgen ... map\`), which kpsim does not write yet.

Examples:
  kpsim compile cluster.yaml                                   what iptables-save shows on the node
  kubectl get svc,endpointslices,nodes -A -o yaml | kpsim compile - --node worker-1 -o node.rules
  kpsim compile --mode ipvs cluster.yaml -o out/               ipvsadm.save ipset.save iptables.save kube-ipvs0.addrs
  kpsim compile --mode nftables --family ipv6 cluster.yaml     what \`nft list table ip6 kube-proxy\` shows on the node`,
    );
  addClusterFlags(cmd).action(
    action(async (inputs: string[], flags: CompileFlags) => {
      if (!(FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${flags.format}'`);
      const loaded = loadClusterInputs(inputs, flags);
      checkOutputPath(flags.output, flags.format === 'save' && loaded.row.artefactFiles.length > 1 ? 'dir' : 'file');
      const compiled = compileLoaded(loaded, flags);
      if (flags.stats) process.stderr.write(compiled.stats());
      if (flags.format === 'restore') emit(flags.output, compiled.restore);
      else writeSave(compiled, flags.output);
    }),
  );
}
