#!/usr/bin/env node
// The kpsim CLI: wiring only. Each command lives in src/cli/<command>.ts.
import { Command, CommanderError } from 'commander';
import { registerCommands } from '../src/cli/commands.js';

// `kpsim ... | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command();
program
  .name('kpsim')
  .description('Kubernetes Service networking emulator: compile Services to kube-proxy rules, parse iptables-save dumps, trace packets')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed the message; help and version are not errors.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    throw e;
  }
}
