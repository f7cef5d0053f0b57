// `kpsim lint`: findings about a node's rules, printed like the parser's diagnostics
// (file:line:col: severity[CODE]: message). Exit 1 when a finding is an error, or with --strict a
// warning; notes never fail. The dump is read as restore input on top of existing chains, so a jump
// to a chain it lacks is a finding, not a parse error.
import type { Command } from 'commander';
import { lintNode } from '../findings/index.js';
import { addDumpFlags } from './explain.js';
import { action, emit, printDiagnostics } from './common.js';
import { addClusterFlags } from './load-cluster.js';
import { loadDump, namesFromObjects, type DumpFlags } from './node-input.js';

interface LintFlags extends DumpFlags {
  strict?: boolean;
  json?: boolean;
}

export function registerLint(program: Command): void {
  const cmd = program
    .command('lint')
    .description("findings about a node's rules: jumps to missing chains, stale chains, shadowed and unreachable rules, endpoint chains without (or with a foreign) DNAT, uneven splits, masquerade-mark conflicts; with --objects, chains of no object")
    .argument('<dump>', "the node's iptables-save output, or its `nft list ruleset` output (told apart by content), or a folder as kpsim compile -o DIR writes; - for stdin")
    .option('--strict', 'warnings fail too (exit 1)')
    .option('--json', 'the findings as JSON')
    .addHelpText(
      'after',
      `
Examples:
  kpsim lint node.rules
  kpsim lint node.rules --strict
  kpsim lint node.rules --objects cluster.yaml --json
  kpsim lint node.nft --strict`,
    );
  addClusterFlags(addDumpFlags(cmd)).action(action((dump: string, flags: LintFlags) => runLint(dump, flags)));
}

function runLint(dump: string, flags: LintFlags): number {
  const d = loadDump(dump, flags, { lenient: true });
  const names = namesFromObjects(flags, d.row, d.family);
  const findings = lintNode(d.node, d.family, { file: d.files.iptables, nftFile: d.files.nftables, names });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  if (flags.json) emit(undefined, JSON.stringify({ findings: findings.map((f) => ({ ...f, line: f.span?.line ?? null, col: f.span?.col ?? null })), errors, warnings }, null, 1) + '\n');
  else {
    printDiagnostics(findings, d.inputs);
    process.stderr.write(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}, ${findings.length - errors - warnings} note${findings.length - errors - warnings === 1 ? '' : 's'}\n`);
  }
  return errors > 0 || (flags.strict && warnings > 0) ? 1 : 0;
}
