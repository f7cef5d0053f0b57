// Verifies one golden case against what kpsim computes, in the mode its configuration selects
// (src/modes.ts: each row verifies its own cases). Returns one result per check and the files
// `--update` would rewrite; the CLI and the tests print them.
import { DiagnosticSink } from '../diag/diagnostic.js';
import { loadCluster } from '../model/load.js';
import { configuredMode, modeNamed, MODES } from '../modes.js';
import { NOT_BUILT_FILES, type CaseFiles } from './case.js';
import { NO_OPTIONS, parseCaseOptions } from './case-options.js';
import type { CaseResult } from './result.js';

export type { CaseResult, CheckResult, CheckStatus } from './result.js';

export function verifyCase(c: CaseFiles): CaseResult {
  const result: CaseResult = { dir: c.dir, checks: [], diagnostics: [], compiled: [], rewrites: [] };
  for (const step of [c, ...c.steps]) {
    for (const [f, what] of Object.entries(NOT_BUILT_FILES)) {
      if (step.files.has(f)) result.checks.push({ name: `${step.dir}: ${f}`, status: 'skip', kind: 'unsupported', file: `${step.dir}/${f}`, message: `not checked: kpsim does not build ${what} yet` });
    }
  }
  let options = NO_OPTIONS;
  const optionsText = c.files.get('options.yaml');
  if (optionsText !== undefined) {
    const file = `${c.dir}/options.yaml`;
    const r = parseCaseOptions(optionsText, file);
    if (r.diagnostics.length) {
      result.diagnostics.push({ file, text: optionsText, diagnostics: r.diagnostics });
      result.checks.push({ name: `${c.dir}: options.yaml`, status: 'fail', kind: 'load', file, message: `${r.diagnostics.length} error(s) in options.yaml` });
      return result;
    }
    options = r.options;
  }
  const clusterText = c.files.get('cluster.yaml');
  // A case without objects is the mode's whose files it holds (a ruleset traced on its own,
  // chain-name checks).
  const objectless = () => (MODES.find((m) => m.objectlessFiles.some((f) => c.files.has(f))) ?? MODES[0]).name;
  const mode = options.mode ?? (clusterText === undefined ? objectless() : configuredMode(loadCluster([{ name: `${c.dir}/cluster.yaml`, text: clusterText }], new DiagnosticSink())));
  const row = modeNamed(mode);
  if (typeof row === 'string') {
    result.checks.push({ name: `${c.dir}: mode ${mode}`, status: 'skip', kind: 'unsupported', file: `${c.dir}/cluster.yaml`, message: `not checked: the configuration asks for ${mode} mode: ${row}` });
    return result;
  }
  row.verifyCase(c, result, options.compile);
  for (const k of result.checks) {
    if (k.kind === 'file' && k.status === 'fail' && k.file && k.actual !== undefined && !result.rewrites.some((r) => r.file === k.file)) result.rewrites.push({ file: k.file, content: k.actual });
  }
  return result;
}

