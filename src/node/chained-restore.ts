// kpsim's own restore input read chain by chain, as the compiler keeps it (each chain's `-A` lines
// as bytes), instead of rendered into one text and scanned back line by line. A trace of one packet
// through a 10k-service compile reads a few dozen of its 100k chains: rendering the other 33 MB
// and finding their 400k lines cost more than compiling them. Each chain's lines are read when the
// kernel state first asks for its rules, by the reader of kpsim's own text (readOwnText) on that
// chain alone, and every position is moved to where the rendered text has it: the IR is the one
// readOwnText gives for the whole text, spans included (test/node/chained-restore.test.ts compares
// the two on every golden case). Input that is not of that plain shape (chains deleted, a non-ASCII
// byte, a table twice) is rendered and read whole.
import type { Arg, ChainDecl, ChainIndex, Family, OptionArg, Rule, Ruleset, Span, Table, Target } from '../iptables/ir.js';
import { chainIndexOf, setChainIndex } from '../iptables/ir.js';
import { readOwnText } from '../iptables-save/index.js';

/** One table of restore input, chain by chain (src/compiler/iptables/restore.ts chainedTable). */
export interface ChainedTable {
  readonly name: string;
  /** Its `:NAME - [0:0]` lines, in order. */
  readonly chains: readonly string[];
  /** The chains it has `-A` lines for, in the order the text has them (each chain's lines together). */
  readonly ruleChains: readonly string[];
  /** Its `-X` lines. */
  readonly deleted: readonly string[];
  /** How many `-A` lines ruleChains[i] has. */
  lineCount(i: number): number;
  /** Calls `visit` with each byte range of the `-A` lines of `ruleChains[i]` (whole lines, UTF-8), in order. */
  forEachRange(i: number, visit: (bytes: Buffer, start: number, end: number) => void): void;
}

/**
 * Restore input as the compiler keeps it: per table `*NAME`, its chain lines, its rule lines chain
 * by chain, its `-X` lines and `COMMIT` (renderSyncTransaction's text, which `text` renders).
 */
export interface ChainedRestore {
  readonly family: Family;
  /** The name the text's positions belong to. */
  readonly file: string;
  readonly noflush?: boolean;
  readonly tables: readonly ChainedTable[];
  /** Whether every rule line is ASCII (a position in bytes is then one in characters). */
  readonly ascii: boolean;
  /** The same input as one text. */
  text(): string;
}

/** The text of `*NAME`, `:CHAIN - [0:0]` and `COMMIT` lines (with their newline). */
const headerLength = (table: string) => table.length + 2;
const declLength = (chain: string) => chain.length + 10;
const COMMIT_LENGTH = 7;

/** How many chains' texts are kept read (a trace's listing then builds single rules of the chains it just compiled). */
const KEPT_CHAINS = 8;

/** The restore input as the IR readOwnText gives for its text, each chain's rules read on first use. */
export function readChainedRestore(input: ChainedRestore): Ruleset {
  const names = new Set(input.tables.map((t) => t.name));
  let whole: Ruleset | null = null;
  const wholeText = () => (whole ??= readOwnText(input.text(), { file: input.file, family: input.family, noflush: input.noflush }));
  const external = input.tables.map(externalChains);
  if (!input.ascii || names.size !== input.tables.length || external.includes(null)) return wholeText();
  const tables: Table[] = [];
  let line = 1;
  let offset = 0;
  input.tables.forEach((t, k) => {
    const header: Span = { line, col: 1, offset, length: headerLength(t.name) - 1 };
    line++;
    offset += headerLength(t.name);
    const layout = new ChainLayout(t, line, offset);
    line = layout.endLine + 1;
    offset = layout.endOffset + COMMIT_LENGTH;
    const table: Table = {
      name: t.name,
      get chains() {
        return wholeText().tables[k].chains;
      },
      get commands() {
        return wholeText().tables[k].commands;
      },
      get lines() {
        return wholeText().tables[k].lines;
      },
      committed: true,
      span: header,
      rawHeader: null,
      rawCommit: null,
    };
    let index: ChainIndex | undefined;
    const wholeIndex = () => chainIndexOf(wholeText().tables[k]);
    setChainIndex(table, () => (index ??= chainedIndex(t, layout, input, external[k]!, wholeIndex)));
    tables.push(table);
  });
  return { family: input.family, tables, outer: [], finalNewline: true };
}

/** Where each line of one table is in the rendered text: its chain lines, then its rule lines chain by chain. */
class ChainLayout {
  readonly declLine: number;
  readonly declOffset: Int32Array;
  /** Per rule chain, the line and the offset of its first rule. */
  readonly ruleLine: Int32Array;
  readonly ruleOffset: Int32Array;
  readonly endLine: number;
  readonly endOffset: number;

  constructor(t: ChainedTable, line: number, offset: number) {
    this.declLine = line;
    this.declOffset = new Int32Array(t.chains.length);
    for (let i = 0; i < t.chains.length; i++) {
      this.declOffset[i] = offset;
      offset += declLength(t.chains[i]);
    }
    line += t.chains.length;
    this.ruleLine = new Int32Array(t.ruleChains.length);
    this.ruleOffset = new Int32Array(t.ruleChains.length);
    let bytes = 0;
    const count = (_: Buffer, start: number, end: number) => {
      bytes += end - start;
    };
    for (let i = 0; i < t.ruleChains.length; i++) {
      this.ruleLine[i] = line;
      this.ruleOffset[i] = offset;
      line += t.lineCount(i);
      bytes = 0;
      t.forEachRange(i, count);
      offset += bytes;
    }
    this.endLine = line;
    this.endOffset = offset;
  }
}

/**
 * The chains a table has rules for without declaring them, when readOwnText reads it as this
 * module does chain by chain (else null): no `-X` lines, each chain declared once, and chain names
 * it cuts at the next blank (no blank, quote or control character).
 */
function externalChains(t: ChainedTable): string[] | null {
  const declared = new Set(t.chains);
  if (t.deleted.length > 0 || declared.size !== t.chains.length) return null;
  for (let i = 0; i < t.chains.length; i++) if (!plainName(t.chains[i])) return null;
  // The chains with rules that no `:NAME` line declares (they must exist already).
  const external: string[] = [];
  for (let i = 0; i < t.ruleChains.length; i++) {
    const c = t.ruleChains[i];
    if (declared.has(c)) continue;
    if (!plainName(c)) return null;
    external.push(c);
  }
  return external;
}

/** A name of printable ASCII but the quote. */
function plainName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 32 || c === 34 || c >= 127) return false;
  }
  return true;
}

/** A span moved by `lines` lines and `chars` characters (the column stays: whole lines move). */
function moved(s: Span | null, lines: number, chars: number): Span | null {
  return s && { line: s.line + lines, col: s.col, offset: s.offset + chars, length: s.length };
}

function movedOption(o: OptionArg, lines: number, chars: number): OptionArg {
  return { ...o, span: moved(o.span, lines, chars) };
}

function movedTarget(t: Target | null, lines: number, chars: number): Target | null {
  if (!t) return t;
  if (t.kind === 'extension') return { ...t, span: moved(t.span, lines, chars), options: t.options.map((o) => movedOption(o, lines, chars)) };
  return { ...t, span: moved(t.span, lines, chars) };
}

function movedRule(r: Rule, lines: number, chars: number): Rule {
  const args = r.args.map((a): Arg => (a.kind === 'option' ? movedOption(a, lines, chars) : { ...a, span: moved(a.span, lines, chars) }));
  return { ...r, args, target: movedTarget(r.target, lines, chars), span: moved(r.span, lines, chars) };
}

/** One chain's lines (or one declaration) as a text of its own, read by readOwnText: its chain index, and how far its positions are from the whole text's. */
interface Alone {
  readonly index: ChainIndex;
  readonly lines: number;
  readonly chars: number;
}

function alone(family: Family, file: string, table: string, text: string, line: number, offset: number): Alone {
  const read = readOwnText(`*${table}\n${text}COMMIT\n`, { file, family, noflush: true });
  // The text's second line is the whole text's line `line`, its first rule byte at `offset`.
  const index = chainIndexOf(read.tables[0]);
  if (!index) throw new Error(`kpsim wrote ${file} text whose ${table} table its reader does not index`);
  return { index, lines: line - 2, chars: offset - headerLength(table) };
}

/**
 * Chains read alone before the table is read whole instead: a trace reads a few dozen chains, an
 * analysis of the compiled node (a drift diff, explain of a cluster) reads all 100k, and reading
 * each as a text of its own sets a reader up per chain. The whole text is the rendered one, so its
 * index gives the same rules at the same positions.
 */
const ALONE_BEFORE_WHOLE = 256;

function chainedIndex(t: ChainedTable, layout: ChainLayout, input: ChainedRestore, external: readonly string[], wholeIndex: () => ChainIndex | null): ChainIndex {
  const kept = new Map<number, Alone>();
  let readAlone = 0;
  let whole: ChainIndex | null = null;
  /** The whole table's index once enough chains were read alone (null before). */
  const wide = (): ChainIndex | null => {
    if (whole === null && readAlone > ALONE_BEFORE_WHOLE) whole = wholeIndex();
    return whole;
  };
  const rulesAlone = (i: number): Alone => {
    let a = kept.get(i);
    if (a) return a;
    let text = '';
    t.forEachRange(i, (bytes, start, end) => {
      text += bytes.toString('latin1', start, end);
    });
    a = alone(input.family, input.file, t.name, text, layout.ruleLine[i], layout.ruleOffset[i]);
    readAlone++;
    if (kept.size >= KEPT_CHAINS) kept.delete(kept.keys().next().value!);
    kept.set(i, a);
    return a;
  };
  /** The index that reads chain i: the whole table's once it is read whole, else the chain's own text's. */
  const indexOf = (i: number): ChainIndex => wide() ?? rulesAlone(i).index;
  /** Chain i's number in the index indexOf(i) gave. */
  const numberIn = (i: number): number => (whole ? i : 0);
  return {
    declared: t.chains,
    decl(i): ChainDecl {
      const name = t.chains[i];
      const a = alone(input.family, input.file, t.name, `:${name} - [0:0]\n`, layout.declLine + i, layout.declOffset[i]);
      const d = a.index.decl(0);
      return { ...d, span: moved(d.span, a.lines, a.chars) };
    },
    declSpan: (i) => ({ line: layout.declLine + i, col: 1, offset: layout.declOffset[i], length: declLength(t.chains[i]) - 1 }),
    ruleChains: t.ruleChains,
    count: (i) => t.lineCount(i),
    rules(i) {
      const w = wide();
      if (w) return w.rules(i);
      const a = rulesAlone(i);
      return a.index.rules(0).map((r) => movedRule(r, a.lines, a.chars));
    },
    targets: (i) => indexOf(i).targets?.(numberIn(i)) ?? null,
    rule(i, j) {
      const w = wide();
      if (w?.rule) return w.rule(i, j);
      const a = rulesAlone(i);
      return movedRule(a.index.rule!(0, j), a.lines, a.chars);
    },
    ruleSpan(i, j) {
      const w = wide();
      if (w?.ruleSpan) return w.ruleSpan(i, j);
      const a = rulesAlone(i);
      return moved(a.index.ruleSpan ? a.index.ruleSpan(0, j) : a.index.rule!(0, j).span, a.lines, a.chars)!;
    },
    // Values read alone: the same from either index (no position in them).
    targetValue(i, j, name) {
      const x = indexOf(i);
      return x.targetValue ? x.targetValue(numberIn(i), j, name) : null;
    },
    matchOption(i, j, module, name) {
      const x = indexOf(i);
      return x.matchOption ? x.matchOption(numberIn(i), j, module, name) : null;
    },
    matchOptions(i, j, wanted) {
      const x = indexOf(i);
      return x.matchOptions ? x.matchOptions(numberIn(i), j, wanted) : null;
    },
    ruleText(i, j) {
      const x = indexOf(i);
      return x.ruleText ? x.ruleText(numberIn(i), j) : null;
    },
    external,
    jumpsBefore: [],
  };
}
