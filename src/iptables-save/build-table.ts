// buildTable: the IR of one table's lines, made when a consumer first reads `chains`, `commands`
// or `lines` (parse.ts). The parse checks every line and reports its problems but keeps of each
// line only where it starts and what it is (a TableLog); the words are split again here (as
// offsets, WordSplitter) and the line's plan applied to them: rules by their plan's compiled
// builder (rule-builder.ts). A kube-proxy dump has ~450k rules, and their object tree (a span per
// argument, a list per option) is most of a parse's time and memory, so only the reader that wants
// it pays for it. Values come from the parse's ValueReader, so every rule shares them.
import type { SourceSpan } from '../diag/diagnostic.js';
import type { ChainCommand, ChainDecl, Counters, MatchOptionRead, MatchOptionValue, Rule, TableLine, Value } from '../iptables/ir.js';
import { LineScanner, WordSplitter } from './line-scanner.js';
import { ruleBuilder, type BuilderHelpers, type BuilderLine } from './rule-builder.js';
import type { Plan, PlanOption, PlanValue } from './plan.js';
import type { ValueReader } from './value-reader.js';

/** What a line between `*table` and `COMMIT` becomes. */
export const LINE = { comment: 0, blank: 1, chain: 2, chainCommand: 3, rule: 4 } as const;
export type LineKind = (typeof LINE)[keyof typeof LINE];

/**
 * The lines of one table as the parse saw them: start offset, line number, kind, plan, (rules)
 * chain and (rules jumping to a chain declared before them) the chain jumped to.
 */
export class TableLog {
  private ints = new Int32Array(STRIDE * 256);
  readonly plans: (Plan | null)[] = [];

  get length(): number {
    return this.plans.length;
  }

  /**
   * `chain`: for a rule or a declaration, the number of its chain in the table (parse.ts); -1 for
   * other lines. `target`: for a rule jumping to a chain declared before it, that chain's number; -1
   * otherwise (the builder then reads the name from the line).
   */
  add(kind: LineKind, start: number, lineNo: number, plan: Plan | null, chain = -1, target = -1): void {
    const i = STRIDE * this.plans.length;
    if (i + STRIDE > this.ints.length) {
      const grown = new Int32Array(this.ints.length * 2);
      grown.set(this.ints);
      this.ints = grown;
    }
    this.ints[i] = start;
    this.ints[i + 1] = lineNo;
    this.ints[i + 2] = kind;
    this.ints[i + 3] = chain;
    this.ints[i + 4] = target;
    this.plans.push(plan);
  }

  start(i: number): number {
    return this.ints[STRIDE * i];
  }

  lineNo(i: number): number {
    return this.ints[STRIDE * i + 1];
  }

  kind(i: number): LineKind {
    return this.ints[STRIDE * i + 2] as LineKind;
  }

  chain(i: number): number {
    return this.ints[STRIDE * i + 3];
  }

  target(i: number): number {
    return this.ints[STRIDE * i + 4];
  }
}

/** Ints per line in a TableLog. */
const STRIDE = 5;

export interface BuiltTable {
  readonly chains: ChainDecl[];
  readonly commands: (Rule | ChainCommand)[];
  readonly lines: TableLine[];
}

const NO_VALUES: readonly Value[] = Object.freeze([]);
const NO_OPTIONS: readonly MatchOptionRead[] = Object.freeze([]);

/** `[packets:bytes]` as written; a malformed one (reported by the parse) is kept when it has the shape. */
export function countersOf(text: string): Counters | null {
  const m = /^\[([^:\]]*):([^\]]*)\]$/.exec(text);
  return m ? { packets: m[1], bytes: m[2] } : null;
}

export function buildTable(text: string, reader: ValueReader, log: TableLog, names: readonly string[] | null = null): BuiltTable {
  const chains: ChainDecl[] = [];
  const commands: (Rule | ChainCommand)[] = [];
  const lines: TableLine[] = [];
  const b = new LineBuilder(text, reader, log, names);
  for (let i = 0; i < log.length; i++) {
    const l = b.line(i);
    lines.push(l);
    if (l.kind === 'chain') chains.push(l.decl);
    else if (l.kind === 'command') commands.push(l.command);
  }
  return { chains, commands, lines };
}

type RulePlan = Extract<Plan, { kind: 'rule' }>;

/** The plan's first match option `module` `name`. */
function planMatchOption(plan: RulePlan, module: string | null, name: string): PlanOption | undefined {
  for (const a of plan.args) if (a.kind === 'option' && a.module === module && a.name === name) return a;
  return undefined;
}

/** The plan's target option `name`. */
function planTargetOption(plan: RulePlan, name: string): PlanOption | undefined {
  for (const o of plan.target?.options ?? []) if (o.name === name) return o;
  return undefined;
}

/**
 * Builds the IR of single lines of a table's log, in any order: buildTable builds them all, a
 * table's chain index (parse.ts) only the rules of the chains asked for. With the table's chain
 * names by number (`names`, as the log numbers them), a rule's chain and the chain it jumps to are
 * those strings, not new ones cut from the line: one string per chain, shared by its
 * declaration, its rules and the jumps to it, so maps keyed by chain name (the kernel state, the
 * analyses' indexes) find them without hashing a fresh string each time.
 */
export class LineBuilder {
  // The line's words as offsets into the file: word i is text[lineStart + starts[i], lineStart + ends[i]).
  private readonly ws = new WordSplitter();
  /** The log line whose words `ws` holds (-1: none): reading several values of one rule splits it once. */
  private splitLine = -1;
  private lineNo = 0;
  private lineStart = 0;
  private readonly builderLine: { -readonly [K in keyof BuilderLine]: BuilderLine[K] };
  private readonly helpers: BuilderHelpers;
  private readonly reader: ValueReader;
  /** Plans lines the log holds without one (own-text.ts logs lines unread). */
  private scanner: LineScanner | null = null;

  constructor(
    private readonly text: string,
    reader: ValueReader,
    private readonly log: TableLog,
    private readonly names: readonly string[] | null = null,
  ) {
    this.reader = reader;
    const { starts, ends } = this.ws;
    this.builderLine = { starts, ends, hashes: this.ws.hashes, text, lineStart: 0, lineNo: 0, nl: 0, canonical: false, chainName: null, targetName: null };
    this.helpers = { reader, noValues: NO_VALUES, countersOf, layoutOf: (l, plan) => layoutOf(l, plan, starts, ends, this.ws.n) };
  }

  private span(offset: number, length: number): SourceSpan {
    return { line: this.lineNo, col: offset - this.lineStart + 1, offset, length };
  }

  private word(i: number): string {
    return this.text.slice(this.lineStart + this.ws.starts[i], this.lineStart + this.ws.ends[i]);
  }

  /** The IR of line i of the log. */
  line(i: number): TableLine {
    const { text, log, ws } = this;
    const lineStart = (this.lineStart = log.start(i));
    this.lineNo = log.lineNo(i);
    let nl = text.indexOf('\n', lineStart);
    if (nl < 0) nl = text.length;
    const kind = log.kind(i);
    if (kind === LINE.comment || kind === LINE.blank) {
      const line = text.slice(lineStart, nl);
      return { kind: 'trivia', trivia: { kind: kind === LINE.comment ? 'comment' : 'blank', text: line, span: this.span(lineStart, line.length) } };
    }
    const cr = text.charCodeAt(nl - 1) === 13; /* CR */
    const end = cr ? nl - 1 : nl;
    ws.split(text, lineStart, end);
    this.splitLine = i;
    const length = nl - lineStart;
    const canonical = !cr && ws.isCanonical(length);
    const plan = log.plans[i] ?? (log.plans[i] = (this.scanner ??= new LineScanner(this.reader.family)).scan(text, lineStart, end)!);
    if (plan.kind === 'chain') return { kind: 'chain', decl: this.chainDecl(plan, length, canonical) };
    if (plan.kind === 'chainCommand') return { kind: 'command', command: this.chainCommand(plan, length, canonical) };
    if (plan.kind !== 'rule') throw new Error(`line ${this.lineNo}: a ${plan.kind} line in a table's log`);
    return { kind: 'command', command: this.rule(plan, i, lineStart, nl, canonical) };
  }

  /**
   * The first value of the target option `name` (`to-destination`) of rule line i, as its built
   * rule would hold it, without building the rule; undefined when the target has no such option
   * with a value, null when the line was logged without a plan (then build the rule).
   */
  targetValue(i: number, name: string): Value | undefined | null {
    const plan = this.log.plans[i];
    if (plan?.kind !== 'rule') return null;
    const pv = planTargetOption(plan, name)?.values[0];
    if (!pv) return undefined;
    return this.valueOfWord(i, pv);
  }

  /**
   * The first match option `module` `name` of rule line i (negation and first value), as its built
   * rule would hold it, without building the rule; undefined when the line has none, null when the
   * line was logged without a plan (then build the rule).
   */
  matchOption(i: number, module: string | null, name: string): MatchOptionValue | undefined | null {
    const plan = this.log.plans[i];
    if (plan?.kind !== 'rule') return null;
    const po = planMatchOption(plan, module, name);
    if (!po) return undefined;
    const pv = po.values[0];
    return { negation: po.negation, value: pv ? this.valueOfWord(i, pv) : undefined };
  }

  /**
   * The match options of rule line i that `wanted` takes, in order, as its built rule would hold
   * them (module, name, negation, every value), without building the rule; null when the line was
   * logged without a plan (then build the rule).
   */
  matchOptions(i: number, wanted: (module: string | null, name: string) => boolean): readonly MatchOptionRead[] | null {
    const plan = this.log.plans[i];
    if (plan?.kind !== 'rule') return null;
    let out: MatchOptionRead[] | null = null;
    for (const a of plan.args) {
      if (a.kind !== 'option' || !wanted(a.module, a.name)) continue;
      // valueOfWord splits the line once for all of them.
      (out ??= []).push({ module: a.module, name: a.name, negation: a.negation, values: a.values.length ? a.values.map((pv) => this.valueOfWord(i, pv)) : NO_VALUES });
    }
    return out ?? NO_OPTIONS;
  }

  /** A value of rule line i read alone. */
  private valueOfWord(i: number, pv: PlanValue): Value {
    const { text, ws } = this;
    const lineStart = this.log.start(i);
    if (this.splitLine !== i) {
      let nl = text.indexOf('\n', lineStart);
      if (nl < 0) nl = text.length;
      ws.split(text, lineStart, text.charCodeAt(nl - 1) === 13 /* CR */ ? nl - 1 : nl);
      this.splitLine = i;
    }
    return this.reader.valueAt(pv, text, lineStart + ws.starts[pv.word], lineStart + ws.ends[pv.word], ws.hashes[pv.word]);
  }

  private rule(plan: Extract<Plan, { kind: 'rule' }>, i: number, lineStart: number, nl: number, canonical: boolean): Rule {
    const line = this.builderLine;
    line.lineStart = lineStart;
    line.lineNo = this.lineNo;
    line.nl = nl;
    line.canonical = canonical;
    const { names, log } = this;
    const chain = names ? log.chain(i) : -1;
    const target = names ? log.target(i) : -1;
    line.chainName = chain >= 0 ? names![chain] : null;
    line.targetName = target >= 0 ? names![target] : null;
    return ruleBuilder(plan)(line, this.helpers);
  }

  private chainDecl(plan: Extract<Plan, { kind: 'chain' }>, length: number, canonical: boolean): ChainDecl {
    const { text, lineStart, ws } = this;
    const name = plan.joined ? text.slice(lineStart + ws.starts[plan.nameWord] + 1, lineStart + ws.ends[plan.nameWord]) : this.word(plan.nameWord);
    const counters = plan.countersWord >= 0 ? countersOf(this.word(plan.countersWord)) : null;
    const raw = canonical && plan.joined ? null : text.slice(lineStart, lineStart + length);
    return { name, policy: this.word(plan.policyWord), counters, span: this.span(lineStart, length), raw };
  }

  private chainCommand(plan: Extract<Plan, { kind: 'chainCommand' }>, length: number, canonical: boolean): ChainCommand {
    const { text, lineStart, ws } = this;
    return {
      kind: 'chainCommand',
      op: plan.op,
      chain: plan.chainWord >= 0 ? this.word(plan.chainWord) : null,
      policy: plan.policyWord >= 0 ? this.word(plan.policyWord) : null,
      counters: plan.countersWord >= 0 ? countersOf(this.word(plan.countersWord)) : null,
      span: this.span(lineStart, length),
      raw: canonical && ws.ends[0] - ws.starts[0] === 2 ? null : text.slice(lineStart, lineStart + length),
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
