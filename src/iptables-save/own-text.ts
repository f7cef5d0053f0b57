// readOwnText: restore text kpsim itself wrote (a compile's restore input, its host setup) read
// without checking it line by line. Such text has been checked where it is made (the golden
// corpora, the kernel tests, the fuzzed reader), and the node a trace builds from a 10k-service
// compile would otherwise read half a million lines it never looks at. One pass finds the lines
// (`*table`, `:CHAIN`, `-A CHAIN`, `COMMIT`) and which chain each rule line appends to; a line is
// planned and built into the IR only when its table or chain is first read (build-table.ts), so
// the IR is the same, spans included, as parseIptablesSave gives for the same text. Text of any
// other shape (chain commands, rule numbers, comments, blanks, chain names the pass cannot cut
// plainly) is read by parseIptablesSave.
import type { SourceSpan } from '../diag/diagnostic.js';
import type { Family, Ruleset, Table } from '../iptables/ir.js';
import { LINE, TableLog } from './build-table.js';
import { guessFamily, lazyTable, parseIptablesSave, type LoggedTable, type ParseOptions } from './parse.js';
import { ValueReader } from './value-reader.js';

interface OwnTable extends LoggedTable {
  committed: boolean;
  readonly names: string[];
  readonly ids: Map<string, number>;
  readonly external: Set<string>;
}

const NO_JUMPS: readonly [string, SourceSpan][] = [];

/**
 * kpsim's own restore text as the IR, as parseIptablesSave reads it; diagnostics are not looked
 * for (its own text having one is a bug in kpsim: parseIptablesSave is the reader that finds them).
 */
export function readOwnText(text: string, opts: ParseOptions): Ruleset {
  const family: Family = opts.family ?? guessFamily(text);
  const tables = scan(text);
  if (tables === null) {
    const { ruleset, diagnostics } = parseIptablesSave(text, opts);
    const bad = diagnostics.find((d) => d.severity === 'error');
    if (!ruleset || bad) throw new Error(`kpsim wrote ${opts.file} text its reader rejects: ${bad ? `${bad.span?.line}:${bad.span?.col} ${bad.message}` : ''}`);
    return ruleset;
  }
  const reader = new ValueReader(family);
  const out: Table[] = tables.map((t) => lazyTable(text, reader, t));
  return { family, tables: out, outer: [], finalNewline: text.length === 0 || text.endsWith('\n') };
}

/** The tables of text of the shape above, every line logged (rules with their chain, no plan yet); null for any other text. */
function scan(text: string): OwnTable[] | null {
  if (text.length > 0 && !text.endsWith('\n')) return null;
  const tables: OwnTable[] = [];
  let t: OwnTable | null = null;
  let lineNo = 0;
  // The chain of the rule line before, and its number: kube-proxy writes a chain's rules together.
  let last = '';
  let lastId = -1;
  for (let start = 0; start < text.length; ) {
    lineNo++;
    const nl = text.indexOf('\n', start);
    const c = text.charCodeAt(start);
    if (c === 45 /* - */ && t !== null && !t.committed && text.startsWith('-A ', start)) {
      const from = start + 3;
      let to = text.indexOf(' ', from);
      if (to < 0 || to > nl) to = nl;
      let id: number;
      if (to - from === last.length && text.startsWith(last, from)) id = lastId;
      else {
        if (!plainName(text, from, to)) return null;
        last = text.slice(from, to);
        id = t.ids.get(last) ?? -1;
        if (id < 0) {
          id = t.names.length;
          t.names.push(last);
          t.ids.set(last, id);
          t.external.add(last);
        }
        lastId = id;
      }
      t.log.add(LINE.rule, start, lineNo, null, id);
    } else if (c === 58 /* : */ && t !== null && !t.committed) {
      let to = text.indexOf(' ', start);
      if (to < 0 || to > nl) return null;
      const name = text.slice(start + 1, to);
      // Declared twice, or after rules were appended to it: not of ChainIndex's kind.
      if (!plainName(text, start + 1, to) || t.ids.has(name)) return null;
      t.log.add(LINE.chain, start, lineNo, null, t.names.length);
      t.ids.set(name, t.names.length);
      t.names.push(name);
      last = '';
      lastId = -1;
    } else if (c === 42 /* * */) {
      if (t !== null && !t.committed) return null;
      const name = text.slice(start + 1, nl);
      if (!/^[a-z]+$/.test(name) || tables.some((x) => x.name === name)) return null;
      const span: SourceSpan = { line: lineNo, col: 1, offset: start, length: nl - start };
      t = { name, committed: false, span, rawHeader: null, rawCommit: null, log: new TableLog(), simple: true, names: [], ids: new Map(), external: new Set(), jumps: NO_JUMPS };
      tables.push(t);
      last = '';
      lastId = -1;
    } else if (c === 67 /* C */ && t !== null && !t.committed && nl - start === 6 && text.startsWith('COMMIT', start)) {
      t.committed = true;
    } else return null;
    start = nl + 1;
  }
  return t === null || t.committed ? tables : null;
}

/** A chain name written plainly (what the pass above cuts at the next blank): no quote, tab, CR or other control character. */
function plainName(text: string, start: number, end: number): boolean {
  if (end === start) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 34 || c === 127) return false;
  }
  return true;
}

/** Whether readOwnText reads `text` itself (else it hands it to parseIptablesSave). */
export function isOwnShape(text: string): boolean {
  return scan(text) !== null;
}
