// Differential testing on the fixed seeds (issue 5). The kernel-free part always runs: the
// generated clusters are valid and survive cluster.yaml, kpsim's output loads into its own kernel
// model with every jump target present, and every flow's trace is a probability distribution.
// The kernel part (kernel.ts, with src/host/judge.ts as the judge) runs where namespaces and
// iptables are permitted, and says why not elsewhere.
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster } from '../../src/model/load.js';
import type { Cluster } from '../../src/model/types.js';
import { FEATURES, featuresOf } from './features.js';
import { generateFlows, topologyAddrs } from './flows.js';
import { generateCluster } from './generate.js';
import { renderClusterYaml } from './render-yaml.js';
import { FIXED_SEEDS } from './seeds.js';
import { checkFlow, simulate } from './self-check.js';

/** The cluster without `origin` (where each object came from), as plain data. */
function comparable(c: Cluster): unknown {
  return JSON.parse(JSON.stringify(c, (k, v) => (k === 'origin' ? undefined : typeof v === 'bigint' ? `${v}n` : v)));
}

describe('differential: generator', () => {
  it('gives the same cluster and flows for the same seed', () => {
    const a = generateCluster(7);
    const b = generateCluster(7);
    expect(comparable(a.cluster)).toEqual(comparable(b.cluster));
    expect(generateFlows(a)).toEqual(generateFlows(b));
    expect(comparable(generateCluster(8).cluster)).not.toEqual(comparable(a.cluster));
  });

  it('covers every listed feature in the fixed seeds', () => {
    const seen = new Set<string>();
    for (const seed of FIXED_SEEDS) {
      const g = generateCluster(seed);
      for (const f of featuresOf(g, generateFlows(g))) seen.add(f);
    }
    expect(FEATURES.filter((f) => !seen.has(f))).toEqual([]);
  });

  it.each(FIXED_SEEDS.map((seed) => ({ seed })))('seed $seed: cluster.yaml loads back without diagnostics to the same objects', ({ seed }) => {
    const g = generateCluster(seed);
    const sink = new DiagnosticSink();
    const loaded = loadCluster([{ name: 'cluster.yaml', text: renderClusterYaml(g.cluster) }], sink);
    expect(sink.items.filter((d) => d.severity !== 'note')).toEqual([]);
    expect(isDeepStrictEqual(comparable(loaded), comparable(g.cluster))).toBe(true);
  });
});

describe('differential: kpsim agrees with itself', () => {
  it.each(FIXED_SEEDS.map((seed) => ({ seed })))('seed $seed: output loads, jump targets exist, every trace sums to 1', ({ seed }) => {
    const g = generateCluster(seed);
    const flows = generateFlows(g);
    const topo = topologyAddrs(g, flows);
    const sim = simulate(g, topo);
    const problems = flows.flatMap((f) => checkFlow(sim, f, topo).problems.map((p) => `${f.name}: ${p}`));
    expect(problems).toEqual([]);
  });
});
