// Loading: YAML or JSON text (multi-document, `kind: List`) -> typed objects with positions.
// Problems go to the sink; loading carries on so one run reports them all.
//
// Positions are needed only when something is wrong, and reading with them (the `yaml` library's
// document model) is what made loading slow, so each document is first read without positions
// (fast-read.ts: JSON.parse, js-yaml) and its objects are read once with no locator. A document
// that cannot be read that way, or any of whose objects reports anything, is read again with
// positions (positioned.ts) exactly as loading always read it, so every diagnostic keeps its file,
// line, column and code; an object read fast finds its own position only if a later check asks.
import { isDeepStrictEqual } from 'node:util';
import { DiagnosticSink } from '../diag/diagnostic.js';
import { SourceText } from '../diag/source.js';
import { DEFAULT_CONFIG, readConfig } from './config.js';
import { hasDirectives, splitDocuments } from './documents.js';
import { readEndpointSlice, readLegacyEndpoints } from './endpointslice.js';
import { fastEndpointSlice, fastService } from './fast-objects.js';
import { looksLikeJson, MAX_DEPTH, readJsonFast, readYamlFast, type FastRead } from './fast-read.js';
import { readNode } from './node.js';
import { jsonItemRanges, yamlItemRanges, type ItemRange } from './list-items.js';
import { nowhere, readPositioned, type Locator, type PositionedDocument } from './positioned.js';
import { ObjectReader } from './reader.js';
import { readService } from './service.js';
import { readServiceCIDR } from './service-cidr.js';
import type { Cluster, EndpointSlice, KubeNode, Origin, ProxyConfig, Service, ServiceCIDR } from './types.js';

export interface InputText {
  readonly name: string;
  readonly text: string;
}

export interface LoadOptions {
  /**
   * 'when-needed' (the default): read without positions, and with them only the documents that
   * have a problem. 'always': every document with positions, as loading always did; the fast
   * path is tested against it.
   */
  readonly positions?: 'when-needed' | 'always';
  /** Filled with how many documents were read each way (for tests and measurements). */
  readonly stats?: LoadStats;
}

export interface LoadStats {
  /** Documents read without positions. */
  fast: number;
  /** Documents read (or read again) with positions. */
  positioned: number;
  /** Items of a `kind: List` read alone with positions (for a problem, or a later check's position). */
  positionedItems: number;
}

interface Loaded {
  configs: ProxyConfig[];
  nodes: KubeNode[];
  services: Service[];
  slices: EndpointSlice[];
  legacy: EndpointSlice[];
  serviceCIDRs: ServiceCIDR[];
  skippedKinds: Map<string, number>;
  stats: LoadStats;
}

/** What one object turned into. */
type LoadedObject =
  | { readonly kind: 'config'; readonly config: ProxyConfig }
  | { readonly kind: 'node'; readonly node: KubeNode }
  | { readonly kind: 'service'; readonly service: Service }
  | { readonly kind: 'slice'; readonly slice: EndpointSlice }
  | { readonly kind: 'legacy'; readonly slices: EndpointSlice[] }
  | { readonly kind: 'serviceCIDR'; readonly serviceCIDR: ServiceCIDR }
  /** A kind kube-proxy does not read, counted for one note. */
  | { readonly kind: 'skipped'; readonly key: string }
  | { readonly kind: 'none' };

/** One input, with its line index built only if a position is asked for. */
interface Input extends InputText {
  source(): SourceText;
}

const KINDS: Record<string, string> = {
  KubeProxyConfiguration: 'kubeproxy.config.k8s.io/v1alpha1',
  Node: 'v1',
  Service: 'v1',
  Endpoints: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  ServiceCIDR: 'networking.k8s.io/v1',
};

export function loadCluster(inputs: readonly InputText[], sink: DiagnosticSink, opts: LoadOptions = {}): Cluster {
  const acc: Loaded = { configs: [], nodes: [], services: [], slices: [], legacy: [], serviceCIDRs: [], skippedKinds: new Map(), stats: opts.stats ?? { fast: 0, positioned: 0, positionedItems: 0 } };
  for (const { name, text } of inputs) {
    let source: SourceText | undefined;
    const input: Input = { name, text, source: () => (source ??= new SourceText(name, text)) };
    if (opts.positions === 'always') loadPositioned(input, 0, text.length, sink, acc);
    else loadFast(input, sink, acc);
  }

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
  checkDuplicates(acc.serviceCIDRs, (s) => `ServiceCIDR ${s.name}`, sink);
  const cluster: Cluster = { config: acc.configs[0] ?? DEFAULT_CONFIG, nodes: acc.nodes, services: acc.services, slices };
  return acc.serviceCIDRs.length > 0 ? { ...cluster, serviceCIDRs: acc.serviceCIDRs } : cluster;
}

function add(acc: Loaded, o: LoadedObject): void {
  switch (o.kind) {
    case 'config':
      acc.configs.push(o.config);
      break;
    case 'node':
      acc.nodes.push(o.node);
      break;
    case 'service':
      acc.services.push(o.service);
      break;
    case 'slice':
      acc.slices.push(o.slice);
      break;
    case 'legacy':
      acc.legacy.push(...o.slices);
      break;
    case 'serviceCIDR':
      acc.serviceCIDRs.push(o.serviceCIDR);
      break;
    case 'skipped':
      acc.skippedKinds.set(o.key, (acc.skippedKinds.get(o.key) ?? 0) + 1);
      break;
    case 'none':
      break;
  }
}

const slice = (text: string, start: number, end: number) => (start === 0 && end === text.length ? text : text.slice(start, end));

const NOT_A_MAP = 'expected a Kubernetes object (a map with apiVersion and kind)';

/** `kind: List` (and kubectl's `ServiceList` and the like): its items are the objects. */
function listItems(obj: Record<string, unknown>): unknown[] | null {
  if (obj.kind === 'List' || (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items))) return Array.isArray(obj.items) ? obj.items : [];
  return null;
}

/** Reads `text.slice(start, end)` with positions: every document, as loading always did. */
function loadPositioned(input: Input, start: number, end: number, sink: DiagnosticSink, acc: Loaded): void {
  acc.stats.positioned++;
  for (const pd of readPositioned(slice(input.text, start, end), start, input.name, input.source)) loadPositionedDocument(input, pd, sink, acc);
}

function loadPositionedDocument(input: Input, pd: PositionedDocument, sink: DiagnosticSink, acc: Loaded): void {
  if (pd.reportErrors(sink)) return;
  const read = pd.value(sink);
  const value = read?.value;
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    sink.error('OBJ_NOT_A_MAP', NOT_A_MAP, input.name, pd.contentsSpan());
    return;
  }
  const items = listItems(value as Record<string, unknown>);
  if (items) items.forEach((item, i) => add(acc, readPositionedObject(pd, ['items', i], item, sink)));
  else add(acc, readPositionedObject(pd, [], value, sink));
}

/**
 * The document `text.slice(start, end)` of a stream, with positions, read as the whole stream
 * would read it. The `yaml` lexer ends a document at the next marker, with one exception: a
 * quoted scalar runs to its closing quote, looked for in the rest of the text, and only if one
 * is found there does it stop at the first line it cannot continue (a marker line always is one);
 * if none is, it swallows the rest of the stream (lexer.ts parseQuotedScalar). So the document is
 * read followed by the next marker and a quote of each kind that the rest holds; and if it has a
 * quote unclosed whose kind the rest does not hold, the rest of the stream is read with it.
 * Returns true when it read to the end of the text.
 */
function loadPositionedFrom(input: Input, start: number, end: number, sink: DiagnosticSink, acc: Loaded): boolean {
  const { text } = input;
  if (end === text.length) {
    loadPositioned(input, start, end, sink, acc);
    return true;
  }
  const later = { '"': text.indexOf('"', end) !== -1, "'": text.indexOf("'", end) !== -1 };
  const suffix = `${text.startsWith('---', end) ? '---\n' : ''}${later['"'] ? '"' : ''}${later["'"] ? "'" : ''}`;
  const docs = readPositioned(text.slice(start, end) + suffix, start, input.name, input.source).filter((pd) => (pd.doc.range?.[0] ?? 0) < end - start);
  const swallows = docs.some((pd) => pd.doc.errors.some((e) => e.code === 'MISSING_CHAR' && ((!later['"'] && e.message.includes('closing "quote')) || (!later["'"] && e.message.includes("closing 'quote")))));
  if (swallows) {
    loadPositioned(input, start, text.length, sink, acc);
    return true;
  }
  acc.stats.positioned++;
  for (const pd of docs) loadPositionedDocument(input, pd, sink, acc);
  return false;
}

function readPositionedObject(pd: PositionedDocument, base: (string | number)[], value: unknown, sink: DiagnosticSink): LoadedObject {
  const at = pd.locator(base);
  return readObject(at, at, value, sink);
}

/** Counts what an object reports: a first reading, to know whether it needs positions. */
class CountingSink extends DiagnosticSink {
  count = 0;
  override report(): void {
    this.count++;
  }
}

/** Reads each document without positions where it can, and with them where it must. */
function loadFast(input: Input, sink: DiagnosticSink, acc: Loaded): void {
  const { text } = input;
  const json = looksLikeJson(text) ? readJsonFast(text) : null;
  if (json) {
    loadFastDocument(input, 0, text.length, json, () => readJsonFast(text), sink, acc);
    return;
  }
  if (hasDirectives(text)) return loadPositioned(input, 0, text.length, sink, acc);
  for (const { start, end } of splitDocuments(text)) {
    if (loadFastDocument(input, start, end, readYamlFast(text, start, end), () => readYamlFast(text, start, end), sink, acc)) return;
  }
}

/**
 * One document, `read` from the text (as `reread` reads it again); true when it had to read the
 * rest of the text with it (see loadPositionedFrom).
 */
function loadFastDocument(input: Input, start: number, end: number, read: FastRead, reread: () => FastRead | null, sink: DiagnosticSink, acc: Loaded): boolean {
  if (read.kind === 'too-deep') {
    sink.error('YAML_TOO_DEEP', `nesting deeper than the ${MAX_DEPTH} levels kpsim reads`, input.name, input.source().span(read.offset, 1));
    return false;
  }
  if (read.kind === 'positioned') return loadPositionedFrom(input, start, end, sink, acc);
  const value = read.value;
  if (value === null || value === undefined) return false;
  if (typeof value !== 'object' || Array.isArray(value)) return loadPositionedFrom(input, start, end, sink, acc);
  // Positions for the objects read here, found if a later check asks for one.
  let positioned: PositionedDocument | null | undefined;
  const document = () => (positioned === undefined ? (positioned = readPositioned(slice(input.text, start, end), start, input.name, input.source)[0] ?? null) : positioned);
  const items = listItems(value as Record<string, unknown>);
  // The items' values, for checking an item read alone with positions: those read here while
  // loading, read again if a later check asks. The objects keep only what they read, so a
  // kubectl List's values (several times the size of the file: managedFields, annotations) are
  // garbage after loading, not marked by every collection to come.
  let held: unknown[] | null = items;
  const itemsAgain = () => {
    const again = reread();
    return (again?.kind === 'value' && again.value !== null && typeof again.value === 'object' ? listItems(again.value as Record<string, unknown>) : null) ?? [];
  };
  const item = items ? listItemDocuments(input, start, end, items.length, (i) => (held ??= itemsAgain())[i], acc) : () => null;
  const later = (i: number | null): Locator => ({
    file: input.name,
    span: (path, key) => (i === null ? document()?.span([], path, key) : (item(i)?.span([], path, key) ?? document()?.span(['items', i], path, key))) ?? null,
  });
  const objects: LoadedObject[] = [];
  const counter = new CountingSink();
  // What items read again with positions report, held until the document is known not to need
  // reading whole.
  const reported = new DiagnosticSink();
  const quiet = nowhere(input.name);
  for (const [i, object] of items ? items.map((x, i) => [i, x] as const) : [[null, value] as const]) {
    objects.push(readObject(quiet, later(i), object, counter));
    if (counter.count === 0) continue;
    const pd = i === null ? null : item(i);
    if (!pd) return loadPositionedFrom(input, start, end, sink, acc);
    objects[objects.length - 1] = readPositionedObject(pd, [], object, reported);
    counter.count = 0;
  }
  held = null;
  for (const d of reported.items) sink.report(d);
  for (const o of objects) add(acc, o);
  acc.stats.fast++;
  return false;
}

/**
 * Item `i` of a `kind: List` document read alone with positions (list-items.ts), or null where
 * that is not sure to give what reading the whole document gives: the item must be found in one
 * of kubectl's spellings, read without error, and to exactly the value read without positions.
 */
function listItemDocuments(input: Input, start: number, end: number, count: number, itemValue: (i: number) => unknown, acc: Loaded): (i: number) => PositionedDocument | null {
  let ranges: ItemRange[] | null | undefined;
  const read = new Map<number, PositionedDocument | null>();
  return (i) => {
    ranges ??= ((start === 0 && end === input.text.length && looksLikeJson(input.text) ? jsonItemRanges(input.text) : null) ?? yamlItemRanges(input.text, start, end));
    if (!ranges || ranges.length !== count) return null;
    if (!read.has(i)) {
      const r = ranges[i];
      // A block sequence item is read as the mapping after its `- `, at the same offsets.
      const text = input.text.charCodeAt(r.start) === 45 ? ` ${input.text.slice(r.start + 1, r.end)}` : input.text.slice(r.start, r.end);
      const docs = readPositioned(text, r.start, input.name, input.source);
      const ok = docs.length === 1 && docs[0].doc.errors.length === 0 && sameValue(docs[0], itemValue(i));
      if (ok) acc.stats.positionedItems++;
      read.set(i, ok ? docs[0] : null);
    }
    return read.get(i)!;
  };
}

function sameValue(pd: PositionedDocument, value: unknown): boolean {
  try {
    return isDeepStrictEqual(pd.doc.toJS({ maxAliasCount: 0 }), value);
  } catch {
    return false;
  }
}

/** One Kubernetes object; `at` locates its problems, `origin` the object for later checks. */
function readObject(at: Locator, origin: Locator, value: unknown, sink: DiagnosticSink): LoadedObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    new ObjectReader(at, {}, sink, 'object').error('OBJ_NOT_A_MAP', [], NOT_A_MAP);
    return { kind: 'none' };
  }
  const obj = value as Record<string, unknown>;
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const what = kind === 'Node' || kind === 'KubeProxyConfiguration' || kind === 'ServiceCIDR' ? `${kind} ${String(meta.name ?? '')}`.trim() : `${kind} ${ns}/${String(meta.name ?? '')}`;
  const r = new ObjectReader(at, obj, sink, what);
  if (!kind) {
    r.error('OBJ_MISSING_FIELD', [], 'object has no kind');
    return { kind: 'none' };
  }
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const wanted = KINDS[kind];
  const beta = (kind === 'EndpointSlice' && apiVersion === 'discovery.k8s.io/v1beta1') || (kind === 'ServiceCIDR' && apiVersion === 'networking.k8s.io/v1beta1');
  if (wanted === undefined || (apiVersion !== wanted && !beta)) {
    return { kind: 'skipped', key: apiVersion ? `${apiVersion} ${kind}` : kind };
  }
  const o = originOf(origin, what);
  switch (kind) {
    case 'KubeProxyConfiguration':
      return { kind: 'config', config: readConfig(r, o) };
    case 'Node': {
      const n = readNode(r, o);
      return n ? { kind: 'node', node: n } : { kind: 'none' };
    }
    case 'Service': {
      const s = fastService(obj, o) ?? readService(r, o);
      return s ? { kind: 'service', service: s } : { kind: 'none' };
    }
    case 'EndpointSlice': {
      const s = fastEndpointSlice(obj, o) ?? readEndpointSlice(r, o);
      return s ? { kind: 'slice', slice: s } : { kind: 'none' };
    }
    case 'ServiceCIDR': {
      const c = readServiceCIDR(r, o);
      return c ? { kind: 'serviceCIDR', serviceCIDR: c } : { kind: 'none' };
    }
    default:
      return { kind: 'legacy', slices: readLegacyEndpoints(r, o) };
  }
}

/** An object's origin, its span found on first use. */
function originOf(at: Locator, what: string): Origin {
  let span: Origin['span'] | undefined;
  return {
    file: at.file,
    what,
    get span() {
      return span === undefined ? (span = at.span([])) : span;
    },
  };
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
