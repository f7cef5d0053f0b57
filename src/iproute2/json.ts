// JSON as iproute2 prints it (`ip -j`, `bridge -j`), read with positions: the AST of momoa (the
// JSON parser ESLint's JSON support uses) keeps every value's line and column, so a wrong field
// is reported where it stands. Nesting is bounded before parsing (iproute2 nests four levels at
// most; momoa recurses), so hostile input fails with a diagnostic, not a stack overflow.
import { parse, type AnyNode, type DocumentNode, type MemberNode, type ObjectNode } from '@humanwhocodes/momoa';
import type { Diagnostic, SourceSpan } from '../diag/diagnostic.js';
import type { IprouteCode } from './codes.js';

/** Deeper than any iproute2 output, shallow enough for momoa's recursion. */
export const MAX_DEPTH = 64;

export type JsonNode = AnyNode;

/** Diagnostics of one file, each with its code and position. */
export class JsonReport {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly file: string) {}

  error(code: IprouteCode, message: string, at: JsonNode | SourceSpan | null): void {
    this.diagnostics.push({ severity: 'error', code, message, file: this.file, span: at === null ? null : 'line' in at ? at : spanOf(at) });
  }

  warning(code: IprouteCode, message: string, at: JsonNode | null): void {
    this.diagnostics.push({ severity: 'warning', code, message, file: this.file, span: at === null ? null : spanOf(at) });
  }

  get ok(): boolean {
    return !this.diagnostics.some((d) => d.severity === 'error');
  }
}

export function spanOf(n: JsonNode): SourceSpan {
  const { start, end } = n.loc;
  return { line: start.line, col: start.column, offset: start.offset, length: Math.max(1, end.offset - start.offset) };
}

function spanAt(text: string, offset: number): SourceSpan {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1, offset, length: 1 };
}

/**
 * The top-level values of the text as [start, end) offsets: one for a file of one command's
 * output, several when outputs were appended to one file (`ip -j route; ip -6 -j route`).
 * null when something other than a list or object stands at the top level (reported).
 */
function topLevelValues(text: string, what: string, report: JsonReport): [number, number][] | null {
  const out: [number, number][] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x5b || c === 0x7b) {
      if (depth === 0) start = i;
      if (++depth > MAX_DEPTH) {
        report.error('IPROUTE_TOO_DEEP', `nested deeper than ${MAX_DEPTH} levels: not \`${what}\` output`, spanAt(text, i));
        return null;
      }
    } else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) out.push([start, i + 1]);
      // A stray closing bracket: momoa says where.
      if (depth < 0) return [[0, text.length]];
    } else if (depth === 0) {
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      const message = out.length
        ? `unexpected text after the JSON list: expected another \`${what}\` list or the end`
        : `not JSON: expected the output of \`${what}\` (with -j), which starts with '['`;
      report.error('IPROUTE_NOT_JSON', message, spanAt(text, i));
      return null;
    } else if (c === 0x22) inString = true;
  }
  if (depth > 0) out.push([start, text.length]);
  return out;
}

/** The text with everything outside [start, end) blanked (line breaks kept), so positions stay exact. */
function only(text: string, start: number, end: number): string {
  if (start === 0 && end === text.length) return text;
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return blank(text.slice(0, start)) + text.slice(start, end) + blank(text.slice(end));
}

/**
 * The objects of the file's top-level lists, or null (reported). `what` names the command whose
 * output is expected (`ip -j addr`), for the message when the file is its text form instead.
 * Empty objects are skipped: `ip -4 -j addr` prints `{}` for every link it filters out.
 */
export function readJsonLists(text: string, what: string, report: JsonReport): ObjectNode[][] | null {
  const values = topLevelValues(text, what, report);
  if (values === null) return null;
  const lists: ObjectNode[][] = [];
  for (const [start, end] of values) {
    let doc: DocumentNode;
    try {
      doc = parse(only(text, start, end), { mode: 'json' });
    } catch (e) {
      const err = e as { message: string; offset?: number };
      const message = err.message.replace(/\s*\(\d+:\d+\)$/, '');
      report.error('IPROUTE_BAD_JSON', `bad JSON: ${message}`, spanAt(text, err.offset ?? start));
      return null;
    }
    const body = doc.body;
    if (body.type !== 'Array') {
      report.error('IPROUTE_SHAPE', `expected a list ([...]) as \`${what}\` prints, not ${kindOf(body)}`, body);
      return null;
    }
    const out: ObjectNode[] = [];
    for (const el of body.elements) {
      const v = el.value;
      if (v.type !== 'Object') report.error('IPROUTE_SHAPE', `expected an object ({...}) in the list, not ${kindOf(v)}`, v);
      else if (v.members.length > 0) out.push(v);
    }
    lists.push(out);
  }
  return lists;
}

/** All objects of the file's lists, in order. */
export function readJsonList(text: string, what: string, report: JsonReport): ObjectNode[] | null {
  return readJsonLists(text, what, report)?.flat() ?? null;
}

export function kindOf(n: JsonNode): string {
  switch (n.type) {
    case 'Array':
      return 'a list';
    case 'Object':
      return 'an object';
    case 'String':
      return 'a string';
    case 'Number':
      return 'a number';
    case 'Boolean':
      return 'true/false';
    case 'Null':
      return 'null';
    default:
      return n.type;
  }
}

/** An object's members by name (the last of duplicates, as JSON.parse keeps). */
export function membersOf(o: ObjectNode): Map<string, MemberNode> {
  const m = new Map<string, MemberNode>();
  for (const mem of o.members) m.set(mem.name.type === 'String' ? mem.name.value : String(mem.name.name), mem);
  return m;
}

/** Field readers for one object: each reports a wrong type at the value and returns undefined. */
export class Fields {
  private readonly members: Map<string, MemberNode>;
  constructor(
    readonly node: ObjectNode,
    private readonly report: JsonReport,
  ) {
    this.members = membersOf(node);
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  node_(name: string): JsonNode | undefined {
    return this.members.get(name)?.value;
  }

  string(name: string, required = false): { value: string; node: JsonNode } | undefined {
    return this.scalar(name, 'String', 'a string', required) as { value: string; node: JsonNode } | undefined;
  }

  number(name: string, required = false): { value: number; node: JsonNode } | undefined {
    return this.scalar(name, 'Number', 'a number', required) as { value: number; node: JsonNode } | undefined;
  }

  private scalar(name: string, type: 'String' | 'Number', what: string, required: boolean): { value: unknown; node: JsonNode } | undefined {
    const n = this.members.get(name)?.value;
    if (n === undefined) {
      if (required) this.report.error('IPROUTE_MISSING_FIELD', `no "${name}" in this entry`, this.node);
      return undefined;
    }
    if (n.type !== type) {
      this.report.error('IPROUTE_SHAPE', `"${name}" should be ${what}, not ${kindOf(n)}`, n);
      return undefined;
    }
    return { value: (n as { value: unknown }).value, node: n };
  }

  /** A string or a number (iproute2 prints a scope or table it has no name for as a number). */
  nameOrNumber(name: string): { value: string | number; node: JsonNode } | undefined {
    const n = this.members.get(name)?.value;
    if (n === undefined) return undefined;
    if (n.type !== 'String' && n.type !== 'Number') {
      this.report.error('IPROUTE_SHAPE', `"${name}" should be a name or a number, not ${kindOf(n)}`, n);
      return undefined;
    }
    return { value: n.value, node: n };
  }

  flag(name: string): boolean {
    const n = this.members.get(name)?.value;
    if (n === undefined) return false;
    if (n.type !== 'Boolean') {
      this.report.error('IPROUTE_SHAPE', `"${name}" should be true or false, not ${kindOf(n)}`, n);
      return false;
    }
    return n.value;
  }

  strings(name: string): string[] {
    const n = this.members.get(name)?.value;
    if (n === undefined) return [];
    if (n.type !== 'Array') {
      this.report.error('IPROUTE_SHAPE', `"${name}" should be a list of strings, not ${kindOf(n)}`, n);
      return [];
    }
    const out: string[] = [];
    for (const e of n.elements) {
      if (e.value.type === 'String') out.push(e.value.value);
      else this.report.error('IPROUTE_SHAPE', `"${name}" should hold strings, not ${kindOf(e.value)}`, e.value);
    }
    return out;
  }

  objects(name: string): ObjectNode[] {
    const n = this.members.get(name)?.value;
    if (n === undefined) return [];
    if (n.type !== 'Array') {
      this.report.error('IPROUTE_SHAPE', `"${name}" should be a list of objects, not ${kindOf(n)}`, n);
      return [];
    }
    const out: ObjectNode[] = [];
    for (const e of n.elements) {
      if (e.value.type === 'Object') {
        if (e.value.members.length) out.push(e.value);
      } else this.report.error('IPROUTE_SHAPE', `"${name}" should hold objects, not ${kindOf(e.value)}`, e.value);
    }
    return out;
  }
}
