// `kpsim golden init`'s first flows.yaml: for every service port, a packet from a pod on this node
// and one from the node itself to its cluster IP, and one from outside the cluster to each of
// its external entry points (external IPs, load-balancer IPs, the NodePort on the node IP). And
// the packets that must not get through, which a regression must not let through either: a pod to
// a port of the cluster IP that no service port serves, and for loadBalancerSourceRanges a client
// inside a range and one outside them all. Without answers: verify fills them in, as `--update`
// would.
import { Document, YAMLSeq } from 'yaml';
import type { ProxierSettings } from '../compiler/settings.js';
import type { Family } from '../iptables/ir.js';
import { cidrContains, familyOf, formatIPv4, formatIPv6, parseCIDR, parseIP, type ParsedCIDR } from '../net/index.js';
import type { Cluster } from '../model/types.js';

/** Documentation ranges (RFC 5737, RFC 3849 outside the fake node's /64s): not the node, not a pod. */
const OUTSIDE: Record<Family, string> = { ipv4: '203.0.113.2', ipv6: '2001:db8:ff::2' };

/** Candidate clients outside every source range: documentation and benchmarking ranges first. */
const FAR: Record<Family, readonly string[]> = {
  ipv4: ['203.0.113.2', '198.51.100.2', '192.0.2.2', '198.18.0.2', '100.64.0.2'],
  ipv6: ['2001:db8:ff::2', '2001:db8:fe::2', 'fd99::2'],
};

/** A client inside the first source range of this family, and one outside them all (null when none is found). */
function rangeClients(ranges: readonly string[], family: Family): { inside: string; outside: string | null } | null {
  const cidrs = ranges.map((t) => parseCIDR(t.trim())).filter((c): c is ParsedCIDR => c !== null && c.family === family);
  if (cidrs.length === 0) return null;
  const first = cidrs[0];
  const inside = nthAddress(first, first.prefix >= (family === 'ipv4' ? 31 : 127) ? 0 : 2);
  const outside = FAR[family].find((a) => !cidrs.some((c) => cidrContains(c, parseIP(a)!))) ?? null;
  return { inside, outside };
}

/** A port of the cluster IP no service port uses (with this protocol). */
function unservedPort(ports: readonly { readonly port: number; readonly protocol: string }[], protocol: string): number {
  const used = new Set(ports.filter((p) => p.protocol === protocol).map((p) => p.port));
  for (let p = 1; ; p++) {
    const candidate = ((Math.max(...used, 0) + p - 1) % 65535) + 1;
    if (!used.has(candidate)) return candidate;
  }
}

interface StarterFlow {
  name: string;
  sourceIP: string;
  protocol: string;
  destIP: string;
  destPort: number;
  inInterface?: string;
}

/** The address `n` past the network address. */
function nthAddress(c: ParsedCIDR, n: number): string {
  return c.family === 'ipv4' ? formatIPv4((c.network + n) >>> 0) : formatIPv6(c.network + BigInt(n));
}

/** A pod address on this node that is no endpoint, from the local-traffic detector's range. */
function podSource(cluster: Cluster, settings: ProxierSettings, family: Family): { ip: string; inInterface?: string } | null {
  const endpoints = new Set(cluster.slices.flatMap((s) => s.endpoints.flatMap((e) => e.addresses)));
  const det = settings.localDetector;
  const cidrText = det?.kind === 'cidr' ? det.cidr.text : undefined;
  const candidates = [
    ...(settings.node?.podCIDRs.map((c) => c.text) ?? []),
    ...(cidrText ? [cidrText] : []),
    ...cluster.config.clusterCIDR.split(',').map((s) => s.trim()),
  ];
  const cidr = candidates.map((t) => parseCIDR(t)).find((c): c is ParsedCIDR => c !== null && c.family === family);
  if (!cidr) return null;
  let ip = nthAddress(cidr, 2);
  for (let n = 3; endpoints.has(ip) && n < 250; n++) ip = nthAddress(cidr, n);
  // The interface-based detectors recognise pods by the interface their packets arrive on.
  const inInterface = det?.kind === 'interface' ? det.name : det?.kind === 'interfacePrefix' ? `${det.prefix}pod0` : undefined;
  return inInterface ? { ip, inInterface } : { ip };
}

export function starterFlows(cluster: Cluster, settings: ProxierSettings): StarterFlow[] {
  const out: StarterFlow[] = [];
  const nodeIPs = settings.node ? [...settings.node.internalIPs] : settings.nodeIP ? [settings.nodeIP] : [];
  for (const svc of cluster.services) {
    if (svc.type === 'ExternalName' || svc.clusterIP === 'None') continue;
    const clusterIPs = svc.clusterIPs.length ? svc.clusterIPs : svc.clusterIP ? [svc.clusterIP] : [];
    for (const port of svc.ports) {
      const spn = `${svc.namespace}/${svc.name}${port.name ? `:${port.name}` : ''}`;
      const protocol = port.protocol;
      const add = (what: string, sourceIP: string, destIP: string, destPort: number, inInterface?: string) =>
        out.push({ name: `${what} ${spn}`, sourceIP, protocol, destIP, destPort, ...(inInterface ? { inInterface } : {}) });
      for (const family of ['ipv4', 'ipv6'] as const) {
        const nodeIP = (family === settings.family && settings.nodeIP?.family === family ? settings.nodeIP : null) ?? nodeIPs.find((ip) => ip.family === family);
        if (!nodeIP && family !== settings.family) continue;
        const pod = podSource(cluster, settings, family);
        for (const ip of clusterIPs.filter((t) => familyOf(t) === family)) {
          if (pod) add('pod to cluster IP of', pod.ip, ip, port.port, pod.inInterface);
          if (nodeIP) add('node to cluster IP of', nodeIP.text, ip, port.port);
          // Once per cluster IP (on its first port): a port nothing serves.
          if (pod && port === svc.ports[0]) {
            const unserved = unservedPort(svc.ports, protocol);
            out.push({ name: `pod to unserved port ${unserved} of cluster IP of ${svc.namespace}/${svc.name}`, sourceIP: pod.ip, protocol, destIP: ip, destPort: unserved, ...(pod.inInterface ? { inInterface: pod.inInterface } : {}) });
          }
        }
        for (const ip of svc.externalIPs.map((t) => t.trim()).filter((t) => familyOf(t) === family)) add('outside to external IP of', OUTSIDE[family], ip, port.port);
        const ranges = rangeClients(svc.loadBalancerSourceRanges, family);
        for (const ing of svc.ingress) {
          if (ing.ip?.family !== family) continue;
          if (!ranges) add('outside to load-balancer IP of', OUTSIDE[family], ing.ip.text, port.port);
          else {
            add('client inside loadBalancerSourceRanges to load-balancer IP of', ranges.inside, ing.ip.text, port.port);
            if (ranges.outside) add('client outside loadBalancerSourceRanges to load-balancer IP of', ranges.outside, ing.ip.text, port.port);
          }
        }
        if (nodeIP && port.nodePort > 0 && (svc.type === 'NodePort' || svc.type === 'LoadBalancer')) add('outside to NodePort of', OUTSIDE[family], nodeIP.text, port.nodePort);
      }
    }
  }
  return out;
}

/** `tracer`: where the mode's README says how kube-proxy's test tracer answers. */
export function starterFlowsText(flows: readonly StarterFlow[], tracer = 'golden/kube-proxy-iptables/README.md section 5'): string {
  const doc = new Document(flows);
  doc.commentBefore =
    ' Packets in kube-proxy\'s flow-test shape; output and masq are what kube-proxy\'s test tracer\n' +
    ` would answer (${tracer}). Add flows freely: kpsim golden\n` +
    ' --update fills in their answers. Optional: sourcePort, at (seconds, for affinity timeouts),\n' +
    ' inInterface, and probabilities: {} to pin the exact split.';
  if (flows.length === 0) (doc.contents as YAMLSeq).flow = true;
  return doc.toString();
}
