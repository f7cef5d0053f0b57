// Typed access to one object, reporting problems with their position. Values are read from the
// plain JS form; positions come from a Locator (positioned.ts), asked only when there is a problem.
import type { DiagnosticSink, SourceSpan } from '../diag/diagnostic.js';
import type { Locator } from './positioned.js';

export type Path = readonly (string | number)[];

export type ModelCode =
  | 'YAML_SYNTAX'
  | 'YAML_TOO_DEEP' // nesting deeper than fast-read.ts MAX_DEPTH
  | 'YAML_TOO_MANY_ALIASES' // aliases that would expand without bound (a "billion laughs" document)
  | 'OBJ_NOT_A_MAP'
  | 'OBJ_MISSING_FIELD'
  | 'OBJ_BAD_TYPE'
  | 'OBJ_BAD_VALUE'
  | 'OBJ_DUPLICATE'
  | 'OBJ_UNKNOWN_KIND'
  | 'SVC_BAD_PORT'
  | 'SVC_PORT_ZERO'
  | 'SVC_BAD_IP'
  | 'SVC_DUPLICATE_PORT'
  | 'EPS_BAD_IP'
  | 'EPS_NO_SERVICE_LABEL'
  | 'EPS_UNKNOWN_PORT'
  | 'EPS_NO_ADDRESS_TYPE'
  | 'EPS_WRONG_FAMILY'
  | 'NODE_BAD_IP'
  | 'NODE_BAD_ANNOTATION'
  | 'CFG_BAD_VALUE'
  | 'IP_NONCANONICAL';

export function pathText(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

export class ObjectReader {
  constructor(
    readonly locator: Locator,
    readonly value: Record<string, unknown>,
    readonly sink: DiagnosticSink,
    readonly what: string,
  ) {}

  /** The span of the value at `path` (of its key with `key`), else of the nearest existing parent. */
  span(path: Path, key = false): SourceSpan | null {
    return this.locator.span(path, key);
  }

  error(code: ModelCode, path: Path, message: string, notes?: string[]): void {
    this.sink.error(code, message, this.locator.file, this.span(path), notes);
  }

  warning(code: ModelCode, path: Path, message: string, notes?: string[]): void {
    this.sink.warning(code, message, this.locator.file, this.span(path), notes);
  }

  get(path: Path): unknown {
    let v: unknown = this.value;
    for (const p of path) {
      if (v === null || v === undefined || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[p];
    }
    return v;
  }

  has(path: Path): boolean {
    const v = this.get(path);
    return v !== undefined && v !== null;
  }

  private typed<T>(path: Path, want: string, ok: (v: unknown) => v is T): T | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) return undefined;
    if (!ok(v)) {
      this.error('OBJ_BAD_TYPE', path, `${pathText(path)} must be ${want}, not ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  str(path: Path): string | undefined {
    return this.typed(path, 'a string', (v): v is string => typeof v === 'string');
  }

  requiredStr(path: Path): string | undefined {
    const v = this.str(path);
    if (v === undefined && !this.has(path)) this.error('OBJ_MISSING_FIELD', path.slice(0, -1), `${this.what}: ${pathText(path)} is required`);
    return v;
  }

  bool(path: Path): boolean | undefined {
    return this.typed(path, 'a boolean', (v): v is boolean => typeof v === 'boolean');
  }

  int(path: Path): number | undefined {
    return this.typed(path, 'an integer', (v): v is number => typeof v === 'number' && Number.isInteger(v));
  }

  /** An integer in [lo, hi], reported with `code` when out of range. */
  intIn(path: Path, lo: number, hi: number, code: ModelCode): number | undefined {
    const v = this.int(path);
    if (v !== undefined && (v < lo || v > hi)) {
      this.error(code, path, `${pathText(path)} ${v} is out of range ${lo}-${hi}`);
      return undefined;
    }
    return v;
  }

  list(path: Path): unknown[] {
    return this.typed(path, 'a list', (v): v is unknown[] => Array.isArray(v)) ?? [];
  }

  strList(path: Path): string[] {
    const out: string[] = [];
    this.list(path).forEach((_, i) => {
      const s = this.str([...path, i]);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  map(path: Path): Record<string, unknown> | undefined {
    return this.typed(path, 'a map', (v): v is Record<string, unknown> => typeof v === 'object' && !Array.isArray(v));
  }

  /** One of a fixed set of strings; `fallback` when unset. */
  oneOf<T extends string>(path: Path, allowed: readonly T[], fallback: T): T {
    const v = this.str(path);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      this.error('OBJ_BAD_VALUE', path, `${pathText(path)} is '${v}', expected one of ${allowed.filter((a) => a !== '').map((a) => `'${a}'`).join(', ')}`);
      return fallback;
    }
    return v as T;
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string '${v}'`;
  return `${typeof v} ${String(v)}`;
}

