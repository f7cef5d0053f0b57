import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import { formatHostPort, formatIp } from '../../src/net/index.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { simpleInterfaces } from '../../src/node/node.js';

const simpleFacts = (ips: readonly string[]) => ({ interfaces: simpleInterfaces(ips), routes: [] });
import { add, div, equal, fractionText, mul, ONE, timesRatio, ZERO, type Prob } from '../../src/packetsim/fraction.js';
import { sequenceProbability, type SeenOutcome } from '../../src/packetsim/sequence.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { type FlowSpec, type Outcome } from '../../src/packetsim/trace.js';
import { affinityRules } from './affinity-rules.js';
import { ruleset } from './ir-builder.js';

const NODE = buildEnv(simpleFacts(['192.168.0.2']), 'ipv4');

// kube-proxy's ClientIP affinity with timeoutSeconds 60 (writeServiceToEndpointRules), as in
// golden/kpsim/session-affinity-*, plus a masqueraded source, a REJECT and a DROP port.
const rules = (endpoints: number) => {
  const eps = Array.from({ length: endpoints }, (_, i) => i + 1);
  const chains = affinityRules({ svc: 'KUBE-SVC-A', sep: (e) => `KUBE-SEP-${e}`, endpoints, seconds: 60, dnat: (e) => `10.180.0.${e}:80` });
  return `
*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
-A FORWARD -m tcp -p tcp -d 10.180.0.99 --dport 81 -j REJECT
-A FORWARD -m tcp -p tcp -d 10.180.0.99 --dport 82 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT
:INPUT ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:KUBE-SERVICES -
:KUBE-SVC-A -
${eps.map((e) => `:KUBE-SEP-${e} -`).join('\n')}
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
-A POSTROUTING -s 10.0.0.9 -j MASQUERADE
-A KUBE-SERVICES -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-A
${chains.join('\n')}
COMMIT
`;
};
const TWO = linkRuleset(loadedState(ruleset(rules(2)), []));
const THREE = linkRuleset(loadedState(ruleset(rules(3)), []));

let port = 40000;
const flow = (src: string, at?: number, dport = 80, dst = '172.30.0.41'): FlowSpec => ({ protocol: 'tcp', sourceIP: src, sourcePort: port++, destIP: dst, destPort: dport, ...(at === undefined ? {} : { at }) });
const to = (endpoint: number, source = '10.0.0.2'): SeenOutcome => ({ verdict: 'ACCEPT', dest: `10.180.0.${endpoint}:80`, source });

describe('div: conditional probabilities stay exact', () => {
  it('divides dyadic and IPVS-share probabilities', () => {
    const third = timesRatio(ONE, 1, 3);
    expect(fractionText(div(third, timesRatio(ONE, 2, 3)))).toBe('1/2');
    expect(fractionText(div(timesRatio(ONE, 3, 8), timesRatio(ONE, 3, 4)))).toBe('1/2');
    expect(fractionText(div(timesRatio(ONE, 3, 4), timesRatio(ONE, 3, 8)))).toBe('2/1');
    expect(fractionText(div(timesRatio(ONE, 1, 4), third))).toBe('3/4');
    expect(() => div(ONE, ZERO)).toThrow(RangeError);
  });
});

describe('sequenceProbability: one observed run of packets that share state', () => {
  const withinTimeout = [flow('10.0.0.2', 0), flow('10.0.0.2', 30)];
  const expired = [flow('10.0.0.2', 0), flow('10.0.0.2', 61)];

  it('within the affinity timeout the second connection must meet the first one\'s endpoint', () => {
    const same = sequenceProbability(TWO, NODE, withinTimeout, [to(1), to(1)]);
    expect(fractionText(same.probability)).toBe('1/2');
    expect(same.impossibleAt).toBeNull();
    expect(same.steps.map((s) => fractionText(s.conditional))).toEqual(['1/2', '1/1']);
    const other = sequenceProbability(TWO, NODE, withinTimeout, [to(1), to(2)]);
    expect(other.probability).toEqual(ZERO);
    expect(other.impossibleAt).toBe(1);
    // What kpsim expected instead, given the first observation.
    expect(other.steps[1].outcomes.filter((o) => o.prob.num > 0n).map((o) => `${fractionText(o.prob)} ${formatHostPort(o.packet.dst, o.packet.dport, 'ipv4')}`)).toEqual(['1/1 10.180.0.1:80']);
  });

  it('after the timeout any pair of endpoints is possible', () => {
    for (const a of [1, 2]) for (const b of [1, 2]) expect(fractionText(sequenceProbability(TWO, NODE, expired, [to(a), to(b)]).probability)).toBe('1/4');
  });

  it('gives the kernel-quantised odds: --probability 0.3333333333 is 715827883/2^31', () => {
    const three = [flow('10.0.0.2', 0), flow('10.0.0.2', 30)];
    expect(fractionText(sequenceProbability(THREE, NODE, three, [to(1), to(1)]).probability)).toBe('715827883/2147483648');
    // The second endpoint: missed the first rule (1 - 715827883/2^31), then --probability 0.5.
    expect(fractionText(sequenceProbability(THREE, NODE, three, [to(2), to(2)]).probability)).toBe('1431655765/4294967296');
    expect(sequenceProbability(THREE, NODE, three, [to(3), to(2)]).impossibleAt).toBe(1);
  });

  it('another client has its own affinity', () => {
    const p = sequenceProbability(TWO, NODE, [flow('10.0.0.2', 0), flow('10.0.0.3', 30), flow('10.0.0.2', 30)], [to(1), to(2, '10.0.0.3'), to(1)]);
    expect(fractionText(p.probability)).toBe('1/4');
  });

  it('a packet of an existing connection keeps its translation', () => {
    const first = flow('10.0.0.2', 0);
    const again = { ...first, at: 100 };
    // Past the affinity timeout but within the SYN_SENT entry's 120 s: conntrack, not recent, decides.
    expect(fractionText(sequenceProbability(TWO, NODE, [first, again], [to(2), to(2)]).probability)).toBe('1/2');
    expect(sequenceProbability(TWO, NODE, [first, again], [to(2), to(1)]).impossibleAt).toBe(1);
  });

  it('matches the source after MASQUERADE, and DROP, REJECT and client errors by verdict', () => {
    const masq = [flow('10.0.0.9', 0)];
    expect(fractionText(sequenceProbability(TWO, NODE, masq, [to(1, '192.168.0.2')]).probability)).toBe('1/2');
    expect(sequenceProbability(TWO, NODE, masq, [to(1, '10.0.0.9')]).impossibleAt).toBe(0);
    const none = { dest: null, source: null };
    const reject = [flow('10.0.0.2', 0, 81, '10.180.0.99')];
    const drop = [flow('10.0.0.2', 0, 82, '10.180.0.99')];
    expect(sequenceProbability(TWO, NODE, reject, [{ verdict: 'REJECT', ...none }]).probability).toEqual(ONE);
    expect(sequenceProbability(TWO, NODE, reject, [{ verdict: 'DROP', ...none }]).impossibleAt).toBe(0);
    expect(sequenceProbability(TWO, NODE, drop, [{ verdict: 'DROP', ...none }]).probability).toEqual(ONE);
    expect(sequenceProbability(TWO, NODE, drop, [{ verdict: 'ERROR', ...none }]).impossibleAt).toBe(0);
  });

  it('agrees with traceFlows: the joint odds of all observation sequences sum to 1 and give its marginals', () => {
    const flows = [flow('10.0.0.2', 0), flow('10.0.0.9', 0), flow('10.0.0.2', 30), flow('10.0.0.9', 61), flow('10.0.0.2', 61)];
    const marginals = traceFlows(THREE, NODE, flows).map((r) => r.outcomes);
    const seenOf = (o: Outcome): SeenOutcome => ({ verdict: o.verdict, dest: formatHostPort(o.packet.dst, o.packet.dport, 'ipv4'), source: formatIp(o.packet.src, 'ipv4') });
    let total: Prob = ZERO;
    const byFlow = marginals.map(() => new Map<string, Prob>());
    const visit = (i: number, seen: SeenOutcome[]) => {
      if (i === flows.length) {
        const p = sequenceProbability(THREE, NODE, flows, seen).probability;
        total = add(total, p);
        seen.forEach((s, k) => byFlow[k].set(s.dest!, add(byFlow[k].get(s.dest!) ?? ZERO, p)));
        return;
      }
      for (const o of marginals[i]) visit(i + 1, [...seen, seenOf(o)]);
    };
    visit(0, []);
    expect(total).toEqual(ONE);
    marginals.forEach((outs, k) => {
      for (const o of outs) expect(equal(byFlow[k].get(seenOf(o).dest!)!, o.prob)).toBe(true);
    });
    // And the conditional steps multiply to the joint.
    const run = sequenceProbability(THREE, NODE, flows, marginals.map((outs) => seenOf(outs[0])));
    expect(equal(run.steps.reduce((q, s) => mul(q, s.conditional), ONE), run.probability)).toBe(true);
  });
});
