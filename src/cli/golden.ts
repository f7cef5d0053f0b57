// `kpsim golden DIR`: verify every golden case under DIR (restore input, node rules, packet
// flows), print what differs, and with --update rewrite the expected files from kpsim's answers.
// `kpsim golden init DIR CLUSTER.yaml` starts a new case. Only this file touches the disk.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SourceText } from '../diag/source.js';
import { formatDiagnostics } from '../diag/format.js';
import type { CaseFiles } from '../golden/case.js';
import { caseStatus, type CaseResult, type CaseStatus } from '../golden/result.js';
import { starterFlows, starterFlowsText } from '../golden/starter-flows.js';
import { verifyCase } from '../golden/verify.js';
import { action, checkOutputPath, diagnosticFormat, EXIT_BAD_INPUT, EXIT_OK, makeDirectory, UsageError, useColor, writeAtomic } from './common.js';
import { findCases, readCase } from './golden-read.js';
import { junitReport, jsonReport, textReport, type Paint, PAINT_ANSI, PAINT_NONE } from './golden-report.js';
import { addClusterFlags, compileLoaded, compileOptions, loadClusterInputs, type ClusterFlags } from './load-cluster.js';
import { renderCaseOptions } from '../golden/case-options.js';

interface GoldenFlags {
  update?: boolean;
  json?: boolean;
  junit?: string;
}

export function registerGolden(program: Command): void {
  const golden = program
    .command('golden')
    .description('golden-file regression tests: verify every case under DIR (rules and packet flows), or rewrite them with --update')
    .argument('<dir>', 'a case folder, or any tree of them')
    .option('--update', "rewrite the expected files that differ from kpsim's answers")
    .option('--json', 'a machine-readable report on stdout')
    .option('--junit <file>', 'also write a JUnit XML report to FILE')
    .addHelpText(
      'after',
      `
Examples:
  kpsim golden init cases/web cluster.yaml     a new case: expected rules and flows with kpsim's answers
  kpsim golden cases/ --junit golden.xml       verify every case; exit 1 on any difference
  kpsim golden cases/ --update                 accept a change on purpose, then review the diff`,
    )
    .action(action((dir: string, flags: GoldenFlags) => runGolden(dir, flags)));
  const init = golden
    .command('init')
    .description('start a case: DIR/cluster.yaml, a flows.yaml with a starting set of packets, and the expected files')
    .argument('<dir>', 'the new case folder')
    .argument('<cluster>', 'the cluster YAML to copy into it')
    .addHelpText(
      'after',
      `
Examples:
  kpsim golden init cases/web cluster.yaml
  kpsim golden init cases/worker-2 cluster.yaml --node worker-2 --mode ipvs   the options are kept in options.yaml`,
    );
  addClusterFlags(init).action(action((dir: string, cluster: string, flags: ClusterFlags) => runInit(dir, cluster, flags)));
}

function progress(enabled: boolean): (i: number, n: number, dir: string) => void {
  if (!enabled) return () => {};
  return (i, n, dir) => process.stderr.write(i >= n ? '\r\x1b[K' : `\r\x1b[K[${i + 1}/${n}] ${dir}`);
}

function runGolden(dir: string, flags: GoldenFlags): number {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: no such directory`);
  checkOutputPath(flags.junit, 'file', '--junit');
  const cases = findCases(dir);
  if (cases.length === 0) throw new UsageError(`${dir}: no golden cases (folders with a cluster.yaml or an iptables-save.txt)`);
  const show = progress(!flags.json && Boolean(process.stderr.isTTY));
  const results: CaseResult[] = [];
  const updated: string[] = [];
  cases.forEach((c, i) => {
    show(i, cases.length, c.dir);
    let r = verifyCase(c);
    if (flags.update && r.rewrites.length) {
      for (const w of r.rewrites) {
        // Write only what really differs on disk (steps may share nothing, but be sure).
        if (!existsSync(w.file) || readFileSync(w.file, 'utf8') !== w.content) {
          writeAtomic(w.file, w.content);
          updated.push(w.file);
        }
      }
      r = verifyCase(readCase(c.dir));
    }
    results.push(r);
  });
  show(cases.length, cases.length, '');
  const tally = { pass: 0, fail: 0, skip: 0 } satisfies Record<CaseStatus, number>;
  for (const r of results) tally[caseStatus(r)]++;
  if (flags.junit) writeAtomic(flags.junit, junitReport(results));
  if (flags.json) process.stdout.write(JSON.stringify(jsonReport(results, updated, tally), null, 2) + '\n');
  else {
    const paint: Paint = useColor(process.stdout) ? PAINT_ANSI : PAINT_NONE;
    const format = diagnosticFormat(process.stdout);
    const diag = (r: CaseResult) => r.diagnostics.flatMap((d) => formatDiagnostics(d.diagnostics, (f) => (f === d.file ? new SourceText(d.file, d.text) : undefined), format));
    process.stdout.write(textReport(results, updated, tally, paint, diag));
  }
  return tally.fail > 0 ? EXIT_BAD_INPUT : EXIT_OK;
}

function runInit(dir: string, clusterPath: string, flags: ClusterFlags): number {
  for (const f of ['cluster.yaml', 'flows.yaml']) {
    if (existsSync(join(dir, f))) throw new UsageError(`${join(dir, f)} exists: ${dir} already holds a case (kpsim golden ${dir} --update rewrites its answers)`);
  }
  // Reports bad input the compiler's way (exit 1, nothing written).
  const loaded = loadClusterInputs([clusterPath], flags);
  const compiled = compileLoaded(loaded, flags);
  const { cluster, files: inputs, row } = loaded;
  const text = inputs.length === 1 ? inputs[0].text : inputs.map((f) => `# ${f.name}\n${f.text}`).join('\n---\n');
  // The flags the case was made with, so that verifying it compiles the same node the same way.
  const { family, ...compile } = compileOptions(flags);
  const optionsText = renderCaseOptions({ mode: flags.mode, compile: { ...compile, ...(family ? { family } : {}) } });
  // The new case, in memory, with empty expected files: verifying it yields every answer.
  const draft: CaseFiles = {
    dir,
    files: new Map([
      ['cluster.yaml', text],
      ['flows.yaml', starterFlowsText(starterFlows(cluster, compiled.settings), row.tracerReference)],
      ...row.goldenFiles.map((f) => [f, ''] as [string, string]),
      ...(optionsText === null ? [] : [['options.yaml', optionsText] as [string, string]]),
    ]),
    steps: [],
  };
  const r = verifyCase(draft);
  const files = new Map(draft.files);
  for (const w of r.rewrites) files.set(w.file.slice(dir.length + 1), w.content);
  makeDirectory(dir);
  for (const [name, content] of files) {
    writeAtomic(join(dir, name), content);
    process.stdout.write(`created ${join(dir, name)}\n`);
  }
  const flows = r.checks.filter((k) => k.kind === 'flow').length;
  process.stdout.write(`${flows} flow${flows === 1 ? '' : 's'}; review them, then commit the case\n`);
  return EXIT_OK;
}
