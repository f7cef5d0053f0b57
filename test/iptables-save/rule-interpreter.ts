// The rule interpreter: the oracle that says what the reader's compiled rule builders
// (src/iptables-save/rule-builder.ts, one generated function per line shape) must build. It reads
// a text on its own (splitLine and shapeOf of line-oracle.ts, then the grammar's plan of that
// shape) and walks each rule's plan, making the IR objects one by one; rule-builder.test.ts
// compares what it makes with what parseIptablesSave's tables hold, field for field and in the
// same order (as JSON shows it).
import type { SourceSpan } from '../../src/diag/diagnostic.js';
import type { Arg, Family, OptionArg, Rule, Target, Value } from '../../src/iptables/ir.js';
import { countersOf, layoutOf } from '../../src/iptables-save/build-table.js';
import { keepTarget, MAX_WORDS } from '../../src/iptables-save/line-scanner.js';
import { planFor, type Plan, type PlanOption, type PlanTarget, type PlanValue } from '../../src/iptables-save/plan.js';
import { rulePosition } from '../../src/iptables-save/rule-builder.js';
import { ValueReader } from '../../src/iptables-save/value-reader.js';
import { hashOf } from '../../src/iptables-save/word-table.js';
import { isCanonical, shapeOf, splitLine, type Words } from './line-oracle.js';

type RulePlan = Extract<Plan, { kind: 'rule' }>;

const NO_VALUES: readonly Value[] = Object.freeze([]);

/**
 * Every rule the IR of `text` holds, in file order: the lines inside a table (after `*table`,
 * before its COMMIT) whose shape plans as a rule, each built by walking its plan.
 */
export function interpretRules(text: string, family: Family): Rule[] {
  const reader = new ValueReader(family);
  const rules: Rule[] = [];
  let inTable = false;
  let lineNo = 0;
  for (let lineStart = 0; lineStart < text.length; ) {
    lineNo++;
    let nl = text.indexOf('\n', lineStart);
    if (nl < 0) nl = text.length;
    const line = text.slice(lineStart, nl);
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    const words = splitLine(trimmed);
    const n = words.texts.length;
    if (!line.startsWith('#') && n > 0 && n <= MAX_WORDS && words.controlAt < 0) {
      const plan = planFor(shapeOf(words, keepTarget), family);
      if (plan.kind === 'table') inTable = true;
      else if (plan.kind === 'commit') inTable = false;
      else if (plan.kind === 'rule' && inTable) rules.push(interpretRule(text, lineStart, lineNo, nl, words, plan, reader));
    }
    lineStart = nl + 1;
  }
  return rules;
}

/** The rule of one line: its words (splitLine of the line without a final CR) and its plan. */
function interpretRule(text: string, lineStart: number, lineNo: number, nl: number, words: Words, plan: RulePlan, reader: ValueReader): Rule {
  const { texts, starts } = words;
  const ends = texts.map((t, i) => starts[i] + t.length);
  const line = text.slice(lineStart, nl);
  const cr = line.endsWith('\r');
  const src = cr ? line.slice(0, -1) : line;
  const canonical = !cr && isCanonical(words, line);
  const span = (offset: number, length: number): SourceSpan => ({ line: lineNo, col: offset - lineStart + 1, offset, length });
  const rangeSpan = (a: number, b: number) => span(lineStart + starts[a], ends[b] - starts[a]);
  /** The words first..last with the blanks between them, as written. */
  const slice = (first: number, last: number) => src.slice(starts[first], ends[last]);
  const word = (i: number) => texts[i];

  const valueAt = (pv: PlanValue): Value => reader.valueAt(pv, src, starts[pv.word], ends[pv.word], hashOf(texts[pv.word]));

  const option = (po: PlanOption): OptionArg => {
    let values: readonly Value[] = NO_VALUES;
    if (po.values.length === 1) {
      const pv = po.values[0];
      values = reader.singleAt(pv, src, starts[pv.word], ends[pv.word], hashOf(texts[pv.word]));
    } else if (po.values.length > 1) values = po.values.map(valueAt);
    return { kind: 'option', module: po.module, name: po.name, spelling: po.spelling, negation: po.negation, values, span: rangeSpan(po.first, po.last) };
  };

  const makeTarget = (pt: PlanTarget): Target => {
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
  };

  const args: Arg[] = [];
  for (const pa of plan.args) {
    if (pa.kind === 'option') args.push(option(pa));
    else if (pa.kind === 'module') args.push({ kind: 'module', name: pa.name, spelling: pa.spelling, span: rangeSpan(pa.first, pa.nameWord) });
    else args.push({ kind: 'opaque', module: pa.module, text: slice(pa.first, pa.last), span: rangeSpan(pa.first, pa.last) });
  }
  const target = plan.target ? makeTarget(plan.target) : null;
  const opLength = ends[plan.opWord] - starts[plan.opWord];
  return {
    kind: 'rule',
    op: plan.op,
    chain: word(plan.chainWord),
    position: plan.positionWord >= 0 ? rulePosition(word(plan.positionWord)) : null,
    counters: plan.countersWord >= 0 ? countersOf(word(plan.countersWord)) : null,
    args,
    target,
    span: span(lineStart, line.length),
    opSpelling: opLength === 2 ? undefined : word(plan.opWord),
    targetAt: plan.target && plan.target.argsBefore < plan.args.length ? plan.target.argsBefore : undefined,
    layout: canonical ? null : layoutOf(line, plan, starts, ends, texts.length),
    raw: plan.interleaved ? line : undefined,
  };
}
