// Reading with positions: the `yaml` library's document model (a node with its source range for
// every value) over one document of an input, or over all of it. It is what loading always did;
// now only documents that have a problem, or whose object a later diagnostic points at, come here.
import { isMap, isPair, isScalar, parseAllDocuments, visit, type Alias, type Document, type Node as YamlNode } from 'yaml';
import type { DiagnosticSink, SourceSpan } from '../diag/diagnostic.js';
import type { SourceText } from '../diag/source.js';
import { MAX_DEPTH } from './fast-read.js';
import type { Path } from './reader.js';

/** Where the values of one object are in its file. */
export interface Locator {
  readonly file: string;
  /** The span of the value at `path` (of its key with `key`), else of the nearest existing parent. */
  span(path: Path, key?: boolean): SourceSpan | null;
}

/** A locator that knows no positions: for reading an object once to see whether it has any problem. */
export function nowhere(file: string): Locator {
  return { file, span: () => null };
}

/** The first line of a `yaml` error, without the position it appends (the span says it). */
function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** `yaml` allows this many alias resolutions per anchor use before calling it an attack (its default). */
const MAX_ALIAS_COUNT = 100;

export class PositionedDocument {
  constructor(
    readonly doc: Document,
    /** Where the text the document was parsed from starts in the file. */
    readonly offset: number,
    readonly file: string,
    private readonly source: () => SourceText,
  ) {}

  /** The span of a node's range (at least one character long). */
  private rangeSpan(range: readonly number[] | undefined | null): SourceSpan | null {
    return range ? this.source().span(this.offset + range[0], Math.max(1, range[1] - range[0])) : null;
  }

  /** The span of the value at `base` + `path` (of its key with `key`), else of the nearest existing parent down to `base`. */
  span(base: Path, path: Path, key = false): SourceSpan | null {
    for (let n = path.length; n >= 0; n--) {
      const full = [...base, ...path.slice(0, n)];
      let node: unknown = full.length === 0 ? this.doc.contents : this.doc.getIn(full, true);
      if (key && n === path.length && n > 0) {
        const parent = this.doc.getIn(full.slice(0, -1), true) as unknown;
        if (isMap(parent)) {
          const pair = parent.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === full[full.length - 1]);
          if (pair && isPair(pair)) node = pair.key;
        }
      }
      const span = this.rangeSpan((node as YamlNode | undefined)?.range);
      if (span) return span;
    }
    return null;
  }

  /** The locator of the object at `base` in this document. */
  locator(base: Path): Locator {
    return { file: this.file, span: (path, key) => this.span(base, path, key) };
  }

  /** The span of the whole document's contents, exactly as its range says (for OBJ_NOT_A_MAP). */
  contentsSpan(): SourceSpan | null {
    const range = this.doc.contents?.range;
    return range ? this.source().span(this.offset + range[0], range[1] - range[0]) : null;
  }

  /** Reports the document's syntax errors; true when there are any. */
  reportErrors(sink: DiagnosticSink): boolean {
    for (const e of this.doc.errors) sink.error('YAML_SYNTAX', firstLine(e.message), this.file, this.source().span(this.offset + e.pos[0], Math.max(1, e.pos[1] - e.pos[0])));
    return this.doc.errors.length > 0;
  }

  /**
   * The document's plain value, or undefined after reporting why there is none: aliases that
   * would expand beyond `yaml`'s limit (reported at the alias that crossed it), or nesting deeper
   * than the stack holds.
   */
  value(sink: DiagnosticSink): { readonly value: unknown } | undefined {
    try {
      return { value: this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
    } catch (e) {
      if (e instanceof ReferenceError) {
        const alias = this.failingAlias();
        const message = /^Excessive alias count/.test(e.message)
          ? `alias *${alias?.source ?? '?'} expands too far (more than ${MAX_ALIAS_COUNT} aliased nodes per use, as in a "billion laughs" document)`
          : firstLine(e.message);
        sink.error(/^Excessive alias count/.test(e.message) ? 'YAML_TOO_MANY_ALIASES' : 'YAML_SYNTAX', message, this.file, this.rangeSpan(alias?.range));
        return undefined;
      }
      if (e instanceof RangeError) {
        sink.error('YAML_TOO_DEEP', `nesting deeper than the ${MAX_DEPTH} levels kpsim reads`, this.file, this.contentsSpan());
        return undefined;
      }
      throw e;
    }
  }

  /** The alias whose resolution throws in toJS: the innermost one that does, found by converting again. */
  private failingAlias(): Alias | null {
    let failing: Alias | null = null;
    visit(this.doc, {
      Alias(_key, node) {
        const toJSON = node.toJSON;
        node.toJSON = function (this: Alias, ...args: Parameters<Alias['toJSON']>) {
          try {
            return toJSON.apply(this, args);
          } catch (e) {
            failing ??= this;
            throw e;
          }
        };
      },
    });
    try {
      this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      /* as before: now we know where */
    }
    return failing;
  }
}

/** The documents of `text` with positions, as loading always parsed them; `text` starts at `offset` in the file. */
export function readPositioned(text: string, offset: number, file: string, source: () => SourceText): PositionedDocument[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  // An empty stream (only comments) parses to an EmptyStream, which holds nothing to load.
  return (Array.isArray(docs) ? docs : []).map((d) => new PositionedDocument(d, offset, file, source));
}
