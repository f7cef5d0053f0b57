// flows.yaml: a list of packets in kube-proxy's packet-flow shape (runPacketFlowTests:
// sourceIP, protocol, destIP, destPort, and the expected output and masq), read by
// `kpsim trace --flows` and `kpsim golden`. kpsim's additions: `sourcePort`, `at` (seconds since
// the first packet, for affinity timeouts), `inInterface`, and expected `probabilities` (answer ->
// fraction) and `affinity` (the fraction of outcomes a session-affinity rule steered).
// The YAML document is kept so `kpsim golden --update` can rewrite answers in place, keeping
// comments and key order.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode, type YAMLMap } from 'yaml';
import type { Diagnostic, SourceSpan } from '../diag/diagnostic.js';
import type { Protocol } from '../packetsim/packet.js';
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
  /** The flow's mapping in `doc`, for rewriting. */
  readonly node: YAMLMap;
}

export interface FlowsFile {
  readonly doc: Document;
  readonly flows: FileFlow[];
  readonly diagnostics: Diagnostic[];
}

export function parseFlowsFile(text: string, file: string): FlowsFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const diagnostics: Diagnostic[] = [];
  const at = (n: YamlNode | null | undefined, off = n?.range?.[0] ?? 0): SourceSpan => {
    const p = lc.linePos(off);
    return { line: p.line, col: p.col, offset: off, length: Math.max(1, (n?.range?.[1] ?? off + 1) - off) };
  };
  const err = (message: string, n: YamlNode | null | undefined) => diagnostics.push({ severity: 'error', code: 'SIM_BAD_FLOW', message, file, span: at(n) });
  for (const e of doc.errors) diagnostics.push({ severity: 'error', code: 'SIM_BAD_FLOW', message: e.message, file, span: at(null, e.pos[0]) });
  const flows: FileFlow[] = [];
  const root = doc.contents;
  if (!diagnostics.length && !isSeq(root)) err('expected a list of flows', root as YamlNode);
  if (!isSeq(root)) return { doc, flows, diagnostics };
  root.items.forEach((item, i) => {
    if (!isMap(item)) return err(`flow ${i + 1}: expected a mapping`, item as YamlNode);
    const get = (k: string) => item.get(k, true) as (YamlNode & { value?: unknown }) | undefined;
    const str = (k: string, need: boolean) => {
      const n = get(k);
      if (n === undefined) {
        if (need) err(`flow ${i + 1}: missing ${k}`, item);
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
      if (isMap(probNode)) for (const pair of probNode.items) probabilities.set(String(isScalar(pair.key) ? pair.key.value : pair.key), String(isScalar(pair.value) ? pair.value.value : pair.value));
      else if (!(isScalar(probNode) && probNode.value === null)) err(`flow ${i + 1}: probabilities must map destinations to fractions`, probNode);
    }
    if (sourceIP === undefined || destIP === undefined) return;
    const inInterface = str('inInterface', false);
    flows.push({
      spec: {
        name: str('name', false) ?? `flow ${i + 1}`,
        protocol: protocol as Protocol,
        sourceIP,
        destIP,
        destPort: num('destPort'),
        // Distinct connections unless the flow pins its source port.
        sourcePort: num('sourcePort') ?? 40000 + i,
        at: num('at'),
        ...(inInterface === undefined ? {} : { inInterface }),
      },
      expected: {
        output: get('output') === undefined ? undefined : String(get('output')!.value ?? ''),
        masq: typeof masqNode?.value === 'boolean' ? masqNode.value : undefined,
        probabilities,
        ...(get('affinity') === undefined ? {} : { affinity: String(get('affinity')!.value) }),
      },
      node: item,
    });
  });
  return { doc, flows, diagnostics };
}
