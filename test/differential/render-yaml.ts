// A generated Cluster as the multi-document YAML kpsim loads (the golden cases' cluster.yaml):
// KubeProxyConfiguration, Nodes (with the kpsim.io/interfaces and kpsim.io/host-features
// annotations), Services, EndpointSlices. Only fields the loader reads are written, and loading
// the text gives back the same objects (checked in differential.test.ts), so a failing case
// written out as a golden case is the case that failed.
import { stringify } from 'yaml';
import { SERVICE_NAME_LABEL } from '../../src/model/endpointslice.js';
import { HOST_FEATURES_ANNOTATION, INTERFACES_ANNOTATION } from '../../src/model/node.js';
import type { Cluster, EndpointSlice, KubeNode, ProxyConfig, Service } from '../../src/model/types.js';

type Obj = Record<string, unknown>;

function configObject(c: ProxyConfig): Obj {
  const detectLocal: Obj = {};
  if (c.bridgeInterface) detectLocal.bridgeInterface = c.bridgeInterface;
  if (c.interfaceNamePrefix) detectLocal.interfaceNamePrefix = c.interfaceNamePrefix;
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: c.mode,
    hostnameOverride: c.hostnameOverride,
    bindAddress: c.bindAddress,
    clusterCIDR: c.clusterCIDR,
    detectLocalMode: c.detectLocalMode,
    ...(Object.keys(detectLocal).length ? { detectLocal } : {}),
    iptables: { masqueradeAll: c.masqueradeAll, masqueradeBit: c.masqueradeBit, localhostNodePorts: c.localhostNodePorts, syncPeriod: `${c.syncPeriodSeconds}s` },
    conntrack: { tcpBeLiberal: c.tcpBeLiberal },
    nodePortAddresses: [...c.nodePortAddresses],
    ...(Object.keys(c.featureGates).length ? { featureGates: { ...c.featureGates } } : {}),
  };
}

function nodeObject(n: KubeNode): Obj {
  const annotations: Obj = {};
  if (n.interfaces) {
    annotations[INTERFACES_ANNOTATION] = n.interfaces.map((i) => `${i.name}=${i.ips.map((ip, k) => `${ip.text}/${i.addresses[k].prefix}`).join(',')}`).join(' ');
  }
  const f = n.hostFeatures;
  const features = [f.randomFully === null ? '' : `random-fully=${f.randomFully}`, f.nfacct === null ? '' : `nfacct=${f.nfacct}`].filter(Boolean);
  if (features.length) annotations[HOST_FEATURES_ANNOTATION] = features.join(',');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, ...(Object.keys(n.labels).length ? { labels: { ...n.labels } } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { podCIDRs: n.podCIDRs.map((c) => c.text) },
    status: {
      addresses: [...n.internalIPs.map((ip) => ({ type: 'InternalIP', address: ip.text })), ...n.externalIPs.map((ip) => ({ type: 'ExternalIP', address: ip.text })), { type: 'Hostname', address: n.name }],
    },
  };
}

function serviceObject(s: Service): Obj {
  const spec: Obj = {
    type: s.type,
    ...(s.clusterIP !== null ? { clusterIP: s.clusterIP } : {}),
    ...(s.clusterIPs.length ? { clusterIPs: [...s.clusterIPs] } : {}),
    ports: s.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}) })),
    ...(s.externalIPs.length ? { externalIPs: [...s.externalIPs] } : {}),
    ...(s.loadBalancerSourceRanges.length ? { loadBalancerSourceRanges: [...s.loadBalancerSourceRanges] } : {}),
    externalTrafficPolicy: s.externalTrafficPolicy,
    internalTrafficPolicy: s.internalTrafficPolicy,
    ...(s.healthCheckNodePort ? { healthCheckNodePort: s.healthCheckNodePort } : {}),
    sessionAffinity: s.sessionAffinity,
    ...(s.sessionAffinity === 'ClientIP' ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: s.affinityTimeoutSeconds } } } : {}),
  };
  const ingress = s.ingress.map((i) => ({ ...(i.ip ? { ip: i.ip.text } : {}), ...(i.hostname ? { hostname: i.hostname } : {}), ...(i.ipMode ? { ipMode: i.ipMode } : {}) }));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: s.namespace, name: s.name },
    spec,
    ...(ingress.length ? { status: { loadBalancer: { ingress } } } : {}),
  };
}

function sliceObject(s: EndpointSlice): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: s.namespace, name: s.name, labels: { [SERVICE_NAME_LABEL]: s.serviceName } },
    addressType: s.addressType,
    endpoints: s.endpoints.map((e) => {
      const conditions: Obj = {};
      if (e.ready !== null) conditions.ready = e.ready;
      if (e.serving !== null) conditions.serving = e.serving;
      if (e.terminating !== null) conditions.terminating = e.terminating;
      return { addresses: [...e.addresses], ...(Object.keys(conditions).length ? { conditions } : {}), ...(e.nodeName ? { nodeName: e.nodeName } : {}) };
    }),
    ports: s.ports.map((p) => ({ name: p.name, protocol: p.protocol, ...(p.port !== null ? { port: p.port } : {}) })),
  };
}

/** The cluster as cluster.yaml text, headed by `header` lines as comments. */
export function renderClusterYaml(c: Cluster, header: readonly string[] = []): string {
  const docs = [configObject(c.config), ...c.nodes.map(nodeObject), ...c.services.map(serviceObject), ...c.slices.map(sliceObject)];
  const head = header.map((l) => `# ${l}\n`).join('');
  return head + docs.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}
