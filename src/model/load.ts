// Loading: YAML or JSON text (multi-document, `kind: List`) -> typed objects with positions.
// Problems go to the sink; loading carries on so one run reports them all.
import { parseAllDocuments, type Document } from 'yaml';
import type { DiagnosticSink } from '../diag/diagnostic.js';
import { SourceText } from '../diag/source.js';
import { DEFAULT_CONFIG, readConfig } from './config.js';
import { readEndpointSlice, readLegacyEndpoints } from './endpointslice.js';
import { readNode } from './node.js';
import { ObjectReader, type Path } from './reader.js';
import { readService } from './service.js';
import type { Cluster, EndpointSlice, Node, Origin, ProxyConfig, Service } from './types.js';

export interface InputText {
  readonly name: string;
  readonly text: string;
}

interface Loaded {
  configs: ProxyConfig[];
  nodes: Node[];
  services: Service[];
  slices: EndpointSlice[];
  legacy: EndpointSlice[];
  skippedKinds: Map<string, number>;
}

const KINDS: Record<string, string> = {
  KubeProxyConfiguration: 'kubeproxy.config.k8s.io/v1alpha1',
  Node: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
};

export function loadCluster(inputs: readonly InputText[], sink: DiagnosticSink): Cluster {
  const acc: Loaded = { configs: [], nodes: [], services: [], slices: [], legacy: [], skippedKinds: new Map() };
  for (const input of inputs) loadText(input, sink, acc);

  if (acc.skippedKinds.size > 0) {
    const list = [...acc.skippedKinds].map(([k, n]) => `${k} (${n})`).join(', ');
    sink.note('OBJ_UNKNOWN_KIND', `skipped objects kube-proxy does not read: ${list}`, null, null);
  }
  if (acc.configs.length > 1) {
    const second = acc.configs[1].origin!;
    sink.error('OBJ_DUPLICATE', 'more than one KubeProxyConfiguration; kube-proxy reads exactly one', second.file, second.span);
  }
  checkDuplicates(acc.services, (s) => `Service ${s.namespace}/${s.name}`, sink);
  checkDuplicates(acc.nodes, (n) => `Node ${n.name}`, sink);
  checkDuplicates(acc.slices, (s) => `EndpointSlice ${s.namespace}/${s.name}`, sink);
  checkDuplicates(acc.legacy, (s) => `Endpoints ${s.namespace}/${s.serviceName} subset ${s.name}`, sink);

  // Legacy Endpoints stand in for a Service only when it has no EndpointSlice of its own.
  const sliced = new Set(acc.slices.map((s) => `${s.namespace}/${s.serviceName}`));
  const slices = [...acc.slices, ...acc.legacy.filter((s) => !sliced.has(`${s.namespace}/${s.serviceName}`))];
  checkSlicePorts(acc.services, slices, sink);
  return { config: acc.configs[0] ?? DEFAULT_CONFIG, nodes: acc.nodes, services: acc.services, slices };
}

function loadText(input: InputText, sink: DiagnosticSink, acc: Loaded): void {
  const source = new SourceText(input.name, input.text);
  const docs = parseAllDocuments(input.text, { uniqueKeys: true, prettyErrors: false });
  // An empty stream (only comments) parses to an EmptyStream, which holds nothing to load.
  const list: Document[] = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) sink.error('YAML_SYNTAX', firstLine(e.message), input.name, source.span(e.pos[0], Math.max(1, e.pos[1] - e.pos[0])));
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      const range = doc.contents?.range;
      sink.error('OBJ_NOT_A_MAP', 'expected a Kubernetes object (a map with apiVersion and kind)', input.name, range ? source.span(range[0], range[1] - range[0]) : null);
      continue;
    }
    const obj = value as Record<string, unknown>;
    if (obj.kind === 'List' || (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items))) {
      const items = Array.isArray(obj.items) ? obj.items : [];
      items.forEach((item, i) => loadObject(doc, ['items', i], item, source, sink, acc));
    } else {
      loadObject(doc, [], obj, source, sink, acc);
    }
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function loadObject(doc: Document, base: Path, value: unknown, source: SourceText, sink: DiagnosticSink, acc: Loaded): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    new ObjectReader(doc, base, {}, source, sink, 'object').error('OBJ_NOT_A_MAP', [], 'expected a Kubernetes object (a map with apiVersion and kind)');
    return;
  }
  const obj = value as Record<string, unknown>;
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const what = kind === 'Node' || kind === 'KubeProxyConfiguration' ? `${kind} ${String(meta.name ?? '')}`.trim() : `${kind} ${ns}/${String(meta.name ?? '')}`;
  const r = new ObjectReader(doc, base, obj, source, sink, what);
  if (!kind) {
    r.error('OBJ_MISSING_FIELD', [], 'object has no kind');
    return;
  }
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const wanted = KINDS[kind];
  if (wanted === undefined || (apiVersion !== wanted && !(kind === 'EndpointSlice' && apiVersion === 'discovery.k8s.io/v1beta1'))) {
    const key = apiVersion ? `${apiVersion} ${kind}` : kind;
    acc.skippedKinds.set(key, (acc.skippedKinds.get(key) ?? 0) + 1);
    return;
  }
  const origin: Origin = { file: source.name, span: r.span([]), what };
  switch (kind) {
    case 'KubeProxyConfiguration':
      acc.configs.push(readConfig(r, origin));
      break;
    case 'Node': {
      const n = readNode(r, origin);
      if (n) acc.nodes.push(n);
      break;
    }
    case 'Service': {
      const s = readService(r, origin);
      if (s) acc.services.push(s);
      break;
    }
    case 'EndpointSlice': {
      const s = readEndpointSlice(r, origin);
      if (s) acc.slices.push(s);
      break;
    }
    case 'Endpoints':
      acc.legacy.push(...readLegacyEndpoints(r, origin));
      break;
  }
}

function checkDuplicates<T extends { origin: Origin }>(items: readonly T[], key: (t: T) => string, sink: DiagnosticSink): void {
  const seen = new Map<string, Origin>();
  for (const item of items) {
    const k = key(item);
    const first = seen.get(k);
    if (first) sink.error('OBJ_DUPLICATE', `${k} is defined twice`, item.origin.file, item.origin.span, [`first defined at ${first.file}:${first.span?.line ?? '?'}`]);
    else seen.set(k, item.origin);
  }
}

/**
 * A slice port should name a port of its Service. kube-proxy matches them by name and protocol
 * (endpointslicecache.go) and silently ignores a slice port that matches none: the Service port
 * then has no endpoints from it. Say so.
 */
function checkSlicePorts(services: readonly Service[], slices: readonly EndpointSlice[], sink: DiagnosticSink): void {
  const byName = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s]));
  for (const slice of slices) {
    const svc = byName.get(`${slice.namespace}/${slice.serviceName}`);
    if (!svc || svc.ports.length === 0) continue;
    slice.ports.forEach((p) => {
      if (!svc.ports.some((sp) => sp.name === p.name)) {
        const names = svc.ports.map((sp) => `'${sp.name}'`).join(', ');
        sink.warning('EPS_UNKNOWN_PORT', `${slice.origin.what}: port name '${p.name}' matches no port of Service ${svc.namespace}/${svc.name} (its ports: ${names}): kube-proxy ignores it`, slice.origin.file, slice.origin.span);
      }
    });
  }
}
