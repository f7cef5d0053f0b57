// renderRestore: a Ruleset back to text in its own spelling, byte for byte for what the parser
// read (every value keeps its exact text; unusual whitespace is kept in `layout`/`raw`). For the
// kernel's spelling of the same rules see render-save.ts.
import type { Arg, ChainCommand, ChainDecl, Counters, OptionArg, Rule, Ruleset, Table, TableLine, Target } from '../iptables/ir.js';
import { linesAsWritten } from './parse.js';

const counters = (c: Counters) => `[${c.packets}:${c.bytes}]`;

function optionUnits(o: OptionArg, out: string[]): void {
  if (o.negation === 'prefix') out.push('!');
  out.push(o.spelling);
  if (o.negation === 'infix') out.push('!');
  for (const v of o.values) out.push(v.text);
}

function argUnits(a: Arg, out: string[]): void {
  switch (a.kind) {
    case 'option':
      return optionUnits(a, out);
    case 'module':
      out.push(a.spelling, a.name);
      return;
    case 'opaque':
      out.push(a.text);
      return;
    default: {
      const never: never = a;
      throw new Error(`unhandled arg ${(never as Arg).kind}`);
    }
  }
}

function targetUnits(t: Target, out: string[]): void {
  out.push(t.spelling, t.name);
  if (t.kind === 'extension') for (const o of t.options) optionUnits(o, out);
  if (t.kind === 'opaque' && t.text !== '') out.push(t.text);
}

/** The words of a rule in the order they were written. */
export function ruleUnits(r: Rule): string[] {
  const out: string[] = [];
  if (r.counters) out.push(counters(r.counters));
  out.push(r.opSpelling ?? `-${r.op}`, r.chain);
  if (r.position !== null) out.push(String(r.position));
  const at = r.targetAt ?? r.args.length;
  for (let i = 0; i < r.args.length; i++) {
    if (i === at && r.target) targetUnits(r.target, out);
    argUnits(r.args[i], out);
  }
  if (at >= r.args.length && r.target) targetUnits(r.target, out);
  return out;
}

export function renderRule(r: Rule): string {
  if (r.raw) return r.raw;
  const units = ruleUnits(r);
  const layout = r.layout;
  if (!layout || layout.length !== units.length + 1) return units.join(' ');
  let s = '';
  for (let i = 0; i < units.length; i++) s += layout[i] + units[i];
  return s + layout[units.length];
}

function renderDecl(d: ChainDecl): string {
  return d.raw ?? `:${d.name} ${d.policy}${d.counters ? ' ' + counters(d.counters) : ''}`;
}

function renderChainCommand(c: ChainCommand): string {
  if (c.raw) return c.raw;
  let s = `-${c.op}`;
  if (c.chain !== null) s += ' ' + c.chain;
  if (c.policy !== null) s += ' ' + c.policy;
  if (c.counters) s += ' ' + counters(c.counters);
  return s;
}

function renderLine(l: TableLine): string {
  switch (l.kind) {
    case 'chain':
      return renderDecl(l.decl);
    case 'trivia':
      return l.trivia.text;
    case 'command':
      return l.command.kind === 'rule' ? renderRule(l.command) : renderChainCommand(l.command);
  }
}

function renderTable(t: Table, out: string[]): void {
  out.push(t.rawHeader ?? `*${t.name}`);
  const written = linesAsWritten(t);
  if (written !== null) out.push(written);
  else for (const l of t.lines) out.push(renderLine(l));
  if (t.committed) out.push(t.rawCommit ?? 'COMMIT');
}

export function renderRestore(rs: Ruleset): string {
  const out: string[] = [];
  let o = 0;
  for (let i = 0; i <= rs.tables.length; i++) {
    while (o < rs.outer.length && rs.outer[o].before === i) out.push(rs.outer[o++].trivia.text);
    if (i < rs.tables.length) renderTable(rs.tables[i], out);
  }
  if (out.length === 0) return '';
  return out.join('\n') + (rs.finalNewline === false ? '' : '\n');
}
