// The command table: one line per command.
import type { Command } from 'commander';
import { addMaxErrorsOption } from './common.js';
import { registerCompile } from './compile.js';
import { registerDiff } from './diff.js';
import { registerExplain } from './explain.js';
import { registerGolden } from './golden.js';
import { registerLint } from './lint.js';
import { registerParse } from './parse.js';
import { registerTrace } from './trace.js';

export function registerCommands(program: Command): void {
  registerCompile(program);
  registerDiff(program);
  registerExplain(program);
  registerGolden(program);
  registerLint(program);
  registerParse(program);
  registerTrace(program);
  // Every command reports diagnostics, capped the same way.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of program.commands.flatMap(all)) addMaxErrorsOption(c);
}
