// `kpsim golden init`'s first flows.yaml: for every service port, a packet from a pod on this node
// and one from the node itself to its cluster IP, and one from outside the cluster to each of
// its external entry points (external IPs, load-balancer IPs, the NodePort on the node IP).
// Without answers: verify fills them in, as `--update` would.
import { Document, YAMLSeq } from 'yaml';
import type { ProxierSettings } from '../compiler/settings.js';
import type { Family } from '../iptables/ir.js';
import { familyOf, formatIPv4, formatIPv6, parseCIDR, type ParsedCIDR } from '../net/index.js';
import type { Cluster } from '../model/types.js';

/** Documentation ranges (RFC 5737, RFC 3849 outside the fake node's /64s): not the node, not a pod. */
const OUTSIDE: Record<Family, string> = { ipv4: '203.0.113.2', ipv6: '2001:db8:ff::2' };

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
  const cidrText = det?.ifLocal[0] === '-s' ? det.ifLocal[1] : undefined;
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
  const inInterface = det?.ifLocal[0] === '-i' ? det.ifLocal[1].replace(/\+$/, 'pod0') : undefined;
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
        }
        for (const ip of svc.externalIPs.map((t) => t.trim()).filter((t) => familyOf(t) === family)) add('outside to external IP of', OUTSIDE[family], ip, port.port);
        for (const ing of svc.ingress) if (ing.ip?.family === family) add('outside to load-balancer IP of', OUTSIDE[family], ing.ip.text, port.port);
        if (nodeIP && port.nodePort > 0 && (svc.type === 'NodePort' || svc.type === 'LoadBalancer')) add('outside to NodePort of', OUTSIDE[family], nodeIP.text, port.nodePort);
      }
    }
  }
  return out;
}

export function starterFlowsText(flows: readonly StarterFlow[]): string {
  const doc = new Document(flows);
  doc.commentBefore =
    ' Packets in kube-proxy\'s flow-test shape; output and masq are what kube-proxy\'s test tracer\n' +
    ' would answer (golden/kube-proxy-iptables/README.md section 5). Add flows freely: kpsim golden\n' +
    ' --update fills in their answers. Optional: sourcePort, at (seconds, for affinity timeouts),\n' +
    ' inInterface, and probabilities: {} to pin the exact split.';
  if (flows.length === 0) (doc.contents as YAMLSeq).flow = true;
  return doc.toString();
}
