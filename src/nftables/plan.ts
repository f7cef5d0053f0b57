// From a unit's shape to a plan: the grammar (grammar.ne) runs once per distinct shape, and its
// result (a tree naming token indices, not values) serves every unit of that shape. A kube-proxy
// ruleset of 10k services has a few dozen shapes, so reading it costs a scan per unit, not a parse.
//
// Rules whose shape does not parse are split into statements the grammar reads and the stretches it
// does not (kept opaque): a rule's statements start with known words (`ip`, `meta`, `counter`,
// `jump`, ...), so the reader tries the longest prefix that parses, then the next start.
import nearley from 'nearley';
import compiledGrammar from './grammar.generated.js';
import { FAMILY_WORDS, KEYWORDS } from './lexer.js';

export type Context = '%TOP' | '%TABLE' | '%CHAIN' | '%SET' | '%ELEM' | '%RULE';

// ---- plan nodes (what grammar.ne's postprocessors build); numbers are shape token indices, -1 none

export type PValue =
  | { readonly v: 'tok'; readonly i: number }
  | { readonly v: 'prefix'; readonly base: number; readonly len: number }
  | { readonly v: 'range'; readonly from: PValue; readonly to: PValue }
  | { readonly v: 'list'; readonly items: readonly PValue[] };

export type PExpr =
  | { readonly e: 'payload'; readonly proto: number; readonly field: number }
  | { readonly e: 'meta'; readonly key: number; readonly bare: boolean }
  | { readonly e: 'ct'; readonly key: number; readonly dir: number; readonly fam: number }
  | { readonly e: 'fib'; readonly flags: readonly number[]; readonly result: number }
  | { readonly e: 'numgen'; readonly mode: number; readonly mod: number; readonly offset: number }
  | { readonly e: 'hash'; readonly fn: number; readonly expr: PExpr | null; readonly mod: number; readonly seed: number; readonly offset: number }
  | { readonly e: 'concat'; readonly parts: readonly PExpr[] }
  | { readonly e: 'binary'; readonly op: number; readonly left: PExpr; readonly right: PExpr }
  | { readonly e: 'masked'; readonly value: PExpr; readonly mask: PExpr }
  | { readonly e: 'value'; readonly v: PValue }
  | { readonly e: 'set'; readonly i: number }
  | { readonly e: 'ref'; readonly i: number }
  | { readonly e: 'map'; readonly key: PExpr; readonly map: PExpr }
  | { readonly e: 'verdict'; readonly verdict: number; readonly chain: number }
  | { readonly e: 'paren'; readonly expr: PExpr };

export type PStmt =
  | { readonly s: 'match'; readonly left: PExpr; readonly op: number; readonly right: PExpr }
  | { readonly s: 'verdict'; readonly verdict: number; readonly chain: number }
  | { readonly s: 'vmap'; readonly key: PExpr; readonly map: PExpr }
  | { readonly s: 'counter'; readonly packets: number; readonly bytes: number }
  | {
      readonly s: 'nat';
      readonly type: number;
      readonly fam: number;
      readonly to: boolean;
      readonly addr: PExpr | null;
      readonly port: PExpr | null;
      readonly bracketed: boolean;
      readonly flags: readonly number[];
    }
  | { readonly s: 'reject'; readonly fam: number; readonly typeWord: number; readonly code: number }
  | { readonly s: 'set'; readonly target: PExpr; readonly value: PExpr }
  | { readonly s: 'update'; readonly op: number; readonly ref: number; readonly set: number }
  | { readonly s: 'log'; readonly opts: readonly { readonly k: number; readonly i: number }[] }
  | { readonly s: 'limit'; readonly over: number; readonly rate: number; readonly unit: number; readonly per: number; readonly burst: { readonly i: number; readonly unit: number } | null }
  | { readonly s: 'comment'; readonly i: number }
  | { readonly s: 'notrack' }
  | { readonly s: 'xt'; readonly type: number; readonly name: number }
  /**
   * A stretch of the rule the grammar does not read: shape tokens first..last, and the token where
   * the grammar gave up in it (the rule's length when the rule ended first: "unexpected newline").
   */
  | { readonly s: 'opaque'; readonly first: number; readonly last: number; readonly failedAt: number };

export interface PTableRef {
  readonly fam: number;
  readonly name: number;
}
export interface PPriority {
  readonly name: number;
  readonly sign: number;
  readonly num: number;
  readonly neg: boolean;
  readonly minus?: number;
}
export type PObject =
  | { readonly o: 'table'; readonly ref: PTableRef; readonly handle: number; readonly body: boolean }
  | { readonly o: 'chain' | 'set' | 'map'; readonly kw: number; readonly ref: PTableRef; readonly name: number; readonly handle: number; readonly body: boolean }
  | { readonly o: 'element'; readonly ref: PTableRef; readonly name: number; readonly set: number }
  | { readonly o: 'rule'; readonly ref: PTableRef; readonly name: number; readonly position: { readonly kw: number; readonly i: number } | null; readonly rule: boolean }
  | { readonly o: 'ruleset'; readonly fam: number }
  | { readonly o: 'object'; readonly kw: readonly number[]; readonly ref: PTableRef; readonly name: number; readonly body: boolean };

export type PElementOption = { readonly k: 'timeout' | 'expires' | 'comment'; readonly i: number } | { readonly k: 'counter'; readonly packets: number; readonly bytes: number };

export type PUnit =
  | { readonly u: 'command'; readonly verb: number; readonly obj: PObject }
  | { readonly u: 'flags'; readonly flags: readonly number[] }
  | { readonly u: 'comment'; readonly i: number }
  | { readonly u: 'decl'; readonly o: 'chain' | 'set' | 'map' | 'object'; readonly kw: number | readonly number[]; readonly name: number }
  | { readonly u: 'hook'; readonly type: number; readonly hook: number; readonly device: number; readonly prio: PPriority }
  | { readonly u: 'policy'; readonly i: number }
  | { readonly u: 'devices'; readonly set: number }
  | { readonly u: 'setType'; readonly key: readonly number[]; readonly data: readonly number[] | null }
  | { readonly u: 'typeof'; readonly key: PExpr; readonly data: PExpr | null }
  | { readonly u: 'timeout' | 'gc-interval'; readonly i: number }
  | { readonly u: 'size'; readonly i: number }
  | { readonly u: 'setPolicy'; readonly i: number }
  | { readonly u: 'counter' | 'auto-merge' }
  | { readonly u: 'elements'; readonly set: number }
  | { readonly u: 'element'; readonly key: PExpr; readonly opts: readonly PElementOption[]; readonly data: PExpr | null }
  | { readonly u: 'rule'; readonly stmts: readonly PStmt[] };

/** A shape the grammar rejects: the index of the offending token (the length: at the end) and what would have fit. */
export interface PlanError {
  readonly error: true;
  readonly at: number;
  readonly expected: readonly string[];
}

// ---- running the grammar

interface ShapeToken {
  readonly type: string;
  readonly value: string;
  readonly i: number;
}

function tokenType(s: string): string {
  if (s.length > 1 && s.charCodeAt(0) === 37 /* % */) return s.slice(1);
  if (FAMILY_WORDS.has(s)) return 'fam';
  if (KEYWORDS.has(s)) return 'kw';
  return 'p';
}

class ArrayLexer {
  private tokens: readonly ShapeToken[] = [];
  private at = 0;
  load(tokens: readonly ShapeToken[]): void {
    this.tokens = tokens;
  }
  reset(): void {
    this.at = 0;
  }
  next(): ShapeToken | undefined {
    return this.tokens[this.at++];
  }
  save(): object {
    return {};
  }
  formatError(_t: ShapeToken, message: string): string {
    return message;
  }
  has(): boolean {
    return true;
  }
}

const arrayLexer = new ArrayLexer();
const grammar = nearley.Grammar.fromCompiled({ ...(compiledGrammar as unknown as nearley.CompiledRules), Lexer: arrayLexer as unknown as nearley.Lexer });

/** Runs the grammar on a context marker and shape words; the first (and in practice only) parse, or where it failed. */
function runGrammar(context: Context, shape: readonly string[]): unknown | PlanError {
  const r = parseAll(context, shape);
  return Array.isArray(r) ? r[0] : r;
}

function parseAll(context: Context, shape: readonly string[]): unknown[] | PlanError {
  const tokens: ShapeToken[] = [{ type: 'ctx', value: context, i: -1 }];
  for (let i = 0; i < shape.length; i++) tokens.push({ type: tokenType(shape[i]), value: shape[i], i });
  arrayLexer.load(tokens);
  const parser = new nearley.Parser(grammar);
  try {
    parser.feed('');
  } catch (e) {
    const err = e as { offset?: number };
    const at = (err.offset ?? 1) - 1;
    return { error: true, at: Math.max(0, at), expected: expectedAt(parser, err.offset ?? 0) };
  }
  if (parser.results.length === 0) return { error: true, at: shape.length, expected: expectedAt(parser, parser.current) };
  return parser.results;
}

/**
 * For tests: every shape planned so far, with how many parses the grammar has for it (1 for an
 * unambiguous grammar; 0 for rules read in pieces and for shapes that are errors).
 */
export function plannedShapes(): { context: Context; shape: string[]; parses: number }[] {
  return [...cache.keys()].map((key) => {
    const [context, ...shape] = key.split(' ').filter((w) => w !== '');
    const r = parseAll(context as Context, shape);
    return { context: context as Context, shape, parses: Array.isArray(r) ? r.length : 0 };
  });
}

/** The terminals the parser could have read at a column: for "expecting X" when there is one. */
function expectedAt(parser: nearley.Parser, column: number): string[] {
  const col = (parser as unknown as { table: { scannable?: { rule: { symbols: unknown[] }; dot: number }[] }[] }).table[column];
  const out = new Set<string>();
  for (const st of col?.scannable ?? []) {
    const sym = st.rule.symbols[st.dot] as { literal?: string; type?: string };
    if (sym.literal !== undefined) out.add(sym.literal);
    else if (sym.type !== undefined) out.add(`%${sym.type}`);
  }
  return [...out];
}

export function isPlanError(p: unknown): p is PlanError {
  return typeof p === 'object' && p !== null && (p as PlanError).error === true;
}

const cache = new Map<string, PUnit | PlanError>();
const MAX_CACHE = 50_000;

/** The plan of a unit shape in a context, cached by shape. */
export function planFor(context: Context, shape: readonly string[]): PUnit | PlanError {
  const key = context + ' ' + shape.join(' ');
  let plan = cache.get(key);
  if (plan === undefined) {
    plan = context === '%RULE' ? planRule(shape) : (runGrammar(context, shape) as PUnit | PlanError);
    if (cache.size >= MAX_CACHE) cache.clear();
    cache.set(key, plan);
  }
  return plan;
}

/** Words a rule's statements start with (grammar.ne `stmt` and `lhsPrimary`). */
const STATEMENT_STARTS: ReadonlySet<string> = new Set([
  'ip', 'ip6', 'tcp', 'udp', 'udplite', 'sctp', 'dccp', 'th', 'icmp', 'icmpv6', 'igmp', 'ether', 'vlan', 'arp', 'ah', 'esp', 'comp',
  'meta', 'mark', 'iif', 'iifname', 'iiftype', 'oif', 'oifname', 'oiftype', 'skuid', 'skgid', 'nftrace', 'rtclassid', 'pkttype', 'cpu',
  'iifgroup', 'oifgroup', 'cgroup', 'ct', 'fib', 'numgen', 'jhash', 'symhash', 'accept', 'drop', 'continue', 'return', 'jump', 'goto',
  'queue', 'counter', 'snat', 'dnat', 'masquerade', 'redirect', 'reject', 'update', 'add', 'delete', 'log', 'limit', 'comment', 'notrack',
  'xt', 'quota', 'synproxy',
]);

/** Rules longer than this are not split when they do not parse: bounded work on hostile input. */
const MAX_RECOVERY_TOKENS = 200;

/**
 * A rule's plan: the grammar's when the whole shape parses, else statements the grammar reads with
 * opaque stretches between them. Never an error: what the grammar does not read is opaque, and
 * build.ts decides whether an opaque stretch is nft the reader does not model or not nft at all.
 */
function planRule(shape: readonly string[]): PUnit {
  const whole = runGrammar('%RULE', shape);
  if (!isPlanError(whole)) return whole as PUnit;
  if (shape.length > MAX_RECOVERY_TOKENS) return { u: 'rule', stmts: [{ s: 'opaque', first: 0, last: shape.length - 1, failedAt: (whole as PlanError).at }] };
  const stmts: PStmt[] = [];
  let pos = 0;
  while (pos < shape.length) {
    const tail = shape.slice(pos);
    const r = longestPrefix(tail);
    if (r.prefix) stmts.push(...shift(r.prefix.stmts, pos));
    if (r.taken === tail.length) break;
    // Then an opaque stretch up to the next statement start.
    let next = r.taken + 1;
    while (next < tail.length && !STATEMENT_STARTS.has(tail[next])) next++;
    stmts.push({ s: 'opaque', first: pos + r.taken, last: pos + next - 1, failedAt: pos + Math.min(Math.max(r.failedAt, r.taken), tail.length) });
    pos += next;
  }
  return { u: 'rule', stmts: mergeOpaque(stmts) };
}

/**
 * One incremental run of the grammar over a rule's shape: the longest prefix that is a whole rule
 * (statements end to end) with its plan, and where the grammar gave up (the length when it read
 * everything). nearley keeps its chart between feeds, so this is one pass, not one per prefix.
 */
function longestPrefix(shape: readonly string[]): { taken: number; prefix: { stmts: PStmt[] } | null; failedAt: number } {
  const parser = new nearley.Parser(grammar);
  let taken = 0;
  let prefix: { stmts: PStmt[] } | null = null;
  const feed = (t: ShapeToken): boolean => {
    arrayLexer.load([t]);
    try {
      parser.feed('');
      return true;
    } catch {
      return false;
    }
  };
  feed({ type: 'ctx', value: '%RULE', i: -1 });
  for (let i = 0; i < shape.length; i++) {
    if (!feed({ type: tokenType(shape[i]), value: shape[i], i })) return { taken, prefix, failedAt: i };
    if (parser.results.length > 0) {
      taken = i + 1;
      prefix = parser.results[0] as { stmts: PStmt[] };
    }
  }
  return { taken, prefix, failedAt: shape.length };
}

/** Adjacent opaque stretches are one. */
function mergeOpaque(stmts: PStmt[]): PStmt[] {
  const out: PStmt[] = [];
  for (const s of stmts) {
    const prev = out[out.length - 1];
    if (s.s === 'opaque' && prev?.s === 'opaque' && prev.last + 1 === s.first) out[out.length - 1] = { ...prev, last: s.last };
    else out.push(s);
  }
  return out;
}

/** Plans of a sub-shape, with token indices moved by `by` (the sub-shape started there). */
function shift(stmts: readonly PStmt[], by: number): PStmt[] {
  if (by === 0) return [...stmts];
  return stmts.map((s) => shiftNode(s, by) as PStmt);
}

/** Index fields of plan nodes: every number in these keys is a token index. */
const INDEX_KEYS = new Set(['failedAt', 'i', 'proto', 'field', 'key', 'dir', 'fam', 'result', 'mode', 'mod', 'offset', 'fn', 'seed', 'op', 'verdict', 'chain', 'packets', 'bytes', 'type', 'typeWord', 'code', 'ref', 'set', 'k', 'over', 'rate', 'unit', 'per', 'name', 'base', 'len', 'first', 'last', 'flags', 'minus', 'num', 'sign']);

function shiftNode(node: unknown, by: number): unknown {
  if (Array.isArray(node)) return node.map((x) => shiftNode(x, by));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === 'number' && INDEX_KEYS.has(k)) out[k] = v < 0 ? v : v + by;
    else if (k === 'flags' && Array.isArray(v)) out[k] = v.map((x: unknown) => (typeof x === 'number' ? x + by : shiftNode(x, by)));
    else out[k] = shiftNode(v, by);
  }
  return out;
}
