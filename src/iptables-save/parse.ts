// parseIptablesSave: iptables-save / iptables-restore text -> Ruleset, reporting every problem with
// its position and carrying on. Each line is split into words and its shape found (line-scanner.ts),
// the shape is planned once (plan.ts, running the grammar) and the plan is checked against the
// line's words here: every value is checked, on the source text when its form cannot have a
// problem (quick-check.ts), else read (value-reader.ts caches readings by text), so that all
// problems are reported during the parse, but a table's IR is built only when it is first read
// (build-table.ts).
import type { Diagnostic, SourceSpan } from '../diag/diagnostic.js';
import type { ChainIndex, Family, Rule, Ruleset, Table, TargetName, Trivia } from '../iptables/ir.js';
import { BUILTIN_CHAINS, setChainIndex } from '../iptables/ir.js';
import { buildTable, LineBuilder, LINE, TableLog, type BuiltTable } from './build-table.js';
import { TABLE_NAMES } from '../iptables/ir.js';
import type { IptCode } from './codes.js';
import { LineScanner, MAX_WORD, MAX_WORDS } from './line-scanner.js';
import { WordTable } from './word-table.js';
import type { Plan, PlanTarget } from './plan.js';
import { quickOk } from './quick-check.js';
import { isProblem } from './read-value.js';
import { ValueReader } from './value-reader.js';

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

interface Memo {
  table: MutableTable | null;
  hash: number;
  name: string;
  /** The chain's number in its table (MutableTable.names). */
  id: number;
}

interface MutableTable {
  name: string;
  committed: boolean;
  span: SourceSpan | null;
  rawHeader: string | null;
  rawCommit: string | null;
  /** The chains that exist at this point of the file (declared, `-N`, not `-X`ed since), with their numbers. */
  declared: WordTable<number>;
  /** Chain names by number: declared ones, and those `-A` lines name without a declaration before them. */
  names: string[];
  /** The numbers of chains `-A` lines name that were not declared when read (MutableTable.names). */
  external: WordTable<number>;
  externalCount: number;
  /** Only `:NAME` lines (each chain once) and `-A` lines without a rule number so far: ChainIndex's kind. */
  simple: boolean;
  log: TableLog;
  /** Jumps to chains not declared when the jump was read: [name, span]. */
  jumps: [string, SourceSpan][];
  /** Whether a `-X` deleted a chain, so that jumps read before it must be checked again. */
  deleted: boolean;
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
  let table: MutableTable | null = null;

  let lineNo = 0;
  let lineStart = 0;
  const span = (offset: number, length: number): SourceSpan => ({ line: lineNo, col: offset - lineStart + 1, offset, length });
  const report = (code: IptCode, message: string, s: SourceSpan | null, severity: 'error' | 'warning' = 'error', notes?: readonly string[]) =>
    diagnostics.push({ severity, code, message, file, span: s, ...(notes ? { notes } : {}) });

  /** The words of the line being read, for the span helpers below. */
  const sc = new LineScanner(family);
  const word = (i: number) => sc.text(i);
  const wordSpan = (i: number) => span(lineStart + sc.starts[i], sc.ends[i] - sc.starts[i]);
  const rangeSpan = (a: number, b: number) => span(lineStart + sc.starts[a], sc.ends[b] - sc.starts[a]);
  /** The number of the chain the word names when it exists in the table (else -1), found without making its string. */
  const declaredAt = (t: MutableTable, i: number, memo: Memo): number => {
    const start = sc.base + sc.starts[i];
    const h = sc.hash(i);
    // A dump's rules come in runs of one chain, and many jump to the chain the line before did.
    if (memo.table === t && memo.hash === h && memo.name.length === sc.ends[i] - sc.starts[i] && sc.src.startsWith(memo.name, start)) return memo.id;
    const e = t.declared.entryAt(sc.src, start, sc.base + sc.ends[i], h);
    if (e === null) return -1;
    memo.table = t;
    memo.hash = h;
    memo.name = e.text;
    memo.id = e.value;
    return e.value;
  };
  /** The chain names last found declared, for rule chains and for jump targets; cleared by `-X`. */
  const ruleChain: Memo = { table: null, hash: 0, name: '', id: -1 };
  const jumpChain: Memo = { table: null, hash: 0, name: '', id: -1 };

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
  if (table) closeTable(table, null);

  if (!opts.noflush) for (const t of tables) checkJumps(t);

  const ruleset: Ruleset = { family, tables: tables.map((t) => lazyTable(text, reader, t)), outer, finalNewline };
  return { ruleset, diagnostics };

  /**
   * A table left open: iptables-restore fails where it notices, at the next `*table` line
   * ("Bad argument `*nat'") or after the last line ("COMMIT expected at line N"); the diagnostic
   * is there, with a note at the table that was left open.
   */
  function closeTable(t: MutableTable, next: SourceSpan | null): void {
    if (t.committed) return;
    const opened = t.span ? [`table ${t.name} begins at line ${t.span.line} and has no COMMIT`] : [];
    if (next) report('IPT_MISSING_COMMIT', `a new table begins before table ${t.name} is closed by COMMIT`, next, 'error', opened);
    else {
      // After the last line: the line iptables-restore names is the one after it.
      const after: SourceSpan = finalNewline ? { line: lineNo + 1, col: 1, offset: text.length, length: 0 } : { line: lineNo, col: text.length - text.lastIndexOf('\n') , offset: text.length, length: 0 };
      report('IPT_MISSING_COMMIT', `the file ends before table ${t.name} is closed by COMMIT`, after, 'error', opened);
    }
  }

  /** Jumps are checked once all chains are known, in file order. */
  function checkJumps(t: MutableTable): void {
    const unknown = (name: string, s: SourceSpan) => {
      if (!t.declared.has(name)) report('IPT_UNKNOWN_CHAIN', `jump to chain '${name}', which table ${t.name} does not declare`, s);
    };
    if (!t.deleted) {
      for (const [name, s] of t.jumps) unknown(name, s);
      return;
    }
    // A chain deleted after a jump to it was read: read every jump of the table again.
    for (let i = 0; i < t.log.length; i++) {
      const plan = t.log.plans[i];
      if (plan?.kind !== 'rule' || plan.target?.kind !== 'chain') continue;
      lineNo = t.log.lineNo(i);
      lineStart = t.log.start(i);
      let nl = text.indexOf('\n', lineStart);
      if (nl < 0) nl = text.length;
      if (text.charCodeAt(nl - 1) === 13 /* CR */) nl--;
      sc.split(text, lineStart, nl);
      unknown(word(plan.target.nameWord), wordSpan(plan.target.nameWord));
    }
  }

  function trivia(kind: 'comment' | 'blank', line: string): void {
    if (table && !table.committed) table.log.add(kind === 'comment' ? LINE.comment : LINE.blank, lineStart, lineNo, null);
    else outer.push({ before: tables.length, trivia: { kind, text: line, span: span(lineStart, line.length) } });
  }

  function parseLine(line: string): void {
    if (line.charCodeAt(0) === 35 /* # */) return trivia('comment', line);
    const trimmed = line.charCodeAt(line.length - 1) === 13 /* CR */ ? line.slice(0, -1) : line;
    const plan = sc.scan(text, lineStart, lineStart + trimmed.length);
    if (sc.count === 0) return trivia('blank', line);
    // NUL and control bytes (other than tab and a final CR) never appear in iptables text.
    if (sc.controlAt >= 0) {
      const code = trimmed.charCodeAt(sc.controlAt);
      report('IPT_BINARY', `control byte 0x${code.toString(16).padStart(2, '0')} in the text; this is not iptables-save output`, span(lineStart + sc.controlAt, 1));
      return trivia('comment', line); // kept verbatim so the file still renders back
    }
    if (sc.unterminatedAt >= 0) {
      // iptables-restore accepts it: the rest of the line, line break included, is one word.
      report('IPT_UNTERMINATED_QUOTE', 'the quote is not closed on this line; iptables-restore reads the rest of the line, with its line break, as one word', span(lineStart + sc.unterminatedAt, trimmed.length - sc.unterminatedAt), 'warning');
    }
    if (!plan) {
      report('IPT_LINE_TOO_LONG', `a line of ${sc.count} words; iptables-restore takes at most ${MAX_WORDS} arguments per line`, span(lineStart, Math.min(trimmed.length, 200)));
      return keepUnparsed(line);
    }
    if (sc.longWord) {
      for (let i = 0; i < sc.n; i++) {
        const length = sc.ends[i] - sc.starts[i];
        if (length > MAX_WORD) report('IPT_LINE_TOO_LONG', `a word of ${length} characters; iptables-restore takes at most ${MAX_WORD}`, wordSpan(i));
      }
    }
    const n = sc.n;

    switch (plan.kind) {
      case 'syntax': {
        const s = plan.word < 0 ? span(lineStart + trimmed.length, 0) : wordSpan(plan.word);
        report('IPT_SYNTAX', plan.message, s);
        return keepUnparsed(line);
      }
      case 'table': {
        if (table) closeTable(table, span(lineStart, trimmed.length));
        const name = plan.joined ? word(plan.nameWord).slice(1) : word(plan.nameWord);
        const s = span(lineStart, trimmed.length);
        if (!(TABLE_NAMES as readonly string[]).includes(name)) report('IPT_UNKNOWN_TABLE', `'${name}' is not a table (raw, mangle, nat, filter, security)`, nameSpan(wordSpan(plan.nameWord), plan.joined));
        if (seenTables.has(name)) report('IPT_DUPLICATE_TABLE', `table ${name} appears twice in this file`, s);
        seenTables.add(name);
        table = {
          name,
          committed: false,
          span: s,
          rawHeader: trimmed === line && n === 1 && sc.isCanonical(line.length) ? null : line,
          rawCommit: null,
          declared: new WordTable(),
          names: [],
          external: new WordTable(),
          externalCount: 0,
          simple: true,
          log: new TableLog(),
          jumps: [],
          deleted: false,
        };
        tables.push(table);
        return;
      }
      case 'commit': {
        if (!table || table.committed) {
          report('IPT_OUTSIDE_TABLE', 'COMMIT without a table to close', span(lineStart, trimmed.length));
          return keepUnparsed(line);
        }
        if (n > 1) report('IPT_UNEXPECTED_ARGUMENT', 'COMMIT takes nothing after it', rangeSpan(1, n - 1));
        table.committed = true;
        table.rawCommit = trimmed === line && n === 1 && sc.isCanonical(line.length) ? null : line;
        return;
      }
      case 'chain':
        return chainDecl(plan, line);
      case 'chainCommand':
      case 'rule': {
        if (!table || table.committed) {
          report('IPT_OUTSIDE_TABLE', 'a command outside a table (after COMMIT or before the first *table line)', wordSpan(0));
          return keepUnparsed(line);
        }
        if (plan.kind === 'chainCommand') return chainCommand(table, plan);
        return rule(table, plan);
      }
    }
  }

  /** A line that could not be read is kept as a comment-like trivia so rendering loses nothing. */
  function keepUnparsed(line: string): void {
    trivia('comment', line);
  }

  /** `[packets:bytes]`; a malformed one is reported (and kept as written when it has the shape). */
  function checkCounters(text: string, s: SourceSpan): void {
    if (!/^\[[0-9]+:[0-9]+\]$/.test(text)) report('IPT_BAD_COUNTERS', `'${text}' is not [packets:bytes] of decimal numbers`, s);
  }

  function chainDecl(plan: Extract<Plan, { kind: 'chain' }>, line: string): void {
    if (!table || table.committed) {
      report('IPT_OUTSIDE_TABLE', 'a chain declaration outside a table', wordSpan(0));
      return keepUnparsed(line);
    }
    const name = plan.joined ? word(plan.nameWord).slice(1) : word(plan.nameWord);
    const policy = word(plan.policyWord);
    if (plan.countersWord >= 0) checkCounters(word(plan.countersWord), wordSpan(plan.countersWord));
    const builtin = (BUILTIN_CHAINS[table.name] ?? []).includes(name);
    // iptables-restore: `-` keeps a built-in chain's policy; a user chain's policy is ignored.
    const verdict = policy === 'ACCEPT' || policy === 'DROP';
    if (!verdict && policy !== '-') report('IPT_BAD_POLICY', `'${policy}' is not a chain policy (ACCEPT, DROP or -)`, wordSpan(plan.policyWord));
    else if (!builtin && verdict) report('IPT_BAD_POLICY', `user chain ${name} cannot have a policy; iptables ignores '${policy}'`, wordSpan(plan.policyWord), 'warning');
    if (table.declared.has(name)) {
      report('IPT_DUPLICATE_CHAIN', `chain ${name} is declared twice in table ${table.name}`, nameSpan(wordSpan(plan.nameWord), plan.joined));
      table.simple = false;
    }
    // Declared after rules were appended to it: not loadable chain by chain either.
    if (table.externalCount > 0 && table.external.has(name)) table.simple = false;
    table.log.add(LINE.chain, lineStart, lineNo, plan, table.names.length);
    table.declared.set(name, table.names.length);
    table.names.push(name);
  }

  function chainCommand(t: MutableTable, plan: Extract<Plan, { kind: 'chainCommand' }>): void {
    const chain = plan.chainWord >= 0 ? word(plan.chainWord) : null;
    if (plan.countersWord >= 0) checkCounters(word(plan.countersWord), wordSpan(plan.countersWord));
    if (plan.op === 'N' && chain !== null) {
      if (t.declared.has(chain)) report('IPT_DUPLICATE_CHAIN', `chain ${chain} already exists in table ${t.name}`, wordSpan(plan.chainWord));
      else {
        t.declared.set(chain, t.names.length);
        t.names.push(chain);
      }
    }
    if (plan.op === 'X' && chain !== null) {
      t.deleted = t.declared.delete(chain) || t.deleted;
      ruleChain.table = jumpChain.table = null;
    }
    t.simple = false;
    t.log.add(LINE.chainCommand, lineStart, lineNo, plan);
  }

  function rule(t: MutableTable, plan: Extract<Plan, { kind: 'rule' }>): void {
    for (const p of plan.problems) {
      if (p.strictOnly && !strict) continue;
      report(p.code, p.message, rangeSpan(p.first, p.last), p.severity);
    }
    let chainId = declaredAt(t, plan.chainWord, ruleChain);
    if (chainId < 0) {
      const chain = word(plan.chainWord);
      if (!opts.noflush && !(BUILTIN_CHAINS[t.name] ?? []).includes(chain)) {
        report('IPT_UNDECLARED_CHAIN', `rule in chain '${chain}', which table ${t.name} does not declare`, wordSpan(plan.chainWord));
      }
      chainId = t.external.get(chain) ?? -1;
      if (chainId < 0) {
        chainId = t.names.length;
        t.names.push(chain);
        t.external.set(chain, chainId);
        t.externalCount++;
      }
    }
    if (plan.op !== 'A' || plan.positionWord >= 0) t.simple = false;
    if (plan.positionWord >= 0) {
      const p = word(plan.positionWord);
      if (!/^[1-9][0-9]*$/.test(p)) report('IPT_BAD_NUMBER', `'${p}' is not a rule number (1, 2, ...)`, wordSpan(plan.positionWord));
    }
    for (const pv of plan.values) {
      const start = sc.base + sc.starts[pv.word];
      const end = sc.base + sc.ends[pv.word];
      if (quickOk(pv, sc.src, start, end)) continue; // the IR build reads it
      const r = reader.readAt(pv, sc.src, start, end, sc.hash(pv.word));
      if (isProblem(r)) report(r.problem, r.message, wordSpan(pv.word));
    }
    const target = plan.target;
    const targetId = target?.kind === 'chain' ? declaredAt(t, target.nameWord, jumpChain) : -1;
    if (target?.kind === 'chain' && targetId < 0) t.jumps.push([word(target.nameWord), wordSpan(target.nameWord)]);
    if (plan.countersWord >= 0) checkCounters(word(plan.countersWord), wordSpan(plan.countersWord));
    t.log.add(LINE.rule, lineStart, lineNo, plan, chainId, targetId);
  }
}

/** What the IR of a table is made from: the table as read, its lines logged (parse.ts, own-text.ts). */
export interface LoggedTable {
  readonly name: string;
  readonly committed: boolean;
  readonly span: SourceSpan | null;
  readonly rawHeader: string | null;
  readonly rawCommit: string | null;
  readonly log: TableLog;
  /** Of ChainIndex's kind (see MutableTable.simple); then also: */
  readonly simple: boolean;
  /** chain names by the numbers the log gives rules, */
  readonly names: readonly string[];
  /** the names of chains `-A` lines name undeclared, */
  readonly external: { has(name: string): boolean };
  /** and jumps to chains not declared before them. */
  readonly jumps: readonly [string, SourceSpan][];
}

/**
 * The table as the IR: its lines are built on first read of `chains`, `commands` or `lines`
 * (own enumerable getters, so JSON, spreads, structuredClone and deep equality see them).
 */
export function lazyTable(text: string, reader: ValueReader, t: LoggedTable): Table {
  let built: BuiltTable | null = null;
  // Only the log is kept: the parse's chain sets and jump lists are not needed any more.
  const log = t.log;
  const names = t.names;
  const lines = () => (built ??= buildTable(text, reader, log, names));
  const table: Table = {
    name: t.name,
    get chains() {
      return lines().chains;
    },
    get commands() {
      return lines().commands;
    },
    get lines() {
      return lines().lines;
    },
    committed: t.committed,
    span: t.span,
    rawHeader: t.rawHeader,
    rawCommit: t.rawCommit,
  };
  if (t.simple) {
    // What the index needs of the parse's chain sets (not the sets of declared names).
    const { external, jumps } = t;
    let index: ChainIndex | undefined;
    setChainIndex(table, () => (index ??= chainIndex(text, reader, log, names, external, jumps)));
  }
  writtenLines.set(table, () => {
    if (built || log.length === 0) return null;
    let end = text.indexOf('\n', log.start(log.length - 1));
    if (end < 0) end = text.length;
    return text.slice(log.start(0), end);
  });
  return table;
}

/** The rules of a simple table (MutableTable.simple) by chain: one pass over its log, no rule built. */
function chainIndex(text: string, reader: ValueReader, log: TableLog, names: readonly string[], externalIds: LoggedTable['external'], jumps: readonly [string, SourceSpan][]): ChainIndex {
  const counts = new Int32Array(names.length);
  const order: number[] = [];
  const declLines: number[] = [];
  const builder = new LineBuilder(text, reader, log, names);
  for (let i = 0; i < log.length; i++) {
    const kind = log.kind(i);
    if (kind === LINE.rule) {
      const c = log.chain(i);
      if (counts[c]++ === 0) order.push(c);
    } else if (kind === LINE.chain) declLines.push(i);
  }
  const declared = declLines.map((i) => names[log.chain(i)]);
  // Each chain's rule lines, chain after chain in `order` (a counting sort of the log).
  const first = new Int32Array(names.length);
  let total = 0;
  for (const c of order) {
    first[c] = total;
    total += counts[c];
  }
  const lines = new Int32Array(total);
  const fill = first.slice();
  for (let i = 0; i < log.length; i++) if (log.kind(i) === LINE.rule) lines[fill[log.chain(i)]++] = i;
  const external: string[] = [];
  for (const c of order) if (externalIds.has(names[c])) external.push(names[c]);
  // A line's span as the built rule or declaration holds it: the whole line, its CR included.
  const lineSpan = (i: number): SourceSpan => {
    const start = log.start(i);
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    return { line: log.lineNo(i), col: 1, offset: start, length: nl - start };
  };
  // One TargetName per target a plan keeps, and per chain jumped or gone to: a chain's targets are
  // read once per analysis, and a 10k-service dump has 400k of them.
  const keptTargets = new Map<PlanTarget, TargetName>();
  const calls: TargetName[] = [];
  const gotos: TargetName[] = [];
  const rule = (i: number): Rule => {
    const l = builder.line(i);
    if (l.kind !== 'command' || l.command.kind !== 'rule') throw new Error('a rule line of the log is not a rule');
    return l.command;
  };
  return {
    declared,
    decl: (k) => {
      const l = builder.line(declLines[k]);
      if (l.kind !== 'chain') throw new Error('a chain line of the log is not a declaration');
      return l.decl;
    },
    declSpan: (k) => lineSpan(declLines[k]),
    ruleChains: order.map((c) => names[c]),
    count: (k) => counts[order[k]],
    rules: (k) => {
      const c = order[k];
      const out: Rule[] = new Array(counts[c]);
      for (let j = 0; j < out.length; j++) out[j] = rule(lines[first[c] + j]);
      return out;
    },
    // From the lines' plans: a verdict's or an extension's name is in its plan, a chain's is the
    // table's chain of the number the parse logged (a chain not declared before the jump has none:
    // then the rules are built).
    targets: (k) => {
      const c = order[k];
      const out: TargetName[] = new Array(counts[c]);
      for (let j = 0; j < out.length; j++) {
        const i = lines[first[c] + j];
        const plan = log.plans[i];
        if (plan?.kind !== 'rule') return null;
        const t = plan.target;
        if (!t) {
          out[j] = null;
          continue;
        }
        if (t.keptName !== null) {
          let tn = keptTargets.get(t);
          if (tn === undefined) keptTargets.set(t, (tn = { kind: t.kind, name: t.keptName, goto: t.kind === 'chain' && t.goto }));
          out[j] = tn;
          continue;
        }
        const id = t.kind === 'chain' ? log.target(i) : -1;
        if (id < 0) return null;
        const jumps = t.goto ? gotos : calls;
        out[j] = jumps[id] ??= { kind: 'chain', name: names[id], goto: t.goto };
      }
      return out;
    },
    rule: (k, j) => rule(lines[first[order[k]] + j]),
    ruleText: (k, j) => {
      const start = log.start(lines[first[order[k]] + j]);
      const nl = text.indexOf('\n', start);
      return text.slice(start, nl < 0 ? text.length : nl);
    },
    targetValue: (k, j, name) => builder.targetValue(lines[first[order[k]] + j], name),
    matchOption: (k, j, module, name) => builder.matchOption(lines[first[order[k]] + j], module, name),
    matchOptions: (k, j, wanted) => builder.matchOptions(lines[first[order[k]] + j], wanted),
    ruleSpan: (k, j) => lineSpan(lines[first[order[k]] + j]),
    external,
    jumpsBefore: jumps.map(([name, span]) => ({ name, span })),
  };
}

/** Tables the parse made, with their lines' text as written (what rendering them gives). */
const writtenLines = new WeakMap<Table, () => string | null>();

/**
 * The lines between a parsed table's header and its COMMIT as the file has them, while its IR has
 * not been built (nothing can have changed it yet); null for any other table. Every line a parse
 * keeps renders back byte for byte (comments and blank lines, lines with unusual blanks or a CR
 * as written, the rest as words joined by single spaces, which is how they were written), so
 * render-restore.ts prints this instead of building half a million rules to print them back.
 */
export function linesAsWritten(t: Table): string | null {
  return writtenLines.get(t)?.() ?? null;
}

/** The name in `*filter` / `:CHAIN` starts after the sigil. */
function nameSpan(s: SourceSpan, joined: boolean): SourceSpan {
  return joined ? { line: s.line, col: s.col + 1, offset: s.offset + 1, length: s.length - 1 } : s;
}
