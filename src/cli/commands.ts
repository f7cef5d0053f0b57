// The command table: one line per command.
import type { Command } from 'commander';
import { registerTrace } from './trace.js';

export function registerCommands(program: Command): void {
  void program;
  registerTrace(program);
}
