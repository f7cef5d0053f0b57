// The `kpsim` executable as an installed one runs: `dist/bin/kpsim.js` under node with the flags
// of its own `#!` line (bin/kpsim.ts: `#!/usr/bin/env -S node --max-semi-space-size=32
// --expose-gc`), read from the built file so the benchmark follows whatever the line says.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, type Io, type Measured } from './measure.js';

/** The repository root: the nearest folder above this file with kpsim's package.json. */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(dir, 'package.json')) && /"name": "kpsim"/.test(readFileSync(join(dir, 'package.json'), 'utf8')))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the kpsim repository above the benchmark');
    dir = up;
  }
  return dir;
})();

export const BIN = join(ROOT, 'dist', 'bin', 'kpsim.js');

/** node's flags from the executable's `#!/usr/bin/env -S node FLAGS` line. */
export function shebangFlags(): string[] {
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env -S node(?<flags>( +\S+)*)\s*$/.exec(first) ?? /^#!\S*node(?<flags>( +\S+)*)\s*$/.exec(first);
  if (!m) throw new Error(`${BIN}: unexpected first line ${first}`);
  return m.groups!.flags.trim().split(/ +/).filter(Boolean);
}

/** How the benchmark starts kpsim, for the table's header. */
export function kpsimInvocation(): string {
  return `${['node', ...shebangFlags(), relative(ROOT, BIN)].join(' ')} (the flags of its #! line), a fresh process per run`;
}

/** One kpsim run, measured; `timeoutS` kills it (exit code 137 and timedOut). */
export function runKpsim(args: readonly string[], io: Io, timeoutS: number): Measured {
  return measure(process.execPath, [...shebangFlags(), BIN, ...args], io, timeoutS);
}

let helpText: string | undefined;

/** Whether `kpsim trace` has an option, judged by its --help. */
export function traceHasOption(option: string): boolean {
  helpText ??= spawnSync(process.execPath, [BIN, 'trace', '--help'], { encoding: 'utf8' }).stdout;
  return new RegExp(`(^|[ ,])${option}\\b`, 'm').test(helpText);
}
