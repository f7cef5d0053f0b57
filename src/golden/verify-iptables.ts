// Verifies one iptables-mode golden case (and its steps, in order, with kube-proxy's sync
// history) against what kpsim computes: the restore input (check-restore.ts), the node's iptables-save after each
// sync (node.rules, the kernel state replayed sync by sync with --noflush, as kube-proxy
// restores) and the packet flows (check-flows.ts). Returns one result per check and the files
// `--update` would rewrite; the CLI and the tests print them.
import YAML from 'yaml';
import { DiagnosticSink } from '../diag/diagnostic.js';
import { compileCluster, type Compiled, type CompileOptions } from '../compiler/index.js';
import type { SyncHistory, SyncState } from '../compiler/iptables/index.js';
import { hostSetupText, iptablesNodeArtefacts } from '../compiler/iptables/node-artefacts.js';
import { nodeInterfaces, nodeSysctls } from '../compiler/node-interfaces.js';
import type { Family } from '../iptables/ir.js';
import { applyRestore, cloneState, RestoreError, stateToRuleset, type KernelState } from '../iptables/state.js';
import { parseIptablesSave, renderKernelRuleset } from '../iptables-save/index.js';
import { loadCluster } from '../model/load.js';
import type { Cluster } from '../model/types.js';
import { nodeFromArtefacts, nodeFromDumps } from '../node/assemble.js';
import { FAKE_NODE_INTERFACES, FAKE_NODE_SYSCTLS } from '../node/fake-node.js';
import type { Node } from '../node/node.js';
import { prepareNode } from '../packetsim/prepare.js';
import { stepSync, type CaseFiles } from './case.js';
import { checkFlows, type FlowTarget } from './check-flows.js';
import { checkRestore, compareText } from './check-restore.js';
import type { CaseResult, CheckResult } from './result.js';


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

export function verifyIptablesCase(c: CaseFiles, result: CaseResult, options: CompileOptions): void {
  const syncs = [c, ...c.steps];
  if (!c.files.has('cluster.yaml')) {
    verifyTracerOnly(c, result);
    return;
  }
  let state: SyncState | null = null;
  let prints: Map<string, string> | null = null;
  let needFull = true;
  let kernel: KernelState | null = null;
  syncs.forEach((step, i) => {
    const label = step.dir;
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
    const compiled = sink.hasErrors ? null : compileCluster(cluster, options, sink, history);
    if (sink.items.length > 0) result.diagnostics.push({ file: `${step.dir}/cluster.yaml`, text: clusterText, diagnostics: sink.items });
    if (!compiled || sink.hasErrors) {
      result.checks.push({ name: `${label}: load`, status: 'fail', kind: 'load', file: `${step.dir}/cluster.yaml`, message: `${sink.errors.length} error(s) in cluster.yaml` });
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
      kernel = loadSync(kernel, compiled, label, step.dir, result.checks);
    }
    result.checks.push(...checkRestore(label, step, compiled));
    if (kernel) checkNode(label, step, cluster, compiled, kernel, result, options);
  });
}

/** The kernel after this sync: the previous state with the restore applied (atomically, as iptables-restore does). */
function loadSync(kernel: KernelState | null, compiled: Compiled, label: string, dir: string, checks: CheckResult[]): KernelState | null {
  const family = compiled.settings.family;
  // The first sync lands on a fresh node (kube-proxy's host setup done); later ones on the last state.
  const next = kernel ? cloneState(kernel) : nodeFromArtefacts({ iptables: [hostSetupText(family)], interfaces: [] }).netfilter.get(family)!;
  try {
    applyRestore(next, ownRuleset(compiled.restore, 'restore input', family));
    return next;
  } catch (e) {
    if (!(e instanceof RestoreError)) throw e;
    checks.push({ name: `${label}: restore`, status: 'fail', kind: 'load', file: `${dir}/cluster.yaml`, message: `the restore input does not load onto the previous sync's rules: ${e.message}` });
    return kernel;
  }
}

function checkNode(label: string, step: CaseFiles, cluster: Cluster, compiled: Compiled, kernel: KernelState, result: CaseResult, options: CompileOptions): void {
  const expected = step.files.get('node.rules');
  const ruleset = stateToRuleset(kernel);
  if (expected !== undefined) result.checks.push(compareText(`${label}: node.rules`, `${step.dir}/node.rules`, expected, renderKernelRuleset(ruleset)));
  const flows = step.files.get('flows.yaml');
  if (flows === undefined) return;
  const primary = compiled.settings.family;
  const targetFor = (family: Family): FlowTarget | string => {
    if (family === primary) {
      const node: Node = { netfilter: new Map([[family, kernel]]), ipsets: null, ipvs: null, interfaces: nodeInterfaces(compiled.settings), routes: [], sysctls: nodeSysctls(compiled.settings) };
      return prepareNode(node, family).sim;
    }
    // The other family's kube-proxy (a dual-stack node runs one proxier per family), first sync.
    const sink = new DiagnosticSink();
    const other = compileCluster(cluster, { ...options, family }, sink);
    if (sink.hasErrors) return `the node has no ${family} proxier: ${sink.errors[0].message}`;
    return prepareNode(nodeFromArtefacts(iptablesNodeArtefacts(other)), family).sim;
  };
  addFlows(checkFlows(label, `${step.dir}/flows.yaml`, flows, targetFor), step, result);
}

function addFlows(r: ReturnType<typeof checkFlows>, step: CaseFiles, result: CaseResult): void {
  result.checks.push(...r.checks);
  if (r.diagnostics.length) result.diagnostics.push({ file: `${step.dir}/flows.yaml`, text: step.files.get('flows.yaml')!, diagnostics: r.diagnostics });
  if (r.rewrite !== null) result.rewrites.push({ file: `${step.dir}/flows.yaml`, content: r.rewrite });
}

/**
 * A case with rules but no cluster.yaml (kube-proxy's TestTracePacket): its iptables-save.txt is
 * the whole ruleset, traced on kube-proxy's fake node. Rules the reader (like iptables-restore)
 * rejects leave nothing to trace: the case is skipped, saying where.
 */
function verifyTracerOnly(c: CaseFiles, result: CaseResult): void {
  const text = c.files.get('iptables-save.txt');
  const flows = c.files.get('flows.yaml');
  if (text === undefined || flows === undefined) return;
  const cache = new Map<Family, FlowTarget | string>();
  const targetFor = (family: Family): FlowTarget | string => {
    let t = cache.get(family);
    if (t === undefined) {
      const file = `${c.dir}/iptables-save.txt`;
      const sink = new DiagnosticSink();
      const node = nodeFromDumps({ iptables: [{ family, file, text }], interfaces: FAKE_NODE_INTERFACES, sysctls: FAKE_NODE_SYSCTLS }, sink);
      const err = sink.errors[0];
      t = !node || err
        ? `${file}${err?.span ? `:${err.span.line}:${err.span.col}` : ''}: ${err?.code ?? 'unreadable'}: ${err?.message ?? 'the rules do not parse'}`
        : prepareNode(node, family).sim;
      cache.set(family, t);
    }
    return t;
  };
  const r = checkFlows(c.dir, `${c.dir}/flows.yaml`, flows, targetFor);
  const unreadable = [...cache.values()].find((t): t is string => typeof t === 'string');
  if (unreadable !== undefined) {
    result.checks.push({ name: `${c.dir}: tracer-only case`, status: 'skip', kind: 'unsupported', file: `${c.dir}/iptables-save.txt`, message: `not traced: no cluster.yaml, and its iptables-save.txt does not load (${unreadable}); real iptables-restore rejects it too` });
    return;
  }
  addFlows(r, c, result);
}

/** kpsim's own restore text as a ruleset; failing to read it is a kpsim bug. */
function ownRuleset(text: string, file: string, family: Family) {
  const { ruleset, diagnostics } = parseIptablesSave(text, { file, family, noflush: true });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (!ruleset || errors.length > 0) throw new Error(`kpsim produced ${file} text its reader rejects: ${errors.map((e) => `${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
  return ruleset;
}
