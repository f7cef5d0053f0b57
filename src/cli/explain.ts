// `kpsim explain`: what a node's rules mean, Service port by Service port, or one chain, rule, set
// element or destination. Reads a node's dumps (src/cli/node-input.ts: iptables-save, IPVS dumps,
// `nft list ruleset`); the mode's row reads the
// node into service ports (src/explain), names coming from kube-proxy's comments or, with
// --objects, from the objects' recomputed hashes.
import type { Command } from 'commander';
import { explainItem } from '../explain/item.js';
import { nodeJson, portJson } from '../explain/json.js';
import { nodeStory, portStory } from '../explain/story.js';
import { action, emit, InputError, UsageError } from './common.js';
import { addClusterFlags } from './load-cluster.js';
import { collect, loadDump, namesFromObjects, type DumpFlags } from './node-input.js';

interface ExplainFlags extends DumpFlags {
  json?: boolean;
  output?: string;
}

/** The dump options explain, diff and lint share. */
export function addDumpFlags(cmd: Command): Command {
  return cmd
    .option('--ipvs <file>', "the node's `ipvsadm-save -n` output (IPVS mode)")
    .option('--ipsets <file>', "the node's `ipset save` output")
    .option('--objects <path>', 'cluster objects (files, folders or -): names for chains without comments, by recomputing kube-proxy\'s hashes (repeatable)', collect);
}

export function registerExplain(program: Command): void {
  const cmd = program
    .command('explain')
    .description("what a node's rules do, per Service port: entry points, traffic policies, endpoints and their exact shares; or one chain, rule, set element or destination")
    .argument('<dump>', "the node's iptables-save output, or its `nft list ruleset` output (nftables mode; told apart by content), or a folder as kpsim compile -o DIR writes; - for stdin")
    .argument('[item]', 'a chain (KUBE-SVC-..., service-HASH-ns/svc/tcp/port), a rule (its line, or table:chain:N), a set or map or `SET ENTRY` (`service-ips 10.96.0.10 . udp . 53`), a destination (10.96.0.10:53) or a service port (ns/name:port)')
    .option('--json', 'the answer as JSON')
    .option('-o, --output <file>', 'write to FILE instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  kpsim explain node.rules
  kpsim explain node.rules KUBE-SVC-67NZLRHBNDSAWJRO
  kpsim explain node.rules shop/web:http --json
  kpsim explain node.rules --objects cluster.yaml
  kpsim explain iptables.save --ipvs ipvsadm.save --ipsets ipset.save
  kpsim explain node.nft                                 # nft list ruleset of a node in nftables mode
  kpsim explain node.nft 'service-ips 10.96.0.10 . udp . 53'`,
    );
  addClusterFlags(addDumpFlags(cmd)).action(action((dump: string, item: string | undefined, flags: ExplainFlags) => runExplain(dump, item, flags)));
}

function runExplain(dump: string, item: string | undefined, flags: ExplainFlags): number {
  const d = loadDump(dump, flags);
  const names = namesFromObjects(flags, d.row, d.family);
  const view = d.row.services(d.node, d.family, names);
  if (item === undefined) {
    emit(flags.output, flags.json ? JSON.stringify(nodeJson(view, d.files), null, 1) + '\n' : nodeStory(view, d.files));
    return 0;
  }
  if (item.trim() === '') throw new UsageError('the item to explain is empty');
  const e = explainItem(view, d.node, d.family, item, names, d.files);
  if (!e) {
    process.stderr.write(`kpsim: ${item}: no chain, rule, set, destination or service port of that name on this node\n`);
    throw new InputError('');
  }
  if (flags.json) {
    emit(flags.output, JSON.stringify({ kind: e.kind, title: e.title, lines: e.lines, ports: e.ports.map((p) => portJson(p, d.files)) }, null, 1) + '\n');
  } else {
    const stories = e.ports.map((p) => portStory(p, view.mode, d.files));
    emit(flags.output, [e.title, ...e.lines, ...(stories.length ? ['', ...stories] : [])].join('\n') + '\n');
  }
  return 0;
}
