// The end-to-end rows of one cluster size: each a `kpsim` command a user runs on the files a user
// has, timed as a fresh process (median of --runs), next to the kernel's own check of the same
// rules (`iptables-restore --test`, `nft -c -f`) run in the same benchmark.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { clusterFiles, fileMB, flowsFile, SHAPES, type ClusterFiles, type Shape } from '../kubectl/files.js';
import { analyseRows } from './analyse.js';
import { runKpsim, traceHasOption } from './kpsim.js';
import { measureRuns, medianOf, type Measured } from './measure.js';
import { iptablesRestoreTest, nftCheck, type Availability } from './netns.js';

export const GROUPS = ['compile', 'parse', 'trace', 'flows', 'analyse', 'nftables'] as const;
export type Group = (typeof GROUPS)[number];

export interface E2eOptions {
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly only: ReadonlySet<Group>;
  /** Packets in the bulk flows file. */
  readonly packets: number;
  readonly seed: number;
  /** Longest a single process may run before it is killed and the row reports a timeout. */
  readonly timeoutS: number;
  /** Seconds a bulk flows run may take; past it the row measures fewer packets, once. */
  readonly flowsBudgetS: number;
  readonly cacheDir: string;
}

export type Outcome =
  | { readonly kind: 'measured'; readonly m: Measured }
  | { readonly kind: 'failed'; readonly why: string; readonly exitCode?: number }
  | { readonly kind: 'skipped'; readonly why: string };

/** Row ids name the targets (targets.ts). */
export type RowId = 'kernel' | `compile ${Shape}` | 'parse' | 'trace rules' | 'trace cluster' | 'flows' | 'explain' | 'lint' | 'diff' | 'diff drift' | 'nftables' | 'nft kernel' | 'nft parse' | 'nft trace' | 'nft flows';

export interface Row {
  readonly services: number;
  readonly id: RowId;
  readonly label: string;
  /** The command as run, in the size's folder. */
  readonly command: string;
  readonly inputMB: number;
  readonly outcome: Outcome;
  /** The kernel's wall time on the same rules, for the ratio; null when it did not run. */
  readonly kernelS: number | null;
  readonly flows?: { readonly packets: number; readonly pps: number; readonly perPacketUs: number };
  readonly notes: readonly string[];
}

export interface SizeResult {
  readonly files: ClusterFiles;
  readonly rulesLines: number | null;
  readonly rows: readonly Row[];
}

const RULES = 'out/node.rules';

type Timed = (args: string[], name: string, how?: { runs?: number; timeoutS?: number; exit?: number }) => Outcome;

/** Everything selected for one size, in the table's order. */
export function runSize(services: number, opts: E2eOptions, iptables: Availability, nft: Availability): SizeResult {
  const files = clusterFiles(opts.cacheDir, services, opts.seed);
  const cwd = files.dir;
  mkdirSync(join(cwd, 'out'), { recursive: true });
  const timed: Timed = (args, name, { runs = opts.runs, timeoutS = opts.timeoutS, exit = 0 } = {}) => outcome(measureRuns(runs, () => runKpsim(args, { cwd, stdout: `out/${name}.out`, stderr: `out/${name}.err` }, timeoutS), exit));
  const mb = (...paths: string[]) => paths.reduce((sum, p) => sum + fileMB(join(cwd, p)), 0);
  const pending: Omit<Row, 'kernelS' | 'services'>[] = [];

  if (opts.only.has('compile')) {
    for (const [shape, { file, label }] of Object.entries(SHAPES) as [Shape, (typeof SHAPES)[Shape]][]) {
      const inputs = shape === 'bare' ? [file] : ['config.yaml', file];
      const args = ['compile', ...inputs];
      const o = timed(args, `compile-${shape}`);
      pending.push({ id: `compile ${shape}`, label: `compile ${label}`, command: `kpsim ${args.join(' ')} > out/compile-${shape}.out`, inputMB: mb(...inputs), outcome: o, notes: [] });
    }
    sameRulesFromEveryShape(cwd, pending);
  }
  const needRules = opts.only.has('compile') || opts.only.has('parse') || opts.only.has('trace') || opts.only.has('flows') || opts.only.has('analyse');
  const bareCompiled = pending.some((r) => r.id === 'compile bare' && r.outcome.kind === 'measured');
  const rules = needRules ? nodeRules(cwd, bareCompiled, opts.timeoutS) : null;
  const kernel = rules === null || !(opts.only.has('compile') || opts.only.has('parse') || opts.only.has('trace') || opts.only.has('analyse')) ? null : kernelRow(services, cwd, opts.runs, iptables);

  if (rules !== null && opts.only.has('parse')) {
    const args = ['parse', RULES];
    pending.push({ id: 'parse', label: 'parse node.rules', command: `kpsim ${args.join(' ')} > /dev/null`, inputMB: mb(RULES), outcome: timed(args, 'parse'), notes: [] });
  }
  if (rules !== null && opts.only.has('trace')) {
    const { svc, src } = tracedPacket(files);
    const byRules = ['trace', '--rules', RULES, '--node-ip', files.facts.nodeIP, '--src', src, '--dst', `${svc.clusterIP}:${svc.port}`, '-p', 'tcp'];
    pending.push({ id: 'trace rules', label: 'trace --rules node.rules (one packet)', command: `kpsim ${byRules.join(' ')}`, inputMB: mb(RULES), outcome: timed(byRules, 'trace-rules'), notes: [] });
    const byCluster = ['trace', SHAPES.bare.file, '--src', src, '--dst', `${svc.namespace}/${svc.name}:${svc.portName}`];
    pending.push({ id: 'trace cluster', label: 'trace bare.yaml (one packet)', command: `kpsim ${byCluster.join(' ')}`, inputMB: mb(SHAPES.bare.file), outcome: timed(byCluster, 'trace-cluster'), notes: [] });
  }
  if (rules !== null && opts.only.has('flows')) pending.push(flowsRow(files, opts, timed, mb, RULES, 'flows'));
  if (rules !== null && opts.only.has('analyse')) pending.push(...analyseRows(files, RULES, opts.seed, timed, mb));
  if (needRules && rules === null) {
    const why = `no node.rules: kpsim compile ${SHAPES.bare.file} failed (out/node-rules.err)`;
    pending.push({ id: 'parse', label: 'parse, trace, flows and analyse rows', command: `kpsim compile ${SHAPES.bare.file} > ${RULES}`, inputMB: 0, outcome: { kind: 'skipped', why }, notes: [] });
  }

  const kernelS = kernel?.outcome.kind === 'measured' ? kernel.outcome.m.wallS : null;
  const rows: Row[] = kernel ? [kernel] : [];
  for (const p of pending) rows.push({ ...p, services, kernelS: p.id === 'flows' ? null : kernelS });
  if (opts.only.has('nftables')) rows.push(...nftablesRows(services, cwd, opts, nft, timed, mb, files));
  return { files, rulesLines: rules, rows };
}

function outcome(r: Measured | { failed: Measured }): Outcome {
  if (!('failed' in r)) return { kind: 'measured', m: r };
  const f = r.failed;
  if (f.timedOut) return { kind: 'failed', why: `timed out (killed after ${f.wallS.toFixed(0)} s)` };
  // node prints an empty line and its last collections before saying it ran out of heap.
  const oom = /JavaScript heap out of memory/.test(f.stderr) || /Last few GCs/.test(f.stderr);
  const said = oom ? 'JavaScript heap out of memory (node\'s default heap limit)' : (f.stderr.split('\n').find((l) => l.trim()) ?? '');
  return { kind: 'failed', exitCode: f.exitCode, why: `exit ${f.exitCode} after ${f.wallS.toFixed(0)} s, peak ${f.peakMB?.toFixed(0) ?? '?'} MB: ${said}` };
}

/** Every shape holds the same objects: their rules must be the same bytes. */
function sameRulesFromEveryShape(cwd: string, rows: Omit<Row, 'kernelS' | 'services'>[]): void {
  const texts = rows.map((r) => (r.outcome.kind === 'measured' ? readFileSync(join(cwd, `out/${r.id.replace(' ', '-')}.out`), 'utf8') : null));
  const first = texts.find((t) => t !== null);
  rows.forEach((r, i) => {
    if (texts[i] !== null && texts[i] !== first) (r.notes as string[]).push('its rules differ from those of the other shapes');
  });
}

/** out/node.rules: the bare cluster's compile output (timed in this run, or compiled now untimed); its line count. */
function nodeRules(cwd: string, bareCompiled: boolean, timeoutS: number): number | null {
  if (bareCompiled) copyFileSync(join(cwd, 'out/compile-bare.out'), join(cwd, RULES));
  else {
    const m = runKpsim(['compile', SHAPES.bare.file], { cwd, stdout: RULES, stderr: 'out/node-rules.err' }, timeoutS);
    if (m.exitCode !== 0) return null;
  }
  return readFileSync(join(cwd, RULES), 'utf8').split('\n').length - 1;
}

function kernelRow(services: number, cwd: string, runs: number, iptables: Availability): Row {
  const base = { services, id: 'kernel' as const, label: 'iptables-restore --test node.rules (kernel)', command: `ip netns exec kpsim-bench-… iptables-restore -w --test < ${RULES}`, inputMB: fileMB(join(cwd, RULES)), kernelS: null, notes: [] };
  if (!iptables.ok) return { ...base, outcome: { kind: 'skipped', why: iptables.reason } };
  try {
    return { ...base, outcome: outcome(measureRuns(runs, () => iptablesRestoreTest(join(cwd, RULES), { stderr: join(cwd, 'out/iptables-restore.err') }))) };
  } catch (e) {
    return { ...base, outcome: { kind: 'failed', why: String(e) } };
  }
}

/** A pod of one service to the cluster IP of a TCP ClusterIP service halfway down the list. */
function tracedPacket(files: ClusterFiles) {
  const svcs = files.facts.services;
  const half = Math.floor(svcs.length / 2);
  const svc = [...svcs.slice(half), ...svcs.slice(0, half)].find((s) => s.protocol === 'TCP' && s.nodePort === 0) ?? svcs[half];
  return { svc, src: svcs[(svcs.indexOf(svc) + 1) % svcs.length].endpoints[0] };
}

/**
 * Bulk trace: packets/s is the extra packets over the extra time of the same command on a
 * one-packet flows file (what reading the rules costs is the other rows' business; reading the
 * flows file is counted). The file's first 100, 1,000, 10,000 ... packets run once each while ten
 * times the last run fits the flows budget (a step is stopped at twice the budget); when the whole
 * file is reached it runs --runs times, else the row reports the last step and says so.
 */
function flowsRow(files: ClusterFiles, opts: E2eOptions, timed: Timed, mb: (...p: string[]) => number, rules: string, id: 'flows' | 'nft flows'): Omit<Row, 'kernelS' | 'services'> {
  const noPaths = traceHasOption('--no-paths');
  const notes = noPaths ? [] : ['without --no-paths (flag not built yet): every packet prints its rule paths'];
  const args = (f: string) => ['trace', '--rules', rules, '--node-ip', files.facts.nodeIP, '--flows', f, '--json', ...(noPaths ? ['--no-paths'] : [])];
  const flows = (n: number) => basename(flowsFile(files, n, opts.seed).path);
  const name = id.replace(' ', '-');
  const row = (f: string, o: Outcome) => ({ id, label: `trace --rules ${basename(rules)} --flows --json`, command: `kpsim ${args(f).join(' ')} > /dev/null`, inputMB: mb(rules, f), outcome: o, notes });
  const base = timed(args(flows(1)), `${name}-1`);
  if (base.kind !== 'measured') return row(flows(1), base);
  let step: { n: number; m: Measured } | null = null;
  for (let n = Math.min(100, opts.packets); ; n = Math.min(opts.packets, n * 10)) {
    const o = timed(args(flows(n)), name, { runs: 1, timeoutS: Math.min(opts.timeoutS, 2 * opts.flowsBudgetS) });
    if (o.kind !== 'measured') {
      if (step === null) return row(flows(n), o);
      notes.push(`the next step, ${n.toLocaleString('en')} packets, did not finish: ${o.why}`);
      break;
    }
    step = { n, m: o.m };
    if (n === opts.packets || o.m.wallS * 10 > opts.flowsBudgetS) break;
  }
  const { n } = step;
  let m = step.m;
  if (n === opts.packets && opts.runs > 1) {
    const all = [m];
    for (let i = 1; i < opts.runs; i++) {
      const more = timed(args(flows(n)), name, { runs: 1 });
      if (more.kind !== 'measured') return row(flows(n), more);
      all.push(more.m);
    }
    m = medianOf(all);
  }
  const extra = m.wallS - base.m.wallS;
  if (extra <= 0) {
    notes.push(`packets/s not measurable: ${n.toLocaleString('en')} packets took no longer than one (${m.wallS.toFixed(2)} s against ${base.m.wallS.toFixed(2)} s); use more --packets`);
    return row(flows(n), { kind: 'measured', m });
  }
  if (n < opts.packets) notes.push(`${opts.packets.toLocaleString('en')} packets would outlast the flows budget (${opts.flowsBudgetS} s; linearly at least ${duration(base.m.wallS + (extra * (opts.packets - 1)) / (n - 1))}): measured once on the first ${n.toLocaleString('en')}`);
  notes.push(`packets/s = ${(n - 1).toLocaleString('en')} packets / (${m.wallS.toFixed(2)} s - ${base.m.wallS.toFixed(2)} s for one packet)`);
  return { ...row(flows(n), { kind: 'measured', m }), flows: { packets: n, pps: (n - 1) / extra, perPacketUs: (extra / (n - 1)) * 1e6 } };
}

const duration = (s: number) => (s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

/**
 * nftables mode: the compile (kubectl -o json to what `nft list table` shows), the kernel's own
 * check of that output (`nft -c -f`), and kpsim reading and tracing the same file as a node's
 * `nft list ruleset` (parse, one packet, bulk flows).
 */
function nftablesRows(services: number, cwd: string, opts: E2eOptions, nft: Availability, timed: Timed, mb: (...p: string[]) => number, files: ClusterFiles): Row[] {
  const args = ['compile', '--mode', 'nftables', 'config.yaml', SHAPES.json.file];
  const base = { services, id: 'nftables' as const, label: 'compile --mode nftables kubectl -o json', command: `kpsim ${args.join(' ')} > out/nftables.out`, inputMB: mb('config.yaml', SHAPES.json.file), notes: [] };
  const first = timed(args, 'nftables', { runs: 1 });
  // A usage error (exit 2): kpsim does not know the mode.
  if (first.kind === 'failed' && first.exitCode === 2) return [{ ...base, kernelS: null, outcome: { kind: 'skipped', why: `mode not built (${first.why.replace(/^.*?MB: /, '')})` } }];
  const o = first.kind === 'measured' ? timed(args, 'nftables') : first;
  const kernelBase = { services, id: 'nft kernel' as const, label: 'nft -c -f (kernel, nftables rules)', command: `ip netns exec kpsim-bench-… nft -c -f ${NFT_RULES}`, inputMB: o.kind === 'measured' ? mb(NFT_RULES) : 0, kernelS: null, notes: [] };
  let kernel: Outcome;
  if (o.kind !== 'measured') kernel = { kind: 'skipped', why: 'kpsim produced no rules' };
  else if (!nft.ok) kernel = { kind: 'skipped', why: nft.reason };
  else kernel = outcome(measureRuns(opts.runs, () => nftCheck(join(cwd, NFT_RULES), { stderr: join(cwd, 'out/nft.err') })));
  const kernelS = kernel.kind === 'measured' ? kernel.m.wallS : null;
  const rows: Row[] = [{ ...kernelBase, outcome: kernel }, { ...base, outcome: o, kernelS }];
  if (o.kind !== 'measured') return rows;
  const parse = ['parse', NFT_RULES];
  rows.push({ services, id: 'nft parse', label: 'parse nftables.out (nft list text)', command: `kpsim ${parse.join(' ')} > /dev/null`, inputMB: mb(NFT_RULES), outcome: timed(parse, 'nft-parse'), kernelS, notes: [] });
  const { svc, src } = tracedPacket(files);
  const trace = ['trace', '--rules', NFT_RULES, '--node-ip', files.facts.nodeIP, '--src', src, '--dst', `${svc.clusterIP}:${svc.port}`, '-p', 'tcp'];
  rows.push({ services, id: 'nft trace', label: 'trace --rules nftables.out (one packet)', command: `kpsim ${trace.join(' ')}`, inputMB: mb(NFT_RULES), outcome: timed(trace, 'nft-trace'), kernelS, notes: [] });
  if (opts.only.has('flows')) rows.push({ ...flowsRow(files, opts, timed, mb, NFT_RULES, 'nft flows'), services, kernelS: null });
  return rows;
}

/** kpsim's nftables-mode output: what `nft list table ip kube-proxy` shows. */
const NFT_RULES = 'out/nftables.out';
