// Compiler behaviours the conformance corpus does not pin: each builds a small cluster and looks
// at the rules kube-proxy would write for it.
import { describe, expect, it } from 'vitest';
import { compileCluster, type CompileOptions } from '../../src/compiler/index.js';
import { chainLines } from '../../src/compiler/iptables/restore.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster } from '../../src/model/load.js';

const NODE = `apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {podCIDRs: [10.1.0.0/24, "fd00:1::/64"]}
status:
  addresses:
  - {type: InternalIP, address: 192.168.0.2}
  - {type: InternalIP, address: "2001:db8::2"}
`;

function compile(objects: string, config = '', opts: CompileOptions = {}) {
  const cfg = `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.0.0.0/8,fd00::/48\n${config}`;
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: 'c.yaml', text: `${cfg}\n---\n${NODE}---\n${objects}` }], sink);
  const out = compileCluster(cluster, opts, sink);
  expect(sink.errors).toEqual([]);
  return out;
}

const svc = (spec: string, name = 'web') => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ns}\nspec:\n${spec}\n---\n`;
const slice = (eps: string, name = 'web', type = 'IPv4', ports = '[{name: "", port: 8080}]') =>
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}-${type}, namespace: ns, labels: {kubernetes.io/service-name: ${name}}}\naddressType: ${type}\nendpoints:\n${eps}\nports: ${ports}\n---\n`;

const ext = (out: ReturnType<typeof compile>) => [...out.iptables.data.nat.rules].filter(([c]) => c.startsWith('KUBE-EXT-')).flatMap(([, r]) => r);

describe('compiler features', () => {
  it('treats a ClusterIP service with external IPs and externalTrafficPolicy Local as Local', () => {
    const out = compile(svc('  clusterIP: 10.96.0.1\n  externalIPs: [192.168.0.50]\n  externalTrafficPolicy: Local\n  ports: [{port: 80}]') + slice('- addresses: [10.1.0.5]\n  nodeName: n1\n- addresses: [10.2.0.5]\n  nodeName: n2'));
    expect(ext(out).some((r) => r.includes('pod traffic for ns/web external destinations'))).toBe(true);
    expect([...out.iptables.data.nat.rules.keys()].some((c) => c.startsWith('KUBE-SVL-'))).toBe(true);
  });

  it.each([
    ['NodeCIDR', '', '-s 10.1.0.0/24', '! -s 10.1.0.0/24'],
    ['BridgeInterface', 'detectLocal: {bridgeInterface: cbr0}', '-i cbr0', '! -i cbr0'],
    ['InterfaceNamePrefix', 'detectLocal: {interfaceNamePrefix: veth}', '-i veth+', '! -i veth+'],
    ['ClusterCIDR', '', '-s 10.0.0.0/8', '! -s 10.0.0.0/8'],
  ])('detects local traffic with %s', (mode, extra, ifLocal, ifNotLocal) => {
    const out = compile(
      svc('  type: NodePort\n  clusterIP: 10.96.0.1\n  externalTrafficPolicy: Local\n  ports: [{port: 80, nodePort: 30080}]') + slice('- addresses: [10.1.0.5]\n  nodeName: n1'),
      `detectLocalMode: ${mode}\n${extra}`,
    );
    const all = [...out.iptables.data.nat.rules.values()].flat();
    expect(all.some((r) => r.includes(`${ifNotLocal} -j KUBE-MARK-MASQ`))).toBe(true);
    expect(ext(out).some((r) => r.includes(`external destinations" ${ifLocal} -j KUBE-SVC-`))).toBe(true);
  });

  it('compiles the IPv6 side of a dual-stack service with --family ipv6', () => {
    const objects =
      svc('  clusterIP: 10.96.0.1\n  clusterIPs: [10.96.0.1, "fd00:96::1"]\n  ports: [{port: 80}]') +
      slice('- addresses: [10.1.0.5]') +
      slice('- addresses: ["fd00:1::5"]', 'web', 'IPv6');
    const v6 = compile(objects, '', { family: 'ipv6' }).restore;
    expect(v6).toContain('-d fd00:96::1 --dport 80');
    expect(v6).toContain('--to-destination [fd00:1::5]:8080');
    expect(v6).toContain('! -s fd00::/48 -j KUBE-MARK-MASQ');
    expect(v6).toContain('-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS');
    expect(v6).not.toContain('10.1.0.5');
    expect(compile(objects).restore).not.toContain('fd00');
  });

  it('writes one KUBE-NODEPORTS jump per node address in nodePortAddresses', () => {
    const out = compile(svc('  clusterIP: 10.96.0.1\n  ports: [{port: 80}]'), 'nodePortAddresses: [192.168.0.0/24, 10.9.0.0/16]');
    expect(chainLines(out.iptables.data.nat, 'KUBE-SERVICES').at(-1)).toBe(
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d 192.168.0.2 -j KUBE-NODEPORTS',
    );
  });

  it('follows topology hints only when every ready endpoint has one and one is for this zone', () => {
    const hinted = (zone2: string) =>
      `- addresses: [10.1.0.5]\n  zone: a\n  hints: {forZones: [{name: a}]}\n- addresses: [10.2.0.5]\n  zone: b\n  ${zone2}`;
    const node = NODE.replace('metadata: {name: n1}', 'metadata: {name: n1, labels: {topology.kubernetes.io/zone: a}}');
    const run = (eps: string) => {
      const sink = new DiagnosticSink();
      const text = `${node}---\n${svc('  clusterIP: 10.96.0.1\n  ports: [{port: 80}]')}${slice(eps)}`;
      return compileCluster(loadCluster([{ name: 'c.yaml', text }], sink), {}, sink).restore;
    };
    expect(run(hinted('hints: {forZones: [{name: b}]}'))).not.toContain('10.2.0.5:8080');
    expect(run(hinted('conditions: {ready: true}'))).toContain('10.2.0.5:8080');
  });

  it('uses legacy Endpoints when there is no EndpointSlice', () => {
    const out = compile(svc('  clusterIP: 10.96.0.1\n  ports: [{name: http, port: 80}]') + 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: ns}\nsubsets:\n- addresses: [{ip: 10.1.0.7, nodeName: n1}]\n  ports: [{name: http, port: 8080}]\n');
    expect(out.restore).toContain('--to-destination 10.1.0.7:8080');
  });

  it('writes nothing for headless and ExternalName services', () => {
    const out = compile(svc('  clusterIP: None\n  ports: [{port: 80}]', 'h') + svc('  type: ExternalName\n  externalName: example.com', 'x'));
    expect(out.restore).not.toContain('ns/h');
    expect(out.restore).not.toContain('ns/x');
  });
});
