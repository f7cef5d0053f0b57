// `npm run differential -- --count N --seed S [--flows F] [--jobs J] [--no-kernel] [--out DIR] [--quiet]`:
// a differential campaign over seeds S, S+1, ..., S+N-1. Prints every failure (seed, the cluster's
// file, the flow, the kernel's and kpsim's answers), writes each failing case as a golden case
// folder under DIR (default: a fresh directory under the system's tmp), and ends with
// `N passed, M failed` and what differed. Exit status 1 when anything failed.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { kernelAvailable } from '../host/kernel-available.js';
import { kernelCheck } from './kernel.js';
import { renderClusterYaml } from './render-yaml.js';
import { runCase, type KernelCheck } from './run-case.js';
import { summarize, type CaseOutcome } from './summary.js';

const USAGE = 'usage: npm run differential -- --count N --seed S [--flows F] [--jobs J] [--no-kernel] [--out DIR] [--quiet]';

function positiveInt(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${what} ${text}: give a non-negative integer\n${USAGE}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      seed: { type: 'string' },
      flows: { type: 'string' },
      jobs: { type: 'string' },
      'no-kernel': { type: 'boolean' },
      out: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const count = positiveInt(values.count, 100, 'count');
  const first = positiveInt(values.seed, 1, 'seed');
  const jobs = Math.max(1, positiveInt(values.jobs, 1, 'jobs'));
  const kernelFlows = positiveInt(values.flows, 12, 'flows');
  const out = values.out ?? mkdtempSync(join(tmpdir(), 'kpsim-differential-'));
  mkdirSync(out, { recursive: true });
  let kernel: KernelCheck | null = null;
  const k = kernelAvailable();
  const load = !values['no-kernel'] && k.ok;
  if (!values['no-kernel']) {
    if (!k.ok) process.stderr.write(`differential: kernel part not run: ${k.reason}\n`);
    else kernel = kernelCheck;
  }
  process.stdout.write(`differential: seeds ${first}..${first + count - 1}, ${load ? 'rules loaded into the kernel' : 'kpsim only'}${kernel ? `, ${kernelFlows} kernel flows per cluster` : ''}, ${jobs} at a time; failures under ${out}\n`);

  const outcomes: CaseOutcome[] = [];
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < count) {
      const seed = first + next++;
      const r = await runCase(seed, { kernelFlows, kernel, kernelLoad: load, goldenRoot: out });
      outcomes.push(r);
      if (r.problems.length) reportFailure(r, out);
      else if (!values.quiet && outcomes.length % 25 === 0) {
        process.stdout.write(`  ${outcomes.length}/${count} clusters, ${outcomes.filter((o) => o.problems.length).length} failed, ${Math.round((Date.now() - started) / 1000)} s\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  outcomes.sort((a, b) => a.seed - b.seed);
  const summary = summarize(outcomes);
  writeFileSync(join(out, 'summary.txt'), `${summary}\n`);
  process.stdout.write(`${summary}\n`);
  return outcomes.some((o) => o.problems.length) ? 1 : 0;
}

function reportFailure(r: Awaited<ReturnType<typeof runCase>>, out: string): void {
  const file = r.goldenDir ? join(r.goldenDir, 'cluster.yaml') : join(out, `seed-${r.seed}.yaml`);
  if (!r.goldenDir) writeFileSync(file, renderClusterYaml(r.generated.cluster, [`differential seed ${r.seed}`]));
  const lines = [`FAIL seed ${r.seed} (${r.generated.family}, ${r.generated.cluster.services.length} services): cluster ${file}`];
  for (const p of r.problems) lines.push(`  ${p.text.replace(/\n/g, '\n  ')}`);
  if (r.goldenDir) lines.push(`  golden case: ${r.goldenDir}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`differential: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
