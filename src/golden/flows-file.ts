// flows.yaml: a list of packets in kube-proxy's packet-flow shape (runPacketFlowTests:
// sourceIP, protocol, destIP, destPort, and the expected output and masq), read by
// `kpsim trace --flows` and `kpsim golden`. kpsim's additions: `sourcePort`, `at` (seconds since
// the first packet, for affinity timeouts and rate limits), `inInterface`, what the packet's
// header and socket hold where a rule looks at them (`ttl`, `tos`, `length`; `uid`, `gid`,
// `socket`, `cgroup`, `classid`), and expected `probabilities` (answer -> fraction) and `affinity`
// (the fraction of outcomes a session-affinity rule steered).
// The YAML document is kept so `kpsim golden --update` can rewrite answers in place, keeping
// comments and key order. A flows file written as JSON (as a tool writes 100k flows) is read with
// JSON.parse; it gets the same flows and, if it has a problem, the same diagnostics.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { Diagnostic, SourceSpan } from '../diag/diagnostic.js';
import { looksLikeJson, parseJsonExactly } from '../model/fast-read.js';
import { SOCKET_KINDS, type PacketProtocol } from '../packetsim/packet.js';
import type { FlowSpec } from '../packetsim/trace.js';

export const FLOW_PROTOCOLS = ['tcp', 'udp', 'sctp', 'icmp'] as const;

/** What a flow says the tracer should answer; fields absent from the file are undefined. */
export interface FlowExpectation {
  readonly output?: string;
  readonly masq?: boolean;
  readonly probabilities?: ReadonlyMap<string, string>;
  /** The probability that a session-affinity rule (`-m recent --rcheck`) chose the endpoint. */
  readonly affinity?: string;
}

export interface FileFlow {
  readonly spec: FlowSpec & { readonly name: string };
  readonly expected: FlowExpectation;
  /** The flow's place in the file's list, for rewriting it in `document()`. */
  readonly index: number;
}

export interface FlowsFile {
  readonly flows: FileFlow[];
  readonly diagnostics: Diagnostic[];
  /** The file's YAML document (read when first asked), to rewrite answers keeping comments and key order. */
  document(): Document;
}

/** One field of a flow as both readers see it. */
interface Field {
  /** A scalar's value; undefined for a collection. */
  readonly value: unknown;
  /** A mapping's entries, as strings; null for anything else. */
  readonly entries: readonly (readonly [string, string])[] | null;
  readonly isNull: boolean;
}

/** Raised by the plain reader where the file needs the positioned one. */
class NeedsPositions extends Error {}

/**
 * The flows of a file. JSON (which is also YAML) is read with JSON.parse, and only a file with a
 * problem is read again with positions; anything else is read as YAML with positions.
 */
export function parseFlowsFile(text: string, file: string): FlowsFile {
  return parseJsonFlows(text) ?? parseYamlFlows(text, file);
}

/** A flows file read with JSON.parse, or null where that would not give exactly what the YAML reading gives. */
export function parseJsonFlows(text: string): FlowsFile | null {
  const root = looksLikeJson(text) ? parseJsonExactly(text) : null;
  if (!root || root === 'not-json' || !Array.isArray(root.value)) return null;
  const items: unknown[] = root.value;
  const field = (v: unknown): Field => {
    if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) return { value: undefined, entries: null, isNull: false };
      const entries = Object.entries(v).map(([k, x]) => {
        // `yaml` would print a collection value back as YAML: not worth repeating here.
        if (x !== null && typeof x === 'object') throw new NeedsPositions();
        return [k, String(x)] as const;
      });
      return { value: undefined, entries, isNull: false };
    }
    return { value: v, entries: null, isNull: v === null };
  };
  try {
    const flows = items.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new NeedsPositions();
      return readFlow(i, (k) => (Object.hasOwn(item, k) ? field((item as Record<string, unknown>)[k]) : undefined), () => {
        throw new NeedsPositions();
      });
    });
    let doc: Document | undefined;
    return { flows: flows.filter((f): f is FileFlow => f !== null), diagnostics: [], document: () => (doc ??= parseDocument(text)) };
  } catch (e) {
    if (e instanceof NeedsPositions) return null;
    throw e;
  }
}

/** A flows file read as YAML, with positions. */
export function parseYamlFlows(text: string, file: string): FlowsFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const diagnostics: Diagnostic[] = [];
  const at = (n: YamlNode | null | undefined, off = n?.range?.[0] ?? 0): SourceSpan => {
    const p = lc.linePos(off);
    return { line: p.line, col: p.col, offset: off, length: Math.max(1, (n?.range?.[1] ?? off + 1) - off) };
  };
  const err = (message: string, n: YamlNode | null | undefined, severity: 'error' | 'warning' = 'error') =>
    diagnostics.push({ severity, code: severity === 'error' ? 'SIM_BAD_FLOW' : 'SIM_FLOW_ASSUMED', message, file, span: at(n) });
  for (const e of doc.errors) diagnostics.push({ severity: 'error', code: 'SIM_BAD_FLOW', message: e.message, file, span: at(null, e.pos[0]) });
  const flows: FileFlow[] = [];
  const root = doc.contents;
  const document = () => doc;
  if (!diagnostics.length && !isSeq(root)) err('expected a list of flows', root as YamlNode);
  if (!isSeq(root)) return { flows, diagnostics, document };
  root.items.forEach((item, i) => {
    if (!isMap(item)) return err(`flow ${i + 1}: expected a mapping`, item as YamlNode);
    const nodes = new Map<Field, YamlNode>();
    const get = (k: string): Field | undefined => {
      const n = item.get(k, true) as (YamlNode & { value?: unknown }) | undefined;
      if (n === undefined) return undefined;
      const entries = isMap(n) ? n.items.map((pair) => [String(isScalar(pair.key) ? pair.key.value : pair.key), String(isScalar(pair.value) ? pair.value.value : pair.value)] as const) : null;
      const f: Field = { value: n.value, entries, isNull: isScalar(n) && n.value === null };
      nodes.set(f, n);
      return f;
    };
    const flow = readFlow(i, get, (message, f, severity) => err(message, f === null ? item : f && nodes.get(f), severity));
    if (flow) flows.push(flow);
  });
  return { flows, diagnostics, document };
}

/** One flow from its fields; `err` reports a problem at a field (null: at the flow). */
/** `err` reports a problem at a field (null: at the flow); a warning says what kpsim assumed. */
/** Protocols whose packets carry ports. */
const PORT_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'sctp']);

function readFlow(i: number, get: (k: string) => Field | undefined, err: (message: string, at: Field | null | undefined, severity?: 'error' | 'warning') => void): FileFlow | null {
  const str = (k: string, need: boolean) => {
    const n = get(k);
    if (n === undefined) {
      if (need) err(`flow ${i + 1}: missing ${k}`, null);
      return undefined;
    }
    return String(n.value);
  };
  const num = (k: string) => {
    const n = get(k);
    if (n === undefined) return undefined;
    const v = Number(n.value);
    if (!Number.isFinite(v) || v < 0) err(`flow ${i + 1}: ${k} must be a non-negative number`, n);
    return v;
  };
  const protocol = (str('protocol', false) ?? 'tcp').toLowerCase();
  if (!(FLOW_PROTOCOLS as readonly string[]).includes(protocol)) err(`flow ${i + 1}: unknown protocol ${protocol}`, get('protocol'));
  const sourceIP = str('sourceIP', true);
  const destIP = str('destIP', true);
  for (const [k, v] of [['sourceIP', sourceIP], ['destIP', destIP]] as const) {
    if (v !== undefined && !/^[0-9a-fA-F:.]+$/.test(v)) err(`flow ${i + 1}: ${k} ${v} is not an IP address`, get(k));
  }
  const masqNode = get('masq');
  if (masqNode !== undefined && typeof masqNode.value !== 'boolean') err(`flow ${i + 1}: masq must be true or false`, masqNode);
  const probNode = get('probabilities');
  let probabilities: Map<string, string> | undefined;
  if (probNode !== undefined) {
    probabilities = new Map();
    if (probNode.entries) for (const [k, v] of probNode.entries) probabilities.set(k, v);
    else if (!probNode.isNull) err(`flow ${i + 1}: probabilities must map destinations to fractions`, probNode);
  }
  if (sourceIP === undefined || destIP === undefined) return null;
  if (get('destPort') === undefined && PORT_PROTOCOLS.has(protocol)) err(`flow ${i + 1}: no destPort for ${protocol}: traced as a packet to port 0`, null, 'warning');
  const inInterface = str('inInterface', false);
  const bounded = (k: string, max: number) => {
    const v = num(k);
    if (v !== undefined && (!Number.isInteger(v) || v > max)) err(`flow ${i + 1}: ${k} must be a whole number from 0 to ${max}`, get(k));
    return v;
  };
  const socket = str('socket', false);
  if (socket !== undefined && !Object.hasOwn(SOCKET_KINDS, socket)) err(`flow ${i + 1}: socket must be one of ${Object.keys(SOCKET_KINDS).join(', ')}`, get('socket'));
  const cgroup = str('cgroup', false);
  const extra = {
    ttl: bounded('ttl', 255),
    tos: bounded('tos', 255),
    length: bounded('length', 65535),
    uid: bounded('uid', 0xffffffff),
    gid: bounded('gid', 0xffffffff),
    classid: bounded('classid', 0xffffffff),
    socket,
    cgroup,
  };
  const outPort = str('outPort', false);
  const output = get('output');
  const affinity = get('affinity');
  return {
    spec: {
      name: str('name', false) ?? `flow ${i + 1}`,
      protocol: protocol as PacketProtocol,
      sourceIP,
      destIP,
      destPort: num('destPort'),
      // Distinct connections unless the flow pins its source port.
      sourcePort: num('sourcePort') ?? 40000 + i,
      at: num('at'),
      ...(inInterface === undefined ? {} : { inInterface }),
      ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
      ...(outPort === undefined ? {} : { outPort }),
    },
    expected: {
      output: output === undefined ? undefined : String(output.value ?? ''),
      masq: typeof masqNode?.value === 'boolean' ? masqNode.value : undefined,
      probabilities,
      ...(affinity === undefined ? {} : { affinity: String(affinity.value) }),
    },
    index: i,
  };
}
