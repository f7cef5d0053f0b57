// Each structural difference kind on a mutation of a golden ruleset that shows it (and, where the
// kind has a mirror, the mutation the other way round): the diff must name exactly these.
import { describe, expect, it } from 'vitest';
import { structuralDiff, type StructuralDifference } from '../../src/diff/structural.js';
import { caseText, dumpNode, edit, row } from '../explain/nodes.js';

const iptables = row('iptables');

function structural(left: string, right: string): StructuralDifference[] {
  const view = (t: string) => iptables.services(dumpNode(t), 'ipv4', null);
  return structuralDiff(view(left), view(right), { pieces: true });
}

function kinds(list: readonly StructuralDifference[]): string[] {
  return list.map((d) => `${d.kind} ${d.port ?? '-'} ${d.what}`);
}

/** The text without the lines matching `re`. */
function without(text: string, re: RegExp): string {
  return text
    .split('\n')
    .filter((l) => !re.test(l))
    .join('\n');
}

describe('each structural difference kind', () => {
  it('port-missing and port-extra: a service port whose rules are all gone', () => {
    const dns = caseText('udp-dns', 'node.rules');
    const gone = without(dns, /KUBE-SVC-ERIFXISQEP7F7OF4|KUBE-SEP-BWHGELGX6BITPZVO/);
    expect(kinds(structural(dns, gone))).toEqual(['port-missing kube-system/kube-dns:dns-tcp service port kube-system/kube-dns:dns-tcp']);
    expect(kinds(structural(gone, dns))).toEqual(['port-extra kube-system/kube-dns:dns-tcp service port kube-system/kube-dns:dns-tcp']);
  });

  it('entry-missing and entry-extra: the localhost NodePort rule gone', () => {
    const etp = caseText('etp-local-with-local-endpoint', 'node.rules');
    const gone = edit(etp, /^-A KUBE-NODEPORTS -d 127\.0\.0\.0\/8/, null);
    expect(kinds(structural(etp, gone))).toEqual(['entry-missing edge/ingress:http NodePort 30080/TCP on localhost (127.0.0.0/8)']);
    expect(kinds(structural(gone, etp))).toEqual(['entry-extra edge/ingress:http NodePort 30080/TCP on localhost (127.0.0.0/8)']);
  });

  it('entry-changed and policy-changed: internalTrafficPolicy Local turned Cluster (KUBE-SVL renamed KUBE-SVC)', () => {
    const itp = caseText('itp-local', 'node.rules');
    const cluster = itp.replaceAll('KUBE-SVL-4HCUPJUQHHAHU56C', 'KUBE-SVC-4HCUPJUQHHAHU56C');
    const d = structural(itp, cluster);
    expect(kinds(d)).toEqual([
      'entry-changed obs/agent:otlp cluster IP 10.96.0.70:4317/TCP',
      'endpoint-missing obs/agent:otlp endpoint 10.244.1.70:4317 (Local policy)',
      'endpoint-extra obs/agent:otlp endpoint 10.244.1.70:4317 (Cluster policy)',
      'policy-changed obs/agent:otlp internal traffic policy',
      'piece-missing obs/agent:otlp chain nat KUBE-SVL-4HCUPJUQHHAHU56C',
      'piece-extra obs/agent:otlp chain nat KUBE-SVC-4HCUPJUQHHAHU56C',
    ]);
    expect([d[0].left, d[0].right]).toEqual(['endpoints (Local policy)', 'endpoints (Cluster policy)']);
    expect([d[3].left, d[3].right]).toEqual(['Local', 'Cluster']);
  });

  it('policy-changed: a session affinity timeout', () => {
    const affinity = caseText('session-affinity-within-timeout', 'node.rules');
    const longer = affinity.replaceAll('--rcheck --seconds 60 ', '--rcheck --seconds 120 ');
    const d = structural(affinity, longer);
    expect(kinds(d)).toEqual(['policy-changed shop/api:grpc session affinity', 'piece-changed shop/api:grpc chain nat KUBE-SVC-TG4Y7II5EGIOXNPD (line 2 of 5 vs 5)']);
    expect([d[0].left, d[0].right]).toEqual(['ClientIP 60 s', 'ClientIP 120 s']);
  });

  it("piece-missing and piece-extra: one of the node's own chains gone (kube-proxy's mangle canary)", () => {
    const etp = caseText('etp-local-with-local-endpoint', 'node.rules');
    const gone = edit(etp, /^:KUBE-PROXY-CANARY/, null);
    expect(kinds(structural(etp, gone))).toEqual(['piece-missing - chain mangle KUBE-PROXY-CANARY']);
    expect(kinds(structural(gone, etp))).toEqual(['piece-extra - chain mangle KUBE-PROXY-CANARY']);
  });

  it('piece-stale: what is left of a service port that is gone (its KUBE-SVC and KUBE-SEP chains, nothing jumping to them) is stale, not a port', () => {
    const dns = caseText('udp-dns', 'node.rules');
    const left = without(dns, /KUBE-SERVICES .*dns-tcp cluster IP/);
    const d = structural(dns, left);
    expect(kinds(d)).toEqual([
      'entry-missing kube-system/kube-dns:dns-tcp cluster IP 10.96.0.10:53/TCP',
      'piece-stale kube-system/kube-dns:dns-tcp chain nat KUBE-SVC-ERIFXISQEP7F7OF4',
      'piece-stale kube-system/kube-dns:dns-tcp chain nat KUBE-SEP-BWHGELGX6BITPZVO',
    ]);
    expect(d.slice(1).map((x) => [x.left, x.right])).toEqual([
      ['reached', 'present, reached by nothing'],
      ['reached', 'present, reached by nothing'],
    ]);
    // Against a node without that port at all: only the stale chains, not a whole extra port.
    const gone = without(dns, /KUBE-SVC-ERIFXISQEP7F7OF4|KUBE-SEP-BWHGELGX6BITPZVO/);
    const bare = left.replace(/ -m comment --comment (?:"[^"]*"|\S+)/g, '');
    expect(kinds(structural(gone.replace(/ -m comment --comment (?:"[^"]*"|\S+)/g, ''), bare))).toEqual([
      'piece-stale hash:ERIFXISQEP7F7OF4 chain nat KUBE-SVC-ERIFXISQEP7F7OF4',
      'piece-stale hash:ERIFXISQEP7F7OF4 chain nat KUBE-SEP-BWHGELGX6BITPZVO',
    ]);
  });
});
