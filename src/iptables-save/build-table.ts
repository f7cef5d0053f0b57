// buildTable: the IR of one table's lines, made when a consumer first reads `chains`, `commands`
// or `lines` (parse.ts). The parse checks every line and reports its problems but keeps of each
// line only where it starts and what it is (a TableLog); the words are split again here and the
// line's plan applied to them. A kube-proxy dump has ~450k rules, and their object tree (a span per
// argument, a list per option) is most of a parse's time and memory, so only the reader that wants
// it pays for it. Values come from the parse's ValueReader, so every rule shares them.
import type { SourceSpan } from '../diag/diagnostic.js';
import type { Arg, ChainCommand, ChainDecl, Counters, OptionArg, Rule, TableLine, Target, Trivia, Value } from '../iptables/ir.js';
import { splitLine, type Words } from './lexer.js';
import type { Plan, PlanOption, PlanTarget, PlanValue } from './plan.js';
import { isProblem, type ValueReader } from './values.js';

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
  let lineNo = 0;
  let lineStart = 0;
  let cur: Words = splitLine('');
  const span = (offset: number, length: number): SourceSpan => ({ line: lineNo, col: offset - lineStart + 1, offset, length });
  const rangeSpan = (a: number, b: number) => span(lineStart + cur.starts[a], cur.starts[b] + cur.texts[b].length - cur.starts[a]);

  for (let i = 0; i < log.length; i++) {
    lineStart = log.start(i);
    lineNo = log.lineNo(i);
    let nl = text.indexOf('\n', lineStart);
    if (nl < 0) nl = text.length;
    const line = text.slice(lineStart, nl);
    const kind = log.kind(i);
    if (kind === LINE.comment || kind === LINE.blank) {
      const tr: Trivia = { kind: kind === LINE.comment ? 'comment' : 'blank', text: line, span: span(lineStart, line.length) };
      lines.push({ kind: 'trivia', trivia: tr });
      continue;
    }
    const trimmed = line.charCodeAt(line.length - 1) === 13 /* CR */ ? line.slice(0, -1) : line;
    cur = splitLine(trimmed);
    const canonical = trimmed === line && isCanonical(cur, line);
    const plan = log.plans[i]!;
    if (plan.kind === 'chain') {
      const decl = chainDecl(plan, line, canonical);
      chains.push(decl);
      lines.push({ kind: 'chain', decl });
    } else if (plan.kind === 'chainCommand') {
      const cmd = chainCommand(plan, line, canonical);
      commands.push(cmd);
      lines.push({ kind: 'command', command: cmd });
    } else if (plan.kind === 'rule') {
      const r = rule(plan, line, canonical);
      commands.push(r);
      lines.push({ kind: 'command', command: r });
    }
  }
  return { chains, commands, lines };

  function chainDecl(plan: Extract<Plan, { kind: 'chain' }>, line: string, canonical: boolean): ChainDecl {
    const texts = cur.texts;
    const name = plan.joined ? texts[plan.nameWord].slice(1) : texts[plan.nameWord];
    const counters = plan.countersWord >= 0 ? countersOf(texts[plan.countersWord]) : null;
    return { name, policy: texts[plan.policyWord], counters, span: span(lineStart, line.length), raw: canonical && plan.joined ? null : line };
  }

  function chainCommand(plan: Extract<Plan, { kind: 'chainCommand' }>, line: string, canonical: boolean): ChainCommand {
    const texts = cur.texts;
    return {
      kind: 'chainCommand',
      op: plan.op,
      chain: plan.chainWord >= 0 ? texts[plan.chainWord] : null,
      policy: plan.policyWord >= 0 ? texts[plan.policyWord] : null,
      counters: plan.countersWord >= 0 ? countersOf(texts[plan.countersWord]) : null,
      span: span(lineStart, line.length),
      raw: canonical && texts[0].length === 2 ? null : line,
    };
  }

  function rule(plan: Extract<Plan, { kind: 'rule' }>, line: string, canonical: boolean): Rule {
    const words = cur;
    const texts = words.texts;
    const valueAt = (pv: PlanValue): Value => {
      const r = reader.read(pv, texts[pv.word]);
      return isProblem(r) ? { type: 'word', text: texts[pv.word] } : r;
    };
    const option = (po: PlanOption): OptionArg => {
      let values: readonly Value[] = NO_VALUES;
      if (po.values.length === 1) values = reader.single(valueAt(po.values[0]));
      else if (po.values.length > 1) values = po.values.map(valueAt);
      return { kind: 'option', module: po.module, name: po.name, spelling: texts[po.spellingWord], negation: po.negation, values, span: rangeSpan(po.first, po.last) };
    };
    const args: Arg[] = [];
    for (const pa of plan.args) {
      if (pa.kind === 'option') args.push(option(pa));
      else if (pa.kind === 'module') {
        args.push({ kind: 'module', name: texts[pa.nameWord], spelling: texts[pa.first], span: rangeSpan(pa.first, pa.nameWord) });
      } else {
        args.push({ kind: 'opaque', module: pa.module, text: slice(words, line, pa.first, pa.last), span: rangeSpan(pa.first, pa.last) });
      }
    }
    const target = plan.target ? makeTarget(plan.target, line, option) : null;
    const p = plan.positionWord >= 0 ? texts[plan.positionWord] : '';
    return {
      kind: 'rule',
      op: plan.op,
      chain: texts[plan.chainWord],
      position: /^[1-9][0-9]*$/.test(p) ? Number(p) : null,
      counters: plan.countersWord >= 0 ? countersOf(texts[plan.countersWord]) : null,
      args,
      target,
      span: span(lineStart, line.length),
      // Every rule has the same fields, so rules share one hidden class.
      opSpelling: texts[plan.opWord].length === 2 ? undefined : texts[plan.opWord],
      targetAt: plan.target && plan.target.argsBefore < plan.args.length ? plan.target.argsBefore : undefined,
      layout: canonical ? null : layoutOf(words, line, plan),
      raw: plan.interleaved ? line : undefined,
    };
  }

  function makeTarget(pt: PlanTarget, line: string, option: (po: PlanOption) => OptionArg): Target {
    const name = cur.texts[pt.nameWord];
    const spelling = cur.texts[pt.spellingWord];
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
        return { kind: 'opaque', name, spelling, text: pt.opaqueFirst < 0 ? '' : slice(cur, line, pt.opaqueFirst, pt.opaqueLast), span: s };
    }
  }
}

function slice(words: Words, line: string, first: number, last: number): string {
  return line.slice(words.starts[first], words.starts[last] + words.texts[last].length);
}

/** Single spaces between words, none at either end: how iptables-save and kube-proxy write. */
export function isCanonical(words: Words, line: string): boolean {
  const { texts, starts } = words;
  if (texts.length === 0 || starts[0] !== 0) return false;
  for (let i = 1; i < texts.length; i++) if (starts[i] !== starts[i - 1] + texts[i - 1].length + 1) return false;
  return starts[texts.length - 1] + texts[texts.length - 1].length === line.length;
}

/**
 * The whitespace before each rendered unit of the rule and after the last: units are the words,
 * except that an opaque item (its words and the blanks between them) is one unit.
 */
function layoutOf(words: Words, line: string, plan: Extract<Plan, { kind: 'rule' }>): string[] {
  const inside = new Set<number>();
  const mark = (a: number, b: number) => {
    for (let i = a + 1; i <= b; i++) inside.add(i);
  };
  for (const a of plan.args) if (a.kind === 'opaque') mark(a.first, a.last);
  if (plan.target && plan.target.opaqueFirst >= 0) mark(plan.target.opaqueFirst, plan.target.opaqueLast);
  const gaps: string[] = [];
  let prevEnd = 0;
  for (let i = 0; i < words.texts.length; i++) {
    if (inside.has(i)) {
      prevEnd = words.starts[i] + words.texts[i].length;
      continue;
    }
    gaps.push(line.slice(prevEnd, words.starts[i]));
    prevEnd = words.starts[i] + words.texts[i].length;
  }
  gaps.push(line.slice(prevEnd));
  return gaps;
}
