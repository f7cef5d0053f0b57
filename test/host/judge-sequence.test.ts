// How the judge reads a sequence's trials (compareSequence), on made-up kernel observations: no
// namespace needed, so these run everywhere.
import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import { compareSequence } from './judge-sequence.js';
import { accepted, type JudgeFlow, type ProbeRecord } from './judgement.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { simpleInterfaces } from '../../src/node/node.js';

const simpleFacts = (ips: readonly string[]) => ({ interfaces: simpleInterfaces(ips), routes: [] });
import { affinityRules } from '../packetsim/affinity-rules.js';

// kube-proxy's affinity shape with timeoutSeconds 60, and a masquerading client.
const RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
:SEP1 - [0:0]
:SEP2 - [0:0]
-A PREROUTING -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j SVC
-A POSTROUTING -s 203.0.113.9/32 -j MASQUERADE
${affinityRules({ svc: 'SVC', sep: (e) => `SEP${e}`, endpoints: 2, seconds: 60, dnat: (e) => `10.180.0.${e}:8080` }).join('\n')}
COMMIT
`;
const RS = linkRuleset(loadedState(parseIptablesSave(RULES, { file: 'rules', family: 'ipv4' }).ruleset!, []));
const ENV = buildEnv(simpleFacts(['192.168.0.2']), 'ipv4');

const batch = (name: string, sourceIP: string, port: number, at?: number) => ({
  flow: { name, sourceIP, protocol: 'TCP', destIP: '172.30.0.41', destPort: 80, ...(at === undefined ? {} : { at }) } satisfies JudgeFlow,
  protocol: 'tcp' as const,
  ports: [port],
});
/** The kernel's record of a probe that reached endpoint `e` from `source`, `sent` seconds into its trial. */
const probe = (port: number, e: number, sent: number, source = '203.0.113.2', from = source): ProbeRecord => ({
  sourcePort: port,
  sentAt: 1_000_000 + sent * 1000,
  observed: accepted(`10.180.0.${e}:8080`, source, true, source !== from),
  client: '',
  conntrack: null,
});

describe('compareSequence: each trial run judged on its joint odds', () => {
  const flows = [batch('first', '203.0.113.2', 10000, 0), batch('30 s later', '203.0.113.2', 10001, 30), batch('other client', '203.0.113.3', 10000, 30)];

  it('agrees when every trial keeps the client on its endpoint', () => {
    const trials = [
      [probe(10000, 1, 0), probe(10001, 1, 30), probe(10000, 2, 30.1, '203.0.113.3')],
      [probe(10000, 2, 0), probe(10001, 2, 30), probe(10000, 2, 30.1, '203.0.113.3')],
    ];
    const judged = compareSequence(RS, ENV, flows, trials, 1e-6);
    expect(judged.map((j) => [j.verdict, j.why])).toEqual(judged.map(() => ['agree', []]));
    expect(judged[0].sequence).toEqual({ flows: ['first', '30 s later', 'other client'], sentAt: [0, 0], runOdds: ['1/4', '1/4'], timing: null });
    expect(judged[1].kernel!.output).toBe('10.180.0.1:8080, 10.180.0.2:8080');
    expect(judged[1].kpsim.outcomes.map((o) => o.fraction)).toEqual(['1/2', '1/2']);
  });

  it('names the first flow of a trial that breaks affinity, and leaves the rest of that trial unjudged', () => {
    const trials = [[probe(10000, 1, 0), probe(10001, 2, 30), probe(10000, 1, 30.1, '203.0.113.3')]];
    const judged = compareSequence(RS, ENV, flows, trials, 1e-6);
    expect(judged.map((j) => j.verdict)).toEqual(['agree', 'disagree', 'disagree']);
    expect(judged[1].why).toEqual([
      'kernel: trial 1 ended ACCEPT 10.180.0.2:8080 from 203.0.113.2, which kpsim gives no chance after what the kernel did with the flows before it (ACCEPT 10.180.0.1:8080 from 203.0.113.2 1/1)',
    ]);
    expect(judged[2].why).toEqual(["trial 1: not judged: flow '30 s later' before it in the sequence already disagrees"]);
    expect(judged[0].sequence!.runOdds).toEqual(['0/1']);
  });

  it('judges a trial at the times it was sent, and says when that is not its at', () => {
    // Sent 61 s in rather than at 30: the entry had expired, so the other endpoint was possible
    // then, though not at 30 s.
    const judged = compareSequence(RS, ENV, flows, [[probe(10000, 1, 0), probe(10001, 2, 61), probe(10000, 1, 61.1, '203.0.113.3')]], 1e-6);
    expect(judged.map((j) => j.verdict)).toEqual(['agree', 'agree', 'agree']);
    expect(judged[1].sequence!.timing).toBe('trial 1: the flows up to this one were sent at 0.000 (at 0), 61.000 (at 30) s, which changes the odds kpsim gives what the kernel did with this one');
    expect(judged[1].sequence!.sentAt).toEqual([61]);
  });

  it('holds the kernel to the source the endpoint saw', () => {
    const masq = [batch('masqueraded', '203.0.113.9', 10000, 0)];
    expect(compareSequence(RS, ENV, masq, [[probe(10000, 1, 0, '192.168.0.2', '203.0.113.9')]], 1e-6)[0].verdict).toBe('agree');
    const unmasqueraded = compareSequence(RS, ENV, masq, [[probe(10000, 1, 0, '203.0.113.9')]], 1e-6)[0];
    expect(unmasqueraded.verdict).toBe('disagree');
    expect(unmasqueraded.why[0]).toContain('ended ACCEPT 10.180.0.1:8080 from 203.0.113.9, which kpsim gives no chance');
  });
});
