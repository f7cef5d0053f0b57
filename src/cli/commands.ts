// The command table: one line per command.
import type { Command } from 'commander';
import { registerCompile } from './compile.js';
import { registerGolden } from './golden.js';
import { registerParse } from './parse.js';
import { registerTrace } from './trace.js';

export function registerCommands(program: Command): void {
  registerCompile(program);
  registerGolden(program);
  registerParse(program);
  registerTrace(program);
}
