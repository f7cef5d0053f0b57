// An IPVS-mode golden case (the configuration says mode: ipvs): kpsim's IPVS compile against the
// node artefacts the case keeps (ipvsadm.save, ipset.save, iptables.save, kube-ipvs0.addrs, as
// `kpsim compile --mode ipvs -o DIR` writes them; iptables-save.txt = the restore input) and its
// flows.yaml traced in IPVS mode with state carried (rr rotates, persistence holds), as
// `kpsim trace --mode ipvs --flows` does. Steps (later syncs) are not built for IPVS mode.
import { compileIpvsCluster } from '../compiler/ipvs/index.js';
import { ARTEFACT_FILES, renderIpvsArtefacts } from '../compiler/ipvs/node-save.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import type { Cluster } from '../model/types.js';
import { ipvsTarget } from '../packetsim-ipvs/node.js';
import type { CaseFiles } from './case.js';
import { checkFlows, type FlowTarget } from './check-flows.js';
import { compareText } from './check-restore.js';
import type { CaseResult } from './result.js';

export const IPVS_ARTEFACT_FILES = ARTEFACT_FILES;

export function verifyIpvsStep(c: CaseFiles, cluster: Cluster, sink: DiagnosticSink, result: CaseResult): void {
  const label = c.dir;
  const clusterText = c.files.get('cluster.yaml')!;
  if (c.steps.length > 0) {
    result.checks.push({ name: `${label}: IPVS steps`, status: 'skip', kind: 'unsupported', file: `${c.dir}/steps`, message: 'not checked: later syncs are not built for IPVS mode; only the first state is' });
  }
  const compiled = sink.hasErrors ? null : compileIpvsCluster(cluster, {}, sink);
  if (sink.items.length > 0) result.diagnostics.push({ file: `${c.dir}/cluster.yaml`, text: clusterText, diagnostics: sink.items });
  if (!compiled || sink.hasErrors) {
    result.checks.push({ name: `${label}: load`, status: 'fail', kind: 'load', file: `${c.dir}/cluster.yaml`, message: `${sink.errors.length} error(s) in cluster.yaml` });
    return;
  }
  const artefacts = renderIpvsArtefacts(compiled);
  for (const f of ARTEFACT_FILES) {
    const expected = c.files.get(f);
    if (expected !== undefined) result.checks.push(compareText(`${label}: ${f}`, `${c.dir}/${f}`, expected, artefacts[f]));
  }
  const restore = c.files.get('iptables-save.txt');
  if (restore !== undefined) result.checks.push(compareText(`${label}: iptables-save.txt`, `${c.dir}/iptables-save.txt`, restore, compiled.restore));
  const flows = c.files.get('flows.yaml');
  if (flows === undefined) return;
  const primary = compiled.settings.family;
  const targetFor = (family: Family): FlowTarget | string => {
    if (family === primary) return ipvsTarget(compiled, { family, rotate: true });
    const other = new DiagnosticSink();
    const o = compileIpvsCluster(cluster, { family }, other);
    if (other.hasErrors) return `the node has no ${family} proxier: ${other.errors[0].message}`;
    return ipvsTarget(o, { family, rotate: true });
  };
  const r = checkFlows(label, `${c.dir}/flows.yaml`, flows, targetFor);
  result.checks.push(...r.checks);
  if (r.diagnostics.length) result.diagnostics.push({ file: `${c.dir}/flows.yaml`, text: flows, diagnostics: r.diagnostics });
  if (r.rewrite !== null) result.rewrites.push({ file: `${c.dir}/flows.yaml`, content: r.rewrite });
}
