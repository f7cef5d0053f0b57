// Every feature the generator must cover (issue 5), and which of them a generated cluster and its
// flows show. differential.test.ts asserts that the fixed seeds show them all, so a generator
// change that stops producing one fails loudly instead of silently testing less.
import type { Endpoint } from '../../src/model/types.js';
import { ENTRY_KINDS, ORIGIN_KINDS, type DiffFlow } from './flows.js';
import { LOCAL_NODE, type GeneratedCluster } from './generate.js';

export const FEATURES = [
  'family:ipv4',
  'family:ipv6',
  'services:1',
  'services:20+',
  'type:ClusterIP',
  'type:NodePort',
  'type:LoadBalancer',
  'lb:ingress-ip',
  'lb:two-ingress-ips',
  'lb:no-ingress-ip',
  'lb:hostname-only',
  'lb:no-node-ports',
  'ipMode:unset',
  'ipMode:VIP',
  'ipMode:Proxy',
  'sourceRanges',
  'sourceRanges:foreign-family',
  'externalIPs',
  'externalIPs:held-by-node',
  'externalIPs:foreign-family',
  'etp:Cluster',
  'etp:Local',
  'etp:Local-on-ClusterIP',
  'healthCheckNodePort',
  'itp:Cluster',
  'itp:Local',
  'affinity:ClientIP',
  'affinity:custom-timeout',
  'endpoints:0',
  'endpoints:1',
  'endpoints:12',
  'endpoints:local',
  'endpoints:remote',
  'endpoints:no-node',
  'condition:ready',
  'condition:serving-terminating',
  'condition:terminating-not-serving',
  'condition:not-ready',
  'condition:unset',
  'slices:none',
  'slices:split',
  'slices:per-port',
  'port:named',
  'port:unnamed',
  'ports:several',
  'protocol:TCP',
  'protocol:UDP',
  'protocol:SCTP',
  'config:masqueradeAll',
  'config:masqueradeBit-other',
  'config:localhostNodePorts-on',
  'config:localhostNodePorts-off',
  'config:tcpBeLiberal',
  'config:no-random-fully',
  'config:no-nfacct',
  'config:two-node-ips',
  'detect:ClusterCIDR',
  'detect:NodeCIDR',
  'detect:BridgeInterface',
  'detect:InterfaceNamePrefix',
  'detect:none',
  'nodePortAddresses:all',
  'nodePortAddresses:node subnet',
  'nodePortAddresses:second address',
  'nodePortAddresses:node and loopback',
  'nodePortAddresses:primary',
  'nodePortAddresses:everything',
  'nodePortAddresses:both families',
  ...ORIGIN_KINDS.map((o) => `origin:${o}` as const),
  ...ENTRY_KINDS.map((e) => `entry:${e}` as const),
] as const;

export type Feature = (typeof FEATURES)[number];

function conditionFeature(e: Endpoint): Feature {
  if (e.ready === null && e.serving === null && e.terminating === null) return 'condition:unset';
  if (e.ready !== false) return 'condition:ready';
  if (e.terminating) return e.serving === false ? 'condition:terminating-not-serving' : 'condition:serving-terminating';
  return 'condition:not-ready';
}

/** The features one generated cluster and its flows show. */
export function featuresOf(g: GeneratedCluster, flows: readonly DiffFlow[]): Set<Feature> {
  const f = new Set<Feature>();
  const c = g.cluster;
  const cfg = c.config;
  const local = c.nodes[0];
  f.add(`family:${g.family}`);
  if (c.services.length === 1) f.add('services:1');
  if (c.services.length >= 20) f.add('services:20+');
  if (cfg.masqueradeAll) f.add('config:masqueradeAll');
  if (cfg.masqueradeBit !== 14) f.add('config:masqueradeBit-other');
  f.add(cfg.localhostNodePorts ? 'config:localhostNodePorts-on' : 'config:localhostNodePorts-off');
  if (cfg.tcpBeLiberal) f.add('config:tcpBeLiberal');
  if (local.hostFeatures.randomFully === false) f.add('config:no-random-fully');
  if (local.hostFeatures.nfacct === false) f.add('config:no-nfacct');
  if (local.internalIPs.length > 1) f.add('config:two-node-ips');
  f.add(`detect:${g.variant.detectLocal}` as Feature);
  f.add(`nodePortAddresses:${g.variant.nodePortAddresses}` as Feature);
  const foreign = (s: string) => s.includes(':') !== (g.family === 'ipv6');
  for (const s of c.services) {
    f.add(`type:${s.type}` as Feature);
    f.add(`etp:${s.externalTrafficPolicy}`);
    f.add(`itp:${s.internalTrafficPolicy}`);
    if (s.type === 'ClusterIP' && s.externalTrafficPolicy === 'Local') f.add('etp:Local-on-ClusterIP');
    if (s.healthCheckNodePort) f.add('healthCheckNodePort');
    if (s.sessionAffinity === 'ClientIP') f.add(s.affinityTimeoutSeconds === 10800 ? 'affinity:ClientIP' : 'affinity:custom-timeout');
    if (s.externalIPs.length) f.add('externalIPs');
    if (s.externalIPs.includes(g.plan.heldExternalIP)) f.add('externalIPs:held-by-node');
    if (s.externalIPs.some(foreign)) f.add('externalIPs:foreign-family');
    if (s.loadBalancerSourceRanges.length) f.add('sourceRanges');
    if (s.loadBalancerSourceRanges.some(foreign)) f.add('sourceRanges:foreign-family');
    if (s.type === 'LoadBalancer') {
      const ips = s.ingress.filter((i) => i.ip);
      if (ips.length === 0) f.add('lb:no-ingress-ip');
      if (ips.length === 1) f.add('lb:ingress-ip');
      if (ips.length === 2) f.add('lb:two-ingress-ips');
      if (s.ingress.some((i) => !i.ip && i.hostname)) f.add('lb:hostname-only');
      if (s.ports.every((p) => p.nodePort === 0)) f.add('lb:no-node-ports');
      for (const i of ips) f.add(i.ipMode === null ? 'ipMode:unset' : `ipMode:${i.ipMode}`);
    }
    if (s.ports.length > 1) f.add('ports:several');
    for (const p of s.ports) {
      f.add(p.name ? 'port:named' : 'port:unnamed');
      f.add(`protocol:${p.protocol}`);
    }
    const slices = c.slices.filter((x) => x.namespace === s.namespace && x.serviceName === s.name);
    if (slices.length === 0) f.add('slices:none');
    if (slices.length > 1 && slices.every((x) => x.ports.length === s.ports.length)) f.add('slices:split');
    if (slices.some((x) => x.ports.length === 1 && s.ports.length > 1)) f.add('slices:per-port');
    for (const p of s.ports) {
      const eps = slices.filter((x) => x.ports.some((q) => q.name === p.name)).flatMap((x) => x.endpoints);
      if (eps.length === 0) f.add('endpoints:0');
      if (eps.length === 1) f.add('endpoints:1');
      if (eps.length >= 12) f.add('endpoints:12');
    }
  }
  for (const s of c.slices) {
    for (const e of s.endpoints) {
      f.add(e.nodeName === LOCAL_NODE ? 'endpoints:local' : e.nodeName === null ? 'endpoints:no-node' : 'endpoints:remote');
      f.add(conditionFeature(e));
    }
  }
  for (const fl of flows) {
    f.add(`origin:${fl.origin}`);
    f.add(`entry:${fl.entry}`);
  }
  return f;
}
