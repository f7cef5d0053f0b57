// A case's flows.yaml: every packet traced through the node's rules in order (state carried from
// one to the next, as `kpsim trace --flows` does, so `at:` can age affinity entries), answered the
// way kube-proxy's test tracer answers (tracerView), and compared with the expected `output`,
// `masq` and, when the flow has one, `probabilities`. Differences become a rewritten document
// (comments and key order kept) for `kpsim golden --update`.
import { isMap, isScalar, Scalar, YAMLMap, type Document, type YAMLSeq } from 'yaml';
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import { familyOfText } from '../net/index.js';
import type { NodeEnv } from '../packetsim/env.js';
import { add, fractionText, ZERO } from '../packetsim/fraction.js';
import { traceFlows } from '../packetsim/flows.js';
import { TooManyPaths, TraceInputError, type Outcome } from '../packetsim/trace.js';
import { outcomeTokens, tracerProbabilities, tracerView } from '../packetsim/tracer-view.js';
import type { CompiledRuleset } from '../packetsim/types.js';
import { parseFlowsFile, type FileFlow, type FlowExpectation } from './flows-file.js';
import type { CheckResult, FlowAnswer } from './result.js';

export interface FlowTarget {
  readonly rs: CompiledRuleset;
  readonly env: NodeEnv;
}

export interface FlowsCheck {
  readonly checks: CheckResult[];
  readonly diagnostics: Diagnostic[];
  /** The flows.yaml text with kpsim's answers, when any differs. */
  readonly rewrite: string | null;
}

/** `nat:PREROUTING:1 > nat:KUBE-SERVICES:4 > ... (DNAT --to-destination 10.0.0.5:80)` */
function pathText(o: Outcome, family: Family): string {
  const rules = o.path.filter((p) => p.kind === 'rule' || p.kind === 'policy');
  const hops = rules.map((p) => `${p.chain.table}:${p.chain.name}:${p.kind === 'rule' ? p.rule!.num : 'policy'}`);
  const decisive = new Set(['dnat', 'drop', 'reject']);
  const last = [...o.path].reverse().find((p) => p.kind === 'rule' && decisive.has(p.rule!.target.kind));
  const what = outcomeTokens(o, family).join(', ') || `untouched, ${o.verdict}`;
  return `${fractionText(o.prob)} ${what}${o.masquerade ? ' (masquerade)' : ''}: ${hops.join(' > ')}${last ? ` (${last.rule!.action})` : ''}`;
}

/**
 * kube-proxy's ClientIP affinity: a KUBE-SVC rule `-m recent --name KUBE-SEP-X --rcheck --seconds N
 * --reap` matched (iptables), or a rule that looked the client up in a set packets update
 * (nftables: `ip saddr @affinity-X goto endpoint-X`).
 */
function viaAffinity(o: Outcome): boolean {
  return o.path.some((p) => p.kind === 'rule' && (p.rule!.recalls === true || (p.chain.table === 'nat' && p.rule!.text.includes('--rcheck'))));
}

export function flowAnswer(outcomes: readonly Outcome[], family: Family): FlowAnswer {
  const view = tracerView(outcomes, family);
  return {
    output: view.output.join(', '),
    masq: view.masq.includes(true),
    probabilities: tracerProbabilities(outcomes, family),
    affinity: fractionText(outcomes.filter(viaAffinity).reduce((sum, o) => add(sum, o.prob), ZERO)),
    paths: outcomes.map((o) => pathText(o, family)),
  };
}

const sorted = (s: string) => (s === '' ? '' : s.split(/,\s*/).sort().join(', '));

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/** Why the answer differs from the expectation, or null when it agrees. */
function disagreement(e: FlowExpectation, a: FlowAnswer): string | null {
  if (e.output === undefined || e.masq === undefined) return 'no expected output/masq yet (kpsim golden --update writes them)';
  const why: string[] = [];
  if (sorted(e.output) !== a.output) why.push('output differs');
  if (e.masq !== a.masq) why.push('masq differs');
  if (e.probabilities && !sameMap(e.probabilities, a.probabilities)) why.push('probabilities differ');
  if (e.affinity !== undefined && e.affinity !== a.affinity) why.push('affinity differs');
  return why.length ? why.join(', ') : null;
}

function quoted(doc: Document, value: string): Scalar {
  const s = doc.createNode(value) as Scalar;
  s.type = 'QUOTE_DOUBLE';
  return s;
}

/** Writes kpsim's answer into the flow's mapping, in place: existing scalars keep their style. */
function rewriteFlow(doc: Document, f: FileFlow, a: FlowAnswer): void {
  const node = (doc.contents as YAMLSeq<YAMLMap>).items[f.index];
  const set = (key: string, value: string | boolean) => {
    const n = node.get(key, true);
    if (isScalar(n)) n.value = value;
    else node.set(key, typeof value === 'string' ? quoted(doc, value) : doc.createNode(value));
  };
  // Keep the file's spelling of an unchanged output (kube-proxy writes endpoints in rule order).
  if (f.expected.output === undefined || sorted(f.expected.output) !== a.output) set('output', a.output);
  set('masq', a.masq);
  if (f.expected.affinity !== undefined) set('affinity', a.affinity);
  if (f.expected.probabilities) {
    const old = node.get('probabilities', true);
    const map = isMap(old) ? old : new YAMLMap();
    map.flow = false;
    map.items = [...a.probabilities].map(([k, v]) => doc.createPair(quoted(doc, k), quoted(doc, v)));
    if (!isMap(old)) node.set('probabilities', map);
  }
}

export function checkFlows(label: string, file: string, text: string, targetFor: (family: Family) => FlowTarget | string): FlowsCheck {
  const parsed = parseFlowsFile(text, file);
  const fail = (name: string, message: string): CheckResult => ({ name: `${label}: ${name}`, status: 'fail', kind: 'load', file, message });
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors) return { checks: [fail('flows.yaml', `${errors} error(s) in flows.yaml`)], diagnostics: parsed.diagnostics, rewrite: null };
  const checks: CheckResult[] = new Array(parsed.flows.length);
  const byFamily = new Map<Family, number[]>();
  parsed.flows.forEach((f, i) => {
    const fam = familyOfText(f.spec.sourceIP);
    if (familyOfText(f.spec.destIP) !== fam) checks[i] = fail(`flow '${f.spec.name}'`, 'source and destination are of different families');
    else byFamily.set(fam, [...(byFamily.get(fam) ?? []), i]);
  });
  let changed = false;
  for (const [family, idx] of byFamily) {
    const target = targetFor(family);
    if (typeof target === 'string') {
      for (const i of idx) checks[i] = fail(`flow '${parsed.flows[i].spec.name}'`, target);
      continue;
    }
    let results;
    try {
      results = traceFlows(target.rs, target.env, idx.map((i) => parsed.flows[i].spec));
    } catch (e) {
      if (!(e instanceof TraceInputError || e instanceof TooManyPaths)) throw e;
      for (const i of idx) checks[i] = fail(`flow '${parsed.flows[i].spec.name}'`, e.message);
      continue;
    }
    results.forEach((r, k) => {
      const f = parsed.flows[idx[k]];
      const actual = flowAnswer(r.outcomes, family);
      const why = disagreement(f.expected, actual);
      checks[idx[k]] = { name: `${label}: flow '${f.spec.name}'`, status: why ? 'fail' : 'pass', kind: 'flow', file, ...(why ? { message: why } : {}), flow: { expected: f.expected, actual } };
      if (why) {
        rewriteFlow(parsed.document(), f, actual);
        changed = true;
      }
    });
  }
  // Warnings (what kpsim assumed about a flow) travel with the result.
  return { checks, diagnostics: parsed.diagnostics, rewrite: changed ? parsed.document().toString() : null };
}
