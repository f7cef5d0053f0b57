#!/usr/bin/env -S node --max-semi-space-size=32 --expose-gc
// The kpsim CLI: wiring only. Each command lives in src/cli/<command>.ts.
//
// Node's flags are for `kpsim trace --flows` on large rulesets: tracing allocates a few
// short-lived objects per path of every packet, and each young-generation collection costs time in
// proportion to the old generation, which holds the whole compiled ruleset (1-2 ms per collection
// at 10k services). A 32 MB young generation (V8's default is 16 MB) halves the collections; 64 MB
// was 3-5% faster again but cost about 60 MB more peak memory on every command (one trace of a
// 10k-service dump: 350 MB with 64, 291 MB with 32, 262 MB with 16 at 5-10% more CPU).
// --expose-gc lets trace collect the compile's garbage once, before it starts.
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
