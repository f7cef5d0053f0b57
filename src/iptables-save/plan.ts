// From a line's shape to a plan: which word is what. The grammar (grammar.ne) parses the shape;
// the vocabulary (spec.ts) then says which module each option belongs to, how many values it
// takes and whether `!` may go with it. Plans depend only on the shape (and the family), so they
// are made once and reused for every line of that shape (planFor caches them).
import nearley from 'nearley';
import type { Family, Negation, RuleOp } from '../iptables/ir.js';
import { IPPROTO, protocolNumber } from '../net/index.js';
import type { IptCode } from './codes.js';
import compiledGrammar from './grammar.generated.js';
import { SHAPE_PART, shapeLexer } from './lexer.js';
import {
  BUILTIN,
  BUILTIN_VERDICTS,
  MATCH_MODULES,
  PROTOCOL_MATCHES,
  TARGET_MODULES,
  optionBySpelling,
  type ModuleSpec,
  type OptionSpec,
  type ValueKind,
} from './spec.js';
import { quickCheckOf, type QuickCheck } from './quick-check.js';

export interface PlanValue extends QuickCheck {
  readonly word: number;
  readonly kind: ValueKind;
  /** `module.option`, for word lists checked per option (check-words.ts). */
  readonly key: string;
  readonly index: number;
}

export interface PlanOption {
  readonly kind: 'option';
  readonly module: string | null;
  readonly name: string;
  readonly negation: Negation;
  readonly spellingWord: number;
  /** The option as written (a shape keeps every option word as it is). */
  readonly spelling: string;
  readonly first: number;
  readonly last: number;
  readonly values: readonly PlanValue[];
}

export interface PlanModule {
  readonly kind: 'module';
  readonly nameWord: number;
  readonly first: number;
  /** The module's name and `-m` / `--match`, as written. */
  readonly name: string;
  readonly spelling: string;
}

export interface PlanOpaque {
  readonly kind: 'opaque';
  readonly module: string | null;
  readonly first: number;
  readonly last: number;
}

export type PlanArg = PlanOption | PlanModule | PlanOpaque;

export interface PlanTarget {
  readonly kind: 'verdict' | 'chain' | 'extension' | 'opaque';
  readonly goto: boolean;
  readonly spellingWord: number;
  readonly nameWord: number;
  /** `-j`, `--jump`, `-g` or `--goto` as written. */
  readonly spelling: string;
  /** The target's name when the shape keeps it (verdicts, extensions); null for a chain's, a value. */
  readonly keptName: string | null;
  readonly options: readonly PlanOption[];
  /** For opaque targets: the words after the name that belong to it (first..last), or -1. */
  readonly opaqueFirst: number;
  readonly opaqueLast: number;
  /** The number of args written before `-j`. */
  readonly argsBefore: number;
}

export interface PlanProblem {
  readonly code: IptCode;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly first: number;
  readonly last: number;
  /** Reported only in strict mode (unknown modules and targets). */
  readonly strictOnly?: boolean;
}

export type Plan =
  | { readonly kind: 'table'; readonly nameWord: number; readonly joined: boolean }
  | { readonly kind: 'chain'; readonly nameWord: number; readonly joined: boolean; readonly policyWord: number; readonly countersWord: number }
  | { readonly kind: 'commit'; readonly extra: number }
  | {
      readonly kind: 'rule';
      readonly op: RuleOp;
      readonly opWord: number;
      readonly countersWord: number;
      readonly chainWord: number;
      readonly positionWord: number;
      readonly args: readonly PlanArg[];
      readonly target: PlanTarget | null;
      readonly problems: readonly PlanProblem[];
      /** Args written between the target's own words: the IR cannot keep that order. */
      readonly interleaved: boolean;
      /** Every value to read, in the order its problems are reported: the args', then the target's. */
      readonly values: readonly PlanValue[];
    }
  | {
      readonly kind: 'chainCommand';
      readonly op: 'N' | 'X' | 'F' | 'Z' | 'P';
      readonly chainWord: number;
      readonly policyWord: number;
      readonly countersWord: number;
    }
  | { readonly kind: 'syntax'; readonly word: number; readonly message: string };

// ---------------------------------------------------------------------------------------------
// running the grammar on a shape

interface Tok {
  readonly offset: number;
  readonly text: string;
}

type GItem =
  | { kind: 'option'; bang: Tok | null; infix: boolean; option: Tok; values: Tok[] }
  | { kind: 'match'; keyword: Tok; name: Tok }
  | { kind: 'jump'; keyword: Tok; name: Tok }
  | { kind: 'goto'; keyword: Tok; name: Tok };

type GLine =
  | { kind: 'table'; name: Tok }
  | { kind: 'chain'; name: Tok; policy: Tok; counters: Tok | null }
  | { kind: 'commit' }
  | { kind: 'rule'; op: RuleOp; counters: Tok | null; chain: Tok; position: Tok | null; items: GItem[] }
  | { kind: 'chainCommand'; op: 'N' | 'X' | 'F' | 'Z' | 'P'; chain: Tok | null; policy: Tok | null; counters: Tok | null };

const grammar = nearley.Grammar.fromCompiled(compiledGrammar as unknown as nearley.CompiledRules);
grammar.lexer = shapeLexer as unknown as nearley.Lexer;

/** Which word each shape token stands for (`*filter` is two shape tokens for one word). */
function wordIndexer(key: string): (tok: Tok) => number {
  const byOffset = new Map<number, number>();
  let word = 0;
  let offset = 0;
  const parts = key.split(' ');
  for (let i = 0; i < parts.length; i++) {
    if (i === 1 && parts[1] === SHAPE_PART) word--; // same word as the `*` or `:`
    byOffset.set(offset, word);
    offset += parts[i].length + 1;
    word++;
  }
  return (tok) => byOffset.get(tok.offset) ?? 0;
}

const KIND_WORDS: Readonly<Record<string, string>> = {
  '%V': 'a value',
  '%Q': 'a quoted value',
  '%C': '[packets:bytes]',
  '%N': 'a name',
};

function describe(text: string): string {
  if (KIND_WORDS[text]) return KIND_WORDS[text];
  if (text.startsWith('%P')) return 'a protocol';
  if (text.startsWith('@')) return `'${text.slice(1)}'`;
  return `'${text}'`;
}

/** What the grammar could have taken at the point where it stopped, in words. */
function expectedAt(parser: nearley.Parser): string {
  const table = (parser as unknown as { table: { states: { rule: { symbols: unknown[] }; dot: number }[] }[] }).table;
  const column = table[table.length - 1];
  const seen = new Set<string>();
  for (const st of column?.states ?? []) {
    const sym = st.rule.symbols[st.dot] as { type?: string } | string | undefined;
    if (sym && typeof sym === 'object' && sym.type) seen.add(sym.type);
  }
  const names: Record<string, string> = {
    value: 'a value',
    quoted: 'a quoted value',
    option: 'an option',
    bang: "'!'",
    match: "'-m'",
    jump: "'-j'",
    goto: "'-g'",
    name: 'a module or target name',
    counters: '[packets:bytes]',
    append: "'-A'",
    part: 'a name',
  };
  const list = [...seen].map((t) => names[t] ?? `'${t}'`);
  return list.length ? list.slice(0, 6).join(', ') : 'the end of the line';
}

function runGrammar(key: string): GLine | { error: Tok; expected: string } {
  const parser = new nearley.Parser(grammar);
  try {
    parser.feed(key);
  } catch (e) {
    const tok = (e as { token?: Tok }).token ?? { offset: 0, text: '' };
    return { error: tok, expected: expectedAt(parser) };
  }
  if (parser.results.length === 0) return { error: { offset: key.length, text: '' }, expected: expectedAt(parser) };
  return parser.results[0] as GLine;
}

// ---------------------------------------------------------------------------------------------
// planning

const cache: Record<Family, Map<string, Plan>> = { ipv4: new Map(), ipv6: new Map() };

export function planFor(key: string, family: Family): Plan {
  const c = cache[family];
  let plan = c.get(key);
  if (!plan) {
    plan = makePlan(key, family);
    c.set(key, plan);
  }
  return plan;
}

/** How many distinct shapes have been planned (for the benchmark). */
export function plannedShapes(): number {
  return cache.ipv4.size + cache.ipv6.size;
}

function makePlan(key: string, family: Family): Plan {
  const g = runGrammar(key);
  const w = wordIndexer(key);
  if ('error' in g) {
    const word = g.error.offset >= key.length ? -1 : w(g.error);
    const found = g.error.text ? describe(g.error.text) : 'the end of the line';
    return { kind: 'syntax', word, message: `expected ${g.expected}, found ${found}` };
  }
  switch (g.kind) {
    case 'table':
      return { kind: 'table', nameWord: w(g.name), joined: g.name.text === SHAPE_PART };
    case 'chain':
      return { kind: 'chain', nameWord: w(g.name), joined: g.name.text === SHAPE_PART, policyWord: w(g.policy), countersWord: g.counters ? w(g.counters) : -1 };
    case 'commit':
      return { kind: 'commit', extra: -1 };
    case 'chainCommand':
      return {
        kind: 'chainCommand',
        op: g.op,
        chainWord: g.chain ? w(g.chain) : -1,
        policyWord: g.policy ? w(g.policy) : -1,
        countersWord: g.counters ? w(g.counters) : -1,
      };
    case 'rule':
      return planRule(g, w, family);
  }
}

interface Loaded {
  readonly name: string;
  readonly spec: ModuleSpec | null;
}

/** The match module `-p PROTO` loads when one of its options follows without `-m`. */
function protocolModule(protoText: string, family: Family): string | null {
  const p = protoText.toLowerCase();
  switch (protocolNumber(p) ?? (/^[0-9]+$/.test(p) ? Number(p) : null)) {
    case IPPROTO.TCP:
      return 'tcp';
    case IPPROTO.UDP:
      return 'udp';
    case IPPROTO.SCTP:
      return 'sctp';
    case IPPROTO.ICMP:
      return family === 'ipv4' ? 'icmp' : null;
    case IPPROTO.ICMPV6:
      return family === 'ipv6' ? 'icmp6' : null;
    default:
      return null;
  }
}

function planRule(g: Extract<GLine, { kind: 'rule' }>, w: (t: Tok) => number, family: Family): Plan {
  const args: PlanArg[] = [];
  const problems: PlanProblem[] = [];
  const loaded: Loaded[] = [];
  const seenBuiltins = new Set<string>();
  let target: PlanTarget | null = null;
  let targetOptions: PlanOption[] = [];
  let targetSpec: ModuleSpec | null = null;
  let opaqueTarget = false;
  let protocol: string | null = null;
  let protocolNegated = false;
  let implicitUsed = false;
  const problem = (code: IptCode, message: string, first: number, last = first, severity: 'error' | 'warning' = 'error', strictOnly = false) =>
    problems.push({ code, message, first, last, severity, strictOnly });

  if (g.op === 'A' && g.position) problem('IPT_UNEXPECTED_ARGUMENT', `-A takes no rule number`, w(g.position));

  for (const item of g.items) {
    if (item.kind === 'match') {
      const name = item.name.text.slice(1);
      const spec = MATCH_MODULES.get(name) ?? null;
      if (spec?.family && spec.family !== family) problem('IPT_WRONG_FAMILY', `match '${name}' exists only for ${spec.family === 'ipv4' ? 'iptables' : 'ip6tables'}`, w(item.name));
      else if (!spec) problem('IPT_UNKNOWN_MODULE', `match module '${name}' is not modelled; its options are kept as written`, w(item.name), w(item.name), 'error', true);
      loaded.push({ name, spec });
      args.push({ kind: 'module', nameWord: w(item.name), first: w(item.keyword), name, spelling: item.keyword.text });
      continue;
    }
    if (item.kind === 'jump' || item.kind === 'goto') {
      const nameWord = w(item.name);
      if (target) {
        problem('IPT_DUPLICATE_OPTION', 'a rule has one target; this is the second', w(item.keyword), nameWord);
        args.push({ kind: 'opaque', module: null, first: w(item.keyword), last: nameWord });
        continue;
      }
      const kept = item.name.text.startsWith('@') ? item.name.text.slice(1) : null;
      let kind: PlanTarget['kind'] = 'chain';
      if (item.kind === 'jump' && kept !== null) {
        if (BUILTIN_VERDICTS.has(kept)) kind = 'verdict';
        else if (TARGET_MODULES.has(kept)) {
          kind = 'extension';
          targetSpec = TARGET_MODULES.get(kept)!;
          if (targetSpec.family && targetSpec.family !== family) problem('IPT_WRONG_FAMILY', `target '${kept}' exists only for ${targetSpec.family}`, nameWord);
        } else {
          kind = 'opaque';
          opaqueTarget = true;
          problem('IPT_UNKNOWN_TARGET', `target '${kept}' is not modelled; its options are kept as written`, nameWord, nameWord, 'error', true);
        }
      }
      target = {
        kind,
        goto: item.kind === 'goto',
        spellingWord: w(item.keyword),
        nameWord,
        spelling: item.keyword.text,
        keptName: kept,
        options: [],
        opaqueFirst: -1,
        opaqueLast: -1,
        argsBefore: args.length,
      };
      continue;
    }

    // an option
    const optWord = w(item.option);
    const spelling = item.option.text;
    const first = item.bang && !item.infix ? w(item.bang) : optWord;
    const valueWords = item.values.map(w);
    const last = valueWords.length ? valueWords[valueWords.length - 1] : item.bang && item.infix ? w(item.bang) : optWord;
    const negation: Negation = item.bang ? (item.infix ? 'infix' : 'prefix') : 'none';

    let owner: string | null = null;
    let spec: OptionSpec | undefined = optionBySpelling(BUILTIN, spelling);
    let opaqueOwner: string | null = null;
    if (spec) {
      if (seenBuiltins.has(spec.name)) problem('IPT_DUPLICATE_OPTION', `${spelling} is given twice`, first, last);
      seenBuiltins.add(spec.name);
      if (spec.name === 'fragment' && family === 'ipv6') problem('IPT_WRONG_FAMILY', '-f exists only for iptables (IPv4)', first);
      if (spec.name === 'protocol' && item.values[0]?.text.startsWith('%P')) {
        protocol = item.values[0].text.slice(2);
        protocolNegated = negation !== 'none';
      }
    } else {
      if (targetSpec && !opaqueTarget) {
        spec = optionBySpelling(targetSpec, spelling);
        if (spec) owner = targetSpec.name;
      }
      for (let i = loaded.length - 1; i >= 0 && !spec; i--) {
        const m = loaded[i];
        if (m.spec) {
          spec = optionBySpelling(m.spec, spelling);
          if (spec) owner = m.name;
        }
      }
      if (!spec && protocol && !protocolNegated && !implicitUsed) {
        const pm = protocolModule(protocol, family);
        const pspec = pm ? MATCH_MODULES.get(pm) : undefined;
        if (pm && pspec && PROTOCOL_MATCHES.has(pm)) {
          spec = optionBySpelling(pspec, spelling);
          if (spec) {
            owner = pm;
            implicitUsed = true;
            loaded.push({ name: pm, spec: pspec });
          }
        }
      }
      if (!spec) {
        if (target?.kind === 'chain' && !target.goto && targetOptions.length === 0) {
          // `-j NAME --opt ...` with NAME not known: an extension target we do not model.
          target = { ...target, kind: 'opaque' };
          opaqueTarget = true;
          problem('IPT_UNKNOWN_TARGET', `target is not modelled; its options are kept as written`, target.nameWord, target.nameWord, 'error', true);
        }
        if (target && opaqueTarget) opaqueOwner = '\0target';
        else {
          for (let i = loaded.length - 1; i >= 0; i--) {
            if (!loaded[i].spec) {
              opaqueOwner = loaded[i].name;
              break;
            }
          }
        }
      }
    }

    if (!spec) {
      if (opaqueOwner === '\0target') {
        target = { ...target!, opaqueFirst: target!.opaqueFirst < 0 ? first : target!.opaqueFirst, opaqueLast: last };
      } else if (opaqueOwner !== null) {
        args.push({ kind: 'opaque', module: opaqueOwner, first, last });
      } else {
        problem('IPT_UNKNOWN_OPTION', `no loaded module takes ${spelling}${loaded.length ? ` (loaded: ${loaded.map((l) => l.name).join(', ')})` : ''}`, optWord);
        args.push({ kind: 'opaque', module: null, first, last });
      }
      continue;
    }

    if (negation !== 'none' && !spec.negatable) problem('IPT_BAD_NEGATION', `${spelling} cannot be negated with '!'`, w(item.bang!));
    const want = spec.args.length;
    const key = `${owner ?? ''}.${spec.name}`;
    const values: PlanValue[] = [];
    for (let i = 0; i < Math.min(want, valueWords.length); i++) {
      values.push({ word: valueWords[i], kind: spec.args[i], key, index: i, ...quickCheckOf(spec.args[i], key, i, family) });
    }
    const optLast = values.length ? values[values.length - 1].word : negation === 'infix' ? w(item.bang!) : optWord;
    if (valueWords.length < want) {
      problem('IPT_MISSING_VALUE', `${spelling} needs ${want === 1 ? 'a value' : `${want} values`} (${spec.args.join(', ')})`, optWord, optLast);
    }
    const opt: PlanOption = { kind: 'option', module: owner, name: spec.name, negation, spellingWord: optWord, spelling, first, last: optLast, values };
    if (owner !== null && targetSpec && owner === targetSpec.name) targetOptions.push(opt);
    else args.push(opt);
    if (valueWords.length > want) {
      const extra = valueWords[want];
      const hint = spec.args.includes('string') ? '; a value with blanks needs double quotes' : '';
      problem('IPT_UNEXPECTED_ARGUMENT', `unexpected word after ${spelling}${want ? ' and its value' : ''}${hint}`, extra, valueWords[valueWords.length - 1]);
      args.push({ kind: 'opaque', module: null, first: extra, last: valueWords[valueWords.length - 1] });
    }
  }
  if (target) target = { ...target, options: targetOptions };
  const t = target as PlanTarget | null;
  const targetLast = t ? Math.max(t.nameWord, t.opaqueLast, ...targetOptions.map((o) => o.last)) : -1;
  const interleaved = t !== null && args.some((a) => a.first > t.spellingWord && a.first < targetLast);
  const values = args.flatMap((a) => (a.kind === 'option' ? a.values : []));
  if (t?.kind === 'extension') values.push(...t.options.flatMap((o) => o.values));
  return {
    interleaved,
    values,
    kind: 'rule',
    op: g.op,
    opWord: g.counters ? 1 : 0,
    countersWord: g.counters ? w(g.counters) : -1,
    chainWord: w(g.chain),
    positionWord: g.position ? w(g.position) : -1,
    args,
    target,
    problems,
  };
}
