// A golden case of a mode without sync history in kpsim (IPVS): the mode's compile against the
// node artefacts the case keeps (for IPVS ipvsadm.save, ipset.save, iptables.save,
// kube-ipvs0.addrs, as `kpsim compile --mode ipvs -o DIR` writes them), its restore input against
// the row's restore file, and flows.yaml traced on the node with the mode's simulator extensions
// and state carried (rr rotates, persistence holds), as `kpsim trace --flows` does. Steps (later
// syncs) are reported as not built for the mode.
import type { CompileOptions } from '../compiler/settings.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import { loadCluster } from '../model/load.js';
import type { ModeCompiled, ModeRow } from '../modes.js';
import { prepareNode } from '../packetsim/prepare.js';
import type { CaseFiles } from './case.js';
import { checkFlows, type FlowTarget } from './check-flows.js';
import { compareText } from './check-restore.js';
import type { CaseResult } from './result.js';

/** The mode's node for one family, ready to trace. */
function traceTarget(row: ModeRow, compiled: ModeCompiled, family: Family): FlowTarget {
  const node = compiled.node();
  return prepareNode(node, family, { extensions: row.extensions(node, family, { rotate: true }) }).sim;
}

export function verifySingleSync(c: CaseFiles, row: ModeRow, result: CaseResult, options: CompileOptions): void {
  const label = c.dir;
  const clusterText = c.files.get('cluster.yaml')!;
  if (c.steps.length > 0) {
    result.checks.push({ name: `${label}: ${row.name} steps`, status: 'skip', kind: 'unsupported', file: `${c.dir}/steps`, message: `not checked: later syncs are not built for ${row.name} mode; only the first state is` });
  }
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: `${c.dir}/cluster.yaml`, text: clusterText }], sink);
  const compiled = sink.hasErrors ? null : row.compile(cluster, options, sink);
  if (sink.items.length > 0) result.diagnostics.push({ file: `${c.dir}/cluster.yaml`, text: clusterText, diagnostics: sink.items });
  if (!compiled || sink.hasErrors) {
    result.checks.push({ name: `${label}: load`, status: 'fail', kind: 'load', file: `${c.dir}/cluster.yaml`, message: `${sink.errors.length} error(s) in cluster.yaml` });
    return;
  }
  for (const a of compiled.artefacts()) {
    const expected = c.files.get(a.file);
    if (expected !== undefined) result.checks.push(compareText(`${label}: ${a.file}`, `${c.dir}/${a.file}`, expected, a.text));
  }
  const restore = c.files.get(row.restoreFile);
  if (restore !== undefined) result.checks.push(compareText(`${label}: ${row.restoreFile}`, `${c.dir}/${row.restoreFile}`, restore, compiled.restore));
  const flows = c.files.get('flows.yaml');
  if (flows === undefined) return;
  const primary = compiled.settings.family;
  const targetFor = (family: Family): FlowTarget | string => {
    if (family === primary) return traceTarget(row, compiled, family);
    // The other family's kube-proxy (a dual-stack node runs one proxier per family).
    const other = new DiagnosticSink();
    const o = row.compile(cluster, { ...options, family }, other);
    if (!o || other.hasErrors) return `the node has no ${family} proxier: ${other.errors[0]?.message ?? 'it does not compile'}`;
    return traceTarget(row, o, family);
  };
  const r = checkFlows(label, `${c.dir}/flows.yaml`, flows, targetFor);
  result.checks.push(...r.checks);
  if (r.diagnostics.length) result.diagnostics.push({ file: `${c.dir}/flows.yaml`, text: flows, diagnostics: r.diagnostics });
  if (r.rewrite !== null) result.rewrites.push({ file: `${c.dir}/flows.yaml`, content: r.rewrite });
}
