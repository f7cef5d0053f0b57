// Core compile speed (secondary: the end-to-end table in e2e/ is what a user waits for): typed
// objects of generated clusters of 1k, 10k and 20k services x 10 endpoints (mixed types and
// policies) -> kube-proxy's restore input, in a warm process, best of three. Each size runs in a
// child process so its peak memory is its own.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateCluster } from './generate.js';
import { compileCluster } from '../src/compiler/index.js';
import { DiagnosticSink } from '../src/diag/diagnostic.js';

export const COMPILE_SIZES = [1000, 10000, 20000] as const;
const ENDPOINTS = 10;

interface OneRun {
  services: number;
  lines: number;
  seconds: number;
  cpuSeconds: number;
  peakMB: number;
}

/** Child process entry: compile one size, report on stdout (the restore text goes to a file). */
export function compileOnce(services: number, runs = 3): OneRun {
  const cluster = generateCluster(services, ENDPOINTS);
  let best = Infinity;
  let bestCpu = Infinity;
  let lines = 0;
  for (let i = 0; i < runs; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const out = compileCluster(cluster, {}, new DiagnosticSink());
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, seconds);
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
    lines = out.restore.split('\n').length - 1;
  }
  return { services, lines, seconds: best, cpuSeconds: bestCpu, peakMB: process.resourceUsage().maxRSS / 1024 };
}

export function benchCompile(sizes: readonly number[] = COMPILE_SIZES): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const self = fileURLToPath(import.meta.url);
  for (const n of sizes) {
    const child = spawnSync(process.execPath, [...process.execArgv, self, '--child', String(n)], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (child.status !== 0) throw new Error(`compile benchmark for ${n} services failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout) as OneRun;
    out[`compile ${n} services: seconds`] = r.seconds;
    out[`compile ${n} services: cpu seconds`] = r.cpuSeconds;
    out[`compile ${n} services: peak MB`] = Math.round(r.peakMB);
    out[`compile ${n} services: rules/s`] = Math.round(r.lines / r.seconds);
  }
  return out;
}

if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(compileOnce(Number(process.argv[3]))));
}
