// Reading without positions: JSON through JSON.parse, YAML through js-yaml, both giving exactly the
// values the `yaml` library's document model gives (load.ts re-reads a document with positions
// whenever it yields a diagnostic, so only values matter here). What the two could disagree on is
// refused, and the document read with positions instead:
// - js-yaml is given the YAML 1.2 core schema as `yaml` resolves it (schema/core: null, bool, int
//   in decimal, 0o octal and 0x hex, float, .inf and .nan), and no other type, so any explicit tag
//   (`!!int`, `!!binary`, `!custom`) fails here; a verbatim `!<...>` tag is refused before reading;
// - anchors are refused (js-yaml shares the aliased object, so an alias bomb would explode in
//   whoever walks the value; `yaml` counts aliases and stops a bomb: see positioned.ts);
// - JSON with a duplicate key (JSON.parse keeps the last, `yaml` reports it) is refused by
//   counting the keys in the text against the keys of the value.
// One difference is left, on purpose: a null or collection used as a mapping key is spelled
// 'null' / `a,b` by js-yaml and '' / `[ a, b ]` by `yaml`. The model reads keys by fixed names, and
// only copies Node labels and featureGates whole, so no diagnostic and no rule depends on it.
// Nesting deeper than MAX_DEPTH is an error of its own: the `yaml` library's composer recurses
// and overflows the stack at about 800 levels, so such a document gets no positioned re-read.
import jsyaml from 'js-yaml';
import { readBlockYaml } from './block-yaml.js';
import { coreScalar, NOT_CORE } from './core-scalar.js';

/** The deepest nesting read. Kubernetes objects are 10-20 levels deep (a CRD schema under 100). */
export const MAX_DEPTH = 500;

export type FastRead =
  | { readonly kind: 'value'; readonly value: unknown }
  /** Nesting deeper than MAX_DEPTH: the offset where it goes too deep. */
  | { readonly kind: 'too-deep'; readonly offset: number }
  /** Not readable here: read it with positions. */
  | { readonly kind: 'positioned' };

const POSITIONED: FastRead = { kind: 'positioned' };

const CORE_TAG = 'tag:kpsim.io,2025:core-scalar';

const CORE_SCHEMA = new jsyaml.Schema({
  implicit: [
    new jsyaml.Type(CORE_TAG, {
      kind: 'scalar',
      resolve: (data: unknown) => typeof data === 'string' && coreScalar(data) !== NOT_CORE,
      construct: (data: string) => coreScalar(data),
    }),
  ],
});

/** The document holds something the two libraries may read differently: read it with positions. */
class Refused extends Error {}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Checks one node as js-yaml closes it, refusing what js-yaml accepts and `yaml` does not (or
 * reads differently), found by reading the same damaged documents with both (fast-load.test.ts):
 * - an anchor (see above);
 * - a quoted or plain scalar or a flow collection over several lines whose next lines are not
 *   indented past the line it starts on (`yaml`: BAD_INDENT, MISSING_CHAR; js-yaml joins them);
 * - a comment right after a closing quote or bracket, `"a"#c` (`yaml`: MISSING_CHAR);
 * - an implicit key of 1000 characters or more (`yaml`: KEY_OVER_1024_CHARS).
 */
function checkNode(input: string, start: number, end: number, kind: string, anchor: string | null | undefined): void {
  if (anchor != null) throw new Refused();
  let c = start;
  for (;;) {
    const ch = input.charCodeAt(c);
    if (isSpace(ch)) c++;
    else if (ch === 35) c = input.indexOf('\n', c) + 1 || end;
    else break;
  }
  if (c >= end) return;
  const first = input.charCodeAt(c);
  const flow = first === 91 || first === 123;
  if (kind !== 'scalar' && !flow) return; // block collections: js-yaml checks their indentation as `yaml` does
  if (first === 124 || first === 62) return; // block scalars: likewise
  if ((flow || first === 34 || first === 39) && input.charCodeAt(end) === 35) throw new Refused();
  if (end - c >= 1000) {
    let p = end;
    while (input.charCodeAt(p) === 32 || input.charCodeAt(p) === 9) p++;
    if (input.charCodeAt(p) === 58) throw new Refused();
  }
  const nl = input.indexOf('\n', c);
  if (nl === -1 || nl >= end) return;
  let last = end;
  while (last > c && isSpace(input.charCodeAt(last - 1))) last--;
  const lineStart = input.lastIndexOf('\n', c - 1) + 1;
  let indent = 0;
  while (input.charCodeAt(lineStart + indent) === 32) indent++;
  for (let p = nl + 1; p < last; ) {
    let q = p;
    while (input.charCodeAt(q) === 32) q++;
    const ch = input.charCodeAt(q);
    if (ch !== 10 && ch !== 13 && q - p <= indent) throw new Refused();
    const next = input.indexOf('\n', q);
    if (next === -1) break;
    p = next + 1;
  }
}

// `maxDepth` counts every node on the path, the scalar at the end included (js-yaml 4.3).
function loadOptions(): jsyaml.LoadOptions & { maxDepth: number } {
  const starts: number[] = [];
  return {
    schema: CORE_SCHEMA,
    maxDepth: MAX_DEPTH,
    listener(event, state) {
      if (event === 'open') starts.push(state.position);
      else checkNode(state.input, starts.pop()!, state.position, state.kind, (state as { anchor?: string | null }).anchor);
    },
  };
}

/** One YAML document, `text.slice(start, end)` (see documents.ts), without positions. */
export function readYamlFast(text: string, start: number, end: number): FastRead {
  // Plain block style (kubectl's, a manifest's) read line by line; anything else through js-yaml.
  const block = readBlockYaml(text, start, end);
  if (block) return { kind: 'value', value: block.value };
  const doc = start === 0 && end === text.length ? text : text.slice(start, end);
  // A verbatim tag, and a CR that does not end a line (a line break for js-yaml, not for `yaml`).
  if (doc.includes('!<') || (doc.includes('\r') && /\r(?!\n)/.test(doc))) return POSITIONED;
  try {
    return { kind: 'value', value: jsyaml.load(doc, loadOptions()) };
  } catch (e) {
    if (e instanceof jsyaml.YAMLException && e.reason?.startsWith('nesting exceeded maxDepth')) {
      // js-yaml reads past a leading byte-order mark.
      return { kind: 'too-deep', offset: start + (e.mark?.position ?? 0) + (doc.charCodeAt(0) === 0xfeff ? 1 : 0) };
    }
    if (e instanceof jsyaml.YAMLException || e instanceof Refused) return POSITIONED;
    // js-yaml is recursive: whatever the stack does not hold is read with positions, where the
    // `yaml` library reports it.
    if (e instanceof RangeError) return POSITIONED;
    throw e;
  }
}

/** Whether `text` is a JSON document (an object or array), to try JSON.parse first. */
export function looksLikeJson(text: string): boolean {
  const m = /^\s*([[{])/.exec(text.slice(0, 4096));
  return m !== null;
}

/** The closing quote of the JSON string whose opening quote is at `i`; -1 if none. */
export function jsonStringEnd(text: string, i: number): number {
  let j = text.indexOf('"', i + 1);
  // An escaped quote is preceded by an odd number of backslashes.
  while (j !== -1 && text.charCodeAt(j - 1) === 92) {
    let k = j - 1;
    while (text.charCodeAt(k) === 92) k--;
    if ((j - 1 - k) % 2 === 0) break;
    j = text.indexOf('"', j + 1);
  }
  return j;
}

/** The number of keys in a JSON text: its strings followed by a colon. */
function countJsonKeys(text: string): number {
  let keys = 0;
  for (let i = text.indexOf('"'); i !== -1; ) {
    const j = jsonStringEnd(text, i);
    if (j === -1) break;
    let p = j + 1;
    let c = text.charCodeAt(p);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++p);
    if (c === 58) keys++;
    i = text.indexOf('"', p);
  }
  return keys;
}

/** Own keys of every object in `value`, and its depth counted as js-yaml's maxDepth does (scalars too), without recursion. */
function measure(value: object): { keys: number; depth: number } {
  let keys = 0;
  let depth = 1;
  const stack: object[] = [value];
  const depths: number[] = [1];
  const visit = (x: unknown, d: number) => {
    if (x !== null && typeof x === 'object') {
      stack.push(x);
      depths.push(d + 1);
    } else if (d + 1 > depth) depth = d + 1;
  };
  while (stack.length) {
    const v = stack.pop()!;
    const d = depths.pop()!;
    if (d > depth) depth = d;
    if (Array.isArray(v)) for (const x of v) visit(x, d);
    else {
      for (const k in v) {
        keys++;
        visit((v as Record<string, unknown>)[k], d);
      }
    }
  }
  return { keys, depth };
}

/**
 * A whole input that looks like JSON; null when it is not JSON (it may still be YAML: a flow
 * mapping, several documents). A JSON document too deep or with a duplicate key is read as YAML
 * (JSON is YAML), where the reasons are found.
 */
export function readJsonFast(text: string): FastRead | null {
  const exact = parseJsonExactly(text);
  if (exact === 'not-json') return null;
  return exact ? { kind: 'value', value: exact.value } : readYamlFast(text, 0, text.length);
}

/**
 * JSON.parse, when its value is exactly the `yaml` library's (no duplicate key, nesting within
 * MAX_DEPTH); null when it is JSON but not so, 'not-json' when JSON.parse refuses it.
 */
export function parseJsonExactly(text: string): { readonly value: unknown } | null | 'not-json' {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not-json';
  }
  if (value === null || typeof value !== 'object') return { value };
  const m = measure(value);
  return m.depth > MAX_DEPTH || m.keys !== countJsonKeys(text) ? null : { value };
}
