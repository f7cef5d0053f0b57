// The IPVS conformance corpus (golden/kube-proxy-ipvs, copied from kube-proxy's proxier_test.go
// expectations with its attribution): every case and step, loaded and compiled once.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileIpvsCluster, type IpvsCompiled } from '../../src/compiler/ipvs/index.js';
import type { ArtefactFile } from '../../src/compiler/ipvs/node-save.js';
import { renderIpvsArtefacts } from '../../src/modes.js';
import { DiagnosticSink, type Diagnostic } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { loadCluster } from '../../src/model/load.js';
import type { Cluster } from '../../src/model/types.js';

export const ROOT = 'golden/kube-proxy-ipvs';

export interface IndexCase {
  readonly name: string;
  readonly goTest: string;
  readonly ipFamily: 'IPv4' | 'IPv6';
  readonly asserts: readonly string[];
}

export interface CaseState {
  /** `case` or `case/step-N-...`. */
  readonly id: string;
  readonly dir: string;
  readonly family: Family;
  readonly cluster: Cluster;
  readonly loadErrors: readonly Diagnostic[];
  readonly loadWarnings: readonly Diagnostic[];
  readonly compiled: IpvsCompiled;
  readonly artefacts: Record<ArtefactFile, string>;
  readonly file: (name: string) => string | null;
}

export function readIndex(): IndexCase[] {
  return parse(readFileSync(join(ROOT, 'index.yaml'), 'utf8')).cases as IndexCase[];
}

export function loadState(c: IndexCase, dir: string): CaseState {
  const family: Family = c.ipFamily === 'IPv6' ? 'ipv6' : 'ipv4';
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: join(dir, 'cluster.yaml'), text: readFileSync(join(dir, 'cluster.yaml'), 'utf8') }], sink);
  const loadErrors = sink.errors;
  const compiled = compileIpvsCluster(cluster, { family }, new DiagnosticSink());
  return {
    id: dir.slice(ROOT.length + 1),
    dir,
    family,
    cluster,
    loadErrors,
    loadWarnings: sink.items.filter((d) => d.severity === 'warning'),
    compiled,
    artefacts: renderIpvsArtefacts(compiled),
    file: (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null),
  };
}

/** Every state of every case: the case folder, then its `step-N-...` folders in order. */
export function allStates(): { c: IndexCase; state: CaseState }[] {
  const out: { c: IndexCase; state: CaseState }[] = [];
  for (const c of readIndex()) {
    const dir = join(ROOT, c.name);
    const steps = readdirSync(dir).filter((d) => d.startsWith('step-')).sort((a, b) => parseInt(a.slice(5), 10) - parseInt(b.slice(5), 10));
    for (const d of [dir, ...steps.map((s) => join(dir, s))]) out.push({ c, state: loadState(c, d) });
  }
  return out;
}
