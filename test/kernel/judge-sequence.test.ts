// The judge's sequences (test/host/judge-sequence.ts) against the real kernel: flows to a ClientIP
// affinity service sent once per trial in file order at their `at`, really waited for, and each
// trial's run judged on kpsim's joint odds; next to them an independent split, probed the usual
// way. And the other way round: a kernel without affinity, judged against kpsim's affinity rules,
// must be caught.
import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import { judgeRules, type FlowJudgement, type JudgeFlow } from '../host/judge.js';
import { defaultTopology } from '../host/judge-node.js';
import { judgeSequence } from '../host/judge-sequence.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { affinityRules } from '../packetsim/affinity-rules.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`judge sequence tests not run: ${kernel.reason}`);

const SVC = '172.30.0.41';
const PLAIN = '172.30.0.42';

/** kube-proxy's affinity shape (writeServiceToEndpointRules) with `seconds`, or none; and a plain split. */
const rules = (seconds: number | null) => `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
:SEP1 - [0:0]
:SEP2 - [0:0]
:PLAIN - [0:0]
-A PREROUTING -d ${SVC}/32 -p tcp -m tcp --dport 80 -j SVC
-A PREROUTING -d ${PLAIN}/32 -p tcp -m tcp --dport 80 -j PLAIN
${affinityRules({ svc: 'SVC', sep: (e) => `SEP${e}`, endpoints: 2, seconds, dnat: (e) => `10.180.0.${e}:8080` }).join('\n')}
-A PLAIN -p tcp -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.180.0.1:8080
-A PLAIN -p tcp -j DNAT --to-destination 10.180.0.2:8080
COMMIT
`;

const flow = (name: string, sourceIP: string, destIP: string, at?: number): JudgeFlow => ({ name, sourceIP, protocol: 'TCP', destIP, destPort: 80, ...(at === undefined ? {} : { at }) });
const why = (j: FlowJudgement) => `${j.flow.name}: ${j.verdict} ${j.why.join('; ')}; kernel ${j.kernel?.outcomes.map((o) => `${o.key} x${o.count}`).join(' | ')}; sent at ${j.sequence?.sentAt.join(', ')}`;

describe.runIf(kernel.ok)('judge: flows that share state, sent as sequences', () => {
  it('affinity flows agree run by run, across a real 2 s timeout, beside an independent split', async () => {
    const flows = [
      flow('plain split', '203.0.113.9', PLAIN),
      flow('first', '203.0.113.2', SVC, 0),
      flow('same client, right after', '203.0.113.2', SVC),
      flow('other client', '203.0.113.3', SVC, 0),
      flow('same client after the timeout', '203.0.113.2', SVC, 4),
      flow('and right after that', '203.0.113.2', SVC),
    ];
    const report = await judgeRules({ family: 'ipv4', texts: [{ label: 'affinity rules', text: rules(2) }], nodeAddrs: [] }, flows);
    expect(report.error).toBeNull();
    console.log(report.flows.map(why).join('\n'));
    for (const j of report.flows) expect(j.verdict, why(j)).toBe('agree');
    const [plain, ...inSequence] = report.flows;
    // The split is probed as independent draws, the affinity flows once per trial.
    expect(plain.sequence).toBeNull();
    expect(plain.chiSquare).not.toBeNull();
    for (const j of inSequence) {
      expect(j.sequence?.flows).toEqual(inSequence.map((x) => x.flow.name));
      expect(j.kernel!.probes.length).toBe(3);
    }
  }, 120_000);

  it('a kernel without affinity is caught by kpsim\'s affinity rules', async () => {
    // Eight connections from one client: without affinity all eight meet one endpoint with odds
    // 2^-7 per trial, so the three trials all look pinned with odds 2^-21.
    const flows = Array.from({ length: 8 }, (_, i) => flow(`connection ${i + 1}`, '203.0.113.2', SVC));
    const kernelRules = { family: 'ipv4' as const, texts: [{ label: 'no affinity', text: rules(null) }], nodeAddrs: [] };
    const parsed = parseIptablesSave(rules(60), { file: 'affinity', family: 'ipv4' });
    expect(parsed.ruleset).not.toBeNull();
    const batches = flows.map((f, i) => ({ flow: f, protocol: 'tcp' as const, ports: [10000 + i] }));
    const judged = await judgeSequence(kernelRules, linkRuleset(loadedState(parsed.ruleset!, [])), batches, defaultTopology(kernelRules, flows), { trials: 3, timeoutMs: 1000, alpha: 1e-6, maxWaitMs: 10_000, budgetMs: 60_000 });
    console.log(judged.map(why).join('\n'));
    const caught = judged.filter((j) => j.why.some((w) => w.includes('which kpsim gives no chance after what the kernel did with the flows before it')));
    expect(caught.length, judged.map(why).join('\n')).toBeGreaterThan(0);
    expect(judged.every((j) => j.verdict !== 'skipped')).toBe(true);
  }, 120_000);
});
