// The command table: one line per command.
import type { Command } from 'commander';
import { registerCompile } from './compile.js';
import { registerParse } from './parse.js';
import { registerTrace } from './trace.js';

export function registerCommands(program: Command): void {
  registerCompile(program);
  registerParse(program);
  registerTrace(program);
}
