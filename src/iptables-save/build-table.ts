// buildTable: the IR of one table's lines, made when a consumer first reads `chains`, `commands`
// or `lines` (parse.ts). The parse checks every line and reports its problems but keeps of each
// line only where it starts and what it is (a TableLog); the words are split again here (as
// offsets, WordSplitter) and the line's plan applied to them: rules by their plan's compiled
// builder (rule-builder.ts). A kube-proxy dump has ~450k rules, and their object tree (a span per
// argument, a list per option) is most of a parse's time and memory, so only the reader that wants
// it pays for it. Values come from the parse's ValueReader, so every rule shares them.
import type { SourceSpan } from '../diag/diagnostic.js';
import type { Arg, ChainCommand, ChainDecl, Counters, OptionArg, Rule, TableLine, Target, Trivia, Value } from '../iptables/ir.js';
import { splitLine, type Words } from './lexer.js';
import { WordSplitter } from './line-scanner.js';
import { ruleBuilder, rulePosition, type BuilderHelpers, type BuilderLine } from './rule-builder.js';
import type { Plan, PlanOption, PlanTarget, PlanValue } from './plan.js';
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

/**
 * Whether rules are built by their plan's compiled builder (rule-builder.ts) or by the
 * interpreter below, which says what they build; only tests turn the builders off.
 */
let compiledRules = true;

export function useRuleBuilders(on: boolean): void {
  compiledRules = on;
}

export function buildTable(text: string, reader: ValueReader, log: TableLog): BuiltTable {
  const chains: ChainDecl[] = [];
  const commands: (Rule | ChainCommand)[] = [];
  const lines: TableLine[] = [];
  // The line's words as offsets into `src` (the file, or the line itself for a line split by
  // splitLine): word i is src[base + starts[i], base + ends[i]).
  const ws = new WordSplitter();
  let lineNo = 0;
  let lineStart = 0;
  let src = text;
  let base = 0;
  let starts = ws.starts;
  let ends = ws.ends;
  const span = (offset: number, length: number): SourceSpan => ({ line: lineNo, col: offset - lineStart + 1, offset, length });
  const rangeSpan = (a: number, b: number) => span(lineStart + starts[a], ends[b] - starts[a]);
  const word = (i: number) => src.slice(base + starts[i], base + ends[i]);
  const line: { -readonly [K in keyof BuilderLine]: BuilderLine[K] } = {
    src,
    base,
    starts,
    ends,
    hashes: ws.hashes,
    text,
    lineStart,
    lineNo,
    nl: 0,
    canonical: false,
  };
  const helpers: BuilderHelpers = { reader, noValues: NO_VALUES, countersOf, layoutOf };

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
    if (!ws.split(text, lineStart, end)) ws.load(text.slice(lineStart, end), splitLine(text.slice(lineStart, end)));
    src = ws.src;
    base = ws.base;
    starts = ws.starts;
    ends = ws.ends;
    const length = nl - lineStart;
    const canonical = !cr && isCanonicalAt(starts, ends, ws.n, length);
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
      let r: Rule;
      if (compiledRules) {
        line.src = src;
        line.base = base;
        line.starts = starts;
        line.ends = ends;
        line.hashes = ws.hashes;
        line.lineStart = lineStart;
        line.lineNo = lineNo;
        line.nl = nl;
        line.canonical = canonical;
        r = ruleBuilder(plan)(line, helpers);
      } else r = rule(plan, nl, canonical);
      commands.push(r);
      lines.push({ kind: 'command', command: r });
    }
  }
  return { chains, commands, lines };

  function chainDecl(plan: Extract<Plan, { kind: 'chain' }>, length: number, canonical: boolean): ChainDecl {
    const name = plan.joined ? src.slice(base + starts[plan.nameWord] + 1, base + ends[plan.nameWord]) : word(plan.nameWord);
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

  function valueAt(pv: PlanValue): Value {
    return reader.valueAt(pv, src, base + starts[pv.word], base + ends[pv.word], ws.hashes[pv.word]);
  }

  function option(po: PlanOption): OptionArg {
    let values: readonly Value[] = NO_VALUES;
    if (po.values.length === 1) {
      const pv = po.values[0];
      values = reader.singleAt(pv, src, base + starts[pv.word], base + ends[pv.word], ws.hashes[pv.word]);
    } else if (po.values.length > 1) values = po.values.map(valueAt);
    return { kind: 'option', module: po.module, name: po.name, spelling: po.spelling, negation: po.negation, values, span: rangeSpan(po.first, po.last) };
  }

  /** The words first..last with the blanks between them, as written. */
  function slice(first: number, last: number): string {
    return src.slice(base + starts[first], base + ends[last]);
  }

  function rule(plan: Extract<Plan, { kind: 'rule' }>, nl: number, canonical: boolean): Rule {
    const args: Arg[] = [];
    for (const pa of plan.args) {
      if (pa.kind === 'option') args.push(option(pa));
      else if (pa.kind === 'module') args.push({ kind: 'module', name: pa.name, spelling: pa.spelling, span: rangeSpan(pa.first, pa.nameWord) });
      else args.push({ kind: 'opaque', module: pa.module, text: slice(pa.first, pa.last), span: rangeSpan(pa.first, pa.last) });
    }
    const target = plan.target ? makeTarget(plan.target) : null;
    const p = plan.positionWord >= 0 ? word(plan.positionWord) : '';
    const length = nl - lineStart;
    const opLength = ends[plan.opWord] - starts[plan.opWord];
    return {
      kind: 'rule',
      op: plan.op,
      chain: word(plan.chainWord),
      position: plan.positionWord >= 0 ? rulePosition(p) : null,
      counters: plan.countersWord >= 0 ? countersOf(word(plan.countersWord)) : null,
      args,
      target,
      span: span(lineStart, length),
      // Every rule has the same fields, so rules share one hidden class.
      opSpelling: opLength === 2 ? undefined : word(plan.opWord),
      targetAt: plan.target && plan.target.argsBefore < plan.args.length ? plan.target.argsBefore : undefined,
      layout: canonical ? null : layoutOf(text.slice(lineStart, nl), plan),
      raw: plan.interleaved ? text.slice(lineStart, nl) : undefined,
    };
  }

  function makeTarget(pt: PlanTarget): Target {
    const name = pt.keptName ?? word(pt.nameWord);
    const spelling = pt.spelling;
    let last = Math.max(pt.nameWord, pt.opaqueLast);
    for (const o of pt.options) if (o.last > last) last = o.last;
    const s = rangeSpan(pt.spellingWord, last);
    switch (pt.kind) {
      case 'verdict':
        return { kind: 'verdict', name: name as 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE', spelling, span: s };
      case 'chain':
        return { kind: 'chain', name, goto: pt.goto, spelling, span: s };
      case 'extension':
        return { kind: 'extension', name, spelling, options: pt.options.map(option), span: s };
      case 'opaque':
        return { kind: 'opaque', name, spelling, text: pt.opaqueFirst < 0 ? '' : slice(pt.opaqueFirst, pt.opaqueLast), span: s };
    }
  }

  /**
   * The whitespace before each rendered unit of the rule and after the last: units are the words,
   * except that an opaque item (its words and the blanks between them) is one unit.
   */
  function layoutOf(line: string, plan: Extract<Plan, { kind: 'rule' }>): string[] {
    const inside = new Set<number>();
    const mark = (a: number, b: number) => {
      for (let i = a + 1; i <= b; i++) inside.add(i);
    };
    for (const a of plan.args) if (a.kind === 'opaque') mark(a.first, a.last);
    if (plan.target && plan.target.opaqueFirst >= 0) mark(plan.target.opaqueFirst, plan.target.opaqueLast);
    const gaps: string[] = [];
    let prevEnd = 0;
    for (let i = 0; i < ws.n; i++) {
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
}

/** Single spaces between words, none at either end: how iptables-save and kube-proxy write. */
export function isCanonical(words: Words, line: string): boolean {
  const { texts, starts } = words;
  if (texts.length === 0 || starts[0] !== 0) return false;
  for (let i = 1; i < texts.length; i++) if (starts[i] !== starts[i - 1] + texts[i - 1].length + 1) return false;
  return starts[texts.length - 1] + texts[texts.length - 1].length === line.length;
}

/** isCanonical on word offsets (starts, ends) within a line of `length` characters. */
function isCanonicalAt(starts: Int32Array, ends: Int32Array, n: number, length: number): boolean {
  if (n === 0 || starts[0] !== 0) return false;
  for (let i = 1; i < n; i++) if (starts[i] !== ends[i - 1] + 1) return false;
  return ends[n - 1] === length;
}
