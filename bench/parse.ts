// Core parsing speed of the iptables-save reader on kube-proxy-sized dumps, in a warm process
// (secondary: `kpsim parse` end to end, against `iptables-restore --test` of the same rules, is
// in the end-to-end table, e2e/).
//
// Each dump is also parsed and its whole IR read (every table's lines, chains and commands, as
// the packet simulator and `kpsim parse --json` do): `parse_and_whole_ir_*`.
//
// Dumps: the compiler's restore input for a generated cluster of 10k services x 10 endpoints
// (about 450k lines) and each size's ruleset in the kernel's spelling. Each parse runs in a child
// process so peak memory is that parse's own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCluster } from '../src/compiler/index.js';
import { DiagnosticSink } from '../src/diag/diagnostic.js';
import { parseIptablesSave, renderSave } from '../src/iptables-save/index.js';
import { generateCluster } from './generate.js';

const REPEAT = 3;
/** Parses that also read the whole IR take longer and hold more: fewer of them. */
const REPEAT_WHOLE = 2;

function restoreInput(services: number, endpoints: number): string {
  const sink = new DiagnosticSink();
  return compileCluster(generateCluster(services, endpoints), {}, sink).restore;
}

const lineCount = (text: string) => text.split('\n').length - 1;

/**
 * Best-of-REPEAT parse time and RSS growth, measured in a fresh child process: `peakMB` is the RSS
 * after a parse (the result still held), `maxMB` the process's high-water mark (getrusage), which
 * also counts the garbage of the parse before it was collected, `firstMB` the RSS after the first
 * parse (one result held, none before it).
 */
function measureParse(file: string, whole = false): { ms: number; peakMB: number; maxMB: number; firstMB: number; shapes: number; errors: number } {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [...process.execArgv, self, whole ? '--child-whole' : '--child', file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Every line of every table: what a consumer of the whole IR (packetsim, `kpsim parse --json`) reads. */
function readWholeIr(r: ReturnType<typeof parseIptablesSave>): number {
  let n = 0;
  for (const t of r.ruleset!.tables) n += t.lines.length + t.chains.length + t.commands.length;
  return n;
}

async function child(file: string, whole: boolean): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const { plannedShapes } = await import('../src/iptables-save/plan.js');
  const text = readFileSync(file, 'utf8');
  const base = process.memoryUsage().rss;
  let peak = base;
  let first = 0;
  let best = Infinity;
  let errors = 0;
  for (let i = 0; i < (whole ? REPEAT_WHOLE : REPEAT); i++) {
    const t0 = performance.now();
    const r = parseIptablesSave(text, { file, family: 'ipv4' });
    if (whole) readWholeIr(r);
    best = Math.min(best, performance.now() - t0);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (i === 0) first = process.memoryUsage().rss;
    errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  }
  const maxMB = (process.resourceUsage().maxRSS * 1024 - base) / 2 ** 20;
  process.stdout.write(JSON.stringify({ ms: best, peakMB: (peak - base) / 2 ** 20, maxMB, firstMB: (first - base) / 2 ** 20, shapes: plannedShapes(), errors }) + '\n');
}

export async function benchParse(sizes: readonly number[] = [10_000, 20_000]): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'kpsim-bench-parse-'));
  const results: Record<string, number | string> = {};
  try {
    const label = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));
    const dumps = function* (): Generator<[string, string]> {
      for (const n of sizes) {
        const restore = restoreInput(n, 10);
        if (n === 10_000) yield [`restore-${label(n)}x10`, restore];
        yield [`save-${label(n)}x10`, renderSave(parseIptablesSave(restore, { file: 'restore', family: 'ipv4' }).ruleset!)];
      }
    };
    for (const [name, text] of dumps()) {
      const file = join(dir, `${name}.rules`);
      writeFileSync(file, text);
      const lines = lineCount(text);
      const m = measureParse(file);
      results[`${name}.lines`] = lines;
      results[`${name}.MB`] = round(Buffer.byteLength(text) / 2 ** 20);
      results[`${name}.parse_ms`] = round(m.ms);
      results[`${name}.lines_per_s`] = Math.round((lines / m.ms) * 1000);
      results[`${name}.peak_rss_growth_MB`] = round(m.peakMB);
      results[`${name}.memory_x_file`] = round(m.peakMB / (Buffer.byteLength(text) / 2 ** 20));
      results[`${name}.max_rss_growth_MB`] = round(m.maxMB);
      results[`${name}.max_rss_x_file`] = round(m.maxMB / (Buffer.byteLength(text) / 2 ** 20));
      // parse and build the whole IR; its memory is that of one whole IR held (the first parse: the
      // second one's RSS also holds the first's IR when it was not collected yet, up to twice as much)
      const w = measureParse(file, true);
      results[`${name}.parse_and_whole_ir_ms`] = round(w.ms);
      results[`${name}.parse_and_whole_ir_lines_per_s`] = Math.round((lines / w.ms) * 1000);
      results[`${name}.parse_and_whole_ir_memory_x_file`] = round(w.firstMB / (Buffer.byteLength(text) / 2 ** 20));
      results[`${name}.parse_and_whole_ir_peak_rss_x_file`] = round(w.peakMB / (Buffer.byteLength(text) / 2 ** 20));
      results[`${name}.shapes`] = m.shapes;
      results[`${name}.parse_errors`] = m.errors;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

const round = (n: number) => Math.round(n * 100) / 100;

if (process.argv[2] === '--child' || process.argv[2] === '--child-whole') {
  await child(process.argv[3], process.argv[2] === '--child-whole');
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await benchParse());
}

