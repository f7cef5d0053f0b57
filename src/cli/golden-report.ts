// The three shapes of `kpsim golden`'s report: text for people (a unified diff per file that
// differs, each failing flow with both answers and the rule path behind kpsim's), JSON for tools
// (fields may be added, never renamed), JUnit XML for CI systems.
import type { FlowExpectation } from '../golden/flows-file.js';
import { caseStatus, type CaseResult, type CaseStatus, type CheckResult, type FlowAnswer } from '../golden/result.js';
import { NO_STYLE, unifiedDiff, type DiffStyle } from '../golden/unified-diff.js';

export interface Paint extends DiffStyle {
  readonly fail: (s: string) => string;
  readonly skip: (s: string) => string;
  readonly dim: (s: string) => string;
}

export const PAINT_NONE: Paint = { ...NO_STYLE, fail: (s) => s, skip: (s) => s, dim: (s) => s };
const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const PAINT_ANSI: Paint = { removed: sgr('31'), added: sgr('32'), hunk: sgr('36'), fail: sgr('31;1'), skip: sgr('33;1'), dim: sgr('2') };

export type Tally = Record<CaseStatus, number>;

function checkDiff(k: CheckResult, style: DiffStyle): string {
  if (k.kind !== 'file' || k.expected === undefined || k.actual === undefined) return '';
  return unifiedDiff(k.expected, k.actual, { expected: `${k.file} (expected)`, actual: `${k.file} (kpsim)` }, style);
}

function answerText(a: FlowExpectation | (Omit<FlowAnswer, 'probabilities' | 'affinity'> & { probabilities?: FlowAnswer['probabilities']; affinity?: string })): string {
  const out = a.output === undefined ? '(none)' : JSON.stringify(a.output);
  const probs = a.probabilities ? `, probabilities {${[...a.probabilities].map(([d, p]) => `${JSON.stringify(d)}: ${p}`).join(', ')}}` : '';
  const affinity = a.affinity !== undefined ? `, affinity ${a.affinity}` : '';
  return `output ${out}, masq ${a.masq ?? '(none)'}${probs}${affinity}`;
}

function flowText(k: CheckResult, paint: Paint): string[] {
  const f = k.flow!;
  // Show the actual probabilities only when the flow pins them.
  const actual = { ...f.actual, probabilities: f.expected.probabilities ? f.actual.probabilities : undefined, affinity: f.expected.affinity !== undefined ? f.actual.affinity : undefined };
  return [`    expected: ${answerText(f.expected)}`, `    kpsim:    ${answerText(actual)}`, ...f.actual.paths.map((p) => paint.dim(`      ${p}`))];
}

export function textReport(results: readonly CaseResult[], updated: readonly string[], tally: Tally, paint: Paint, diagnostics: (r: CaseResult) => string[]): string {
  const out: string[] = [];
  for (const r of results) {
    const status = caseStatus(r);
    if (status === 'pass') continue;
    out.push(status === 'fail' ? paint.fail(`FAIL ${r.dir}`) : paint.skip(`SKIP ${r.dir}`));
    out.push(...diagnostics(r).map((d) => d.replace(/^/gm, '  ')));
    for (const k of r.checks) {
      if (k.status === 'pass') continue;
      out.push(`  ${k.status === 'skip' ? 'skipped' : 'failed'}: ${k.name}${k.message ? `: ${k.message}` : ''}`);
      if (k.status === 'fail' && k.kind === 'flow' && k.flow) out.push(...flowText(k, paint));
      else if (k.status === 'fail' && k.kind === 'assert') out.push(`    expected: ${k.expected}`, ...(k.actual !== undefined && k.actual.length < 200 ? [`    kpsim:    ${k.actual}`] : []));
      const d = checkDiff(k, paint);
      if (d) out.push(d.trimEnd());
    }
  }
  for (const f of updated) out.push(`updated ${f}`);
  out.push(`${tally.pass} passed, ${tally.fail} failed${tally.skip ? `, ${tally.skip} skipped` : ''}`);
  return out.join('\n') + '\n';
}

const mapObject = (m: ReadonlyMap<string, string> | undefined) => (m ? Object.fromEntries(m) : undefined);

export function jsonReport(results: readonly CaseResult[], updated: readonly string[], tally: Tally) {
  return {
    summary: { passed: tally.pass, failed: tally.fail, skipped: tally.skip },
    updated,
    cases: results.map((r) => ({
      dir: r.dir,
      status: caseStatus(r),
      checks: r.checks.map((k) => ({
        name: k.name,
        status: k.status,
        kind: k.kind,
        file: k.file,
        ...(k.message ? { message: k.message } : {}),
        ...(k.status === 'fail' && checkDiff(k, NO_STYLE) ? { diff: checkDiff(k, NO_STYLE) } : {}),
        ...(k.status === 'fail' && k.kind === 'assert' ? { expected: k.expected } : {}),
        ...(k.flow
          ? {
              flow: {
                expected: { output: k.flow.expected.output ?? null, masq: k.flow.expected.masq ?? null, probabilities: mapObject(k.flow.expected.probabilities), affinity: k.flow.expected.affinity },
                actual: { output: k.flow.actual.output, masq: k.flow.actual.masq, probabilities: mapObject(k.flow.actual.probabilities), affinity: k.flow.actual.affinity, paths: k.flow.actual.paths },
              },
            }
          : {}),
      })),
      diagnostics: r.diagnostics.flatMap((d) =>
        d.diagnostics.map((x) => ({ file: x.file ?? d.file, line: x.span?.line ?? null, col: x.span?.col ?? null, severity: x.severity, code: x.code, message: x.message })),
      ),
    })),
  };
}

function xml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}

/** JUnit XML: one testsuite per case, one testcase per check. */
export function junitReport(results: readonly CaseResult[]): string {
  const count = (r: CaseResult, s: CheckResult['status']) => r.checks.filter((k) => k.status === s).length;
  const all = results.flatMap((r) => r.checks);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kpsim golden" tests="${all.length}" failures="${all.filter((k) => k.status === 'fail').length}" skipped="${all.filter((k) => k.status === 'skip').length}">`,
  ];
  for (const r of results) {
    out.push(`  <testsuite name="${xml(r.dir)}" tests="${r.checks.length}" failures="${count(r, 'fail')}" skipped="${count(r, 'skip')}">`);
    for (const k of r.checks) {
      const open = `    <testcase classname="${xml(r.dir)}" name="${xml(k.name.startsWith(`${r.dir}`) ? k.name.slice(r.dir.length).replace(/^[/:] ?/, '') || k.name : k.name)}"`;
      if (k.status === 'pass') out.push(`${open}/>`);
      else if (k.status === 'skip') out.push(`${open}>`, `      <skipped message="${xml(k.message ?? '')}"/>`, '    </testcase>');
      else {
        const detail = k.flow ? flowText(k, PAINT_NONE).join('\n') : checkDiff(k, NO_STYLE) || (k.expected !== undefined ? `expected: ${k.expected}` : '');
        const diags = r.diagnostics.flatMap((d) => d.diagnostics.map((x) => `${x.file ?? d.file}:${x.span?.line ?? 0}:${x.span?.col ?? 0}: ${x.severity}[${x.code}]: ${x.message}`));
        const body = k.kind === 'load' ? diags.join('\n') : detail;
        out.push(`${open}>`, `      <failure message="${xml(k.message ?? 'differs')}">${xml(body)}</failure>`, '    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
