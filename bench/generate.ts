// A deterministic generator of large clusters for benchmarks: N services of mixed types and
// policies, E endpoints each spread over a few nodes. Returns both the typed objects (to time the
// compiler alone) and their YAML (to time loading too).
import type { Cluster, EndpointSlice, Service } from '../src/model/types.js';
import { DEFAULT_CONFIG } from '../src/model/config.js';
import { parseIP } from '../src/net/index.js';
import { mulberry32 } from '../src/util/rng.js';

/** The benchmarks' fixed-seed PRNG. */
export const rng = mulberry32;

const ip4 = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

export function generateCluster(services: number, endpointsPer: number, seed = 1): Cluster {
  const rand = rng(seed);
  const origin = { file: 'generated', span: null, what: 'generated' };
  const svcs: Service[] = [];
  const slices: EndpointSlice[] = [];
  const nodes = ['node-0', 'node-1', 'node-2', 'node-3'];
  for (let i = 0; i < services; i++) {
    const r = rand();
    const type = r < 0.6 ? 'ClusterIP' : r < 0.85 ? 'NodePort' : 'LoadBalancer';
    const name = `svc-${i}`;
    const ns = `ns-${i % 50}`;
    const external = type !== 'ClusterIP';
    svcs.push({
      namespace: ns,
      name,
      type,
      clusterIP: ip4((172 << 24) | (20 << 16) | i),
      clusterIPs: [],
      ports: [{ name: 'http', protocol: rand() < 0.9 ? 'TCP' : 'UDP', port: 80, nodePort: external ? 30000 + (i % 2768) : 0 }],
      externalIPs: rand() < 0.05 ? [ip4((198 << 24) | (18 << 16) | i)] : [],
      loadBalancerSourceRanges: type === 'LoadBalancer' && rand() < 0.3 ? ['203.0.113.0/25'] : [],
      externalTrafficPolicy: external && rand() < 0.3 ? 'Local' : 'Cluster',
      internalTrafficPolicy: rand() < 0.05 ? 'Local' : 'Cluster',
      healthCheckNodePort: type === 'LoadBalancer' ? 32000 + (i % 700) : 0,
      sessionAffinity: rand() < 0.1 ? 'ClientIP' : 'None',
      affinityTimeoutSeconds: 10800,
      ingress: type === 'LoadBalancer' ? [{ ip: parseIP(ip4((100 << 24) | (64 << 16) | i)), hostname: null, ipMode: null }] : [],
      origin,
    });
    const eps = [];
    for (let e = 0; e < endpointsPer; e++) {
      const terminating = rand() < 0.03;
      eps.push({
        addresses: [ip4((10 << 24) | ((i * endpointsPer + e) & 0xffffff))],
        ready: !terminating,
        serving: true,
        terminating,
        nodeName: nodes[Math.floor(rand() * nodes.length)],
        zone: null,
        hintZones: null,
        hintNodes: null,
      });
    }
    slices.push({ namespace: ns, name: `${name}-abc`, serviceName: name, addressType: 'IPv4', endpoints: eps, ports: [{ name: 'http', port: 8080, protocol: svcs[i].ports[0].protocol }], mirrored: false, origin });
  }
  const node = {
    name: 'node-0',
    internalIPs: [parseIP('192.168.0.10')!],
    externalIPs: [],
    podCIDRs: [],
    labels: {},
    interfaces: null,
    hostFeatures: { randomFully: true, nfacct: true },
    origin,
  };
  return { config: { ...DEFAULT_CONFIG, hostnameOverride: 'node-0', clusterCIDR: '10.0.0.0/8' }, nodes: [node], services: svcs, slices };
}
