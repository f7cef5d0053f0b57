// Clusters as `kubectl get svc,endpointslices,nodes -A` prints them, with everything kubectl adds
// (managedFields with fieldsV1 trees, the last-applied-configuration annotation, uid,
// resourceVersion, creationTimestamp, generateName, ownerReferences, labels, status), in the three
// shapes a user has: multi-document YAML (`-o yaml` per object, joined by `---`), a `kind: List`
// YAML (`-o yaml`) and `kind: List` JSON (`-o json`, four-space indent). Deterministic: the same
// arguments give the same bytes. Used by the loading tests and by the load measurements.

export type KubectlShape = 'multidoc' | 'list-yaml' | 'list-json';

export interface KubectlClusterOptions {
  readonly services: number;
  readonly endpointsPer: number;
  readonly nodes?: number;
  /** Leave out what kubectl adds (managedFields, annotations, uid, status, ...): bare objects. */
  readonly bare?: boolean;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const ip4 = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const hex = (n: number, width: number) => (n >>> 0).toString(16).padStart(width, '0').slice(-width);
const uid = (kind: number, i: number) => `${hex(kind * 2654435761 + i, 8)}-${hex(i, 4)}-4${hex(i * 7, 3)}-8${hex(i * 13, 3)}-${hex(i * 31, 8)}${hex(kind, 4)}`;
const time = (i: number) => `2024-05-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`;

/** The `fieldsV1` tree of a managedFields entry: every field set, as `f:name: {}` leaves. */
function fields(obj: { [k: string]: Json }): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[`f:${k}`] = { '.': {}, ...fields(v) };
    else out[`f:${k}`] = {};
  }
  return out;
}

function managed(manager: string, operation: string, fieldsV1: { [k: string]: Json }, i: number, subresource?: string): Json {
  return { apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1, manager, operation, ...(subresource ? { subresource } : {}), time: time(i) };
}

function service(i: number, bare: boolean): { [k: string]: Json } {
  const name = `svc-${i}`;
  const namespace = `ns-${i % 50}`;
  const type = i % 10 < 6 ? 'ClusterIP' : i % 10 < 9 ? 'NodePort' : 'LoadBalancer';
  const port: { [k: string]: Json } = { name: 'http', port: 80, protocol: i % 10 === 3 ? 'UDP' : 'TCP', targetPort: 8080 };
  if (type !== 'ClusterIP') port.nodePort = 30000 + (i % 2768);
  const clusterIP = ip4((172 << 24) | (20 << 16) | i);
  const spec: { [k: string]: Json } = { clusterIP, clusterIPs: [clusterIP], ports: [port], selector: { app: name }, type };
  if (bare) return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec };
  const applied = { apiVersion: 'v1', kind: 'Service', metadata: { annotations: {}, labels: { app: name }, name, namespace }, spec: { ports: [{ name: 'http', port: 80, protocol: port.protocol, targetPort: 8080 }], selector: { app: name }, type } };
  Object.assign(spec, { internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', sessionAffinity: 'None' });
  if (type !== 'ClusterIP') spec.externalTrafficPolicy = 'Cluster';
  const status: Json = type === 'LoadBalancer' ? { loadBalancer: { ingress: [{ ip: ip4((100 << 24) | (64 << 16) | i), ipMode: 'VIP' }] } } : { loadBalancer: {} };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) + '\n' },
      creationTimestamp: time(i),
      labels: { app: name },
      managedFields: [
        managed('kubectl-client-side-apply', 'Update', {
          'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:internalTrafficPolicy': {},
            'f:ports': { '.': {}, [`k:{"port":80,"protocol":"${port.protocol}"}`]: { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} } },
            'f:selector': {},
            'f:sessionAffinity': {},
            'f:type': {},
          },
        }, i),
      ],
      name,
      namespace,
      resourceVersion: String(100000 + i),
      uid: uid(1, i),
    },
    spec,
    status,
  };
}

function slice(i: number, endpointsPer: number, nodes: number, bare: boolean): { [k: string]: Json } {
  const svc = `svc-${i}`;
  const namespace = `ns-${i % 50}`;
  const name = `${svc}-${hex(i * 2654435761, 5)}`;
  const protocol = i % 10 === 3 ? 'UDP' : 'TCP';
  const endpoints: Json[] = [];
  for (let e = 0; e < endpointsPer; e++) {
    const terminating = (i + e) % 37 === 0;
    const ep: { [k: string]: Json } = {
      addresses: [ip4((10 << 24) | ((i * endpointsPer + e) & 0xffffff))],
      conditions: { ready: !terminating, serving: true, terminating },
      nodeName: `node-${(i + e) % nodes}`,
    };
    if (!bare) Object.assign(ep, { targetRef: { kind: 'Pod', name: `${svc}-7d9f8b6c5-${hex(i * 31 + e, 5)}`, namespace, uid: uid(3, i * endpointsPer + e) }, zone: `zone-${(i + e) % 3}` });
    endpoints.push(ep);
  }
  const ports: Json = [{ name: 'http', port: 8080, protocol }];
  const labels: { [k: string]: Json } = { 'kubernetes.io/service-name': svc };
  if (bare) return { addressType: 'IPv4', apiVersion: 'discovery.k8s.io/v1', endpoints, kind: 'EndpointSlice', metadata: { labels, name, namespace }, ports };
  Object.assign(labels, { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', app: svc });
  const owner = { apiVersion: 'v1', blockOwnerDeletion: true, controller: true, kind: 'Service', name: svc, uid: uid(1, i) };
  return {
    addressType: 'IPv4',
    apiVersion: 'discovery.k8s.io/v1',
    endpoints,
    kind: 'EndpointSlice',
    metadata: {
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': time(i + 1) },
      creationTimestamp: time(i),
      generateName: `${svc}-`,
      generation: 1 + (i % 5),
      labels,
      managedFields: [
        managed('kube-controller-manager', 'Update', {
          'f:addressType': {},
          'f:endpoints': {},
          'f:metadata': {
            'f:annotations': { '.': {}, 'f:endpoints.kubernetes.io/last-change-trigger-time': {} },
            'f:generateName': {},
            'f:labels': { '.': {}, 'f:app': {}, 'f:endpointslice.kubernetes.io/managed-by': {}, 'f:kubernetes.io/service-name': {} },
            'f:ownerReferences': { '.': {}, [`k:{"uid":"${uid(1, i)}"}`]: {} },
          },
          'f:ports': {},
        }, i),
      ],
      name,
      namespace,
      ownerReferences: [owner],
      resourceVersion: String(200000 + i),
      uid: uid(2, i),
    },
    ports,
  };
}

function node(n: number, bare: boolean): { [k: string]: Json } {
  const name = `node-${n}`;
  const addresses: Json = [
    { address: ip4((192 << 24) | (168 << 16) | (n + 10)), type: 'InternalIP' },
    { address: name, type: 'Hostname' },
  ];
  const podCIDR = `10.${128 + (n % 127)}.${n >> 7}.0/24`;
  if (bare) return { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR, podCIDRs: [podCIDR] }, status: { addresses } };
  const labels = { 'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': `zone-${n % 3}` };
  const status = {
    addresses,
    allocatable: { cpu: '8', 'ephemeral-storage': '95500736762', memory: '32657800Ki', pods: '110' },
    capacity: { cpu: '8', 'ephemeral-storage': '103626232Ki', memory: '32760200Ki', pods: '110' },
    conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((type) => ({
      lastHeartbeatTime: time(n + 3),
      lastTransitionTime: time(n),
      message: type === 'Ready' ? 'kubelet is posting ready status' : `kubelet has no ${type.toLowerCase()}`,
      reason: type === 'Ready' ? 'KubeletReady' : `KubeletHasNo${type}`,
      status: type === 'Ready' ? 'True' : 'False',
      type,
    })),
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    images: Array.from({ length: 12 }, (_, k) => ({ names: [`registry.k8s.io/image-${k}@sha256:${hex(k * 977 + n, 8).repeat(8)}`, `registry.k8s.io/image-${k}:v1.${k}.0`], sizeBytes: 1000000 + k * 4096 })),
    nodeInfo: { architecture: 'amd64', bootID: uid(5, n), containerRuntimeVersion: 'containerd://1.7.13', kernelVersion: '6.1.0-18-amd64', kubeProxyVersion: 'v1.30.0', kubeletVersion: 'v1.30.0', machineID: hex(n, 8).repeat(4), operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12 (bookworm)', systemUUID: uid(6, n) },
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      annotations: { 'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///var/run/containerd/containerd.sock', 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      creationTimestamp: time(n),
      labels,
      managedFields: [
        managed('kubelet', 'Update', { 'f:metadata': { 'f:annotations': { '.': {}, 'f:volumes.kubernetes.io/controller-managed-attach-detach': {} }, 'f:labels': fields(labels) } }, n),
        managed('kube-controller-manager', 'Update', { 'f:spec': { 'f:podCIDR': {}, 'f:podCIDRs': { '.': {}, [`v:"${podCIDR}"`]: {} } } }, n),
        managed('kubelet', 'Update', { 'f:status': { 'f:conditions': {}, 'f:images': {}, 'f:nodeInfo': {} } }, n, 'status'),
      ],
      name,
      resourceVersion: String(300000 + n),
      uid: uid(4, n),
    },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status,
  };
}

/** The objects in kubectl's order for `get svc,endpointslices,nodes -A`: services, slices, nodes. */
export function kubectlObjects(o: KubectlClusterOptions): { [k: string]: Json }[] {
  const nodes = o.nodes ?? 4;
  const bare = o.bare ?? false;
  const out: { [k: string]: Json }[] = [];
  for (let i = 0; i < o.services; i++) out.push(service(i, bare));
  for (let i = 0; i < o.services; i++) out.push(slice(i, o.endpointsPer, nodes, bare));
  for (let n = 0; n < nodes; n++) out.push(node(n, bare));
  return out;
}


// YAML in the spelling of kubectl (sigs.k8s.io/yaml over go-yaml): keys sorted, sequences at
// their key's indentation, strings quoted only when they would read as something else, strings
// ending in a newline as a `|` block.
const PLAIN_UNSAFE = /^$|^[\s\-?:,[\]{}#&*!|>'"%@`]|[\s]$|: | #|^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$|^[-+]?(?:\.?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.inf|\.nan|0x[0-9a-fA-F]+|0o[0-7]+)$|^\d{4}-\d\d?-\d\d?|[\n\t]/;

function scalar(v: string | number | boolean | null): string {
  if (typeof v !== 'string') return String(v);
  return PLAIN_UNSAFE.test(v) ? JSON.stringify(v) : v;
}

function yamlValue(v: Json, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    if (v.length === 0) return void out.push(' []\n');
    out.push('\n');
    for (const item of v) {
      out.push(`${indent}-`);
      if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0) yamlMap(item, `${indent}  `, out, true);
      else yamlValue(item, `${indent}  `, out);
    }
    return;
  }
  if (v !== null && typeof v === 'object') {
    if (Object.keys(v).length === 0) return void out.push(' {}\n');
    out.push('\n');
    return yamlMap(v, indent, out, false);
  }
  if (typeof v === 'string' && v.endsWith('\n') && !v.slice(0, -1).includes('\n')) return void out.push(` |\n${indent}${v}`);
  out.push(` ${scalar(v)}\n`);
}

function yamlMap(m: { [k: string]: Json }, indent: string, out: string[], firstInline: boolean): void {
  let first = firstInline;
  for (const k of Object.keys(m).sort()) {
    out.push(first ? ` ${scalar(k)}:` : `${indent}${scalar(k)}:`);
    first = false;
    const v = m[k];
    // go-yaml writes a sequence under a key at the key's own indentation.
    yamlValue(v, Array.isArray(v) ? indent : `${indent}  `, out);
  }
}

export function kubectlYaml(obj: { [k: string]: Json }): string {
  const out: string[] = [];
  yamlMap(obj, '', out, false);
  return out.join('').replace(/^ /, '');
}

/** The cluster as text in one of kubectl's shapes. */
export function kubectlCluster(o: KubectlClusterOptions, shape: KubectlShape): string {
  const objects = kubectlObjects(o);
  const list = { apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } };
  switch (shape) {
    case 'multidoc':
      return objects.map(kubectlYaml).join('---\n');
    case 'list-yaml':
      return kubectlYaml(list);
    case 'list-json':
      return JSON.stringify(list, null, 4) + '\n';
  }
}
