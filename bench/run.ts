// `npm run bench`: every benchmark's figures, with the previous run's side by side
// (bench/.last.json, not committed) and the ratio between them. Speed is measured here, never
// asserted in tests.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCompile } from './compile.js';
import { benchTrace } from './trace.js';

type Figures = Record<string, number | string>;

const suites: Record<string, () => Promise<Figures>> = {
  compile: benchCompile,
  trace: benchTrace,
};

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const lastFile = join(dirname(fileURLToPath(import.meta.url)), '.last.json');
  const last: Figures = existsSync(lastFile) ? (JSON.parse(readFileSync(lastFile, 'utf8')) as Figures) : {};
  const now: Figures = {};
  const optional: Record<string, string> = { parse: './parse.js' };
  for (const [name, path] of Object.entries(optional)) {
    try {
      const mod = (await import(path)) as { benchParse?: () => Promise<Figures> };
      if (mod.benchParse) suites[name] = mod.benchParse;
    } catch {
      /* that benchmark is not in this checkout */
    }
  }
  const fmt = (v: number | string | undefined) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : (v ?? '-'));
  for (const [name, run] of Object.entries(suites)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stdout.write(`\n== ${name}\n${'figure'.padEnd(70)} ${'now'.padStart(12)} ${'last run'.padStart(12)} ${'now/last'.padStart(9)}\n`);
    const figures = await run();
    for (const [k, v] of Object.entries(figures)) {
      now[`${name}: ${k}`] = v;
      const prev = last[`${name}: ${k}`];
      const ratio = typeof v === 'number' && typeof prev === 'number' && prev !== 0 ? (v / prev).toFixed(2) : '';
      process.stdout.write(`${k.padEnd(70)} ${String(fmt(v)).padStart(12)} ${String(fmt(prev)).padStart(12)} ${ratio.padStart(9)}\n`);
    }
  }
  writeFileSync(lastFile, JSON.stringify({ ...last, ...now }, null, 1));
}

await main();
