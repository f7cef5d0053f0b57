// `npm run bench`: what a user waits for, then the core's figures.
//
// First the end-to-end table (e2e/): the `kpsim` executable as fresh processes on generated files
// a user has (kubectl's output in all three shapes, the same objects bare, the node's rules, flows),
// each row with wall time, CPU time, peak RSS, the ratio to `iptables-restore --test` of the same
// rules in the same run, and issue 13's target with a met / NOT met mark. Then a second table,
// "core (in-process, secondary)": the compiler, reader and tracer timed inside one warm process,
// useful for tuning and never the product's speed. Figures are kept in bench/.last.json (not
// committed) and the previous run's are shown beside them. Speed is measured here, never asserted
// in tests.
//
//   npm run bench -- --sizes 1k,10k --runs 3 --only compile,parse,trace,flows,analyse,nftables,core
//   npm run bench -- --quick          # 1k services, one run, 10k packets, no core table
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCompile } from './compile.js';
import { benchEndToEnd } from './e2e/index.js';
import { ROOT } from './e2e/kpsim.js';
import { GROUPS, type E2eOptions, type Group } from './e2e/rows.js';
import { benchParse } from './parse.js';
import { benchTrace } from './trace.js';

type Figures = Record<string, number | string>;

const USAGE = `usage: npm run bench -- [--sizes 1k,10k,20k] [--runs 3] [--only ${[...GROUPS, 'core'].join(',')}]
                        [--packets 100000] [--seed 1] [--timeout 1800] [--flows-budget 180] [--quick]
  --sizes    cluster sizes in services (10 endpoints each); 1k = 1000
  --runs     fresh processes per row; the table shows the median (default 3)
  --only     which rows: ${GROUPS.join(', ')} (end to end) and core (the in-process table)
  --packets  packets in the bulk --flows file (default 100000)
  --timeout  seconds before a single process is killed and its row reports the timeout
  --flows-budget  seconds a bulk --flows run may take; beyond it (judged on 100 packets) the row
             measures as many packets as fit, once, and says so (default 180)
  --quick    a first try: --sizes 1k --runs 1 --packets 10000 --flows-budget 60, no core table
             (flags given win)`;

class UsageError extends Error {}

function parseSize(text: string): number {
  const m = /^(\d+)(k?)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new UsageError(`--sizes: '${text}' is not a size such as 1k, 10k or 500`);
  return Number(m[1]) * (m[2] ? 1000 : 1);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: expected a positive whole number, got '${text}'`);
  return n;
}

export function parseOptions(argv: string[]): (E2eOptions & { core: boolean }) | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      runs: { type: 'string' },
      only: { type: 'string' },
      packets: { type: 'string' },
      seed: { type: 'string' },
      timeout: { type: 'string' },
      'flows-budget': { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick === true;
  const names = (values.only ?? [...GROUPS, ...(quick ? [] : ['core'])].join(',')).split(',').map((s) => s.trim());
  for (const n of names) if (![...GROUPS, 'core'].includes(n)) throw new UsageError(`--only: unknown row group '${n}' (known: ${[...GROUPS, 'core'].join(', ')})`);
  return {
    sizes: (values.sizes ?? (quick ? '1k' : '1k,10k,20k')).split(',').map(parseSize),
    runs: positive('runs', values.runs, quick ? 1 : 3),
    only: new Set(names.filter((n): n is Group => (GROUPS as readonly string[]).includes(n))),
    core: names.includes('core'),
    packets: positive('packets', values.packets, quick ? 10_000 : 100_000),
    seed: positive('seed', values.seed, 1),
    timeoutS: positive('timeout', values.timeout, 1800),
    flowsBudgetS: positive('flows-budget', values['flows-budget'], quick ? 60 : 180),
    cacheDir: join(ROOT, 'bench', '.cache'),
  };
}

async function core(sizes: readonly number[], last: Figures): Promise<Figures> {
  process.stdout.write('\n#### core (in-process, secondary): the library timed inside one warm process; not what a user waits for\n');
  const suites: [string, () => Figures | Promise<Figures>][] = [
    ['compile', () => benchCompile(sizes)],
    ['parse', () => benchParse(sizes.filter((n) => n >= 10_000).length ? sizes.filter((n) => n >= 10_000) : sizes)],
    ['trace', benchTrace],
  ];
  const fmt = (v: number | string | undefined) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : (v ?? '-'));
  const now: Figures = {};
  for (const [name, run] of suites) {
    process.stdout.write(`\n== core ${name}\n${'figure'.padEnd(70)} ${'now'.padStart(12)} ${'last run'.padStart(12)} ${'now/last'.padStart(9)}\n`);
    for (const [k, v] of Object.entries(await run())) {
      const prev = last[`${name}: ${k}`];
      now[`${name}: ${k}`] = v;
      const ratio = typeof v === 'number' && typeof prev === 'number' && prev !== 0 ? (v / prev).toFixed(2) : '';
      process.stdout.write(`${k.padEnd(70)} ${String(fmt(v)).padStart(12)} ${String(fmt(prev)).padStart(12)} ${ratio.padStart(9)}\n`);
    }
  }
  return now;
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof parseOptions>;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const lastFile = join(ROOT, 'bench', '.last.json');
  const last: Figures = existsSync(lastFile) ? (JSON.parse(readFileSync(lastFile, 'utf8')) as Figures) : {};
  const now: Figures = opts.only.size ? benchEndToEnd(opts, last) : {};
  writeFileSync(lastFile, JSON.stringify({ ...last, ...now }, null, 1));
  if (opts.core) writeFileSync(lastFile, JSON.stringify({ ...last, ...now, ...(await core(opts.sizes, last)) }, null, 1));
  return 0;
}

process.exitCode = await main();
