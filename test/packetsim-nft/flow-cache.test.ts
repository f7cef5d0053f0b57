// The flow cache (src/packetsim/flow-cache.ts) on nftables traces: the nftables simulator notes
// each read of the packet's source address as a question the cache asks again of a new source
// (src/packetsim-nft/compile.ts watchSource), so a service's trace serves every client that is none
// of its endpoints, as in iptables mode. Exact: every golden nftables case's flows, and random flows
// through a kube-proxy cluster (sources in and outside the pod network, endpoints themselves, the
// node, NodePorts, a load balancer with source ranges, affinity) and through a ruleset that reads
// the source every way nft can, give the same answers with the cache as without; the cache answers
// many of them; and without the source questions it gives some packet another answer.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { nftablesExtensions } from '../../src/packetsim-nft/hook.js';
import { FlowCache, KEY_PARTS } from '../../src/packetsim/flow-cache.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import type { FlowSpec } from '../../src/packetsim/trace.js';
import { ClassJson } from '../../src/report/json-class.js';
import { mulberry32 } from '../../src/util/rng.js';
import { another, both, differs, jsonTexts } from '../packetsim/flow-cache-runs.js';
import type { Fresh } from '../packetsim/flows-shown.js';
import { clusterNode, GOLDEN_FLOW_CASES, goldenFlows } from '../packetsim/golden-flows.js';

const NFT_CASES = GOLDEN_FLOW_CASES.filter((c) => /^(kpsim|kube-proxy)-nftables\//.test(c.name));
const IPVS_CASES = GOLDEN_FLOW_CASES.filter((c) => /^(kpsim|kube-proxy)-ipvs\//.test(c.name));

const cache = (env: ConstructorParameters<typeof FlowCache>[0]) => new FlowCache(env);
const noSourceQuestions = (env: ConstructorParameters<typeof FlowCache>[0]) => new FlowCache(env, KEY_PARTS, false);

/** Each flow, then each again from three other sources and ports (the cache answers where it may). */
const rounds = (flows: readonly FlowSpec[]) => [...flows, ...[1, 2, 3].flatMap((k) => flows.map((f) => another(f, k)))];


/** Traces the flows with and without the flow cache, requires the same results, and returns the cache. */
function cachedAsTraced(node: Parameters<typeof both>[0], flows: Parameters<typeof both>[1]): FlowCache {
  const caches: FlowCache[] = [];
  const { cached, plain } = both(node, flows, cache, caches);
  expect(cached).toEqual(plain);
  return caches[0];
}

describe('the flow cache gives what tracing gives on nftables traces', () => {
  const hits = new Map<string, number>();

  it.each(NFT_CASES)('golden case $name', ({ name, file }) => {
    for (const g of goldenFlows(file)) {
      const fc = cachedAsTraced(g.fresh, rounds(g.flows));
      if (g.family === 'ipv4') hits.set(name, (hits.get(name) ?? 0) + fc.hits);
    }
  });

  it('answers packets of most golden nftables cases from the cache', () => {
    // Run after the cases above (vitest runs a file's tests in order), those with IPv4 flows.
    expect(hits.size).toBeGreaterThan(50);
    const answered = [...hits.values()].filter((n) => n > 0).length;
    expect(answered).toBeGreaterThan(hits.size / 2);
  });

  it("spells each golden nftables case's JSON from its class's template as traceJson does", () => {
    for (const { file } of NFT_CASES) {
      for (const g of goldenFlows(file)) for (const paths of [false, true]) for (const { full, fast } of jsonTexts(g.fresh, rounds(g.flows), new ClassJson(), paths)) expect(fast).toBe(full);
    }
  });

  it('never answers a packet that met IPVS (its scheduler is state the cache does not ask)', () => {
    for (const { file } of IPVS_CASES) {
      for (const g of goldenFlows(file)) {
        const fc = cachedAsTraced(g.fresh, rounds(g.flows));
        expect(fc.remembered).toBe(0);
      }
    }
  });
});

// A kube-proxy cluster in nftables mode: worker-1 (the node traced, 192.168.10.11, pods
// 10.244.1.0/24) and worker-2 (10.244.2.0/24), the pod network 10.244.0.0/16. Services s0-s3 of
// three endpoints each (one on worker-1), TCP 80 and UDP 53; a NodePort; a load balancer whose
// source ranges hold half of worker-2's pods and half of an outside network; a ClientIP-affinity
// service.
const NODE_IP = '192.168.10.11';
const LB_IP = '198.51.100.20';
const svcIP = (s: number) => `10.96.0.${10 + s}`;
const endpoints = (s: number) => [`10.244.1.${10 + s}`, `10.244.2.${10 + s}`, `10.244.2.${130 + s}`];
const NP_EP = '10.244.2.30';
const LB_EP = '10.244.2.40';
const AFF_IP = '10.96.0.50';
const AFF_EPS = ['10.244.2.50', '10.244.1.51'];

function service(name: string, spec: string, eps: readonly string[], ports: readonly [string, string, number, number][]): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
${spec}
  ports:
${ports.map(([n, proto, port, target]) => `  - {name: ${n}, port: ${port}, protocol: ${proto}, targetPort: ${target}}`).join('\n')}
  selector: {app: ${name}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-abcde
  namespace: shop
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
endpoints:
${eps.map((a) => `- addresses: ["${a}"]\n  conditions: {ready: true, serving: true, terminating: false}\n  nodeName: ${a.startsWith('10.244.1.') ? 'worker-1' : 'worker-2'}`).join('\n')}
ports:
${ports.map(([n, proto, , target]) => `- {name: ${n}, port: ${target}, protocol: ${proto}}`).join('\n')}
`;
}

const nodeObject = (n: number) => `---
apiVersion: v1
kind: Node
metadata: {name: worker-${n}}
spec: {podCIDR: 10.244.${n}.0/24, podCIDRs: [10.244.${n}.0/24]}
status:
  addresses:
  - {type: InternalIP, address: "192.168.10.${10 + n}"}
  - {type: Hostname, address: worker-${n}}
`;

const CLUSTER = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
hostnameOverride: worker-1
clusterCIDR: 10.244.0.0/16
detectLocalMode: ClusterCIDR
${nodeObject(1)}${nodeObject(2)}${[0, 1, 2, 3]
  .map((s) =>
    service(`s${s}`, `  type: ClusterIP\n  clusterIP: ${svcIP(s)}\n  clusterIPs: ["${svcIP(s)}"]\n  ipFamilies: [IPv4]`, endpoints(s), [
      ['http', 'TCP', 80, 8080],
      ['dns', 'UDP', 53, 5353],
    ]),
  )
  .join('')}${service('np', '  type: NodePort\n  clusterIP: 10.96.0.30\n  clusterIPs: ["10.96.0.30"]\n  ipFamilies: [IPv4]', [NP_EP], [['http', 'TCP', 80, 8080]]).replace('targetPort: 8080}', 'targetPort: 8080, nodePort: 30080}')}${service(
  'lb',
  `  type: LoadBalancer\n  clusterIP: 10.96.0.40\n  clusterIPs: ["10.96.0.40"]\n  ipFamilies: [IPv4]\n  loadBalancerSourceRanges: [10.244.2.0/25, 203.0.113.0/25]`,
  [LB_EP],
  [['http', 'TCP', 80, 8080]],
)
  .replace('targetPort: 8080}', 'targetPort: 8080, nodePort: 30081}')
  .replace('  selector: {app: lb}\n', `  selector: {app: lb}\nstatus:\n  loadBalancer:\n    ingress:\n    - ip: ${LB_IP}\n`)}${service(
  'aff',
  `  type: ClusterIP\n  clusterIP: ${AFF_IP}\n  clusterIPs: ["${AFF_IP}"]\n  ipFamilies: [IPv4]\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}`,
  AFF_EPS,
  [['http', 'TCP', 80, 8080]],
)}---
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata: {name: kubernetes}
spec: {cidrs: ["10.96.0.0/12"]}
`;

const CLUSTER_NODE: Fresh = clusterNode(CLUSTER);

/** Random packets to the cluster's services from everywhere, with connections reused and replied to. */
function clusterFlows(seed: number, n: number): FlowSpec[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const flows: FlowSpec[] = [];
  for (let k = 0; k < n; k++) {
    const s = pick([0, 1, 2, 3]);
    if (flows.length > 0 && rand() < 0.05) {
      const old = pick(flows);
      flows.push(rand() < 0.5 ? { ...old, name: `again ${k}` } : { name: `reply ${k}`, protocol: old.protocol, sourceIP: pick(endpoints(s)), sourcePort: old.protocol === 'udp' ? 5353 : 8080, destIP: old.sourceIP, destPort: old.sourcePort ?? 40000 });
      continue;
    }
    const sourceIP = pick([`10.244.2.${1 + (k % 254)}`, `10.244.1.${1 + (k % 254)}`, `10.244.7.${k % 256}`, pick(endpoints(s)), NP_EP, LB_EP, pick(AFF_EPS), `203.0.113.${k % 256}`, `198.18.${k & 255}.9`, NODE_IP, '192.168.10.12']);
    const to = rand();
    const udp = to < 0.15;
    const [destIP, destPort] =
      udp ? [svcIP(s), 53]
      : to < 0.55 ? [svcIP(s), 80]
      : to < 0.6 ? [svcIP(s), 81]
      : to < 0.7 ? [NODE_IP, pick([30080, 30081, 30082])]
      : to < 0.85 ? [LB_IP, pick([80, 80, 80, 81])]
      : to < 0.9 ? [pick(['10.96.0.30', '10.96.0.40', '10.96.0.99']), 80]
      : [AFF_IP, 80];
    flows.push({ name: `f${k}`, protocol: udp ? 'udp' : 'tcp', sourceIP, sourcePort: 1024 + k, destIP, destPort, at: k });
  }
  return flows;
}

describe('the flow cache on a kube-proxy cluster in nftables mode', () => {
  it.each([1, 2, 3])('gives what tracing gives on random flows, seed %i', (seed) => {
    const flows = clusterFlows(seed, 500);
    const fc = cachedAsTraced(CLUSTER_NODE, flows);
    // Most packets were answered from the cache (else the comparison shows little of it).
    expect(fc.hits).toBeGreaterThan(flows.length / 4);
  });

  it('goes wrong without the source questions (hairpin, masquerade of outside clients, source ranges)', () => {
    expect(differs(both(CLUSTER_NODE, clusterFlows(11, 500), noSourceQuestions))).toBe(true);
  });

  it.each([false, true])("spells random flows' JSON from their class's template as traceJson does (paths: %s)", (paths) => {
    const classes = new ClassJson();
    for (const { full, fast } of jsonTexts(CLUSTER_NODE, clusterFlows(21, 500), classes, paths)) expect(fast).toBe(full);
    expect(classes.filled).toBeGreaterThan(20);
  });
});

// A hand-written ruleset that reads the source every way the simulator models: a prefix, an
// anonymous set of ranges, a concatenation with the destination port in a named set, a verdict
// map keyed by the source, a seeded jhash of it, `fib saddr`, and a random draw; and rules that
// read what the cache cannot ask again (the source port, the connection's original source, a set
// whose elements expire), each for packets to a port of its own. Port 88: a question asked before
// DNAT is asked again of the packet as it was then (its destination before DNAT).
const RULES = `table ip t {
  set pairs { type ipv4_addr . inet_service; flags interval; elements = { 10.1.0.0/24 . 80, 10.2.0.0-10.2.0.99 . 81 } }
  set timed { type ipv4_addr; flags timeout; elements = { 10.1.0.7 timeout 1h, 10.3.0.0 } }
  set pd { type ipv4_addr . ipv4_addr; flags interval; elements = { 10.1.0.0/24 . 192.168.0.2, 10.2.0.0/24 . 10.9.7.7 } }
  chain raw {
    type filter hook prerouting priority raw; policy accept;
    tcp dport 88 ip saddr . ip daddr @pd meta mark set 0x20
  }
  chain dnat {
    type nat hook prerouting priority dstnat; policy accept;
    tcp dport 88 dnat to 10.9.7.7
  }
  chain pre {
    type filter hook prerouting priority filter; policy accept;
    tcp dport 80 ip saddr 10.1.0.0/25 meta mark set 0x1
    tcp dport 80 ip saddr { 10.2.0.1-10.2.0.50, 10.3.0.0/16 } meta mark set meta mark | 0x2
    ip saddr . tcp dport @pairs meta mark set meta mark | 0x4
    tcp dport 82 ip saddr vmap { 10.1.0.1 : drop, 10.2.0.0/24 : jump hashed }
    tcp dport 83 fib saddr type local meta mark set meta mark | 0x8
    tcp dport 83 fib saddr . iif oif missing drop
    tcp dport 84 tcp sport 1024-1500 drop
    tcp dport 85 ct original ip saddr 10.1.0.0/24 drop
    tcp dport 86 ip saddr @timed drop
    tcp dport 87 numgen random mod 3 vmap { 0 : drop, 1 : accept, 2 : jump hashed }
    meta mark 0x7 drop
    meta mark 0x20 drop
  }
  chain hashed {
    jhash ip saddr mod 4 seed 0xabc vmap { 0 : drop, 1 : accept }
    meta mark set 0x10
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    meta mark 0x10 masquerade
  }
}`;

const IFACES = [
  { name: 'lo', addresses: ['127.0.0.1/8'] },
  { name: 'eth0', addresses: ['192.168.0.2/24'] },
  { name: 'eth1', addresses: ['10.9.0.2/16'] },
];

const RULES_NODE: Fresh = (() => {
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [], nft: { file: 'rules.nft', text: RULES }, interfaces: IFACES }, sink);
  expect(sink.errors).toEqual([]);
  return () => {
    const { sim } = prepareNode(node!, 'ipv4', { extensions: nftablesExtensions(node!.nftables!, 'ipv4', IFACES.map((i) => i.name)) });
    return { node: node!, family: 'ipv4' as const, rs: sim.rs, env: sim.env };
  };
})();

function ruleFlows(seed: number, n: number, ports: readonly number[] = [80, 80, 81, 82, 82, 83, 84, 85, 86, 87, 88]): FlowSpec[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const flows: FlowSpec[] = [];
  for (let k = 0; k < n; k++) {
    const sourceIP = pick([`10.1.0.${k % 256}`, `10.2.0.${k % 256}`, `10.3.${k % 4}.${k % 256}`, `10.9.0.${k % 256}`, '192.168.0.2', '10.9.0.2', `203.0.113.${k % 256}`]);
    flows.push({ name: `f${k}`, protocol: 'tcp', sourceIP, sourcePort: 1024 + ((k * 7) % 1000), destIP: pick(['192.168.0.2', '10.9.5.5']), destPort: pick(ports), inInterface: pick([null, 'eth0', 'eth1']) });
  }
  return flows;
}

describe("the flow cache and each nftables expression that reads the source", () => {
  it.each([1, 2, 3])('gives what tracing gives on random flows, seed %i', (seed) => {
    const flows = ruleFlows(seed, 600);
    const fc = cachedAsTraced(RULES_NODE, flows);
    expect(fc.hits).toBeGreaterThan(flows.length / 8);
  });

  it('goes wrong without the source questions', () => {
    expect(differs(both(RULES_NODE, ruleFlows(11, 600, [80, 81, 82, 83, 88]), noSourceQuestions))).toBe(true);
  });

  it.each([
    ['the source port', 84],
    ["the connection's original source", 85],
    ['a set whose elements expire, by the source', 86],
  ])('remembers no trace that read %s', (_what, port) => {
    // Packets from elsewhere (the node's own start in OUTPUT and meet no rule of the prerouting chain).
    const flows = ruleFlows(5, 100, [port]).filter((f) => f.sourceIP !== '192.168.0.2' && f.sourceIP !== '10.9.0.2');
    const fc = cachedAsTraced(RULES_NODE, flows);
    expect(fc.remembered).toBe(0);
    expect(flows.length).toBeGreaterThan(50);
  });

  it('answers packets whose trace made a random draw (numgen random holds no state)', () => {
    const flows = ruleFlows(6, 100, [87]);
    const fc = cachedAsTraced(RULES_NODE, flows);
    expect(fc.hits).toBeGreaterThan(0);
  });
});
