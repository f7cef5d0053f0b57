// `kpsim parse`: read an iptables-save dump (or restore input) or nft text (`nft list ruleset`,
// kube-proxy's `nft -f` transaction; told apart by content), report every problem, and print it
// back (its own spelling, or for iptables the kernel's with --format save), as the typed IR
// (--json) or as a summary (--stats). Exit 0 when well-formed, 1 when any error was reported, 2 on
// misuse.
import type { Command } from 'commander';
import type { Family } from '../iptables/ir.js';
import { formatStats, parseIptablesSave, renderRestore, renderSave } from '../iptables-save/index.js';
import { unmodelledItems } from '../packetsim/coverage.js';
import { formatNftStats, isNftText, nftJson, nftStats, parseNft, renderNft } from '../nftables/index.js';
import { action, checkOutputPath, emit, EXIT_BAD_INPUT, EXIT_OK, InputError, printDiagnostics, readInputs, UsageError, type InputFile } from './common.js';

interface ParseFlags {
  json?: boolean;
  stats?: boolean;
  format: string;
  family?: string;
  strict?: boolean;
  noflush?: boolean;
  output?: string;
}

export function registerParse(program: Command): void {
  program
    .command('parse')
    .description('read an iptables-save / ip6tables-save dump, or nft text (nft list ruleset, nft -f input), into the rule IR and check it')
    .argument('<file>', "the dump, or '-' for standard input")
    .option('--json', 'print the typed rule IR as JSON')
    .option('--stats', 'print tables, chains, rule counts and the modules and targets used')
    .option('--format <format>', "text output: 'restore' (as written) or 'save' (as iptables-save prints it once loaded)", 'restore')
    .option('--family <family>', 'ipv4 or ipv6 (default: guessed from the addresses)')
    .option('--strict', 'unknown match modules and targets are errors')
    .option('--noflush', 'the text is applied with iptables-restore --noflush: chains it does not declare may exist')
    .option('-o, --output <file>', 'write the output here (atomically) instead of standard output')
    .addHelpText(
      'after',
      `
Examples:
  iptables-save > node.rules && kpsim parse node.rules       exit 0 when well-formed, every problem at file:line:col
  kpsim parse --stats node.rules                             tables, chains, rules, modules, what is not modelled
  ip6tables-save | kpsim parse --json -                      the typed rule IR`,
    )
    .action(action((file: string, flags: ParseFlags) => runParse(file, flags)));
}

function runParse(file: string, flags: ParseFlags): number {
  if (flags.family !== undefined && flags.family !== 'ipv4' && flags.family !== 'ipv6') throw new UsageError(`--family must be ipv4 or ipv6, not '${flags.family}'`);
  if (flags.format !== 'restore' && flags.format !== 'save') throw new UsageError(`--format must be restore or save, not '${flags.format}'`);
  if (flags.json && flags.stats) throw new UsageError('--json and --stats are exclusive');
  checkOutputPath(flags.output, 'file');
  const inputs = readInputs([file], { directories: false, what: 'the iptables-save dump', keepBytes: true });
  const input = inputs[0];
  if (isNftText(input.text)) return runParseNft(inputs, flags);
  const { ruleset, diagnostics } = parseIptablesSave(input.text, {
    file: input.name,
    family: flags.family as Family | undefined,
    strict: flags.strict,
    noflush: flags.noflush,
  });
  const failed = printDiagnostics(diagnostics, inputs);
  // Nothing is written for input with errors: no half a ruleset on stdout or in a file.
  if (ruleset && !failed) {
    // IPv6 addresses are 128-bit numbers in the IR: decimal strings in JSON.
    if (flags.json) emit(flags.output, JSON.stringify(ruleset, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
    else if (flags.stats) emit(flags.output, formatStats(ruleset, unmodelledItems));
    else if (flags.format === 'save') {
      // The kernel's spelling needs a ruleset the kernel would accept.
      let text: string;
      try {
        text = renderSave(ruleset);
      } catch (e) {
        throw new InputError(`${input.name}: iptables-restore would refuse this: ${(e as Error).message}`);
      }
      emit(flags.output, text);
    } else {
      const text = renderRestore(ruleset);
      // A dump printed back as written (the usual case): its own bytes, not the text encoded again.
      emit(flags.output, text === input.text && input.bytes ? input.bytes : text);
    }
  }
  return failed ? EXIT_BAD_INPUT : EXIT_OK;
}

/** nft text: printed back as written, as the IR, or counted. */
function runParseNft(inputs: InputFile[], flags: ParseFlags): number {
  if (flags.format !== 'restore') throw new UsageError('--format save is for iptables-save dumps; nft text is printed back as written');
  if (flags.family !== undefined || flags.noflush) throw new UsageError('--family and --noflush are for iptables-save dumps; nft tables name their family');
  const input = inputs[0];
  const { file, diagnostics } = parseNft(input.text, { file: input.name, strict: flags.strict });
  const failed = printDiagnostics(diagnostics, inputs);
  // As for iptables-save dumps: nothing is written for input with errors.
  if (!failed) {
    if (flags.json) emit(flags.output, nftJson(file));
    else if (flags.stats) emit(flags.output, formatNftStats(nftStats(file)));
    else emit(flags.output, renderNft(file));
  }
  return failed ? EXIT_BAD_INPUT : EXIT_OK;
}

