// Differential testing in nftables mode, on the same generated clusters as iptables mode
// (generate.ts), their configuration turned to nftables (`mode: nftables`, the masquerade settings
// under `nftables:`). Kernel-free: kpsim's transaction applies to kpsim's nft state without a
// problem, the simulator compiles every rule, and every flow's trace is a distribution with
// nothing UNKNOWN. Kernel: every fixed seed's transaction loads with `nft -f` and lists as kpsim's
// save output; on a selection of seeds, a bounded selection of flows is sent as real packets
// (the shared judge, test/host/judge.ts) and must agree with kpsim trace.
import { afterAll, describe, expect, it } from 'vitest';
import { compileNftablesCluster, type NftCompiled } from '../../src/compiler/nftables/index.js';
import { kubeProxyTable, nftablesNodeArtefacts } from '../../src/compiler/nftables/node-artefacts.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { renderNftablesSave } from '../../src/golden/verify-nftables.js';
import type { Cluster } from '../../src/model/types.js';
import { nftHooks } from '../../src/modes.js';
import { nodeFromArtefacts } from '../../src/node/assemble.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { add, equal, fractionText, ONE, ZERO } from '../../src/packetsim/fraction.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { tracePacket } from '../../src/packetsim/trace.js';
import { judgeNftCluster } from '../host/judge.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { withNamespace } from '../host/netns.js';
import { generateFlows, selectFlows, topologyAddrs } from './flows.js';
import { generateCluster, type GeneratedCluster } from './generate.js';
import { FIXED_SEEDS } from './seeds.js';
import { packetOf, topologyNodeSpec } from './self-check.js';

/** The generated cluster's kube-proxy in nftables mode, with the same masquerade settings. */
function inNftablesMode(c: Cluster): Cluster {
  return { ...c, config: { ...c.config, mode: 'nftables', nftables: { masqueradeAll: c.config.masqueradeAll, masqueradeBit: c.config.masqueradeBit } } };
}

function compile(g: GeneratedCluster): NftCompiled {
  const sink = new DiagnosticSink();
  const c = compileNftablesCluster(inNftablesMode(g.cluster), {}, sink);
  expect(sink.errors).toEqual([]);
  return c;
}

describe('differential, nftables mode: kpsim agrees with itself', () => {
  it.each(FIXED_SEEDS.map((seed) => ({ seed })))('seed $seed: the transaction applies, every rule compiles, every trace sums to 1', ({ seed }) => {
    const g = generateCluster(seed);
    const flows = generateFlows(g);
    const topo = topologyAddrs(g, flows);
    const c = compile(g);
    // nodeFromArtefacts throws when kpsim's own text does not apply as nft -f would apply it.
    const node = nodeFromArtefacts(nftablesNodeArtefacts(c));
    const { sim } = prepareNode(node, g.family, { extensions: nftHooks(node, g.family) });
    expect(sim.rs.problems).toEqual([]);
    const env = buildEnv(topologyNodeSpec(g, topo), g.family);
    const problems: string[] = [];
    for (const f of flows) {
      const outcomes = tracePacket(sim.rs, env, packetOf(f, topo)).outcomes;
      const total = outcomes.reduce((s, o) => add(s, o.prob), ZERO);
      if (!equal(total, ONE)) problems.push(`${f.name}: outcome probabilities sum to ${fractionText(total)}`);
      for (const o of outcomes) if (o.verdict === 'UNKNOWN') problems.push(`${f.name}: ${o.unknown.map((u) => u.reason).join('; ') || o.note}`);
    }
    expect(problems).toEqual([]);
  });
});

const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`differential nftables kernel tests not run: ${kernel.reason}`);
const judgeOff = process.env.KPSIM_DIFFERENTIAL_JUDGE === '0';
/** Flows per cluster sent to the kernel, as in iptables mode's differential test. */
const KERNEL_FLOWS = 6;
const KERNEL_SEEDS = FIXED_SEEDS.filter((s) => s % 8 === 3);
const judged = { agree: 0, sent: 0 };
afterAll(() => {
  if (judged.sent) console.log(`differential, nftables mode: ${judged.agree}/${judged.sent} flows sent as real packets agree with kpsim`);
});

describe.runIf(kernel.ok)('differential, nftables mode: the kernel agrees with kpsim', () => {
  it.each(FIXED_SEEDS.map((seed) => ({ seed })))('seed $seed: nft -f takes the transaction and lists kpsim\'s save output', async ({ seed }) => {
    const g = generateCluster(seed);
    const c = compile(g);
    const t = kubeProxyTable(g.family);
    await withNamespace(async (ns) => {
      const load = await ns.run('nft', ['-f', '-'], { stdin: c.restore });
      expect(load.stderr).toBe('');
      expect(await ns.exec('nft', ['list', 'table', t.family, t.name])).toBe(renderNftablesSave(c));
    });
  });

  it.runIf(!judgeOff).each(KERNEL_SEEDS.map((seed) => ({ seed })))(
    'seed $seed: real packets',
    async ({ seed }) => {
      const g = generateCluster(seed);
      const flows = generateFlows(g);
      const topo = topologyAddrs(g, flows);
      const chosen = selectFlows(flows, KERNEL_FLOWS, seed);
      const report = await judgeNftCluster(
        compile(g),
        chosen.map((f) => ({ name: f.name, sourceIP: f.sourceIP, protocol: f.protocol, destIP: f.destIP, destPort: f.destPort })),
        { topology: topo, budgetMs: 60_000 },
      );
      expect(report.error).toBeNull();
      const bad = report.flows.filter((j) => j.verdict === 'disagree').map((j) => `${j.flow.name}: ${j.why.join('; ')}\n  kpsim: ${j.kpsim.outcomes.map((o) => `${o.fraction} ${o.key}`).join(' | ')}\n  kernel: ${j.kernel?.outcomes.map((o) => `${o.count}x ${o.key}`).join(' | ')}`);
      judged.sent += report.flows.filter((j) => j.verdict !== 'skipped').length;
      judged.agree += report.flows.filter((j) => j.verdict === 'agree').length;
      expect(bad, bad.join('\n')).toEqual([]);
      expect(report.flows.filter((j) => j.verdict === 'agree').length).toBeGreaterThan(0);
    },
    180_000,
  );
});
