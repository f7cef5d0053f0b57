// A cluster as the API server holds it and kubectl prints it: Services, EndpointSlices and Nodes
// with everything kubectl shows (metadata.managedFields with their fieldsV1 trees, uid,
// resourceVersion, creationTimestamp, generation, labels, ownerReferences, the
// `kubectl.kubernetes.io/last-applied-configuration` annotation on Services that were applied
// with `kubectl apply`, status), plus the KubeProxyConfiguration of the node kpsim compiles for.
// Deterministic for a seed: the benchmark's files are the same on every machine.
//
// Shape of the cluster: `services` Services with 10 endpoints each (one EndpointSlice each, as the
// EndpointSlice controller writes for fewer than 100 endpoints), one port each; 92% ClusterIP, 5%
// NodePort, 3% LoadBalancer (node ports are a 2768-port range: a real cluster of 20k services
// cannot make most of them external). Pods get addresses from their node's /24 in 10.244.0.0/14,
// Services from 10.96.0.0/12, as kubeadm's defaults do; one node per 20 services.
import { mulberry32 } from '../../src/util/rng.js';

/** A JSON value as kubectl prints it (what both the YAML and JSON writers accept). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

export interface KubectlCluster {
  /** The kube-proxy configuration (a file of its own: kubectl does not print it). */
  readonly config: Obj;
  /** In the order `kubectl get svc,endpointslices,nodes -A` prints them: by kind, then namespace/name. */
  readonly items: Obj[];
  /** What the benchmark's trace rows need to aim packets. */
  readonly facts: ClusterFacts;
}

export interface ServiceFacts {
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly clusterIP: string;
  readonly port: number;
  /** 0 for ClusterIP services. */
  readonly nodePort: number;
  readonly endpoints: readonly string[];
}

export interface ClusterFacts {
  /** The node kube-proxy runs on (the configuration's hostnameOverride) and its InternalIP. */
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly services: readonly ServiceFacts[];
}

export const ENDPOINTS_PER_SERVICE = 10;
export const CLUSTER_CIDR = '10.244.0.0/14';
const SERVICES_PER_NODE = 20;
const T0 = Date.UTC(2024, 2, 4, 8, 0, 0);
const NAMES = ['api', 'web', 'cart', 'auth', 'search', 'billing', 'users', 'orders', 'catalog', 'payments', 'redis', 'kafka'];
const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

const ip4 = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const IP = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** The generator's random source: uids, timestamps, pod names and the service mix come from it. */
class Source {
  private readonly rand: () => number;
  private version = 4_183_000;
  constructor(seed: number) {
    this.rand = mulberry32(seed);
  }
  next(): number {
    return this.rand();
  }
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
  uid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${'89ab'[this.int(4)]}${this.hex(3)}-${this.hex(12)}`;
  }
  /** RFC 3339 in UTC with seconds, as metav1.Time marshals. */
  time(afterSeconds: number): string {
    return new Date(T0 + (afterSeconds + this.int(3600)) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  resourceVersion(): string {
    this.version += 1 + this.int(40);
    return String(this.version);
  }
  /** Name suffixes as the ReplicaSet and EndpointSlice controllers make them (consonants and digits). */
  suffix(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += 'bcdfghjklmnpqrstvwxz2456789'[this.int(27)];
    return s;
  }
}

export function kubectlCluster(services: number, seed = 1): KubectlCluster {
  const src = new Source(seed);
  const nodeCount = Math.max(3, Math.ceil(services / SERVICES_PER_NODE));
  const nodes = Array.from({ length: nodeCount }, (_, n) => nodeObject(src, n));
  const podsOnNode = new Array<number>(nodeCount).fill(0);
  const svcs: Obj[] = [];
  const slices: Obj[] = [];
  const facts: ServiceFacts[] = [];
  let nextNodePort = 30000;
  for (let i = 0; i < services; i++) {
    const r = src.next();
    const type = r < 0.92 ? 'ClusterIP' : r < 0.97 ? 'NodePort' : 'LoadBalancer';
    const external = type !== 'ClusterIP';
    const udp = src.next() < 0.08;
    const spec: ServiceSpec = {
      namespace: `team-${i % 50}`,
      name: `${NAMES[i % NAMES.length]}-${i}`,
      type,
      protocol: udp ? 'UDP' : 'TCP',
      port: udp ? 53 : 80,
      portName: udp ? 'dns' : 'http',
      targetPort: udp ? 5353 : 8080,
      clusterIP: ip4(IP(10, 96, 0, 10) + i),
      nodePort: external ? nextNodePort++ : 0,
      externalTrafficPolicy: external && src.next() < 0.3 ? 'Local' : 'Cluster',
      internalTrafficPolicy: src.next() < 0.05 ? 'Local' : 'Cluster',
      sessionAffinity: src.next() < 0.1 ? 'ClientIP' : 'None',
      externalIPs: src.next() < 0.02 ? [ip4(IP(198, 18, 0, 0) + i)] : [],
      loadBalancerSourceRanges: type === 'LoadBalancer' && src.next() < 0.3 ? ['203.0.113.0/25'] : [],
      ingressIP: type === 'LoadBalancer' ? ip4(IP(100, 64, 0, 0) + i) : null,
      healthCheckNodePort: 0,
    };
    if (type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') spec.healthCheckNodePort = nextNodePort++;
    const svcUid = src.uid();
    svcs.push(serviceObject(src, spec, svcUid, i));
    const endpoints: EndpointSpec[] = [];
    const replicaSet = src.hex(10).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)]);
    for (let e = 0; e < ENDPOINTS_PER_SERVICE; e++) {
      // A node with room (a /24 holds 254 pods).
      let n = src.int(nodeCount);
      while (podsOnNode[n] >= 250) n = (n + 1) % nodeCount;
      const ip = ip4(podCIDRBase(n) + 2 + podsOnNode[n]++);
      const terminating = src.next() < 0.03;
      endpoints.push({ ip, node: n, terminating, pod: `${spec.name}-${replicaSet}-${src.suffix(5)}`, podUid: src.uid() });
    }
    slices.push(sliceObject(src, spec, svcUid, endpoints, i));
    facts.push({ namespace: spec.namespace, name: spec.name, portName: spec.portName, protocol: spec.protocol, clusterIP: spec.clusterIP, port: spec.port, nodePort: spec.nodePort, endpoints: endpoints.map((e) => e.ip) });
  }
  // The API server lists by its storage key, namespace/name in byte order.
  const key = (o: Obj) => `${(o.metadata as Obj).namespace ?? ''}/${(o.metadata as Obj).name}`;
  const byKey = (a: Obj, b: Obj) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return {
    config: proxyConfig(nodeName(0)),
    items: [...svcs.sort(byKey), ...slices.sort(byKey), ...nodes],
    facts: { nodeName: nodeName(0), nodeIP: nodeIP(0), services: facts },
  };
}

const nodeName = (n: number) => `worker-${String(n).padStart(4, '0')}`;
const nodeIP = (n: number) => ip4(IP(192, 168, 16 + Math.floor(n / 250), 1 + (n % 250)));
const podCIDRBase = (n: number) => IP(10, 244, 0, 0) + n * 256;

function proxyConfig(hostname: string): Obj {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    hostnameOverride: hostname,
    clusterCIDR: CLUSTER_CIDR,
    detectLocalMode: 'ClusterCIDR',
    iptables: { masqueradeAll: false, masqueradeBit: 14, localhostNodePorts: true, syncPeriod: '30s', minSyncPeriod: '1s' },
    nodePortAddresses: [],
  };
}

interface ServiceSpec {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  protocol: 'TCP' | 'UDP';
  port: number;
  portName: string;
  targetPort: number;
  clusterIP: string;
  nodePort: number;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  sessionAffinity: 'ClientIP' | 'None';
  externalIPs: string[];
  loadBalancerSourceRanges: string[];
  ingressIP: string | null;
  healthCheckNodePort: number;
}

interface EndpointSpec {
  ip: string;
  node: number;
  terminating: boolean;
  pod: string;
  podUid: string;
}

/** managedFields' fieldsV1 marks a set field with `{}`; a set map or list also lists itself as `.`. */
const set = (...fields: string[]): Obj => Object.fromEntries(fields.map((f) => [`f:${f}`, {}]));
const managed = (manager: string, apiVersion: string, time: string, fieldsV1: Obj, subresource?: string): Obj => ({
  apiVersion,
  fieldsType: 'FieldsV1',
  fieldsV1,
  manager,
  operation: 'Update',
  ...(subresource ? { subresource } : {}),
  time,
});

/** What the user applied: the source of the last-applied-configuration annotation. */
function appliedService(s: ServiceSpec): Obj {
  const spec: Obj = {
    ports: [{ name: s.portName, port: s.port, protocol: s.protocol, targetPort: s.targetPort }],
    selector: { app: s.name },
    type: s.type,
  };
  if (s.type !== 'ClusterIP' && s.externalTrafficPolicy === 'Local') spec.externalTrafficPolicy = 'Local';
  if (s.internalTrafficPolicy === 'Local') spec.internalTrafficPolicy = 'Local';
  if (s.sessionAffinity === 'ClientIP') spec.sessionAffinity = 'ClientIP';
  if (s.externalIPs.length) spec.externalIPs = s.externalIPs;
  if (s.loadBalancerSourceRanges.length) spec.loadBalancerSourceRanges = s.loadBalancerSourceRanges;
  return { apiVersion: 'v1', kind: 'Service', metadata: { annotations: {}, labels: { app: s.name, team: s.namespace }, name: s.name, namespace: s.namespace }, spec };
}

function serviceObject(src: Source, s: ServiceSpec, uid: string, i: number): Obj {
  const created = src.time(i);
  const port: Obj = { name: s.portName, port: s.port, protocol: s.protocol, targetPort: s.targetPort };
  if (s.nodePort) port.nodePort = s.nodePort;
  const spec: Obj = {
    clusterIP: s.clusterIP,
    clusterIPs: [s.clusterIP],
    internalTrafficPolicy: s.internalTrafficPolicy,
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    ports: [port],
    selector: { app: s.name },
    sessionAffinity: s.sessionAffinity,
    type: s.type,
  };
  if (s.type !== 'ClusterIP') spec.externalTrafficPolicy = s.externalTrafficPolicy;
  if (s.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts = true;
  if (s.healthCheckNodePort) spec.healthCheckNodePort = s.healthCheckNodePort;
  if (s.sessionAffinity === 'ClientIP') spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  if (s.externalIPs.length) spec.externalIPs = s.externalIPs;
  if (s.loadBalancerSourceRanges.length) spec.loadBalancerSourceRanges = s.loadBalancerSourceRanges;

  const specFields: Obj = {
    ...set('internalTrafficPolicy'),
    'f:ports': { '.': {}, [`k:{"port":${s.port},"protocol":"${s.protocol}"}`]: { '.': {}, ...set('name', 'port', 'protocol', 'targetPort') } },
    ...set('selector', 'sessionAffinity', 'type'),
  };
  if (s.type !== 'ClusterIP') Object.assign(specFields, set('externalTrafficPolicy'));
  if (s.type === 'LoadBalancer') Object.assign(specFields, set('allocateLoadBalancerNodePorts'));
  if (s.sessionAffinity === 'ClientIP') specFields['f:sessionAffinityConfig'] = { '.': {}, 'f:clientIP': { '.': {}, ...set('timeoutSeconds') } };
  if (s.externalIPs.length) Object.assign(specFields, set('externalIPs'));
  if (s.loadBalancerSourceRanges.length) Object.assign(specFields, set('loadBalancerSourceRanges'));
  const managedFields: Obj[] = [
    managed('kubectl-client-side-apply', 'v1', created, {
      'f:metadata': { 'f:annotations': { '.': {}, ...set('kubectl.kubernetes.io/last-applied-configuration') }, 'f:labels': { '.': {}, ...set('app', 'team') } },
      'f:spec': specFields,
    }),
  ];
  const status: Obj = { loadBalancer: {} };
  if (s.ingressIP) {
    status.loadBalancer = { ingress: [{ ip: s.ingressIP, ipMode: 'VIP' }] };
    managedFields.push(managed('cloud-controller-manager', 'v1', src.time(i + 60), { 'f:status': { 'f:loadBalancer': set('ingress') } }, 'status'));
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(sortKeys(appliedService(s)))}\n` },
      creationTimestamp: created,
      labels: { app: s.name, team: s.namespace },
      managedFields,
      name: s.name,
      namespace: s.namespace,
      resourceVersion: src.resourceVersion(),
      uid,
    },
    spec,
    status,
  };
}

function sliceObject(src: Source, s: ServiceSpec, svcUid: string, eps: EndpointSpec[], i: number): Obj {
  const changed = src.time(i + 30);
  return {
    addressType: 'IPv4',
    apiVersion: 'discovery.k8s.io/v1',
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: !e.terminating, serving: true, terminating: e.terminating },
      nodeName: nodeName(e.node),
      targetRef: { kind: 'Pod', name: e.pod, namespace: s.namespace, uid: e.podUid },
      zone: ZONES[e.node % ZONES.length],
    })),
    kind: 'EndpointSlice',
    metadata: {
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': changed },
      creationTimestamp: src.time(i),
      generateName: `${s.name}-`,
      generation: 1 + src.int(30),
      labels: { app: s.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': s.name, team: s.namespace },
      managedFields: [
        managed('kube-controller-manager', 'discovery.k8s.io/v1', changed, {
          ...set('addressType', 'endpoints'),
          'f:metadata': {
            'f:annotations': { '.': {}, ...set('endpoints.kubernetes.io/last-change-trigger-time') },
            ...set('generateName'),
            'f:labels': { '.': {}, ...set('app', 'endpointslice.kubernetes.io/managed-by', 'kubernetes.io/service-name', 'team') },
            'f:ownerReferences': { '.': {}, [`k:{"uid":"${svcUid}"}`]: {} },
          },
          ...set('ports'),
        }),
      ],
      name: `${s.name}-${src.suffix(5)}`,
      namespace: s.namespace,
      ownerReferences: [{ apiVersion: 'v1', blockOwnerDeletion: true, controller: true, kind: 'Service', name: s.name, uid: svcUid }],
      resourceVersion: src.resourceVersion(),
      uid: src.uid(),
    },
    ports: [{ name: s.portName, port: s.targetPort, protocol: s.protocol }],
  };
}

const IMAGES: [string, number][] = [
  ['registry.k8s.io/etcd', 57_236_178],
  ['docker.io/calico/node', 119_812_744],
  ['registry.k8s.io/kube-apiserver', 32_591_946],
  ['registry.k8s.io/kube-proxy', 28_617_082],
  ['docker.io/library/nginx', 70_544_635],
  ['quay.io/prometheus/node-exporter', 11_725_112],
  ['registry.k8s.io/coredns/coredns', 16_190_758],
  ['registry.k8s.io/pause', 320_368],
];

function nodeObject(src: Source, n: number): Obj {
  const name = nodeName(n);
  const created = src.time(-86_400 * 30);
  const heartbeat = src.time(86_400 * 2);
  const cidr = `${ip4(podCIDRBase(n))}/24`;
  const zone = ZONES[n % ZONES.length];
  const condition = (type: string, status: string, reason: string, message: string): Obj => ({ lastHeartbeatTime: heartbeat, lastTransitionTime: created, message, reason, status, type });
  const resources: Obj = { cpu: '8', 'ephemeral-storage': '101430960Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '32795624Ki', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///var/run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
      creationTimestamp: created,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'm5.2xlarge',
        'topology.kubernetes.io/region': 'eu-west-1',
        'topology.kubernetes.io/zone': zone,
      },
      managedFields: [
        managed('kubeadm', 'v1', created, { 'f:metadata': { 'f:annotations': set('kubeadm.alpha.kubernetes.io/cri-socket') } }),
        managed('kube-controller-manager', 'v1', created, { 'f:metadata': { 'f:annotations': set('node.alpha.kubernetes.io/ttl') }, 'f:spec': { ...set('podCIDR'), 'f:podCIDRs': { '.': {}, [`v:"${cidr}"`]: {} } } }),
        managed('kubelet', 'v1', created, {
          'f:metadata': {
            'f:annotations': { '.': {}, ...set('volumes.kubernetes.io/controller-managed-attach-detach') },
            'f:labels': { '.': {}, ...set('beta.kubernetes.io/arch', 'beta.kubernetes.io/os', 'kubernetes.io/arch', 'kubernetes.io/hostname', 'kubernetes.io/os', 'node.kubernetes.io/instance-type', 'topology.kubernetes.io/region', 'topology.kubernetes.io/zone') },
          },
          'f:spec': set('providerID'),
        }),
        managed(
          'kubelet',
          'v1',
          heartbeat,
          {
            'f:status': {
              'f:conditions': Object.fromEntries(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready'].map((t) => [`k:{"type":"${t}"}`, set('lastHeartbeatTime', 'lastTransitionTime', 'message', 'reason', 'status')])),
              ...set('images', 'nodeInfo'),
            },
          },
          'status',
        ),
      ],
      name,
      resourceVersion: src.resourceVersion(),
      uid: src.uid(),
    },
    spec: { podCIDR: cidr, podCIDRs: [cidr], providerID: `aws:///${zone}/i-0${src.hex(16)}` },
    status: {
      addresses: [
        { address: nodeIP(n), type: 'InternalIP' },
        { address: name, type: 'Hostname' },
      ],
      allocatable: { ...resources, cpu: '7910m', memory: '31644648Ki' },
      capacity: resources,
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      images: IMAGES.map(([repo, size]) => ({ names: [`${repo}@sha256:${src.hex(64)}`, `${repo}:v1.29.${src.int(9)}`], sizeBytes: size })),
      nodeInfo: {
        architecture: 'amd64',
        bootID: src.uid(),
        containerRuntimeVersion: 'containerd://1.7.13',
        kernelVersion: '6.1.0-18-cloud-amd64',
        kubeProxyVersion: 'v1.29.2',
        kubeletVersion: 'v1.29.2',
        machineID: src.hex(32),
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: src.uid(),
      },
    },
  };
}

/**
 * The same objects without what kubectl and the controllers add: what a person writes by hand
 * (names, the label kube-proxy reads, spec, a load balancer's status; a Node's addresses and pod
 * CIDR; endpoints without their Pod reference).
 */
export function bareObject(o: Obj): Obj {
  const meta = o.metadata as Obj;
  const out: Obj = { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: meta.name, ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }) } };
  switch (o.kind) {
    case 'Service': {
      out.spec = o.spec;
      const ingress = ((o.status as Obj).loadBalancer as Obj).ingress;
      if (ingress) out.status = { loadBalancer: { ingress } };
      return out;
    }
    case 'EndpointSlice':
      (out.metadata as Obj).labels = { 'kubernetes.io/service-name': (meta.labels as Obj)['kubernetes.io/service-name'] };
      out.addressType = o.addressType;
      out.endpoints = (o.endpoints as Obj[]).map(({ targetRef: _, ...e }) => e);
      out.ports = o.ports;
      return out;
    case 'Node':
      out.spec = { podCIDR: (o.spec as Obj).podCIDR, podCIDRs: (o.spec as Obj).podCIDRs };
      out.status = { addresses: (o.status as Obj).addresses };
      return out;
    default:
      return o;
  }
}

/** Map keys in byte order, as Go's encoding/json and sigs.k8s.io/yaml write a map. */
export function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Obj = {};
  for (const k of Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = sortKeys(v[k]);
  return out;
}
