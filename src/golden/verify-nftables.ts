// Verifies an nftables-mode golden case (and each of its steps: `steps/NN-name/` or kube-proxy's
// `step-NN/`, `step-2-...`, each a sync with its complete objects) against kpsim's compile:
//
// * nft.txt, kube-proxy's transaction (`kpsim compile --format restore`), compared as kube-proxy's
//   tests compare (check-nft.ts). Every nft.txt is also read with the nft reader and must render
//   back byte for byte: some are inputs for the reader and the simulator rather than what one
//   compile writes, which nft-check.yaml says:
//     transaction: input        # a hand-written ruleset (kube-proxy's tracer self-tests): read, not compared
//     staleChains: [NAME, ...]  # chains an earlier sync flushed and left for a later one to delete:
//                               # the expected table is the compile's plus these chains, empty
// * nftables.txt, what `nft list table` shows on the node (`kpsim compile`);
// * preexisting-nft.txt (a table loaded before the first sync): read back byte for byte;
// * expect.yaml (kube-proxy's FindElement checks: `map`, `key`, `present`);
// * names.yaml (kube-proxy's chain-name hashing tests), without a cluster;
// * flows.yaml: not traced yet; reported skipped with the reason.
import YAML from 'yaml';
import { compileNftablesCluster, type NftCompiled } from '../compiler/nftables/index.js';
import { servicePortChainNameBase, servicePortEndpointChainNameBase } from '../compiler/nftables/names.js';
import { kubeProxyTable, nftablesNodeArtefacts } from '../compiler/nftables/node-artefacts.js';
import type { CompileOptions } from '../compiler/settings.js';
import { DiagnosticSink } from '../diag/diagnostic.js';
import { loadCluster } from '../model/load.js';
import { listTable } from '../nftables/list.js';
import { parseNft } from '../nftables/parse.js';
import { renderNft } from '../nftables/render.js';
import { nodeFromArtefacts, nodeFromDumps } from '../node/assemble.js';
import { FAKE_NODE_INTERFACES } from '../node/fake-node.js';
import type { Family } from '../net/index.js';
import { nftablesExtensions } from '../packetsim-nft/hook.js';
import { prepareNode } from '../packetsim/prepare.js';
import type { Node } from '../node/node.js';
import type { CaseFiles } from './case.js';
import { compareNftTransaction } from './check-nft.js';
import { compareText } from './check-restore.js';
import { checkFlows, type FlowTarget } from './check-flows.js';
import type { CaseResult, CheckResult } from './result.js';

interface NftCheckFile {
  readonly input: boolean;
  readonly staleChains: readonly string[];
}

function readNftCheck(step: CaseFiles, result: CaseResult): NftCheckFile | null {
  const text = step.files.get('nft-check.yaml');
  if (text === undefined) return { input: false, staleChains: [] };
  const v = YAML.parse(text) as { transaction?: unknown; staleChains?: unknown } | null;
  const input = v?.transaction === 'input';
  const stale = v?.staleChains ?? [];
  if ((v?.transaction !== undefined && !input) || !Array.isArray(stale) || !stale.every((s) => typeof s === 'string')) {
    result.checks.push({ name: `${step.dir}: nft-check.yaml`, status: 'fail', kind: 'load', file: `${step.dir}/nft-check.yaml`, message: 'expected `transaction: input` and/or `staleChains:` with a list of chain names' });
    return null;
  }
  return { input, staleChains: stale as string[] };
}

/** An nft file read and rendered back: it must parse without error and print back byte for byte. */
function readsBack(step: CaseFiles, name: string, result: CaseResult): void {
  const text = step.files.get(name)!;
  const file = `${step.dir}/${name}`;
  const r = parseNft(text, { file });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    result.diagnostics.push({ file, text, diagnostics: r.diagnostics });
    result.checks.push({ name: `${step.dir}: ${name} reads`, status: 'fail', kind: 'load', file, message: `${errors.length} error(s) reading it as nft text` });
    return;
  }
  const back = renderNft(r.file);
  result.checks.push({ ...compareText(`${step.dir}: ${name} reads and renders back`, file, text, back), kind: 'assert' });
}

export function verifyNftablesCase(c: CaseFiles, result: CaseResult, options: CompileOptions): void {
  if (c.files.has('names.yaml')) result.checks.push(...checkNames(c));
  for (const step of [c, ...c.steps]) verifySync(step, result, options);
}

function verifySync(step: CaseFiles, result: CaseResult, options: CompileOptions): void {
  for (const f of ['nft.txt', 'preexisting-nft.txt']) if (step.files.has(f)) readsBack(step, f, result);
  const clusterText = step.files.get('cluster.yaml');
  if (clusterText === undefined) return;
  const check = readNftCheck(step, result);
  if (!check) return;
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: `${step.dir}/cluster.yaml`, text: clusterText }], sink);
  const compiled = sink.hasErrors ? null : compileNftablesCluster(cluster, options, sink);
  if (sink.items.length > 0) result.diagnostics.push({ file: `${step.dir}/cluster.yaml`, text: clusterText, diagnostics: sink.items });
  if (!compiled || sink.hasErrors) {
    result.checks.push({ name: `${step.dir}: load`, status: 'fail', kind: 'load', file: `${step.dir}/cluster.yaml`, message: `${sink.errors.length} error(s) in cluster.yaml` });
    return;
  }
  const expected = step.files.get('nft.txt');
  if (expected !== undefined) {
    const file = `${step.dir}/nft.txt`;
    if (check.input) {
      result.checks.push({ name: `${step.dir}: nft.txt`, status: 'skip', kind: 'unsupported', file, message: "not compared: nft-check.yaml says it is a hand-written ruleset for the reader and the tracer, not kube-proxy's output for cluster.yaml" });
    } else {
      // Stale chains stay in the kernel, flushed, until a later sync deletes them.
      const actual = compiled.restore + check.staleChains.map((ch) => `add chain ${compiled.transaction.family} ${compiled.transaction.table} ${ch}\n`).join('');
      const { check: k, rewrite } = compareNftTransaction(`${step.dir}: nft.txt${check.staleChains.length ? ` (with ${check.staleChains.length} stale chains)` : ''}`, file, expected, actual);
      result.checks.push(k);
      if (rewrite !== null && check.staleChains.length === 0) result.rewrites.push({ file, content: rewrite });
    }
  }
  const save = step.files.get('nftables.txt');
  if (save !== undefined) result.checks.push(compareText(`${step.dir}: nftables.txt`, `${step.dir}/nftables.txt`, save, renderNftablesSave(compiled)));
  const expectYaml = step.files.get('expect.yaml');
  if (expectYaml !== undefined) result.checks.push(checkElement(step, expectYaml, compiled));
  const flows = step.files.get('flows.yaml');
  if (flows !== undefined) {
    const targetFor = (family: Family): FlowTarget | string => {
      if (check.input) return handWrittenTarget(step, family);
      if (family === compiled.settings.family) return traceTarget(nodeFromArtefacts(nftablesNodeArtefacts(compiled)), family);
      // The other family's kube-proxy (a dual-stack node runs one proxier per family).
      const other = new DiagnosticSink();
      const o = compileNftablesCluster(cluster, { ...options, family }, other);
      if (other.hasErrors) return `the node has no ${family} proxier: ${other.errors[0].message}`;
      return traceTarget(nodeFromArtefacts(nftablesNodeArtefacts(o)), family);
    };
    const r = checkFlows(step.dir, `${step.dir}/flows.yaml`, flows, targetFor);
    result.checks.push(...r.checks);
    if (r.diagnostics.length) result.diagnostics.push({ file: `${step.dir}/flows.yaml`, text: flows, diagnostics: r.diagnostics });
    if (r.rewrite !== null) result.rewrites.push({ file: `${step.dir}/flows.yaml`, content: r.rewrite });
  }
}

function traceTarget(node: Node, family: Family): FlowTarget {
  return prepareNode(node, family, { extensions: node.nftables ? nftablesExtensions(node.nftables, family, node.interfaces.map((i) => i.name)) : [] }).sim;
}

/**
 * A hand-written nft.txt (kube-proxy's tracer self-tests) traced as it is, on kube-proxy's fake
 * node (its interfaces: README.md, "The fake proxier").
 */
function handWrittenTarget(step: CaseFiles, family: Family): FlowTarget | string {
  const file = `${step.dir}/nft.txt`;
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [], nft: { file, text: step.files.get('nft.txt') ?? '' }, interfaces: FAKE_NODE_INTERFACES }, sink);
  const err = sink.errors[0];
  if (!node || err) return `${file}${err?.span ? `:${err.span.line}:${err.span.col}` : ''}: ${err?.message ?? 'does not load'}`;
  return traceTarget(node, family);
}

/** What `nft list table ip kube-proxy` shows after the sync: the transaction applied to a fresh kernel, listed. */
export function renderNftablesSave(c: NftCompiled, node: Node = nodeFromArtefacts(nftablesNodeArtefacts(c))): string {
  const t = kubeProxyTable(c.settings.family);
  return listTable(node.nftables!, t.family, t.name) ?? '';
}

/** expect.yaml: whether the map holds an element with that key (kube-proxy's FindElement). */
function checkElement(step: CaseFiles, text: string, c: NftCompiled): CheckResult {
  const file = `${step.dir}/expect.yaml`;
  const e = YAML.parse(text) as { map?: string; set?: string; key?: string; present?: boolean };
  const set = e.map ?? e.set;
  if (typeof set !== 'string' || typeof e.key !== 'string' || typeof e.present !== 'boolean') {
    return { name: `${step.dir}: expect.yaml`, status: 'fail', kind: 'load', file, message: 'expected `map` (or `set`), `key` and `present`' };
  }
  const present = c.transaction.elements.some((x) => x.set === set && x.key.join(' . ') === e.key);
  return { name: `${step.dir}: ${set} ${e.present ? 'holds' : 'lacks'} ${e.key}`, status: present === e.present ? 'pass' : 'fail', kind: 'assert', file, expected: String(e.present), actual: String(present) };
}

interface NameCase {
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
  readonly protocol: string;
  readonly endpoint?: string;
  readonly expected: string;
}

/** names.yaml: kube-proxy's Test_servicePortChainNameBase and Test_servicePortEndpointChainNameBase. */
function checkNames(c: CaseFiles): CheckResult[] {
  const file = `${c.dir}/names.yaml`;
  const v = YAML.parse(c.files.get('names.yaml')!) as { servicePortChainNameBase?: NameCase[]; servicePortEndpointChainNameBase?: NameCase[] };
  const out: CheckResult[] = [];
  const one = (kind: string, t: NameCase, actual: string) =>
    out.push({ name: `${c.dir}: ${kind} ${t.name}`, status: actual === t.expected ? 'pass' : 'fail', kind: 'assert', file, expected: t.expected, actual });
  for (const t of v.servicePortChainNameBase ?? []) one('servicePortChainNameBase', t, servicePortChainNameBase(t.namespace, t.service, t.protocol, t.port));
  for (const t of v.servicePortEndpointChainNameBase ?? []) {
    // `ip:port` or `[ip]:port` (kube-proxy's endpoint string).
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(t.endpoint ?? '');
    one('servicePortEndpointChainNameBase', t, m ? servicePortEndpointChainNameBase(t.namespace, t.service, t.protocol, t.port, m[1], Number(m[2])) : '');
  }
  if (out.length === 0) out.push({ name: `${c.dir}: names.yaml`, status: 'fail', kind: 'load', file, message: 'no servicePortChainNameBase or servicePortEndpointChainNameBase cases' });
  return out;
}
