// Outcomes as kube-proxy's test tracer reports them (pkg/proxy/iptables/proxier_test.go,
// tracePacket / iptablesTracer; golden/kube-proxy-iptables/README.md section 5): the DNAT
// destinations, a filter DROP/REJECT, an explicit ACCEPT in one of the filter chains the tracer
// walks, and whether any path marked the packet for masquerading. The tracer follows every
// statistic branch, so its `output` is the union over kpsim's outcomes and its `masq` is true
// when any path masquerades.
import type { Family } from '../iptables/ir.js';
import { formatHostPort } from '../net/index.js';
import { add, fractionText, ZERO, type Prob } from './fraction.js';
import type { Outcome } from './trace.js';

/** The filter chains kube-proxy's tracer runs after nat: an explicit ACCEPT there is reported. */
const TRACER_FILTER_CHAINS = new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']);

/** What the tracer would print for this one outcome: `10.0.0.1:80`, `DROP`, `10.0.0.1:80, DROP`, or nothing. */
export function outcomeTokens(o: Outcome, family: Family): string[] {
  const out: string[] = [];
  if (o.dnat) out.push(formatHostPort(o.packet.dst, o.packet.dport, family));
  if (o.verdict === 'DROP' || o.verdict === 'REJECT') out.push(o.verdict);
  if (o.path.some((p) => p.kind === 'rule' && p.chain.table === 'filter' && TRACER_FILTER_CHAINS.has(p.chain.name) && p.rule!.target.kind === 'accept')) out.push('ACCEPT');
  return out;
}

export interface TracerView {
  /** Sorted, distinct. */
  readonly output: string[];
  /** The distinct masquerade decisions over the outcomes. */
  readonly masq: boolean[];
}

export function tracerView(outcomes: readonly Outcome[], family: Family): TracerView {
  const output = new Set<string>();
  const masq = new Set<boolean>();
  for (const o of outcomes) {
    for (const t of outcomeTokens(o, family)) output.add(t);
    masq.add(o.masquerade);
  }
  return { output: [...output].sort(), masq: [...masq] };
}

/** Probability of each tracer answer (`outcomeTokens` joined, `""` for untouched), as exact fractions. */
export function tracerProbabilities(outcomes: readonly Outcome[], family: Family): Map<string, string> {
  const sums = new Map<string, Prob>();
  for (const o of outcomes) {
    const key = outcomeTokens(o, family).join(', ');
    sums.set(key, add(sums.get(key) ?? ZERO, o.prob));
  }
  return new Map([...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, p]) => [k, fractionText(p)]));
}
