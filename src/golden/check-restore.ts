// The restore-input checks of a case: iptables-save.txt / partial-sync-restore.txt compared
// byte for byte after kube-proxy's canonical order (the corpus README section 4: kpsim already
// prints that order), one chain against iptables-partial.txt, and checks.yaml's line-level
// assertions (TestSyncProxyRulesLargeClusterMode, the ipMode tests).
import YAML from 'yaml';
import type { Compiled } from '../compiler/index.js';
import { chainLines } from '../compiler/iptables/restore.js';
import type { CaseFiles } from './case.js';
import type { CheckResult } from './result.js';

export function compareText(name: string, file: string, expected: string, actual: string): CheckResult {
  return { name, file, kind: 'file', status: expected === actual ? 'pass' : 'fail', expected, actual };
}

export function checkRestore(label: string, step: CaseFiles, compiled: Compiled): CheckResult[] {
  const out: CheckResult[] = [];
  for (const f of ['iptables-save.txt', 'partial-sync-restore.txt']) {
    const expected = step.files.get(f);
    if (expected !== undefined) out.push(compareText(`${label}: ${f}`, `${step.dir}/${f}`, expected, compiled.restore));
  }
  const partial = step.files.get('iptables-partial.txt');
  const partialYaml = step.files.get('partial.yaml');
  if (partial !== undefined && partialYaml !== undefined) {
    const p = YAML.parse(partialYaml) as { table: 'filter' | 'nat'; chain: string };
    const table = compiled.iptables.data[p.table];
    const actual = table ? chainLines(table, p.chain).map((l) => l + '\n').join('') : '';
    out.push(compareText(`${label}: iptables-partial.txt (${p.table} ${p.chain})`, `${step.dir}/iptables-partial.txt`, partial, actual));
  }
  const checks = step.files.get('checks.yaml');
  if (checks !== undefined) out.push(...lineChecks(label, `${step.dir}/checks.yaml`, YAML.parse(checks) as LineChecks, compiled));
  return out;
}

interface LineChecks {
  dnatLines?: { count?: number; withComment?: number };
  lineContaining?: { substring: string; equals: string };
  restoreInputContains?: string[];
  restoreInputDoesNotContain?: string[];
  table?: 'filter' | 'nat';
  chain?: string;
  ruleWithDestination?: string;
  expectedPresent?: boolean;
}

/** The line-level assertions of checks.yaml (TestSyncProxyRulesLargeClusterMode, ipMode tests). */
function lineChecks(label: string, file: string, c: LineChecks, compiled: Compiled): CheckResult[] {
  const out: CheckResult[] = [];
  const lines = compiled.restore.split('\n');
  const dnat = lines.filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('-j DNAT'));
  const num = (name: string, expected: number, actual: number) =>
    out.push({ name: `${label}: ${name}`, file, kind: 'assert', status: expected === actual ? 'pass' : 'fail', expected: String(expected), actual: String(actual) });
  if (c.dnatLines?.count !== undefined) num('DNAT line count', c.dnatLines.count, dnat.length);
  if (c.dnatLines?.withComment !== undefined) num('DNAT lines with a comment', c.dnatLines.withComment, dnat.filter((l) => l.includes('--comment')).length);
  if (c.lineContaining) {
    const hit = dnat.filter((l) => l.includes(c.lineContaining!.substring)).pop() ?? '';
    out.push({ ...compareText(`${label}: DNAT line containing ${c.lineContaining.substring}`, file, c.lineContaining.equals, hit), kind: 'assert' });
  }
  for (const s of c.restoreInputContains ?? []) {
    out.push({ name: `${label}: restore input contains '${s}'`, file, kind: 'assert', status: compiled.restore.includes(s) ? 'pass' : 'fail', expected: s, actual: compiled.restore });
  }
  for (const s of c.restoreInputDoesNotContain ?? []) {
    out.push({ name: `${label}: restore input lacks '${s}'`, file, kind: 'assert', status: compiled.restore.includes(s) ? 'fail' : 'pass', expected: `no '${s}'`, actual: compiled.restore });
  }
  if (c.table && c.chain && c.ruleWithDestination !== undefined && c.expectedPresent !== undefined) {
    const rules = compiled.iptables.data[c.table].rules.get(c.chain) ?? [];
    const present = rules.some((r) => ` ${r} `.includes(` -d ${c.ruleWithDestination} `));
    out.push({
      name: `${label}: ${c.table} ${c.chain} rule with -d ${c.ruleWithDestination} ${c.expectedPresent ? 'present' : 'absent'}`,
      file,
      kind: 'assert',
      status: present === c.expectedPresent ? 'pass' : 'fail',
      expected: String(c.expectedPresent),
      actual: String(present),
    });
  }
  return out;
}
