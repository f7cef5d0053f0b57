// buildTable: the IR of one table's lines, made when a consumer first reads `chains`, `commands`
// or `lines` (parse.ts). The parse checks every line and reports its problems but keeps of each
// line only where it starts and what it is (a TableLog); the words are split again here (as
// offsets, WordSplitter) and the line's plan applied to them: rules by their plan's compiled
// builder (rule-builder.ts). A kube-proxy dump has ~450k rules, and their object tree (a span per
// argument, a list per option) is most of a parse's time and memory, so only the reader that wants
// it pays for it. Values come from the parse's ValueReader, so every rule shares them.
import type { SourceSpan } from '../diag/diagnostic.js';
import type { ChainCommand, ChainDecl, Counters, Rule, TableLine, Trivia, Value } from '../iptables/ir.js';
import { WordSplitter } from './line-scanner.js';
import { ruleBuilder, type BuilderHelpers, type BuilderLine } from './rule-builder.js';
import type { Plan } from './plan.js';
import type { ValueReader } from './value-reader.js';

/** What a line between `*table` and `COMMIT` becomes. */
export const LINE = { comment: 0, blank: 1, chain: 2, chainCommand: 3, rule: 4 } as const;
export type LineKind = (typeof LINE)[keyof typeof LINE];

/** The lines of one table as the parse saw them: start offset, line number, kind and plan. */
export class TableLog {
  private ints = new Int32Array(3 * 256);
  readonly plans: (Plan | null)[] = [];

  get length(): number {
    return this.plans.length;
  }

  add(kind: LineKind, start: number, lineNo: number, plan: Plan | null): void {
    const i = 3 * this.plans.length;
    if (i + 3 > this.ints.length) {
      const grown = new Int32Array(this.ints.length * 2);
      grown.set(this.ints);
      this.ints = grown;
    }
    this.ints[i] = start;
    this.ints[i + 1] = lineNo;
    this.ints[i + 2] = kind;
    this.plans.push(plan);
  }

  start(i: number): number {
    return this.ints[3 * i];
  }

  lineNo(i: number): number {
    return this.ints[3 * i + 1];
  }

  kind(i: number): LineKind {
    return this.ints[3 * i + 2] as LineKind;
  }
}

export interface BuiltTable {
  readonly chains: ChainDecl[];
  readonly commands: (Rule | ChainCommand)[];
  readonly lines: TableLine[];
}

const NO_VALUES: readonly Value[] = Object.freeze([]);

/** `[packets:bytes]` as written; a malformed one (reported by the parse) is kept when it has the shape. */
export function countersOf(text: string): Counters | null {
  const m = /^\[([^:\]]*):([^\]]*)\]$/.exec(text);
  return m ? { packets: m[1], bytes: m[2] } : null;
}

export function buildTable(text: string, reader: ValueReader, log: TableLog): BuiltTable {
  const chains: ChainDecl[] = [];
  const commands: (Rule | ChainCommand)[] = [];
  const lines: TableLine[] = [];
  // The line's words as offsets into the file: word i is text[lineStart + starts[i], lineStart + ends[i]).
  const ws = new WordSplitter();
  const { starts, ends } = ws;
  let lineNo = 0;
  let lineStart = 0;
  const span = (offset: number, length: number): SourceSpan => ({ line: lineNo, col: offset - lineStart + 1, offset, length });
  const word = (i: number) => text.slice(lineStart + starts[i], lineStart + ends[i]);
  const line: { -readonly [K in keyof BuilderLine]: BuilderLine[K] } = {
    starts,
    ends,
    hashes: ws.hashes,
    text,
    lineStart,
    lineNo,
    nl: 0,
    canonical: false,
  };
  const helpers: BuilderHelpers = { reader, noValues: NO_VALUES, countersOf, layoutOf: (l, plan) => layoutOf(l, plan, starts, ends, ws.n) };

  for (let i = 0; i < log.length; i++) {
    lineStart = log.start(i);
    lineNo = log.lineNo(i);
    let nl = text.indexOf('\n', lineStart);
    if (nl < 0) nl = text.length;
    const kind = log.kind(i);
    if (kind === LINE.comment || kind === LINE.blank) {
      const line = text.slice(lineStart, nl);
      const tr: Trivia = { kind: kind === LINE.comment ? 'comment' : 'blank', text: line, span: span(lineStart, line.length) };
      lines.push({ kind: 'trivia', trivia: tr });
      continue;
    }
    const cr = text.charCodeAt(nl - 1) === 13; /* CR */
    const end = cr ? nl - 1 : nl;
    ws.split(text, lineStart, end);
    const length = nl - lineStart;
    const canonical = !cr && ws.isCanonical(length);
    const plan = log.plans[i]!;
    if (plan.kind === 'chain') {
      const decl = chainDecl(plan, length, canonical);
      chains.push(decl);
      lines.push({ kind: 'chain', decl });
    } else if (plan.kind === 'chainCommand') {
      const cmd = chainCommand(plan, length, canonical);
      commands.push(cmd);
      lines.push({ kind: 'command', command: cmd });
    } else if (plan.kind === 'rule') {
      line.lineStart = lineStart;
      line.lineNo = lineNo;
      line.nl = nl;
      line.canonical = canonical;
      const r = ruleBuilder(plan)(line, helpers);
      commands.push(r);
      lines.push({ kind: 'command', command: r });
    }
  }
  return { chains, commands, lines };

  function chainDecl(plan: Extract<Plan, { kind: 'chain' }>, length: number, canonical: boolean): ChainDecl {
    const name = plan.joined ? text.slice(lineStart + starts[plan.nameWord] + 1, lineStart + ends[plan.nameWord]) : word(plan.nameWord);
    const counters = plan.countersWord >= 0 ? countersOf(word(plan.countersWord)) : null;
    const raw = canonical && plan.joined ? null : text.slice(lineStart, lineStart + length);
    return { name, policy: word(plan.policyWord), counters, span: span(lineStart, length), raw };
  }

  function chainCommand(plan: Extract<Plan, { kind: 'chainCommand' }>, length: number, canonical: boolean): ChainCommand {
    return {
      kind: 'chainCommand',
      op: plan.op,
      chain: plan.chainWord >= 0 ? word(plan.chainWord) : null,
      policy: plan.policyWord >= 0 ? word(plan.policyWord) : null,
      counters: plan.countersWord >= 0 ? countersOf(word(plan.countersWord)) : null,
      span: span(lineStart, length),
      raw: canonical && ends[0] - starts[0] === 2 ? null : text.slice(lineStart, lineStart + length),
    };
  }
}

/**
 * The whitespace before each rendered unit of a rule line and after the last: units are the
 * words (starts[i]..ends[i] in the line, n of them), except that an opaque item (its words and the
 * blanks between them) is one unit.
 */
export function layoutOf(line: string, plan: Extract<Plan, { kind: 'rule' }>, starts: ArrayLike<number>, ends: ArrayLike<number>, n: number): string[] {
  const inside = new Set<number>();
  const mark = (a: number, b: number) => {
    for (let i = a + 1; i <= b; i++) inside.add(i);
  };
  for (const a of plan.args) if (a.kind === 'opaque') mark(a.first, a.last);
  if (plan.target && plan.target.opaqueFirst >= 0) mark(plan.target.opaqueFirst, plan.target.opaqueLast);
  const gaps: string[] = [];
  let prevEnd = 0;
  for (let i = 0; i < n; i++) {
    if (inside.has(i)) {
      prevEnd = ends[i];
      continue;
    }
    gaps.push(line.slice(prevEnd, starts[i]));
    prevEnd = ends[i];
  }
  gaps.push(line.slice(prevEnd));
  return gaps;
}
