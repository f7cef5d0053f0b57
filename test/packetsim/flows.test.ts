import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import { formatHostPort, formatIp } from '../../src/net/index.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { simpleInterfaces } from '../../src/node/node.js';

const simpleFacts = (ips: readonly string[]) => ({ interfaces: simpleInterfaces(ips), routes: [] });
import { fractionText } from '../../src/packetsim/fraction.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { type FlowResult, type FlowSpec } from '../../src/packetsim/trace.js';
import { affinityRules } from './affinity-rules.js';
import { ruleset } from './ir-builder.js';

const NODE = buildEnv(simpleFacts(['192.168.0.2']), 'ipv4');

// kube-proxy's ClientIP affinity shape (writeServiceToEndpointRules: the recent --rcheck rules
// come before the statistic rules; each KUBE-SEP sets its list).
const AFFINITY = `
*nat
:PREROUTING ACCEPT
:INPUT ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:KUBE-SERVICES -
:KUBE-SVC-A -
:KUBE-SEP-1 -
:KUBE-SEP-2 -
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
-A KUBE-SERVICES -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-A
${affinityRules({ svc: 'KUBE-SVC-A', sep: (e) => `KUBE-SEP-${e}`, endpoints: 2, seconds: 10800, dnat: (e) => `10.180.0.${e}:80` }).join('\n')}
COMMIT
`;
const RS = linkRuleset(loadedState(ruleset(AFFINITY), []));

function view(r: FlowResult) {
  return r.outcomes.map((o) => `${fractionText(o.prob)} ${o.verdict} ${formatHostPort(o.packet.src, o.packet.sport, 'ipv4')}>${formatHostPort(o.packet.dst, o.packet.dport, 'ipv4')}${o.dnat ? ' dnat' : ''}`);
}

const flow = (name: string, src: string, sport: number, dst: string, dport: number, at: number): FlowSpec => ({ name, protocol: 'tcp', sourceIP: src, sourcePort: sport, destIP: dst, destPort: dport, at });

describe('traceFlows: state carried between packets', () => {
  it('ClientIP affinity keeps the endpoint within the timeout and chooses anew after it', () => {
    const res = traceFlows(RS, NODE, [
      flow('first', '10.0.0.2', 40000, '172.30.0.41', 80, 0),
      flow('same client, new connection, 1h later', '10.0.0.2', 40001, '172.30.0.41', 80, 3600),
      flow('other client', '10.0.0.9', 40000, '172.30.0.41', 80, 3600),
      flow('same client after the timeout', '10.0.0.2', 40002, '172.30.0.41', 80, 3600 + 10801),
    ]);
    const rows = res.map(view);
    expect(rows[0]).toEqual(['1/2 ACCEPT 10.0.0.2:40000>10.180.0.1:80 dnat', '1/2 ACCEPT 10.0.0.2:40000>10.180.0.2:80 dnat']);
    // Marginal odds stay 1/2 each, but every path now goes through the affinity rule.
    expect(rows[1]).toEqual(['1/2 ACCEPT 10.0.0.2:40001>10.180.0.1:80 dnat', '1/2 ACCEPT 10.0.0.2:40001>10.180.0.2:80 dnat']);
    const viaRecent = (r: FlowResult) => r.outcomes.map((o) => o.path.some((p) => p.kind === 'rule' && p.rule!.matches.length > 0 && p.rule!.chain === 'KUBE-SVC-A' && p.rule!.num <= 2));
    expect(viaRecent(res[1])).toEqual([true, true]);
    expect(viaRecent(res[2])).toEqual([false, false]);
    expect(viaRecent(res[3])).toEqual([false, false]);
  });

  it('a later packet of the same connection skips nat and keeps its translation; the reply is un-NATed', () => {
    const res = traceFlows(RS, NODE, [
      flow('syn', '10.0.0.2', 40000, '172.30.0.41', 80, 0),
      flow('second packet', '10.0.0.2', 40000, '172.30.0.41', 80, 1),
      flow('reply from endpoint 1', '10.180.0.1', 80, '10.0.0.2', 40000, 2),
    ]);
    // The second packet's outcomes correlate with the first (each world keeps its endpoint),
    // and no nat rule is evaluated for it.
    expect(view(res[1])).toEqual(view(res[0]));
    expect(res[1].outcomes.every((o) => o.path.every((p) => p.chain.table !== 'nat' || p.kind === 'policy'))).toBe(true);
    // The reply exists only in the world where endpoint 1 was chosen; there its source is
    // rewritten back to the service address.
    const replies = res[2].outcomes.map((o) => `${fractionText(o.prob)} ${formatIp(o.packet.src, 'ipv4')}:${o.packet.sport}`);
    expect(replies).toEqual(['1/2 172.30.0.41:80', '1/2 10.180.0.1:80']);
  });
});
