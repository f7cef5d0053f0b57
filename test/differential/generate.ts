// A seeded generator of random but valid clusters for differential testing: 1-30 Services of every
// type and policy, 0-12 endpoints per port on the local and on remote nodes with every condition
// mix, and a kube-proxy configuration variant, in one IP family. The same seed always gives the
// same cluster (bench/generate.ts's mulberry32). Flows for a cluster come from flows.ts.
import { rng } from '../../bench/generate.js';
import { DEFAULT_CONFIG } from '../../src/model/config.js';
import { parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../../src/net/index.js';
import type {
  Cluster,
  DetectLocalMode,
  Endpoint,
  EndpointSlice,
  Family,
  LoadBalancerIngress,
  KubeNode,
  AnnotatedInterface,
  Origin,
  ServiceProtocol,
  ProxyConfig,
  Service,
  ServicePort,
  TrafficPolicy,
} from '../../src/model/types.js';
import { ENDPOINT_HOSTS, otherPlan, PLANS, type AddressPlan } from './addresses.js';

export const NODE_NAMES = ['node-0', 'node-1', 'node-2'] as const;
export const LOCAL_NODE = NODE_NAMES[0];

/** A random source with the few shapes the generator needs. */
export class Dice {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  /** Picks by weight: [[value, weight], ...]. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [v, w] of choices) {
      if ((r -= w) < 0) return v;
    }
    return choices[choices.length - 1][0];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

export interface GeneratedCluster {
  readonly seed: number;
  readonly family: Family;
  readonly plan: AddressPlan;
  readonly cluster: Cluster;
  /** Which config variant, in words (for the feature list and reports). */
  readonly variant: { readonly nodePortAddresses: string; readonly detectLocal: string };
  /** The local node's addresses in the topology (node IPs, and the external IP it holds, if any). */
  readonly nodeAddrs: readonly string[];
}

const origin = (what: string): Origin => ({ file: 'generated', span: null, what });
const ip = (text: string): ParsedIP => {
  const p = parseIP(text);
  if (!p) throw new Error(`generator: bad IP ${text}`);
  return p;
};
const cidr = (text: string): ParsedCIDR => {
  const p = parseCIDR(text);
  if (!p) throw new Error(`generator: bad CIDR ${text}`);
  return p;
};

/** The cluster for `seed`: family, configuration, nodes, services and their slices. */
export function generateCluster(seed: number): GeneratedCluster {
  const d = new Dice(seed);
  const family: Family = d.chance(0.3) ? 'ipv6' : 'ipv4';
  const plan = PLANS[family];
  const holdsExternalIP = d.chance(0.4);
  const twoNodeIPs = d.chance(0.4);
  const nodeAddrs = [plan.nodeIPs[0], ...(twoNodeIPs ? [plan.nodeIPs[1]] : []), ...(holdsExternalIP ? [plan.heldExternalIP] : [])];
  const { config, variant } = generateConfig(d, plan);
  const nodes = generateNodes(d, plan, nodeAddrs, twoNodeIPs);
  const count = Math.max(1, Math.round(1 + 29 * d.float() ** 2));
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const ports = new PortAllocator();
  for (let i = 0; i < count; i++) {
    const { service, targetPorts } = generateService(d, plan, i, ports, holdsExternalIP);
    services.push(service);
    slices.push(...generateSlices(d, plan, service, targetPorts));
  }
  return { seed, family, plan, cluster: { config, nodes, services, slices }, variant, nodeAddrs };
}

function generateConfig(d: Dice, plan: AddressPlan): { config: ProxyConfig; variant: GeneratedCluster['variant'] } {
  // The judge's node reaches local pods on `pods0` and everything else on `eth0`.
  const detect = d.weighted<[string, DetectLocalMode, string, Partial<ProxyConfig>]>([
    [['ClusterCIDR', 'ClusterCIDR', plan.clusterCIDR, {}], 4],
    [['NodeCIDR', 'NodeCIDR', plan.clusterCIDR, {}], 2],
    [['BridgeInterface', 'BridgeInterface', plan.clusterCIDR, { bridgeInterface: 'pods0' }], 1.5],
    [['InterfaceNamePrefix', 'InterfaceNamePrefix', plan.clusterCIDR, { interfaceNamePrefix: 'pods' }], 1.5],
    [['none', 'ClusterCIDR', '', {}], 1],
  ]);
  const [detectLocal, detectLocalMode, clusterCIDR, extra] = detect;
  const npa = d.chance(0.5) ? (['all', []] as const) : d.pick(plan.nodePortAddressChoices);
  const config: ProxyConfig = {
    ...DEFAULT_CONFIG,
    mode: 'iptables',
    hostnameOverride: LOCAL_NODE,
    bindAddress: plan.family === 'ipv6' ? '::' : '0.0.0.0',
    clusterCIDR,
    detectLocalMode,
    ...extra,
    masqueradeAll: d.chance(0.2),
    masqueradeBit: d.chance(0.85) ? 14 : d.int(0, 31),
    localhostNodePorts: d.chance(0.7),
    syncPeriodSeconds: 30,
    nodePortAddresses: npa[1],
    tcpBeLiberal: d.chance(0.2),
    origin: null,
  };
  return { config, variant: { nodePortAddresses: npa[0], detectLocal } };
}

function generateNodes(d: Dice, plan: AddressPlan, nodeAddrs: readonly string[], twoNodeIPs: boolean): KubeNode[] {
  const host = (a: string) => `${a}/${plan.hostBits}`;
  const interfaces: AnnotatedInterface[] = [
    { name: 'lo', addrs: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', addrs: [plan.linkAddrs.eth0, ...nodeAddrs.map(host)] },
    { name: 'pods0', addrs: [plan.linkAddrs.pods0] },
  ].map(({ name, addrs }) => ({ name, addresses: addrs.map(cidr), ips: addrs.map((a) => ip(a.split('/')[0])) }));
  return NODE_NAMES.map((name, n) => ({
    name,
    internalIPs: n === 0 ? [plan.nodeIPs[0], ...(twoNodeIPs ? [plan.nodeIPs[1]] : [])].map(ip) : [ip(plan.remoteNodeIPs[n - 1])],
    externalIPs: [],
    podCIDRs: [cidr(plan.podCIDRs[n])],
    labels: { 'kubernetes.io/hostname': name },
    interfaces: n === 0 ? interfaces : null,
    hostFeatures: n === 0 ? { randomFully: d.chance(0.5), nfacct: d.chance(0.7) } : { randomFully: null, nfacct: null },
    origin: origin(`Node ${name}`),
  }));
}

/** Node ports and health-check ports, unique over the cluster. */
class PortAllocator {
  private nodePort = 30000;
  private health = 32000;
  nextNodePort(d: Dice): number {
    this.nodePort += d.int(1, 7);
    return this.nodePort;
  }
  nextHealthPort(): number {
    return this.health++;
  }
}

const PORT_NAMES = ['http', 'https', 'dns', 'metrics', 'grpc'];
const PORT_NUMBERS = [80, 443, 53, 8080, 9090, 5432];

function generatePorts(d: Dice, external: boolean, allocate: boolean, ports: PortAllocator): { ports: ServicePort[]; targetPorts: number[] } {
  const n = d.weighted([[1, 5], [2, 3], [3, 1.5], [4, 0.5]] as const);
  const out: ServicePort[] = [];
  const targetPorts: number[] = [];
  const used = new Set<string>();
  for (let k = 0; k < n; k++) {
    const protocol = d.weighted<ServiceProtocol>([['TCP', 6], ['UDP', 3], ['SCTP', 1]]);
    let port = d.chance(0.6) ? d.pick(PORT_NUMBERS) : d.int(1, 65535);
    while (used.has(`${protocol}/${port}`)) port = (port % 65535) + 1;
    used.add(`${protocol}/${port}`);
    // An API server requires names when there are several ports.
    const name = n === 1 && d.chance(0.5) ? '' : `${PORT_NAMES[k]}${d.chance(0.3) ? `-${protocol.toLowerCase()}` : ''}`;
    out.push({ name, protocol, port, nodePort: external && allocate ? ports.nextNodePort(d) : 0 });
    targetPorts.push(d.chance(0.3) ? port : d.int(8000, 8099));
  }
  return { ports: out, targetPorts };
}

function generateIngress(d: Dice, plan: AddressPlan, i: number): LoadBalancerIngress[] {
  const ipMode = () => d.weighted<LoadBalancerIngress['ipMode']>([[null, 2], ['VIP', 1], ['Proxy', 1]]);
  return d.weighted<LoadBalancerIngress[]>([
    [[], 1],
    [[{ ip: null, hostname: `lb-${i}.example.com`, ipMode: null }], 1],
    [[{ ip: ip(plan.lbIP(2 * i)), hostname: null, ipMode: ipMode() }], 6],
    [[{ ip: ip(plan.lbIP(2 * i)), hostname: null, ipMode: ipMode() }, { ip: ip(plan.lbIP(2 * i + 1)), hostname: null, ipMode: ipMode() }], 2],
  ]);
}

function generateSourceRanges(d: Dice, plan: AddressPlan): string[] {
  if (!d.chance(0.4)) return [];
  const r = plan.otherRanges;
  return d.weighted<string[]>([
    [[plan.client.sourceRange], 4],
    [[plan.client.sourceRange, r.nothing], 1],
    [[plan.client.sourceRange, r.nodes], 1.5],
    [[plan.client.sourceRange, r.pods], 1],
    [[r.nothing], 1],
    [[plan.client.sourceRange, otherPlan(plan).client.sourceRange], 0.5],
  ]);
}

function generateService(d: Dice, plan: AddressPlan, i: number, allocator: PortAllocator, holdsExternalIP: boolean): { service: Service; targetPorts: number[] } {
  const type = d.weighted<Service['type']>([['ClusterIP', 3.5], ['NodePort', 3], ['LoadBalancer', 3.5]]);
  const external = type !== 'ClusterIP';
  // allocateLoadBalancerNodePorts: false leaves a LoadBalancer's ports without node ports.
  const allocate = type !== 'LoadBalancer' || d.chance(0.85);
  const { ports, targetPorts } = generatePorts(d, external, allocate, allocator);
  const externalIPs: string[] = [];
  if (d.chance(0.25)) {
    externalIPs.push(holdsExternalIP && d.chance(0.4) ? plan.heldExternalIP : plan.externalIP(i));
    if (d.chance(0.15)) externalIPs.push(otherPlan(plan).externalIP(i));
  }
  const externallyReachable = external || externalIPs.length > 0;
  const externalTrafficPolicy: TrafficPolicy = externallyReachable && d.chance(0.4) ? 'Local' : 'Cluster';
  const ingress = type === 'LoadBalancer' ? generateIngress(d, plan, i) : [];
  const affinity = d.chance(0.25);
  const service: Service = {
    namespace: `ns${i % 3}`,
    name: `svc${i}`,
    type,
    clusterIP: plan.clusterIP(i),
    clusterIPs: [plan.clusterIP(i)],
    ports,
    externalIPs,
    loadBalancerSourceRanges: type === 'LoadBalancer' ? generateSourceRanges(d, plan) : [],
    externalTrafficPolicy,
    internalTrafficPolicy: d.chance(0.25) ? 'Local' : 'Cluster',
    healthCheckNodePort: type === 'LoadBalancer' && externalTrafficPolicy === 'Local' ? allocator.nextHealthPort() : 0,
    sessionAffinity: affinity ? 'ClientIP' : 'None',
    affinityTimeoutSeconds: affinity && d.chance(0.5) ? d.pick([1, 10, 60, 3600, 86400]) : 10800,
    ingress,
    origin: origin(`Service ns${i % 3}/svc${i}`),
  };
  return { service, targetPorts };
}

type Conditions = Pick<Endpoint, 'ready' | 'serving' | 'terminating'>;

const CONDITIONS: readonly (readonly [Conditions, number])[] = [
  [{ ready: true, serving: true, terminating: false }, 60],
  [{ ready: false, serving: true, terminating: true }, 12],
  [{ ready: false, serving: false, terminating: true }, 8],
  [{ ready: false, serving: false, terminating: false }, 7],
  [{ ready: null, serving: null, terminating: null }, 8],
  [{ ready: true, serving: null, terminating: null }, 5],
];

function generateEndpoints(d: Dice, plan: AddressPlan, count: number): Endpoint[] {
  const hosts = d.shuffle(Array.from({ length: ENDPOINT_HOSTS.count }, (_, k) => ENDPOINT_HOSTS.first + k));
  const eps: Endpoint[] = [];
  for (let k = 0; k < count; k++) {
    const node: number = d.weighted([[0, 4], [1, 3], [2, 2], [-1, 0.5]] as const);
    eps.push({
      addresses: [plan.pod(node < 0 ? 1 : node, hosts[k])],
      ...d.weighted(CONDITIONS),
      nodeName: node < 0 ? null : NODE_NAMES[node]!,
      zone: null,
      hintZones: null,
      hintNodes: null,
    });
  }
  return eps;
}

/** 0-12 endpoints per port: one slice for all ports, or one per port, sometimes split in two. */
function generateSlices(d: Dice, plan: AddressPlan, svc: Service, targetPorts: readonly number[]): EndpointSlice[] {
  const addressType = plan.family === 'ipv4' ? 'IPv4' : 'IPv6';
  const count = () => d.weighted([[0, 1.5], [1, 3], [2, 3], [3, 2], [4, 1], [6, 1], [9, 0.5], [12, 0.5]] as const);
  const slice = (suffix: string, ports: number[], endpoints: Endpoint[]): EndpointSlice => ({
    namespace: svc.namespace,
    name: `${svc.name}-${suffix}`,
    serviceName: svc.name,
    addressType,
    endpoints,
    ports: ports.map((k) => ({ name: svc.ports[k].name, port: targetPorts[k], protocol: svc.ports[k].protocol })),
    mirrored: false,
    origin: origin(`EndpointSlice ${svc.namespace}/${svc.name}-${suffix}`),
  });
  if (d.chance(0.1)) return [];
  const all = svc.ports.map((_, k) => k);
  if (svc.ports.length === 1 || d.chance(0.5)) {
    const eps = generateEndpoints(d, plan, count());
    if (eps.length >= 2 && d.chance(0.2)) {
      const cut = d.int(1, eps.length - 1);
      return [slice('a', all, eps.slice(0, cut)), slice('b', all, eps.slice(cut))];
    }
    return [slice('a', all, eps)];
  }
  return all.map((k) => slice(`p${k}`, [k], generateEndpoints(d, plan, count())));
}
