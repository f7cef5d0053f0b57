// Flows for a generated cluster: from every kind of origin (a local pod, a remote pod, the node by
// its IP and by 127.0.0.1, an outside client inside and outside the source ranges) to every entry
// point of every service port (cluster IP, node port on each node address, load-balancer IP,
// external IP) and to addresses that are no service. Also where each source lives in the judge's
// topology (node, client or pods side).
import type { Family } from '../../src/model/types.js';
import { REMOTE_CLIENT_HOSTS } from './addresses.js';
import { Dice, LOCAL_NODE, type GeneratedCluster } from './generate.js';

export const ORIGIN_KINDS = ['local-pod', 'hairpin-pod', 'remote-pod', 'node-ip', 'localhost', 'external-inside', 'external-outside'] as const;
export type OriginKind = (typeof ORIGIN_KINDS)[number];
export const ENTRY_KINDS = ['cluster-ip', 'node-port', 'lb-ip', 'external-ip', 'non-service'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export type FlowProtocol = 'tcp' | 'udp' | 'sctp';

export interface DiffFlow {
  /** `local-pod 10.1.0.12 -> cluster-ip ns0/svc3:http 172.30.0.4:80/tcp`. */
  readonly name: string;
  readonly origin: OriginKind;
  readonly entry: EntryKind;
  readonly protocol: FlowProtocol;
  readonly sourceIP: string;
  readonly destIP: string;
  readonly destPort: number;
  /** `ns/name:port` of the service port aimed at; null for non-service flows. */
  readonly servicePort: string | null;
}

/** Where every address lives in the judge's topology (service-node.ts's ServiceNodeSpec). */
export interface TopologyAddrs {
  readonly nodeAddrs: readonly string[];
  readonly clientAddrs: readonly string[];
  readonly endpointAddrs: readonly string[];
}

interface Sources {
  readonly localPods: readonly string[];
  readonly remotePod: string;
  readonly nodeIP: string;
}

function sourcesOf(g: GeneratedCluster, d: Dice): Sources {
  const local = new Set<string>();
  for (const s of g.cluster.slices) for (const e of s.endpoints) if (e.nodeName === LOCAL_NODE) local.add(e.addresses[0]);
  // A local pod that backs no service, so that not every local-pod flow is a hairpin.
  const idle = g.plan.pod(0, 250);
  return { localPods: [idle, ...local], remotePod: g.plan.pod(1, REMOTE_CLIENT_HOSTS.first + d.int(0, REMOTE_CLIENT_HOSTS.count - 1)), nodeIP: g.plan.nodeIPs[0] };
}

/** Every flow of the cluster, in a fixed order (services in order, then the non-service ones). */
export function generateFlows(g: GeneratedCluster): DiffFlow[] {
  const d = new Dice(g.seed ^ 0x5eed);
  const src = sourcesOf(g, d);
  const { plan } = g;
  const flows: DiffFlow[] = [];
  const add = (origin: OriginKind, entry: EntryKind, protocol: FlowProtocol, sourceIP: string, destIP: string, destPort: number, servicePort: string | null) => {
    const what = servicePort ? `${entry} ${servicePort}` : entry;
    flows.push({ name: `${origin} ${sourceIP} -> ${what} ${hostPort(destIP, destPort, g.family)}/${protocol}`, origin, entry, protocol, sourceIP, destIP, destPort, servicePort });
  };
  const nodePortAddrs = g.nodeAddrs;
  for (const svc of g.cluster.services) {
    const endpoints = new Set(g.cluster.slices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name).flatMap((s) => s.endpoints.filter((e) => e.nodeName === LOCAL_NODE).map((e) => e.addresses[0])));
    const hairpin = [...endpoints];
    for (const sp of svc.ports) {
      const proto = sp.protocol.toLowerCase() as FlowProtocol;
      const id = `${svc.namespace}/${svc.name}:${sp.name || sp.port}`;
      const pod = d.pick(src.localPods.filter((p) => !endpoints.has(p)));
      const inside = plan.client.inside;
      const outside = plan.client.outside;
      // [destination, entry kind, origins that may use it]
      const targets: [string, number, EntryKind][] = [];
      if (svc.clusterIP) targets.push([svc.clusterIP, sp.port, 'cluster-ip']);
      for (const ing of svc.ingress) if (ing.ip) targets.push([ing.ip.text, sp.port, 'lb-ip']);
      for (const e of svc.externalIPs) if (e.includes(':') === (g.family === 'ipv6')) targets.push([e, sp.port, 'external-ip']);
      if (sp.nodePort) for (const a of nodePortAddrs) targets.push([a, sp.nodePort, 'node-port']);
      for (const [dst, port, entry] of targets) {
        add('local-pod', entry, proto, pod, dst, port, id);
        if (hairpin.length) add('hairpin-pod', entry, proto, d.pick(hairpin), dst, port, id);
        add('remote-pod', entry, proto, src.remotePod, dst, port, id);
        add('node-ip', entry, proto, src.nodeIP, dst, port, id);
        add('external-inside', entry, proto, inside, dst, port, id);
        add('external-outside', entry, proto, outside, dst, port, id);
      }
      if (sp.nodePort) add('localhost', 'node-port', proto, plan.loopback, plan.loopback, sp.nodePort, id);
    }
  }
  addNonService(g, src, add);
  return flows;
}

type Add = (origin: OriginKind, entry: EntryKind, protocol: FlowProtocol, sourceIP: string, destIP: string, destPort: number, servicePort: string | null) => void;

/** Addresses and ports no service holds: kube-proxy's rules must leave these alone (or reject them as kube-proxy does). */
function addNonService(g: GeneratedCluster, src: Sources, add: Add): void {
  const { plan } = g;
  const svc = g.cluster.services[0];
  const unusedPort = (ports: readonly number[]) => {
    let p = 9;
    while (ports.includes(p)) p++;
    return p;
  };
  add('local-pod', 'non-service', 'tcp', src.localPods[0], plan.unusedClusterIP, 80, null);
  add('node-ip', 'non-service', 'tcp', src.nodeIP, plan.unusedClusterIP, 80, null);
  add('remote-pod', 'non-service', 'udp', src.remotePod, svc.clusterIP!, unusedPort(svc.ports.map((p) => p.port)), null);
  const nodePorts = g.cluster.services.flatMap((s) => s.ports.map((p) => p.nodePort));
  add('external-inside', 'non-service', 'tcp', plan.client.inside, plan.nodeIPs[0], 29999 - (nodePorts.includes(29999) ? 1 : 0), null);
  add('localhost', 'non-service', 'tcp', plan.loopback, plan.loopback, 29998, null);
  const ep = g.cluster.slices.find((s) => s.endpoints.length > 0 && s.ports.length > 0);
  if (ep && ep.ports[0].port) {
    add('remote-pod', 'non-service', ep.ports[0].protocol === 'UDP' ? 'udp' : 'tcp', src.remotePod, ep.endpoints[0].addresses[0], ep.ports[0].port, null);
    add('external-outside', 'non-service', 'tcp', plan.client.outside, ep.endpoints[0].addresses[0], ep.ports[0].port, null);
  }
}

export function hostPort(ip: string, port: number, family: Family): string {
  return family === 'ipv6' ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Where each address of the cluster and its flows lives in the judge's topology. */
export function topologyAddrs(g: GeneratedCluster, flows: readonly DiffFlow[]): TopologyAddrs {
  const endpoints = new Set<string>();
  for (const s of g.cluster.slices) for (const e of s.endpoints) endpoints.add(e.addresses[0]);
  const clients = new Set<string>();
  for (const f of flows) {
    if (f.origin === 'local-pod' || f.origin === 'hairpin-pod') endpoints.add(f.sourceIP);
    else if (f.origin === 'remote-pod' || f.origin.startsWith('external')) clients.add(f.sourceIP);
  }
  return { nodeAddrs: [...g.nodeAddrs], clientAddrs: [...clients], endpointAddrs: [...endpoints] };
}

/**
 * At most `max` flows for the kernel, chosen so that every (origin, entry) pair present appears
 * once before any repeats; deterministic for a seed.
 */
export function selectFlows(flows: readonly DiffFlow[], max: number, seed: number): DiffFlow[] {
  const d = new Dice(seed ^ 0xf10);
  const order = d.shuffle(flows);
  const seen = new Set<string>();
  const first: DiffFlow[] = [];
  const rest: DiffFlow[] = [];
  for (const f of order) {
    const key = `${f.origin}/${f.entry}/${f.protocol}`;
    (seen.has(key) ? rest : first).push(f);
    seen.add(key);
  }
  const chosen = new Set([...first, ...rest].slice(0, max));
  return flows.filter((f) => chosen.has(f));
}
