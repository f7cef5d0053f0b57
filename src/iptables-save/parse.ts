// parseIptablesSave: iptables-save / iptables-restore text -> Ruleset, reporting every problem with
// its position and carrying on. Each line is split into words (lexer.ts), its shape is planned
// once (plan.ts, running the grammar) and the plan is applied to the line's words here.
import type { Diagnostic, SourceSpan } from '../diag/diagnostic.js';
import type {
  Arg,
  ChainCommand,
  ChainDecl,
  Counters,
  Family,
  OptionArg,
  Rule,
  Ruleset,
  Table,
  TableLine,
  Target,
  Trivia,
  Value,
} from '../iptables/ir.js';
import { BUILTIN_CHAINS } from '../iptables/ir.js';
import { TABLE_NAMES, type IptCode } from './codes.js';
import { shapeOf, splitLine, type Words } from './lexer.js';
import { planFor, type Plan, type PlanOption, type PlanTarget, type PlanValue } from './plan.js';
import { BUILTIN_VERDICTS, OPAQUE_TARGETS, TARGET_MODULES } from './spec.js';
import { isProblem, ValueReader } from './values.js';

export interface ParseOptions {
  /** The file name diagnostics carry (`<stdin>` for standard input). */
  readonly file: string;
  /** ipv4 for iptables-save, ipv6 for ip6tables-save; guessed from the addresses when absent. */
  readonly family?: Family;
  /** Unknown match modules and targets are errors instead of opaque items. */
  readonly strict?: boolean;
  /**
   * The text is applied with `iptables-restore --noflush` on top of existing rules (kube-proxy's
   * partial syncs): chains it does not declare may exist already, so rules in them and jumps to
   * them are not reported.
   */
  readonly noflush?: boolean;
}

export interface ParseResult {
  readonly ruleset: Ruleset | null;
  readonly diagnostics: Diagnostic[];
}

/** iptables-restore's parameter buffer (add_param_to_argv) holds 1023 characters. */
const MAX_WORD = 1023;
/** ... and its argument vector at most 255 words (MAX_ARGC in xshared.h). */
const MAX_WORDS = 255;

const NO_VALUES: readonly Value[] = Object.freeze([]);

const keepTarget = (name: string) => BUILTIN_VERDICTS.has(name) || TARGET_MODULES.has(name) || OPAQUE_TARGETS.has(name);

/**
 * ip6tables-save text has IPv6 addresses after -s/-d (or ICMPv6); iptables-save text never does.
 * The first address decides, so one stray IPv6 address in an IPv4 file is reported, not obeyed.
 */
export function guessFamily(text: string): Family {
  const sample = text.length > 1_000_000 ? text.slice(0, 1_000_000) : text;
  const first = / (?:-[sd]|--to-destination|--to-source) (\S+)/.exec(sample);
  if (first) return first[1].includes(':') && !/^[0-9.]*:[0-9-]*$/.test(first[1]) ? 'ipv6' : 'ipv4';
  return / -p (?:ipv6-icmp|icmpv6)\b| -m icmp6\b/.test(sample) ? 'ipv6' : 'ipv4';
}

interface MutableTable {
  name: string;
  chains: ChainDecl[];
  commands: (Rule | ChainCommand)[];
  lines: TableLine[];
  committed: boolean;
  span: SourceSpan | null;
  rawHeader: string | null;
  rawCommit: string | null;
  declared: Map<string, ChainDecl>;
}

export function parseIptablesSave(text: string, opts: ParseOptions): ParseResult {
  const file = opts.file;
  const family = opts.family ?? guessFamily(text);
  const strict = opts.strict ?? false;
  const diagnostics: Diagnostic[] = [];
  const reader = new ValueReader(family);
  const tables: MutableTable[] = [];
  const outer: { before: number; trivia: Trivia }[] = [];
  const seenTables = new Set<string>();
  /** Jumps checked once all chains are known: [table, chain name, span]. */
  const jumps: [MutableTable, string, SourceSpan | null][] = [];
  let table: MutableTable | null = null;

  let lineNo = 0;
  let lineStart = 0;
  const span = (offset: number, length: number): SourceSpan => ({ line: lineNo, col: offset - lineStart + 1, offset, length });
  const report = (code: IptCode, message: string, s: SourceSpan | null, severity: 'error' | 'warning' = 'error') =>
    diagnostics.push({ severity, code, message, file, span: s });

  /** The words of the line being read, for the span helpers below. */
  let cur: Words = { texts: [], starts: [], quoted: [], unterminatedAt: -1, controlAt: -1 };
  const wordSpan = (i: number) => span(lineStart + cur.starts[i], cur.texts[i].length);
  const rangeSpan = (a: number, b: number) => span(lineStart + cur.starts[a], cur.starts[b] + cur.texts[b].length - cur.starts[a]);

  const finalNewline = text.length === 0 || text.endsWith('\n');
  const end = finalNewline ? text.length - 1 : text.length;
  while (lineStart <= end && !(lineStart === text.length && finalNewline)) {
    lineNo++;
    let nl = text.indexOf('\n', lineStart);
    if (nl < 0) nl = text.length;
    const line = text.slice(lineStart, nl);
    parseLine(line);
    lineStart = nl + 1;
    if (nl >= text.length) break;
  }
  if (table) closeTable(table, true);

  for (const [t, name, s] of jumps) {
    if (!t.declared.has(name) && !opts.noflush) report('IPT_UNKNOWN_CHAIN', `jump to chain '${name}', which table ${t.name} does not declare`, s);
  }

  const ruleset: Ruleset = {
    family,
    tables: tables.map(
      (t): Table => ({
        name: t.name,
        chains: t.chains,
        commands: t.commands,
        lines: t.lines,
        committed: t.committed,
        span: t.span,
        rawHeader: t.rawHeader,
        rawCommit: t.rawCommit,
      }),
    ),
    outer,
    finalNewline,
  };
  return { ruleset, diagnostics };

  function closeTable(t: MutableTable, atEnd: boolean): void {
    if (!t.committed) {
      report('IPT_MISSING_COMMIT', `table ${t.name} is not closed by COMMIT${atEnd ? ' before the end of the file' : ' before the next table'}`, t.span);
    }
  }

  function trivia(kind: 'comment' | 'blank', line: string): void {
    const tr: Trivia = { kind, text: line, span: span(lineStart, line.length) };
    if (table && !table.committed) table.lines.push({ kind: 'trivia', trivia: tr });
    else outer.push({ before: tables.length, trivia: tr });
  }

  function parseLine(line: string): void {
    if (line.charCodeAt(0) === 35 /* # */) return trivia('comment', line);
    const trimmed = line.charCodeAt(line.length - 1) === 13 /* CR */ ? line.slice(0, -1) : line;
    const words = splitLine(trimmed);
    if (words.texts.length === 0) return trivia('blank', line);
    // NUL and control bytes (other than tab and a final CR) never appear in iptables text.
    if (words.controlAt >= 0) {
      const code = trimmed.charCodeAt(words.controlAt);
      report('IPT_BINARY', `control byte 0x${code.toString(16).padStart(2, '0')} in the text; this is not iptables-save output`, span(lineStart + words.controlAt, 1));
      return trivia('comment', line); // kept verbatim so the file still renders back
    }
    if (words.unterminatedAt >= 0) {
      report('IPT_UNTERMINATED_QUOTE', 'the quote is not closed on this line', span(lineStart + words.unterminatedAt, trimmed.length - words.unterminatedAt));
    }
    if (words.texts.length > MAX_WORDS) {
      report('IPT_LINE_TOO_LONG', `a line of ${words.texts.length} words; iptables-restore takes at most ${MAX_WORDS} arguments per line`, span(lineStart, Math.min(trimmed.length, 200)));
      return keepUnparsed(line);
    }
    for (let i = 0; i < words.texts.length; i++) {
      if (words.texts[i].length > MAX_WORD) {
        report('IPT_LINE_TOO_LONG', `a word of ${words.texts[i].length} characters; iptables-restore takes at most ${MAX_WORD}`, span(lineStart + words.starts[i], words.texts[i].length));
      }
    }
    const plan = planFor(shapeOf(words, keepTarget), family);
    const canonical = trimmed === line && isCanonical(words, line);
    cur = words;

    switch (plan.kind) {
      case 'syntax': {
        const s = plan.word < 0 ? span(lineStart + trimmed.length, 0) : wordSpan(plan.word);
        report('IPT_SYNTAX', plan.message, s);
        return keepUnparsed(line);
      }
      case 'table': {
        if (table) closeTable(table, false);
        const name = plan.joined ? words.texts[plan.nameWord].slice(1) : words.texts[plan.nameWord];
        const s = span(lineStart, trimmed.length);
        if (!TABLE_NAMES.has(name)) report('IPT_UNKNOWN_TABLE', `'${name}' is not a table (raw, mangle, nat, filter, security)`, nameSpan(wordSpan(plan.nameWord), plan.joined));
        if (seenTables.has(name)) report('IPT_DUPLICATE_TABLE', `table ${name} appears twice in this file`, s);
        seenTables.add(name);
        table = {
          name,
          chains: [],
          commands: [],
          lines: [],
          committed: false,
          span: s,
          rawHeader: canonical && words.texts.length === 1 ? null : line,
          rawCommit: null,
          declared: new Map(),
        };
        tables.push(table);
        return;
      }
      case 'commit': {
        if (!table || table.committed) {
          report('IPT_OUTSIDE_TABLE', 'COMMIT without a table to close', span(lineStart, trimmed.length));
          return keepUnparsed(line);
        }
        if (words.texts.length > 1) report('IPT_UNEXPECTED_ARGUMENT', 'COMMIT takes nothing after it', rangeSpan(1, words.texts.length - 1));
        table.committed = true;
        table.rawCommit = canonical && words.texts.length === 1 ? null : line;
        return;
      }
      case 'chain':
        return chainDecl(plan, words, line, canonical);
      case 'chainCommand':
      case 'rule': {
        if (!table || table.committed) {
          report('IPT_OUTSIDE_TABLE', 'a command outside a table (after COMMIT or before the first *table line)', wordSpan(0));
          return keepUnparsed(line);
        }
        if (plan.kind === 'chainCommand') return chainCommand(table, plan, words, line, canonical);
        return rule(table, plan, words, line, canonical);
      }
    }
  }

  /** A line that could not be read is kept as a comment-like trivia so rendering loses nothing. */
  function keepUnparsed(line: string): void {
    trivia('comment', line);
  }

  /** `[packets:bytes]`; a malformed one is reported but kept as written when it has the shape. */
  function readCounters(text: string, s: SourceSpan): Counters | null {
    const m = /^\[([^:\]]*):([^\]]*)\]$/.exec(text);
    if (!m || !/^[0-9]+$/.test(m[1]) || !/^[0-9]+$/.test(m[2])) report('IPT_BAD_COUNTERS', `'${text}' is not [packets:bytes] of decimal numbers`, s);
    return m ? { packets: m[1], bytes: m[2] } : null;
  }

  function chainDecl(plan: Extract<Plan, { kind: 'chain' }>, words: Words, line: string, canonical: boolean): void {
    if (!table || table.committed) {
      report('IPT_OUTSIDE_TABLE', 'a chain declaration outside a table', wordSpan(0));
      return keepUnparsed(line);
    }
    const name = plan.joined ? words.texts[plan.nameWord].slice(1) : words.texts[plan.nameWord];
    const policy = words.texts[plan.policyWord];
    const counters = plan.countersWord >= 0 ? readCounters(words.texts[plan.countersWord], wordSpan(plan.countersWord)) : null;
    const s = span(lineStart, line.length);
    const builtin = (BUILTIN_CHAINS[table.name] ?? []).includes(name);
    // iptables-restore: `-` keeps a built-in chain's policy; a user chain's policy is ignored.
    const verdict = policy === 'ACCEPT' || policy === 'DROP';
    if (!verdict && policy !== '-') report('IPT_BAD_POLICY', `'${policy}' is not a chain policy (ACCEPT, DROP or -)`, wordSpan(plan.policyWord));
    else if (!builtin && verdict) report('IPT_BAD_POLICY', `user chain ${name} cannot have a policy; iptables ignores '${policy}'`, wordSpan(plan.policyWord), 'warning');
    if (table.declared.has(name)) report('IPT_DUPLICATE_CHAIN', `chain ${name} is declared twice in table ${table.name}`, nameSpan(wordSpan(plan.nameWord), plan.joined));
    const decl: ChainDecl = { name, policy, counters, span: s, raw: canonical && plan.joined ? null : line };
    table.declared.set(name, decl);
    table.chains.push(decl);
    table.lines.push({ kind: 'chain', decl });
  }

  function chainCommand(t: MutableTable, plan: Extract<Plan, { kind: 'chainCommand' }>, words: Words, line: string, canonical: boolean): void {
    const chain = plan.chainWord >= 0 ? words.texts[plan.chainWord] : null;
    const counters = plan.countersWord >= 0 ? readCounters(words.texts[plan.countersWord], wordSpan(plan.countersWord)) : null;
    if (plan.op === 'N' && chain !== null) {
      if (t.declared.has(chain)) report('IPT_DUPLICATE_CHAIN', `chain ${chain} already exists in table ${t.name}`, wordSpan(plan.chainWord));
      else t.declared.set(chain, { name: chain, policy: '-', counters: null, span: null });
    }
    if (plan.op === 'X' && chain !== null) t.declared.delete(chain);
    const cmd: ChainCommand = {
      kind: 'chainCommand',
      op: plan.op,
      chain,
      policy: plan.policyWord >= 0 ? words.texts[plan.policyWord] : null,
      counters,
      span: span(lineStart, line.length),
      raw: canonical && words.texts[0].length === 2 ? null : line,
    };
    t.commands.push(cmd);
    t.lines.push({ kind: 'command', command: cmd });
  }

  function rule(t: MutableTable, plan: Extract<Plan, { kind: 'rule' }>, words: Words, line: string, canonical: boolean): void {
    const texts = words.texts;
    for (const p of plan.problems) {
      if (p.strictOnly && !strict) continue;
      report(p.code, p.message, rangeSpan(p.first, p.last), p.severity);
    }
    const chain = texts[plan.chainWord];
    if (!t.declared.has(chain) && !(BUILTIN_CHAINS[t.name] ?? []).includes(chain) && !opts.noflush) {
      report('IPT_UNDECLARED_CHAIN', `rule in chain '${chain}', which table ${t.name} does not declare`, wordSpan(plan.chainWord));
    }
    let position: number | null = null;
    if (plan.positionWord >= 0) {
      const p = texts[plan.positionWord];
      if (/^[1-9][0-9]*$/.test(p)) position = Number(p);
      else report('IPT_BAD_NUMBER', `'${p}' is not a rule number (1, 2, ...)`, wordSpan(plan.positionWord));
    }

    const option = (po: PlanOption): OptionArg => {
      let values: readonly Value[] = NO_VALUES;
      if (po.values.length === 1) values = reader.single(valueAt(po.values[0]));
      else if (po.values.length > 1) values = po.values.map(valueAt);
      return { kind: 'option', module: po.module, name: po.name, spelling: texts[po.spellingWord], negation: po.negation, values, span: rangeSpan(po.first, po.last) };
    };
    const valueAt = (pv: PlanValue): Value => {
      const r = reader.read(pv, texts[pv.word]);
      if (!isProblem(r)) return r;
      report(r.problem, r.message, wordSpan(pv.word));
      return { type: 'word', text: texts[pv.word] };
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
    const target = plan.target ? makeTarget(t, plan.target, words, line, option) : null;
    const r: Rule = {
      kind: 'rule',
      op: plan.op,
      chain,
      position,
      counters: plan.countersWord >= 0 ? readCounters(texts[plan.countersWord], wordSpan(plan.countersWord)) : null,
      args,
      target,
      span: span(lineStart, line.length),
      // Every rule has the same fields, so rules share one hidden class.
      opSpelling: texts[plan.opWord].length === 2 ? undefined : texts[plan.opWord],
      targetAt: plan.target && plan.target.argsBefore < plan.args.length ? plan.target.argsBefore : undefined,
      layout: canonical ? null : layoutOf(words, line, plan),
      raw: plan.interleaved ? line : undefined,
    };
    t.commands.push(r);
    t.lines.push({ kind: 'command', command: r });
  }

  function makeTarget(t: MutableTable, pt: PlanTarget, words: Words, line: string, option: (po: PlanOption) => OptionArg): Target {
    const name = words.texts[pt.nameWord];
    const spelling = words.texts[pt.spellingWord];
    let last = Math.max(pt.nameWord, pt.opaqueLast);
    for (const o of pt.options) if (o.last > last) last = o.last;
    const s = rangeSpan(pt.spellingWord, last);
    switch (pt.kind) {
      case 'verdict':
        return { kind: 'verdict', name: name as 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE', spelling, span: s };
      case 'chain':
        jumps.push([t, name, rangeSpan(pt.nameWord, pt.nameWord)]);
        return { kind: 'chain', name, goto: pt.goto, spelling, span: s };
      case 'extension':
        return { kind: 'extension', name, spelling, options: pt.options.map(option), span: s };
      case 'opaque':
        return { kind: 'opaque', name, spelling, text: pt.opaqueFirst < 0 ? '' : slice(words, line, pt.opaqueFirst, pt.opaqueLast), span: s };
    }
  }
}

/** The name in `*filter` / `:CHAIN` starts after the sigil. */
function nameSpan(s: SourceSpan, joined: boolean): SourceSpan {
  return joined ? { line: s.line, col: s.col + 1, offset: s.offset + 1, length: s.length - 1 } : s;
}

function slice(words: Words, line: string, first: number, last: number): string {
  return line.slice(words.starts[first], words.starts[last] + words.texts[last].length);
}

/** Single spaces between words, none at either end: how iptables-save and kube-proxy write. */
function isCanonical(words: Words, line: string): boolean {
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
