// From plans to typed IR: values, expressions, statements, rules and set elements. Every value is
// read here, against the type of the expression it is compared with or stored into (datatypes.ts),
// and every problem is reported with nft's wording at the token's position; the IR is built anyway
// (with what could be read), so the reader carries on.
import type { Diagnostic } from '../diag/diagnostic.js';
import type { NftCode } from './codes.js';
import {
  BITMASK_TYPES,
  CT_DIRECTION_KEYS,
  CT_KEYS,
  DATATYPE_DESCRIPTIONS,
  hasSymbols,
  META_KEYS,
  PAYLOAD_FIELDS,
  symbolValue,
  unknownSymbolMessage,
  type DataType,
} from './datatypes.js';
import type {
  BinaryOp,
  ElementOption,
  Expr,
  LogOption,
  NftFamily,
  NumberValue,
  RelOp,
  Rule,
  SetElement,
  SetExpr,
  SetRefExpr,
  Span,
  Stmt,
  StringValue,
  TimeValue,
  Value,
  Verdict,
} from './ir.js';
import type { Tok } from './lexer.js';
import { isPlanError, planFor, type PElementOption, type PExpr, type PStmt, type PUnit, type PValue } from './plan.js';
import { elementRanges, unitOf, type Unit } from './unit.js';
import { maskIp, MAX_PORT, parseIPv6 } from '../net/index.js';
import { parseNftIPv4, parseTime, parseUnsigned } from './values.js';

/** Types whose names come from the host nft runs on, not from nft: an unknown one is not an error. */
const OPEN_SYMBOL_TYPES: ReadonlySet<DataType> = new Set(['inet_service', 'ether_type']);

/** The most words (set literals folded to one) a unit may have: real rules have a few dozen. */
export const MAX_SHAPE = 2000;

/** Types of a key or data: one per concatenated part; null where kpsim does not know it. */
export type Types = readonly (DataType | null)[] | null;

/**
 * Words of nft's statements and expressions that kpsim does not model (nft(8): queue, tproxy, dup,
 * fwd, meters and flowtables, synproxy, osf, socket, rt, ipsec, extension headers and TCP/IP
 * options, quota and named objects, tunnels). An opaque stretch that starts with one, or whose
 * second word is one (`ip6 hbh ...`, `tcp option ...`, `counter name "x"`), is valid nft kept as
 * written (a warning); any other stretch is not nft (an error, where the grammar stopped).
 */
const UNMODELLED_WORDS: ReadonlySet<string> = new Set([
  'queue', 'tproxy', 'dup', 'fwd', 'meter', 'flow', 'synproxy', 'osf', 'socket', 'rt', 'ipsec', 'exthdr', 'quota', 'last',
  'secmark', 'hbh', 'rt0', 'rt2', 'srh', 'frag', 'dst', 'mh', 'option', 'name', 'inner', 'vxlan', 'geneve', 'gre', 'gretap',
  'tunnel', 'objref', 'sctp', 'chunk', 'dccp', 'ah', 'esp', 'comp', 'cgroupv2', 'level', 'rate', 'mark', 'helper', 'timeout',
  'expectation', 'count', 'zone', 'label', 'event',
]);

const REL_OPS: Readonly<Record<string, RelOp>> = { '==': 'eq', eq: 'eq', '!=': 'ne', ne: 'ne', '<': 'lt', lt: 'lt', '>': 'gt', gt: 'gt', '<=': 'le', le: 'le', '>=': 'ge', ge: 'ge' };
const BINARY_OPS: Readonly<Record<string, BinaryOp>> = { '&': 'and', and: 'and', '|': 'or', or: 'or', '^': 'xor', xor: 'xor', '<<': 'lshift', lshift: 'lshift', '>>': 'rshift', rshift: 'rshift' };

export class ExprBuilder {
  constructor(
    readonly text: string,
    readonly file: string,
    readonly diagnostics: Diagnostic[],
  ) {}

  span(t: Tok): Span {
    return { line: t.line, col: t.col, offset: t.offset, length: t.text.length };
  }

  rangeSpan(a: Tok, b: Tok): Span {
    return { line: a.line, col: a.col, offset: a.offset, length: b.offset + b.text.length - a.offset };
  }

  report(code: NftCode, message: string, span: Span | null, severity: 'error' | 'warning' = 'error'): void {
    this.diagnostics.push({ severity, code, message, file: this.file, span });
  }

  /**
   * A unit longer than any nft statement (MAX_SHAPE words once set literals are folded) is not
   * planned: reported, and kept as written. Bounded work on hostile input.
   */
  tooLong(u: Unit): boolean {
    if (u.shape.length <= MAX_SHAPE) return false;
    const a = u.toks[u.first[0]];
    this.report('NFT_TOO_LONG', `a statement of ${u.shape.length} words; kpsim reads at most ${MAX_SHAPE}`, { line: a.line, col: a.col, offset: a.offset, length: a.text.length });
    return true;
  }

  // ---- tokens of a unit by shape index

  tok(u: Unit, i: number): Tok {
    return u.toks[u.first[i]];
  }

  word(u: Unit, i: number): string {
    return u.toks[u.first[i]].text;
  }

  /** A name (table, chain, set): a word, or a quoted string's contents. */
  name(u: Unit, i: number): string {
    const t = this.tok(u, i);
    return t.type === 'string' ? t.text.slice(1, -1) : t.text;
  }

  number(u: Unit, i: number, what = 'number'): NumberValue {
    const t = this.tok(u, i);
    const v = parseUnsigned(t.text);
    if (v === null) this.report('NFT_BAD_NUMBER', `'${t.text}' is not a ${what} kpsim can read`, this.span(t));
    return { kind: 'number', text: t.text, value: v ?? 0 };
  }

  numberOrNull(u: Unit, i: number): NumberValue | null {
    return i < 0 ? null : this.number(u, i);
  }

  stringValue(u: Unit, i: number, wildcardable = false): StringValue {
    const t = this.tok(u, i);
    const quoted = t.type === 'string';
    const value = quoted ? t.text.slice(1, -1) : t.text;
    return { kind: 'string', text: t.text, value, quoted, wildcard: wildcardable && value.endsWith('*') };
  }

  time(u: Unit, i: number): TimeValue | NumberValue {
    const t = this.tok(u, i);
    if (t.type === 'number') return this.number(u, i);
    const ms = parseTime(t.text);
    if (ms === null) this.report('NFT_BAD_TIME', `'${t.text}' is not a time: units go d, h, m, s, ms, each at most once`, this.span(t));
    return { kind: 'time', text: t.text, ms: ms ?? 0 };
  }

  // ---- values

  value(u: Unit, p: PValue, type: DataType | null): Value {
    switch (p.v) {
      case 'tok':
        return this.tokenValue(u, p.i, type);
      case 'prefix': {
        const baseTok = this.tok(u, p.base);
        const base = this.tokenValue(u, p.base, type) as Value;
        const lenTok = this.tok(u, p.len);
        const length = parseUnsigned(lenTok.text) ?? -1;
        const bits = baseTok.type === 'ipv6' ? 128 : 32;
        if (length < 0 || length > bits) {
          this.report('NFT_BAD_PREFIX', `Prefix length ${lenTok.text} is invalid for type of ${bits} bits width`, this.rangeSpan(baseTok, lenTok));
        }
        if (base.kind !== 'ipv4' && base.kind !== 'ipv6') return base;
        const len = Math.max(0, Math.min(length, bits));
        const network = maskIp(base.address, len, base.kind);
        return { kind: 'prefix', base, lengthText: lenTok.text, length: len, network };
      }
      case 'range': {
        const from = this.value(u, p.from, type);
        const to = this.value(u, p.to, type);
        const a = scalar(from);
        const b = scalar(to);
        if (a !== null && b !== null && typeof a === typeof b && a > b) {
          const first = this.tok(u, firstIndex(p));
          const last = this.tok(u, lastIndex(p));
          this.report('NFT_BAD_VALUE', 'Range has zero or negative size', this.rangeSpan(first, last));
        }
        return { kind: 'range', from, to };
      }
      case 'list': {
        const items = p.items.map((x) => this.value(u, x, type));
        let value: number | null = null;
        if (type && BITMASK_TYPES.has(type)) {
          value = 0;
          for (const it of items) value = it.kind === 'symbol' && it.value !== null ? value | it.value : it.kind === 'number' ? value | it.value : value;
        }
        return { kind: 'list', items, value };
      }
    }
  }

  /** One token as a value of `type`. */
  tokenValue(u: Unit, i: number, type: DataType | null): Value {
    const t = this.tok(u, i);
    const span = this.span(t);
    switch (t.type) {
      case 'ipv4': {
        const address = parseNftIPv4(t.text);
        if (address === null) this.report('NFT_BAD_ADDRESS', 'Could not resolve hostname: Name or service not known', span);
        else if (type === 'ipv6_addr') this.mismatch(type, 'IPv4 address', span);
        return { kind: 'ipv4', text: t.text, address: address ?? 0 };
      }
      case 'ipv6': {
        const address = parseIPv6(t.text);
        if (address === null) this.report('NFT_BAD_ADDRESS', 'Could not resolve hostname: Name or service not known', span);
        else if (type === 'ipv4_addr') this.report('NFT_BAD_ADDRESS', 'Could not resolve hostname: Address family for hostname not supported', span);
        return { kind: 'ipv6', text: t.text, address: address ?? 0n };
      }
      case 'number':
      case 'hex': {
        const v = parseUnsigned(t.text);
        if (v === null) this.report('NFT_BAD_NUMBER', `Value ${t.text} exceeds the range kpsim reads`, span);
        else if (type === 'inet_service' && v > MAX_PORT) this.report('NFT_BAD_PORT', 'Service out of range', span);
        else if ((type === 'inet_proto' || type === 'nf_proto') && v > 255) this.report('NFT_BAD_NUMBER', `Value ${v} exceeds valid range 0-255`, span);
        else if ((type === 'mark' || type === 'ct_state' || type === 'ct_status') && v > 0xffffffff) {
          this.report('NFT_BAD_NUMBER', `Value ${v} exceeds valid range 0-4294967295`, span);
        } else if (type === 'ipv4_addr' || type === 'ipv6_addr') this.report('NFT_BAD_ADDRESS', 'Could not resolve hostname: Name or service not known', span);
        return { kind: 'number', text: t.text, value: v ?? 0 };
      }
      case 'time': {
        if (type !== null && type !== 'time' && type !== 'integer') this.mismatch(type, 'relative time', span);
        const ms = parseTime(t.text);
        if (ms === null) this.report('NFT_BAD_TIME', `'${t.text}' is not a time: units go d, h, m, s, ms, each at most once`, span);
        return { kind: 'time', text: t.text, ms: ms ?? 0 };
      }
      case 'string':
        if (type === 'ipv4_addr' || type === 'ipv6_addr') this.report('NFT_BAD_ADDRESS', 'Could not resolve hostname: Name or service not known', span);
        return this.stringValue(u, i, type === 'ifname' || type === 'string' || type === null);
      case 'mac':
        return { kind: 'raw', text: t.text };
      case 'variable':
        this.report('NFT_NOT_MODELLED', `variable ${t.text}: kpsim does not read define; the value is unknown`, span, 'warning');
        return { kind: 'variable', text: t.text };
      default:
        break;
    }
    // A word: a name of the type's symbol table, an interface name, or a string.
    if (type === 'ifname' || type === 'iface_index' || type === 'string') return this.stringValue(u, i, type === 'ifname');
    if (type === 'ipv4_addr' || type === 'ipv6_addr') {
      this.report('NFT_BAD_ADDRESS', 'Could not resolve hostname: Name or service not known', span);
      return { kind: 'symbol', text: t.text, value: null };
    }
    if (type !== null && hasSymbols(type)) {
      const v = symbolValue(type, t.text);
      if (v === undefined && OPEN_SYMBOL_TYPES.has(type)) {
        // Names nft looks up on its host (/etc/services): kpsim knows the common ones only.
        this.report('NFT_NOT_MODELLED', `kpsim does not know the ${DATATYPE_DESCRIPTIONS[type]} '${t.text}' (nft reads its host's table); its value is unknown`, span, 'warning');
      } else if (v === undefined) {
        const code: NftCode = type === 'inet_proto' ? 'NFT_BAD_PROTOCOL' : 'NFT_BAD_SYMBOL';
        this.report(code, unknownSymbolMessage(type, t.text), span);
      }
      return { kind: 'symbol', text: t.text, value: v ?? null };
    }
    // Integer fields with names of their own (`ip dscp cs1`, `meta skuid root`): kept, value unknown.
    return { kind: 'symbol', text: t.text, value: null };
  }

  mismatch(expected: DataType, has: string, span: Span): void {
    this.report('NFT_BAD_VALUE', `datatype mismatch, expected ${DATATYPE_DESCRIPTIONS[expected]}, expression has type ${has}`, span);
  }

  // ---- expressions

  /** A left-hand expression (payload, meta, ct, fib, numgen, hash, concatenations, binary ops). */
  lhs(u: Unit, p: PExpr, family: NftFamily): Expr {
    switch (p.e) {
      case 'payload': {
        const protocol = this.word(u, p.proto);
        const field = this.word(u, p.field);
        if (!PAYLOAD_FIELDS[protocol]?.[field]) this.report('NFT_SYNTAX', 'syntax error, unexpected string', this.span(this.tok(u, p.field)));
        return { kind: 'payload', protocol, field };
      }
      case 'meta': {
        const key = this.word(u, p.key);
        if (!META_KEYS[key]) this.report('NFT_SYNTAX', 'syntax error, unexpected string', this.span(this.tok(u, p.key)));
        return { kind: 'meta', key, bare: p.bare };
      }
      case 'ct': {
        const key = this.word(u, p.key);
        const direction = p.dir < 0 ? null : (this.word(u, p.dir) as 'original' | 'reply');
        const fam = p.fam < 0 ? null : (this.word(u, p.fam) as 'ip' | 'ip6');
        if (!(direction ? CT_DIRECTION_KEYS[key] : CT_KEYS[key])) this.report('NFT_SYNTAX', 'syntax error, unexpected string', this.span(this.tok(u, p.key)));
        return { kind: 'ct', key, direction, family: fam };
      }
      case 'fib':
        return { kind: 'fib', flags: p.flags.map((i) => this.word(u, i)), result: this.word(u, p.result) };
      case 'numgen': {
        const mod = this.number(u, p.mod);
        // The kernel refuses it (nft_ng_init): nft relays "Numerical result out of range".
        if (mod.value === 0) this.report('NFT_BAD_VALUE', 'Could not process rule: Numerical result out of range', this.span(this.tok(u, p.mod)));
        return { kind: 'numgen', mode: this.word(u, p.mode) as 'random' | 'inc', mod, offset: this.numberOrNull(u, p.offset) };
      }
      case 'hash': {
        const mod = this.number(u, p.mod);
        if (mod.value === 0) this.report('NFT_BAD_VALUE', 'Could not process rule: Numerical result out of range', this.span(this.tok(u, p.mod)));
        return {
          kind: 'hash',
          function: this.word(u, p.fn) as 'jhash' | 'symhash',
          expr: p.expr ? this.lhs(u, p.expr, family) : null,
          mod,
          seed: this.numberOrNull(u, p.seed),
          offset: this.numberOrNull(u, p.offset),
        };
      }
      case 'concat':
        return { kind: 'concat', parts: p.parts.map((x) => this.lhs(u, x, family)) };
      case 'binary': {
        const left = this.lhs(u, p.left, family);
        const spelling = this.word(u, p.op);
        return { kind: 'binary', op: BINARY_OPS[spelling], spelling, left, right: this.rhs(u, p.right, typesOf(left, family), family) };
      }
      case 'paren':
        return { kind: 'paren', expr: this.lhs(u, p.expr, family) };
      default:
        // values, sets, maps: only on the right (grammar.ne never puts them left)
        return this.rhs(u, p, null, family);
    }
  }

  /** A right-hand expression, its values read as `types` (one per concatenated part). */
  rhs(u: Unit, p: PExpr, types: Types, family: NftFamily): Expr {
    switch (p.e) {
      case 'value':
        return { kind: 'value', value: this.value(u, p.v, types?.[0] ?? null) };
      case 'concat':
        return {
          kind: 'concat',
          parts: p.parts.map((x, k) => (x.e === 'value' ? { kind: 'value', value: this.value(u, x.v, types?.[k] ?? null) } : this.lhs(u, x, family))),
        };
      case 'set':
        return this.setLiteral(u, p.i, types, null, family);
      case 'ref':
        return { kind: 'setRef', name: this.word(u, p.i).slice(1) };
      case 'masked':
        return { kind: 'masked', value: this.rhs(u, p.value, types, family), mask: this.rhs(u, p.mask, types, family) };
      case 'binary': {
        const spelling = this.word(u, p.op);
        return { kind: 'binary', op: BINARY_OPS[spelling], spelling, left: this.rhs(u, p.left, types, family), right: this.rhs(u, p.right, types, family) };
      }
      case 'paren':
        return { kind: 'paren', expr: this.rhs(u, p.expr, types, family) };
      case 'verdict':
        return { kind: 'verdict', verdict: this.word(u, p.verdict) as Verdict, chain: p.chain < 0 ? null : this.name(u, p.chain) };
      case 'map':
        return this.mapExpr(u, p, types, family);
      default:
        return this.lhs(u, p, family);
    }
  }

  mapExpr(u: Unit, p: Extract<PExpr, { e: 'map' }>, dataTypes: Types, family: NftFamily): Expr {
    const key = this.lhs(u, p.key, family);
    const map: SetExpr | SetRefExpr = p.map.e === 'set' ? this.setLiteral(u, p.map.i, typesOf(key, family), dataTypes, family) : { kind: 'setRef', name: this.word(u, (p.map as { i: number }).i).slice(1) };
    return { kind: 'map', key, map };
  }

  // ---- set literals and elements

  /** `{ ... }` at shape index i: its elements, keys read as keyTypes and data as dataTypes. */
  setLiteral(u: Unit, i: number, keyTypes: Types, dataTypes: Types | 'verdict', family: NftFamily): SetExpr {
    return { kind: 'set', elements: this.elements(u.toks, u.first[i], u.last[i], keyTypes, dataTypes, family) };
  }

  elements(toks: readonly Tok[], open: number, close: number, keyTypes: Types, dataTypes: Types | 'verdict', family: NftFamily): SetElement[] {
    const out: SetElement[] = [];
    for (const [a, b] of elementRanges(toks, open, close)) {
      const el = this.element(toks, a, b, keyTypes, dataTypes, family);
      if (el) out.push(el);
    }
    return out;
  }

  element(toks: readonly Tok[], a: number, b: number, keyTypes: Types, dataTypes: Types | 'verdict', family: NftFamily): SetElement | null {
    if (a >= b) {
      const t = toks[Math.min(b, toks.length - 1)];
      this.report('NFT_SYNTAX', `syntax error, unexpected ${t.type === 'rbrace' ? "'}'" : "','"}`, this.span(t));
      return null;
    }
    const eu = unitOf(toks, a, b);
    if (this.tooLong(eu)) return null;
    const plan = planFor('%ELEM', eu.shape);
    if (isPlanError(plan)) {
      this.syntaxError(eu, plan.at, plan.expected);
      return null;
    }
    const p = plan as Extract<PUnit, { u: 'element' }>;
    const key = this.rhs(eu, p.key, keyTypes, family);
    const options = p.opts.map((o) => this.elementOption(eu, o));
    let data: Expr | null = null;
    if (p.data) data = this.rhs(eu, p.data, dataTypes === 'verdict' ? null : dataTypes, family);
    return { key, options, data, span: this.rangeSpan(toks[a], toks[b - 1]) };
  }

  elementOption(u: Unit, o: PElementOption): ElementOption {
    if (o.k === 'counter') return { kind: 'counter', packets: this.numberOrNull(u, o.packets), bytes: this.numberOrNull(u, o.bytes) };
    if (o.k === 'comment') return { kind: 'comment', comment: this.stringValue(u, o.i) };
    return { kind: o.k, value: this.time(u, o.i) };
  }

  /** "syntax error, unexpected X[, expecting Y]" at a shape position (the end of the unit when past it). */
  syntaxError(u: Unit, at: number, expected: readonly string[]): void {
    const inside = at < u.shape.length;
    const t = inside ? this.tok(u, at) : u.toks[u.last[u.shape.length - 1] ?? 0];
    const what = inside ? describeShape(u.shape[at], t) : 'newline';
    // A head that could have ended there (`add table ip x`, or its `{`): nft expects the line's end.
    const expecting = expected.includes('%BODY') ? ', expecting end of file or newline or semicolon' : expected.length === 1 ? `, expecting ${describeExpected(expected[0])}` : '';
    const span = inside ? this.span(t) : t ? { line: t.line, col: t.col + t.text.length, offset: t.offset + t.text.length, length: 0 } : null;
    this.report('NFT_SYNTAX', `syntax error, unexpected ${what}${expecting}`, span);
  }

  // ---- rules and statements

  /** A rule from shape tokens of a unit planned in %RULE context. */
  rule(u: Unit, family: NftFamily): Rule {
    const plan = planFor('%RULE', u.shape) as Extract<PUnit, { u: 'rule' }>;
    const stmts = plan.stmts.map((s) => this.stmt(u, s, family));
    const first = u.toks[u.first[0]];
    const last = u.toks[u.last[u.shape.length - 1]];
    return { kind: 'rule', stmts, handle: null, span: first && last ? this.rangeSpan(first, last) : null };
  }

  stmt(u: Unit, p: PStmt, family: NftFamily): Stmt {
    switch (p.s) {
      case 'match': {
        const left = this.lhs(u, p.left, family);
        const right = this.rhs(u, p.right, typesOf(left, family), family);
        const opSpelling = p.op < 0 ? null : this.word(u, p.op);
        return { kind: 'match', left, op: opSpelling === null ? 'implicit' : REL_OPS[opSpelling], opSpelling, right };
      }
      case 'verdict':
        return { kind: 'verdict', verdict: this.word(u, p.verdict) as Verdict, chain: p.chain < 0 ? null : this.name(u, p.chain) };
      case 'vmap': {
        const key = this.lhs(u, p.key, family);
        const map: SetExpr | SetRefExpr = p.map.e === 'set' ? this.setLiteral(u, p.map.i, typesOf(key, family), 'verdict', family) : { kind: 'setRef', name: this.word(u, (p.map as { i: number }).i).slice(1) };
        return { kind: 'vmap', key, map };
      }
      case 'counter':
        return { kind: 'counter', packets: this.numberOrNull(u, p.packets), bytes: this.numberOrNull(u, p.bytes) };
      case 'nat':
        return this.nat(u, p, family);
      case 'reject': {
        if (p.fam < 0) return { kind: 'reject', with: null };
        const fam = this.word(u, p.fam) as 'icmp' | 'icmpv6' | 'icmpx' | 'tcp';
        return { kind: 'reject', with: { family: fam, typeWord: p.typeWord >= 0, code: this.word(u, p.code) } };
      }
      case 'set': {
        const target = this.lhs(u, p.target, family);
        return { kind: 'set', target, value: this.rhs(u, p.value, typesOf(target, family), family) };
      }
      case 'update': {
        const elements = this.elements(u.toks, u.first[p.set], u.last[p.set], null, null, family);
        if (elements.length !== 1) this.report('NFT_SYNTAX', 'syntax error, a set statement takes one element', this.rangeSpan(u.toks[u.first[p.set]], u.toks[u.last[p.set]]));
        const element = elements[0] ?? { key: { kind: 'value', value: { kind: 'raw', text: '' } }, options: [], data: null, span: null };
        return { kind: 'setUpdate', op: this.word(u, p.op) as 'add' | 'update' | 'delete', set: this.word(u, p.ref).slice(1), element };
      }
      case 'log':
        return { kind: 'log', options: p.opts.map((o) => this.logOption(u, o.k, o.i)) };
      case 'limit':
        return {
          kind: 'limit',
          over: p.over >= 0,
          rate: this.number(u, p.rate),
          unit: p.unit < 0 ? null : this.word(u, p.unit),
          per: p.per < 0 ? '' : this.word(u, p.per),
          burst: p.burst ? this.number(u, p.burst.i) : null,
          burstUnit: p.burst && p.burst.unit >= 0 ? this.word(u, p.burst.unit) : null,
        };
      case 'comment':
        return { kind: 'comment', comment: this.stringValue(u, p.i) };
      case 'notrack':
        return { kind: 'notrack' };
      case 'xt':
        return { kind: 'xt', type: this.word(u, p.type) as 'match' | 'target' | 'watcher', name: this.name(u, p.name) };
      case 'opaque': {
        const a = u.toks[u.first[p.first]];
        const b = u.toks[u.last[p.last]];
        const span = this.rangeSpan(a, b);
        const text = this.text.slice(a.offset, b.offset + b.text.length);
        const second = p.last > p.first ? this.word(u, p.first + 1) : '';
        if (UNMODELLED_WORDS.has(a.text) || UNMODELLED_WORDS.has(second)) {
          this.report('NFT_NOT_MODELLED', `'${shorten(text)}' is not modelled by kpsim; kept as written`, span, 'warning');
        } else this.syntaxError(u, p.failedAt, []);
        return { kind: 'opaque', text, span };
      }
    }
  }

  logOption(u: Unit, k: number, i: number): LogOption {
    const key = this.word(u, k);
    if (key === 'prefix' || key === 'level' || key === 'flags') return { kind: key, value: this.stringValue(u, i) };
    return { kind: key as 'group' | 'snaplen' | 'queue-threshold', value: this.number(u, i) };
  }

  nat(u: Unit, p: Extract<PStmt, { s: 'nat' }>, family: NftFamily): Stmt {
    const type = this.word(u, p.type) as 'snat' | 'dnat' | 'masquerade' | 'redirect';
    const fam = p.fam < 0 ? null : (this.word(u, p.fam) as 'ip' | 'ip6');
    const addrType: DataType | null = fam === 'ip' || (!fam && family === 'ip') ? 'ipv4_addr' : fam === 'ip6' || (!fam && family === 'ip6') ? 'ipv6_addr' : null;
    let address: Expr | null = null;
    if (p.addr) {
      if (p.addr.e === 'map') {
        // the map's data is an address, or an address and a port (`ip daddr . tcp dport map @m`)
        address = this.mapExpr(u, p.addr, [addrType, 'inet_service'], family);
      } else address = this.rhs(u, p.addr, [addrType], family);
    }
    const port = p.port ? this.rhs(u, p.port, ['inet_service'], family) : null;
    return { kind: 'nat', type, family: fam, to: p.to, address, bracketed: p.bracketed, port, flags: p.flags.map((i) => this.word(u, i)) };
  }
}

/** The type of each part of an expression, or null where kpsim does not know it. */
export function typesOf(e: Expr, family: NftFamily): Types {
  switch (e.kind) {
    case 'concat':
      return e.parts.map((p) => typesOf(p, family)?.[0] ?? null);
    case 'payload':
      return [PAYLOAD_FIELDS[e.protocol]?.[e.field] ?? null];
    case 'meta':
      return [META_KEYS[e.key] ?? null];
    case 'ct': {
      if (!e.direction) return [CT_KEYS[e.key] ?? null];
      const t = CT_DIRECTION_KEYS[e.key] ?? null;
      const v6 = e.family === 'ip6' || (e.family === null && family === 'ip6');
      return [t === 'ipv4_addr' && v6 ? 'ipv6_addr' : t];
    }
    case 'fib':
      return [e.result === 'type' ? 'fib_addrtype' : e.result === 'oifname' ? 'ifname' : 'iface_index'];
    case 'numgen':
    case 'hash':
      return ['integer'];
    case 'binary':
      return typesOf(e.left, family);
    case 'paren':
      return typesOf(e.expr, family);
    default:
      return null;
  }
}

function scalar(v: Value): number | bigint | null {
  switch (v.kind) {
    case 'number':
      return v.value;
    case 'ipv4':
    case 'ipv6':
      return v.address;
    case 'symbol':
      return v.value;
    default:
      return null;
  }
}

function firstIndex(p: PValue): number {
  return p.v === 'tok' ? p.i : p.v === 'prefix' ? p.base : p.v === 'range' ? firstIndex(p.from) : firstIndex(p.items[0]);
}

function lastIndex(p: PValue): number {
  return p.v === 'tok' ? p.i : p.v === 'prefix' ? p.len : p.v === 'range' ? lastIndex(p.to) : lastIndex(p.items[p.items.length - 1]);
}

function describeShape(shape: string, t: Tok): string {
  if (shape === '%SET' || shape === '%BODY') return "'{'";
  if (shape === '%Q') return 'quoted string';
  if (shape === '%N') return 'number';
  if (shape.startsWith('%')) return 'string';
  if (/^[a-z]/.test(shape) && t.type === 'word') return shape;
  return `'${shape}'`;
}

function describeExpected(e: string): string {
  if (e === '%W' || e === '%Q') return 'string';
  if (e === '%N') return 'number';
  if (e === '%SET' || e === '%BODY') return "'{'";
  if (e.startsWith('%')) return e.slice(1).toLowerCase();
  return /^[a-z]/.test(e) ? e : `'${e}'`;
}

function shorten(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export type { NumberValue };
