// `kpsim trace --mode ipvs`: the node as IPVS-mode kube-proxy leaves it. From a cluster: the
// IPVS compile's iptables state, ipsets, virtual servers and kube-ipvs0 addresses. From dumps:
// --rules (iptables-save), --ipvs (ipvsadm-save -n), --ipsets (ipset save); every virtual
// service address the node does not already have counts as a kube-ipvs0 address.
import { compileIpvsCluster, type IpvsCompiled } from '../compiler/ipvs/index.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import type { Family, Ruleset } from '../iptables/ir.js';
import { parseIpsetSave } from '../ipset/parse.js';
import type { IpvsTable } from '../ipvs/ir.js';
import { parseIpvsadmSave } from '../ipvs/parse.js';
import { loadCluster } from '../model/load.js';
import type { Cluster } from '../model/types.js';
import { ipsetDb } from '../packetsim/ipset.js';
import { withIpvs } from '../packetsim-ipvs/hook.js';
import { compileRuleset } from '../packetsim/compile.js';
import { buildEnv, type NodeSpec } from '../packetsim/env.js';
import { ipvsTarget, NodeSpecError, withDummy, type IpvsTarget } from '../packetsim-ipvs/node.js';
import type { IpsetDb } from '../packetsim/ipset.js';
import { InputError, printDiagnostics, readInputs, UsageError, type InputFile } from './common.js';
import { compileOptions, type ClusterFlags } from './load-cluster.js';

function fail(what: string, errors: number): never {
  throw new InputError(`${errors} error${errors === 1 ? '' : 's'} in ${what}`);
}

/** An `ipvsadm-save -n` dump, every problem reported as file:line:col (exit 1). */
export function loadIpvsDump(path: string): IpvsTable {
  const [file] = readInputs([path], { extensions: /.*/ });
  const { table, diagnostics } = parseIpvsadmSave(file.text, { file: file.name });
  if (printDiagnostics(diagnostics, [file])) fail(file.name, diagnostics.filter((d) => d.severity === 'error').length);
  return table;
}

/** An `ipset save` dump through the ipset reader (the same diagnostics as kpsim's other readers). */
export function loadIpsetDump(path: string, family: Family): IpsetDb {
  const [file] = readInputs([path], { extensions: /.*/ });
  const { dump, diagnostics } = parseIpsetSave(file.text, { file: file.name });
  if (printDiagnostics(diagnostics, [file])) fail(file.name, diagnostics.filter((d) => d.severity === 'error').length);
  return ipsetDb(dump, family);
}

const compiled = new Map<string, { cluster: Cluster; compiled: IpvsCompiled }>();

/** One IPVS compile per family, its diagnostics printed the compiler's way. */
export function ipvsCompiledFor(files: InputFile[], flags: ClusterFlags, family: Family | undefined): { cluster: Cluster; compiled: IpvsCompiled } {
  const key = family ?? '';
  let c = compiled.get(key);
  if (!c) {
    const sink = new DiagnosticSink();
    const cluster = loadCluster(files, sink);
    const out = sink.hasErrors ? null : compileIpvsCluster(cluster, compileOptions({ ...flags, family }), sink);
    if (printDiagnostics(sink.items, files) || !out) {
      const n = sink.errors.length;
      throw new InputError(`${n} error${n === 1 ? '' : 's'}; nothing written`);
    }
    compiled.set(key, (c = { cluster, compiled: out }));
  }
  return c;
}

export interface IpvsTargetInput {
  readonly family: Family;
  readonly rotate: boolean;
  readonly index: boolean;
  /** The node from --interfaces / --node-ip, or null to take the cluster's. */
  readonly nodeOverride: NodeSpec | null;
  readonly ipsets: string | undefined;
}

function build(ruleset: Ruleset, ipsets: IpsetDb | null, table: IpvsTable, spec: NodeSpec, t: IpvsTargetInput): IpvsTarget {
  const rs = withIpvs(compileRuleset(ruleset, { ipsets, index: t.index }), table, { rotate: t.rotate });
  const problems: { message: string }[] = [];
  const env = buildEnv(spec, t.family, problems);
  if (problems.length) throw new UsageError(problems.map((p) => p.message).join('; '));
  return { rs, env };
}

/** IPVS mode from a compiled cluster. */
export function ipvsClusterTarget(files: InputFile[], flags: ClusterFlags, t: IpvsTargetInput): IpvsTarget {
  return compiledTarget(ipvsCompiledFor(files, flags, t.family).compiled, t);
}

/** The node an IPVS compile describes, ready to trace. */
export function compiledTarget(c: IpvsCompiled, t: IpvsTargetInput): IpvsTarget {
  try {
    return ipvsTarget(c, { family: t.family, rotate: t.rotate, index: t.index, node: t.nodeOverride, ipsets: t.ipsets ? loadIpsetDump(t.ipsets, t.family) : null });
  } catch (e) {
    if (e instanceof NodeSpecError) throw new UsageError(e.message);
    throw e;
  }
}

/** IPVS mode from a node's dumps. */
export function ipvsDumpTarget(ruleset: Ruleset, ipvsPath: string, t: IpvsTargetInput): IpvsTarget {
  const table = loadIpvsDump(ipvsPath);
  const ipsets = t.ipsets ? loadIpsetDump(t.ipsets, t.family) : null;
  const spec = withDummy(t.nodeOverride ?? { interfaces: [{ name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] }, { name: 'eth0', addresses: [] }] }, table.services.filter((v) => v.family === t.family).map((v) => v.address), t.family);
  return build(ruleset, ipsets, table, spec, t);
}
