// `kpsim trace --sample N`: concrete packets drawn from the exact outcome distribution
// (packetsim/sample.ts), as counts per outcome in text or JSON.
import type { Explainer } from '../packetsim/explain.js';
import { sampleOutcomes } from '../packetsim/sample.js';
import { traceJson, type JsonOptions, type TraceJson, type TraceJsonInput } from './json.js';

export function sampleJson(t: TraceJsonInput, n: number, seed: number, ex: Explainer, opts: JsonOptions): TraceJson {
  const counts = sampleOutcomes(t.outcomes, n, seed);
  const base = traceJson(t, ex, opts);
  return { ...base, samples: n, seed, outcomes: base.outcomes.map((o, i) => ({ ...o, count: counts[i] })) };
}

export function sampleText(t: TraceJsonInput, n: number, seed: number, ex: Explainer): string {
  const j = sampleJson(t, n, seed, ex, { paths: false, verbose: false });
  const lines = [`${t.name ? `${t.name}: ` : ''}${n} packets, seed ${seed}`];
  j.outcomes.forEach((o) => lines.push(`  ${String(o.count).padStart(String(n).length)}  ${o.verdict} ${o.destIP}${o.destPort === null ? '' : ':' + o.destPort}  (p=${o.probability})`));
  return lines.join('\n') + '\n';
}
