// Rule builders: a rule plan (plan.ts, made once per line shape from the grammar's result) turned
// into a small function that builds the IR Rule of a line of that shape from its word offsets.
// Everything the plan fixes (which word is the chain, each option's module, name, spelling and
// negation, the target's kind, the span ends) is written into the function as a constant, so
// building a rule is one object literal per IR object, with no walk over the plan. What the
// function returns is exactly what an interpreter walking the plan returns, field for field and in
// the same order: test/iptables-save/rule-interpreter.ts is that interpreter, and
// test/iptables-save/rule-builder.test.ts compares the two on the corpus.
import type { Counters, Rule, Value } from '../iptables/ir.js';
import type { Plan, PlanArg, PlanOption, PlanTarget, PlanValue } from './plan.js';
import type { ValueReader } from './value-reader.js';

type RulePlan = Extract<Plan, { kind: 'rule' }>;

/** The line a builder reads: its words as offsets into the file (word i is text[lineStart + S[i], lineStart + E[i])). */
export interface BuilderLine {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly hashes: Int32Array;
  /** The file, the line's start and its end (the newline, or the end of the file). */
  readonly text: string;
  readonly lineStart: number;
  readonly lineNo: number;
  readonly nl: number;
  readonly canonical: boolean;
  /** The rule's chain and the chain it jumps to as strings the table already has (build-table.ts LineBuilder), or null: cut from the line. */
  readonly chainName: string | null;
  readonly targetName: string | null;
}

/** What a builder calls: the value cache, counters, and the layout of a line not written canonically. */
export interface BuilderHelpers {
  readonly reader: ValueReader;
  readonly noValues: readonly Value[];
  readonly countersOf: (text: string) => Counters | null;
  readonly layoutOf: (line: string, plan: RulePlan) => string[];
}

export type RuleBuilder = (l: BuilderLine, h: BuilderHelpers) => Rule;

const builders = new WeakMap<RulePlan, RuleBuilder>();

/** The builder of a rule plan, made on first use. */
export function ruleBuilder(plan: RulePlan): RuleBuilder {
  let b = builders.get(plan);
  if (!b) builders.set(plan, (b = compile(plan)));
  return b;
}

const lit = (v: string | number | boolean | null): string => JSON.stringify(v);

function compile(plan: RulePlan): RuleBuilder {
  // Plan values the generated code passes to the reader, by index.
  const slots: PlanValue[] = [];
  const word = (i: number) => `src.slice(base + S[${i}], base + E[${i}])`;
  const words = (a: number, b: number) => `src.slice(base + S[${a}], base + E[${b}])`;
  const span = (a: number, b: number) => `{ line: l.lineNo, col: S[${a}] + 1, offset: l.lineStart + S[${a}], length: E[${b}] - S[${a}] }`;
  const value = (pv: PlanValue, method: 'valueAt' | 'singleAt') => {
    slots.push(pv);
    return `h.reader.${method}(V[${slots.length - 1}], src, base + S[${pv.word}], base + E[${pv.word}], H[${pv.word}])`;
  };
  const option = (po: PlanOption) => {
    let values = 'h.noValues';
    if (po.values.length === 1) values = value(po.values[0], 'singleAt');
    else if (po.values.length > 1) values = `[${po.values.map((pv) => value(pv, 'valueAt')).join(', ')}]`;
    return `{ kind: 'option', module: ${lit(po.module)}, name: ${lit(po.name)}, spelling: ${lit(po.spelling)}, negation: ${lit(po.negation)}, values: ${values}, span: ${span(po.first, po.last)} }`;
  };
  const arg = (pa: PlanArg) => {
    if (pa.kind === 'option') return option(pa);
    if (pa.kind === 'module') return `{ kind: 'module', name: ${lit(pa.name)}, spelling: ${lit(pa.spelling)}, span: ${span(pa.first, pa.nameWord)} }`;
    return `{ kind: 'opaque', module: ${lit(pa.module)}, text: ${words(pa.first, pa.last)}, span: ${span(pa.first, pa.last)} }`;
  };
  const target = (pt: PlanTarget) => {
    const name = pt.keptName !== null ? lit(pt.keptName) : word(pt.nameWord);
    const spelling = lit(pt.spelling);
    let last = Math.max(pt.nameWord, pt.opaqueLast);
    for (const o of pt.options) if (o.last > last) last = o.last;
    const s = span(pt.spellingWord, last);
    switch (pt.kind) {
      case 'verdict':
        return `{ kind: 'verdict', name: ${name}, spelling: ${spelling}, span: ${s} }`;
      case 'chain':
        return `{ kind: 'chain', name: ${pt.keptName !== null ? name : `l.targetName ?? ${name}`}, goto: ${lit(pt.goto)}, spelling: ${spelling}, span: ${s} }`;
      case 'extension':
        return `{ kind: 'extension', name: ${name}, spelling: ${spelling}, options: [${pt.options.map(option).join(', ')}], span: ${s} }`;
      case 'opaque':
        return `{ kind: 'opaque', name: ${name}, spelling: ${spelling}, text: ${pt.opaqueFirst < 0 ? "''" : words(pt.opaqueFirst, pt.opaqueLast)}, span: ${s} }`;
    }
  };
  const position = plan.positionWord >= 0 ? `position(${word(plan.positionWord)})` : 'null';
  const counters = plan.countersWord >= 0 ? `h.countersOf(${word(plan.countersWord)})` : 'null';
  const targetAt = plan.target && plan.target.argsBefore < plan.args.length ? lit(plan.target.argsBefore) : 'undefined';
  const body = `
    const src = l.text, base = l.lineStart, S = l.starts, E = l.ends, H = l.hashes;
    return {
      kind: 'rule',
      op: ${lit(plan.op)},
      chain: l.chainName ?? ${word(plan.chainWord)},
      position: ${position},
      counters: ${counters},
      args: [${plan.args.map(arg).join(',\n')}],
      target: ${plan.target ? target(plan.target) : 'null'},
      span: { line: l.lineNo, col: 1, offset: l.lineStart, length: l.nl - l.lineStart },
      opSpelling: E[${plan.opWord}] - S[${plan.opWord}] === 2 ? undefined : ${word(plan.opWord)},
      targetAt: ${targetAt},
      layout: l.canonical ? null : h.layoutOf(l.text.slice(l.lineStart, l.nl), plan),
      raw: ${plan.interleaved ? 'l.text.slice(l.lineStart, l.nl)' : 'undefined'},
    };`;
  const make = new Function('V', 'plan', 'position', `return function buildRule(l, h) {${body}\n};`) as (
    v: PlanValue[],
    plan: RulePlan,
    position: (p: string) => number | null,
  ) => RuleBuilder;
  return make(slots, plan, rulePosition);
}

/** `-I CHAIN N`: the rule number, or null when the word is not one (reported by the parse). */
export function rulePosition(p: string): number | null {
  return /^[1-9][0-9]*$/.test(p) ? Number(p) : null;
}
