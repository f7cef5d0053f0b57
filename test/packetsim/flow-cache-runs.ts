// Bulk traces with and without the flow cache (src/packetsim/flow-cache.ts), for the tests that
// hold the cache to tracing's answers: what each run shows of every packet, and each packet's JSON
// as `kpsim trace --flows --json` spells it from its class's template.
import { explainer } from '../../src/packetsim/explain.js';
import { traceJson } from '../../src/report/json.js';
import { ClassJson, fillOf } from '../../src/report/json-class.js';
import type { FlowCache } from '../../src/packetsim/flow-cache.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import type { FlowSpec } from '../../src/packetsim/trace.js';
import { run, type Engine, type Fresh } from './flows-shown.js';

/** traceFlows with a cache made by `make` (null: none); `caches` gets each cache made. */
function engine(make: ((env: Parameters<Engine>[1]) => FlowCache) | null, caches: FlowCache[] = []): Engine {
  return (rs, env, flows, options) => {
    const cache = make === null ? null : make(env);
    if (cache) caches.push(cache);
    return traceFlows(rs, env, flows, options, undefined, cache);
  };
}

const PLAIN_ENGINE = engine(null);

/** The two runs' output, with and without a cache made by `make` (ordered: the cache changes no order). */
export function both(fresh: Fresh, flows: FlowSpec[], make: (env: Parameters<Engine>[1]) => FlowCache, caches: FlowCache[] = []) {
  return { cached: run(fresh, engine(make, caches), flows, false, true), plain: run(fresh, PLAIN_ENGINE, flows, false, true) };
}

export const differs = (x: { cached: unknown; plain: unknown }) => JSON.stringify(x.cached) !== JSON.stringify(x.plain);

/**
 * Each packet of a bulk trace (with the flow cache) as `kpsim trace --flows --json` prints it: as
 * traceJson spells it, and as `classes` does (from its class's template where it has one).
 */
export function jsonTexts(fresh: Fresh, flows: FlowSpec[], classes: ClassJson, paths: boolean): { full: string; fast: string }[] {
  const { node, family, rs, env } = fresh();
  const ex = explainer(node, family);
  const out: { full: string; fast: string }[] = [];
  traceFlows(rs, env, flows, { explain: false, paths }, (r) => {
    const full = JSON.stringify(traceJson({ result: r.result, outcomes: r.outcomes, name: r.flow.name, approximate: r.approximate }, ex, { paths, verbose: false }));
    out.push({ full, fast: classes.text(r.cls ?? null, fillOf(r.flow.name, r.result.input), () => full) });
  });
  return out;
}

/** Another packet of the flow: another name, source port and (IPv4) source address. */
export function another(f: FlowSpec, k: number): FlowSpec {
  const v4 = /^(\d+\.\d+\.\d+\.)(\d+)$/.exec(f.sourceIP);
  return { ...f, name: `${f.name} round ${k}`, sourcePort: (f.sourcePort ?? 40000) + k, sourceIP: v4 ? `${v4[1]}${((Number(v4[2]) + k) % 253) + 1}` : f.sourceIP };
}
