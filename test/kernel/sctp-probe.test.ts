// SCTP through the real kernel without an SCTP stack: raw INITs (test/host/sctp-probe.ts) sent by
// the judge, read from the node's conntrack table and the ICMP errors that come back. One rule
// set with a DNAT split, a REJECT and a DROP, both families, every answer checked against the
// kernel's own: the prober must tell all three apart, or the judge's SCTP verdicts mean nothing.
import { describe, expect, it } from 'vitest';
import { judgeRules, type JudgeFlow } from '../host/judge.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { sctpProbesAvailable } from '../host/sctp-probe.js';

const kernel = kernelAvailable();
const sctp = sctpProbesAvailable();
if (!kernel.ok) console.warn(`SCTP probe tests not run: ${kernel.reason}`);
else if (!sctp) console.warn('SCTP probe tests not run: python3 is not on the PATH (the probes use its raw sockets)');

const rules = (v6: boolean) => {
  const svc = v6 ? 'fd00:30::41/128' : '172.30.0.41/32';
  const [ep1, ep2] = v6 ? ['[fd00:10::1]:8080', '[fd00:10::2]:8080'] : ['10.180.0.1:8080', '10.180.0.2:8080'];
  return `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:SVC - [0:0]
-A PREROUTING -j SVC
-A OUTPUT -j SVC
-A SVC -d ${svc} -p sctp -m sctp --dport 80 -m statistic --mode random --probability 0.5 -j DNAT --to-destination ${ep1}
-A SVC -d ${svc} -p sctp -m sctp --dport 80 -j DNAT --to-destination ${ep2}
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d ${svc} -p sctp -m sctp --dport 81 -j REJECT
-A FORWARD -d ${svc} -p sctp -m sctp --dport 82 -j DROP
-A INPUT -p sctp -m sctp --dport 30081 -j REJECT
-A OUTPUT -d ${svc} -p sctp -m sctp --dport 83 -j DROP
-A OUTPUT -d ${svc} -p sctp -m sctp --dport 84 -j REJECT
COMMIT
`;
};

describe.runIf(kernel.ok && sctp)('SCTP probes', () => {
  for (const v6 of [false, true]) {
    it(`tells DNAT, REJECT, DROP and local delivery apart (${v6 ? 'IPv6' : 'IPv4'})`, async () => {
      const [client, svc, node] = v6 ? ['2001:db8:200::2', 'fd00:30::41', '2001:db8::2'] : ['203.0.113.2', '172.30.0.41', '192.168.0.2'];
      const flow = (name: string, destIP: string, destPort: number): JudgeFlow => ({ name, sourceIP: client, protocol: 'SCTP', destIP, destPort });
      const local = (name: string, sourceIP: string, destIP: string, destPort: number): JudgeFlow => ({ name, sourceIP, protocol: 'SCTP', destIP, destPort });
      const loopback = v6 ? '::1' : '127.0.0.1';
      const flows = [
        flow('split', svc, 80), flow('reject', svc, 81), flow('drop', svc, 82), flow('node port reject', node, 30081), flow('node', node, 9999),
        // Sent by the node itself: delivered in the prober's own namespace, and a REJECT in INPUT.
        local('loopback', loopback, loopback, 9999), local('loopback reject', loopback, loopback, 30081), local('node to service', node, svc, 80),
        // Dropped in OUTPUT: the raw send itself fails (EPERM), which is the DROP.
        local('node output drop', node, svc, 83),
        // Rejected in OUTPUT: the send fails as well, but the port unreachable comes back.
        local('node output reject', node, svc, 84),
      ];
      const report = await judgeRules({ family: v6 ? 'ipv6' : 'ipv4', texts: [{ label: 'sctp rules', text: rules(v6) }], nodeAddrs: [node] }, flows);
      expect(report.error).toBeNull();
      const byName = new Map(report.flows.map((j) => [j.flow.name, j]));
      for (const j of report.flows) expect(j.verdict, `${j.flow.name}: ${j.why.join('; ')}`).toBe('agree');
      const ep = v6 ? ['[fd00:10::1]:8080', '[fd00:10::2]:8080'] : ['10.180.0.1:8080', '10.180.0.2:8080'];
      expect(new Set(byName.get('split')!.kernel!.outcomes.map((o) => o.key))).toEqual(new Set(ep.map((e) => `ACCEPT ${e} from ${client}`)));
      expect(byName.get('reject')!.kernel!.output).toBe('REJECT');
      expect(byName.get('drop')!.kernel!.output).toBe('DROP');
      expect(byName.get('node port reject')!.kernel!.output).toBe('REJECT');
      expect(byName.get('node')!.kernel!.outcomes.map((o) => o.key)).toEqual([`ACCEPT ${v6 ? `[${node}]` : node}:9999 from ${client}`]);
      expect(byName.get('loopback')!.kernel!.outcomes.map((o) => o.key)).toEqual([`ACCEPT ${v6 ? '[::1]' : '127.0.0.1'}:9999 from ${loopback}`]);
      expect(byName.get('loopback reject')!.kernel!.output).toBe('REJECT');
      expect(byName.get('node output drop')!.kernel!.output).toBe('DROP');
      expect(byName.get('node output reject')!.kernel!.output).toBe('REJECT');
      expect(new Set(byName.get('node to service')!.kernel!.outcomes.map((o) => o.key))).toEqual(new Set(ep.map((e) => `ACCEPT ${e} from ${node}`)));
    }, 120_000);
  }
});
