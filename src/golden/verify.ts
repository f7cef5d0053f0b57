// Verifies one golden case (and its steps, in order, with kube-proxy's sync history) against
// what kpsim computes. Returns one result per check; the CLI and the tests print them.
import YAML from 'yaml';
import { DiagnosticSink, type Diagnostic } from '../diag/diagnostic.js';
import { compileCluster, type Compiled } from '../compiler/index.js';
import type { SyncHistory, SyncState } from '../compiler/iptables/index.js';
import { chainLines } from '../compiler/iptables/restore.js';
import { loadCluster } from '../model/load.js';
import type { Cluster } from '../model/types.js';
import { stepSync, type CaseFiles } from './case.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** `<case>[/<step>]: <what>` */
  readonly name: string;
  readonly status: CheckStatus;
  readonly file: string | null;
  readonly expected?: string;
  readonly actual?: string;
  readonly message?: string;
}

export interface CaseResult {
  readonly dir: string;
  readonly checks: CheckResult[];
  readonly diagnostics: { file: string; text: string; diagnostics: Diagnostic[] }[];
  /** The compiled output of each sync, in order (the case first, then its steps). */
  readonly compiled: { dir: string; compiled: Compiled; cluster: Cluster; files: ReadonlyMap<string, string> }[];
}

export interface VerifyHooks {
  /** Extra checks on a compiled step (flows, save spelling): provided by later stages. */
  readonly checkStep?: (step: { dir: string; files: ReadonlyMap<string, string>; compiled: Compiled; cluster: Cluster }) => CheckResult[];
}

function serviceFingerprints(c: Cluster): Map<string, string> {
  const strip = (o: object) => JSON.stringify(o, (k, v) => (k === 'origin' ? undefined : typeof v === 'bigint' ? v.toString() : v));
  const m = new Map<string, string>();
  for (const s of c.services) m.set(`${s.namespace}/${s.name}`, strip(s));
  for (const sl of [...c.slices].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const k = `${sl.namespace}/${sl.serviceName}`;
    m.set(k, (m.get(k) ?? '') + strip(sl));
  }
  return m;
}

function changed(prev: Map<string, string>, cur: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of cur) if (prev.get(k) !== v) out.add(k);
  for (const k of prev.keys()) if (!cur.has(k)) out.add(k);
  return out;
}

export function verifyCase(c: CaseFiles, hooks: VerifyHooks = {}): CaseResult {
  const result: CaseResult = { dir: c.dir, checks: [], diagnostics: [], compiled: [] };
  const syncs = [c, ...c.steps];
  let state: SyncState | null = null;
  let prints: Map<string, string> | null = null;
  let needFull = true;
  syncs.forEach((step, i) => {
    const label = i === 0 ? c.dir : step.dir;
    const clusterText = step.files.get('cluster.yaml');
    if (clusterText === undefined) return;
    const sink = new DiagnosticSink();
    const cluster = loadCluster([{ name: `${step.dir}/cluster.yaml`, text: clusterText }], sink);
    const stepYaml = step.files.has('step.yaml') ? (YAML.parse(step.files.get('step.yaml')!) as Record<string, unknown>) : null;
    const sync = i === 0 ? { full: true, cleanupDue: true, fails: false } : stepSync(step.dir.split('/').pop() ?? '', stepYaml);
    const cur = serviceFingerprints(cluster);
    const full = sync.full || needFull;
    const history: SyncHistory | undefined = state
      ? { previous: state, changedServices: full ? null : changed(prints!, cur), cleanupDue: sync.cleanupDue }
      : undefined;
    const compiled = compileCluster(cluster, {}, sink, history);
    if (sink.items.length > 0) result.diagnostics.push({ file: `${step.dir}/cluster.yaml`, text: clusterText, diagnostics: sink.items });
    if (sink.hasErrors) {
      result.checks.push({ name: `${label}: load`, status: 'fail', file: `${step.dir}/cluster.yaml`, message: `${sink.errors.length} error(s) in cluster.yaml` });
      return;
    }
    result.compiled.push({ dir: step.dir, compiled, cluster, files: step.files });
    if (sync.fails) {
      // kube-proxy lost the change set: the next sync is full, the kernel keeps its old state.
      needFull = true;
    } else {
      state = compiled.iptables.state;
      prints = cur;
      needFull = false;
    }
    result.checks.push(...checkRestore(label, step, compiled), ...(hooks.checkStep?.({ dir: step.dir, files: step.files, compiled, cluster }) ?? []));
  });
  return result;
}

function compare(name: string, file: string, expected: string, actual: string): CheckResult {
  return { name, file, status: expected === actual ? 'pass' : 'fail', expected, actual };
}

function checkRestore(label: string, step: CaseFiles, compiled: Compiled): CheckResult[] {
  const out: CheckResult[] = [];
  for (const f of ['iptables-save.txt', 'partial-sync-restore.txt']) {
    const expected = step.files.get(f);
    if (expected !== undefined) out.push(compare(`${label}: ${f}`, `${step.dir}/${f}`, expected, compiled.restore));
  }
  const partial = step.files.get('iptables-partial.txt');
  const partialYaml = step.files.get('partial.yaml');
  if (partial !== undefined && partialYaml !== undefined) {
    const p = YAML.parse(partialYaml) as { table: 'filter' | 'nat'; chain: string };
    const table = compiled.iptables.data[p.table];
    const actual = table ? chainLines(table, p.chain).map((l) => l + '\n').join('') : '';
    out.push(compare(`${label}: iptables-partial.txt (${p.table} ${p.chain})`, `${step.dir}/iptables-partial.txt`, partial, actual));
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
    out.push({ name: `${label}: ${name}`, file, status: expected === actual ? 'pass' : 'fail', expected: String(expected), actual: String(actual) });
  if (c.dnatLines?.count !== undefined) num('DNAT line count', c.dnatLines.count, dnat.length);
  if (c.dnatLines?.withComment !== undefined) num('DNAT lines with a comment', c.dnatLines.withComment, dnat.filter((l) => l.includes('--comment')).length);
  if (c.lineContaining) {
    const hit = dnat.filter((l) => l.includes(c.lineContaining!.substring)).pop() ?? '';
    out.push(compare(`${label}: DNAT line containing ${c.lineContaining.substring}`, file, c.lineContaining.equals, hit));
  }
  for (const s of c.restoreInputContains ?? []) {
    out.push({ name: `${label}: restore input contains '${s}'`, file, status: compiled.restore.includes(s) ? 'pass' : 'fail', expected: s, actual: compiled.restore });
  }
  for (const s of c.restoreInputDoesNotContain ?? []) {
    out.push({ name: `${label}: restore input lacks '${s}'`, file, status: compiled.restore.includes(s) ? 'fail' : 'pass', expected: `no '${s}'`, actual: compiled.restore });
  }
  if (c.table && c.chain && c.ruleWithDestination !== undefined && c.expectedPresent !== undefined) {
    const rules = compiled.iptables.data[c.table].rules.get(c.chain) ?? [];
    const present = rules.some((r) => ` ${r} `.includes(` -d ${c.ruleWithDestination} `));
    out.push({
      name: `${label}: ${c.table} ${c.chain} rule with -d ${c.ruleWithDestination} ${c.expectedPresent ? 'present' : 'absent'}`,
      file,
      status: present === c.expectedPresent ? 'pass' : 'fail',
      expected: String(c.expectedPresent),
      actual: String(present),
    });
  }
  return out;
}
