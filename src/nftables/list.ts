// What `nft list table FAMILY NAME` prints for a table of the kernel state (state.ts): nft's
// listing of what the kernel holds, in nft's spelling, which is not the spelling the rules were
// given in. nft (1.0.6 here; checked with nft -f and nft list in a network namespace, see
// test/kernel/nft-listing) turns, at load or when printing:
//
// * objects into blocks: the table's comment first, then its sets and maps in the order they were
//   made, then its chains in the order they were made (rule.c table_print); a chain's comment
//   before its hook, `policy accept;` on a base chain, named priorities where the number is within
//   10 of one (`dstnat - 10` for -110 in prerouting; dstnat only in prerouting, srcnat only in
//   postrouting, else the number);
// * a set's properties in the order type, size, flags, timeout, comment, elements; `size 65535`
//   on a set a rule updates (nft gives a dynamic set its default size); timeouts as `3h`, `1m30s`;
//   elements sorted (mergesort.c: by value; a concatenation by its bytes read as a little-endian
//   number, so by the last part's bytes first);
// * rules into what the kernel executes, printed back: `mark` as `meta mark`, `or`/`and`/`xor` as
//   `|`/`&`/`^`, marks as 0x%08x, a comparison on a binary operation with `==`, interface names
//   quoted; a one-element anonymous set folded into a plain comparison (`ip daddr 10.0.0.0/8`), a
//   larger one sorted, and when it holds a prefix or a range, made intervals with overlapping and
//   adjacent ones merged (`{ 10.0.0.0/16, 10.1.0.0/16 }` lists as `{ 10.0.0.0/15 }`); a /32 or
//   /128 prefix as its address; anonymous maps sorted by key.
//
// It lists what kpsim itself writes (kube-proxy's table) exactly; stateful objects and flowtables,
// whose bodies the state does not keep, are left out.
import type { DataType } from './datatypes.js';
import { SET_TYPE_NAMES } from './datatypes.js';
import { typesOf, type Types } from './build-expr.js';
import type { ChainDecl, ChainItem, Command, Expr, NftFamily, Priority, Rule, SetDecl, SetElement, SetItem, Stmt, TableItem, Value } from './ir.js';
import { renderNft } from './render.js';
import { tableKey, type NftState, type NftStateChain, type NftStateSet, type NftStateTable } from './state.js';
import { formatIPv4, formatIpKernel } from '../net/index.js';

/**
 * The listing of one table, or null when the state has no such table. `chains` false: the table
 * without its chains (what precedes them, for working out where they fall: src/node/extension-listing.ts).
 */
export function listTable(state: NftState, family: NftFamily, name: string, chains = true): string | null {
  const t = state.tables.get(tableKey(family, name));
  if (!t) return null;
  const items: TableItem[] = [];
  if (t.comment !== null) items.push({ kind: 'comment', comment: quoted(t.comment), span: null });
  if (t.flags.length > 0) items.push({ kind: 'flags', flags: t.flags, span: null });
  const updated = updatedSets(t);
  for (const s of [...t.sets.values()].sort((a, b) => a.handle - b.handle)) items.push(kernelSet(s, t.family, updated.has(s.name)));
  if (chains) for (const c of [...t.chains.values()].sort((a, b) => a.handle - b.handle)) items.push(kernelChain(c, t.family));
  const table: Command = { kind: 'command', verb: null, object: { kind: 'table', ref: { family: t.family, familyWritten: true, table: t.name }, handle: null, body: { items, inline: false, gaps: null }, declHandle: null }, span: null };
  return renderNft({ items: [table], gaps: null, finalNewline: true });
}

function quoted(s: string) {
  return { kind: 'string', text: JSON.stringify(s), value: s, quoted: true, wildcard: false } as const;
}

/** Sets some rule adds to or updates from the packet path (`update @s { ip saddr }`). */
function updatedSets(t: NftStateTable): Set<string> {
  const out = new Set<string>();
  for (const c of t.chains.values()) for (const r of c.rules) for (const s of r.stmts) if (s.kind === 'setUpdate' && s.op !== 'delete') out.add(s.set);
  return out;
}

// ---- sets

/** nft's set flag order (rule.c set_print_declaration). */
const FLAG_ORDER = ['constant', 'dynamic', 'interval', 'timeout'];

function kernelSet(s: NftStateSet, family: NftFamily, updated: boolean): SetDecl {
  const props = s.properties;
  type Prop = (typeof props)[number];
  const find = <K extends Prop['kind']>(kind: K) => props.find((p): p is Extract<Prop, { kind: K }> => p.kind === kind);
  const items: SetItem[] = [];
  const typeItem = find('type') ?? find('typeof');
  if (typeItem) items.push(typeItem);
  const size = find('size');
  if (size) items.push(size);
  else if (updated) items.push({ kind: 'size', value: { kind: 'number', text: '65535', value: 65535 }, span: null });
  const flags = find('flags');
  if (flags && flags.flags.length > 0) items.push({ ...flags, flags: [...flags.flags].sort((a, b) => rank(a) - rank(b)) });
  const timeout = props.find((p): p is Extract<Prop, { kind: 'timeout' | 'gc-interval' }> => p.kind === 'timeout');
  // A bare number is seconds.
  const ms = timeout ? (timeout.value.kind === 'time' ? timeout.value.ms : timeout.value.value * 1000) : 0;
  if (timeout && ms > 0) items.push({ ...timeout, value: { kind: 'time', text: nftTime(ms), ms } });
  const gc = props.find((p) => p.kind === 'gc-interval');
  if (gc) items.push(gc);
  const comment = find('comment');
  if (comment) items.push(comment);
  const keyTypes = typeItem ? (typeItem.kind === 'type' ? typeItem.key.map((k) => SET_TYPE_NAMES.get(k) ?? null) : typesOf(typeItem.key, family)) : null;
  const dataTypes = typeItem?.kind === 'type' && typeItem.data ? typeItem.data.map((k) => SET_TYPE_NAMES.get(k) ?? null) : null;
  if (s.elements.length > 0) {
    const elements = sortElements(
      s.elements.map((e) => kernelElement(e, keyTypes, dataTypes, family)),
      keyTypes,
    );
    items.push({ kind: 'elements', elements, span: null });
  }
  return { kind: s.map ? 'map' : 'set', name: s.name, handle: null, span: null, body: { items, inline: false, gaps: null } };
}

function rank(flag: string): number {
  const i = FLAG_ORDER.indexOf(flag);
  return i < 0 ? FLAG_ORDER.length : i;
}

/** nft's time format (datatype.c time_print): days, hours, minutes, seconds, milliseconds, zero parts left out. */
export function nftTime(ms: number): string {
  const parts: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
    [1, 'ms'],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, name] of parts) {
    const n = Math.floor(rest / unit);
    rest -= n * unit;
    if (n > 0) out += `${n}${name}`;
  }
  return out || '0s';
}

function kernelElement(e: SetElement, keyTypes: Types, dataTypes: Types, family: NftFamily): SetElement {
  return { ...e, key: kernelExpr(e.key, keyTypes, family), data: e.data ? kernelExpr(e.data, dataTypes, family) : null, span: null };
}

// ---- chains and rules

function kernelChain(c: NftStateChain, family: NftFamily): ChainDecl {
  const items: ChainItem[] = [];
  if (c.comment !== null) items.push({ kind: 'comment', comment: quoted(c.comment), span: null });
  if (c.hook) {
    items.push({ kind: 'hook', type: c.hook.type, hook: c.hook.hook, device: c.hook.device === null ? null : quoted(c.hook.device), priority: kernelPriority(family, c.hook.hook, c.hook.priority.value), span: null });
    items.push({ kind: 'policy', policy: c.policy ?? 'accept', span: null });
  }
  for (const r of c.rules) items.push(kernelRule(r, family));
  return { kind: 'chain', name: c.name, handle: null, span: null, body: { items, inline: false, gaps: null } };
}

/** The standard priorities (rule.c std_prios), and the hooks dstnat and srcnat are printed for. */
const STD_PRIOS: readonly [string, number, string | null][] = [
  ['raw', -300, null],
  ['mangle', -150, null],
  ['dstnat', -100, 'prerouting'],
  ['filter', 0, null],
  ['security', 50, null],
  ['srcnat', 100, 'postrouting'],
];

/** A priority as nft prints it: a standard name within 10 of the value, else the number. */
export function kernelPriority(family: NftFamily, hook: string, value: number): Priority {
  const named = family === 'ip' || family === 'ip6' || family === 'inet';
  for (const [name, base, onlyHook] of named ? STD_PRIOS : []) {
    if (onlyHook !== null && onlyHook !== hook) continue;
    const offset = value - base;
    if (Math.abs(offset) > 10) continue;
    if (offset === 0) return { name, sign: null, number: null, value };
    return { name, sign: offset > 0 ? '+' : '-', number: num(Math.abs(offset)), value };
  }
  return { name: null, sign: null, number: value < 0 ? { kind: 'negative', magnitude: num(-value), value } : num(value), value };
}

function num(n: number) {
  return { kind: 'number', text: String(n), value: n } as const;
}

export function kernelRule(r: Rule, family: NftFamily): Rule {
  return { kind: 'rule', stmts: r.stmts.map((s) => kernelStmt(s, family)), handle: null, span: null };
}

const OP_SPELLING = { implicit: null, eq: null, ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=' } as const;
const BINARY_SPELLING = { and: '&', or: '|', xor: '^', lshift: '<<', rshift: '>>' } as const;

function kernelStmt(s: Stmt, family: NftFamily): Stmt {
  switch (s.kind) {
    case 'match': {
      const prefix = markPrefix(s);
      if (prefix) return prefix;
      const types = typesOf(s.left, family);
      const left = kernelExpr(s.left, types, family);
      const right = s.right.kind === 'set' ? anonymousSet(s.right.elements, types, family) : kernelExpr(s.right, types, family);
      // nft writes `==` where the left side is an operation, so the value cannot be read as part of it.
      const opSpelling = s.op === 'eq' || s.op === 'implicit' ? (left.kind === 'binary' ? '==' : null) : OP_SPELLING[s.op];
      return { ...s, left, right, op: opSpelling === null ? 'implicit' : s.op === 'implicit' ? 'eq' : s.op, opSpelling };
    }
    case 'vmap':
      return { ...s, key: kernelExpr(s.key, null, family), map: s.map.kind === 'set' ? { kind: 'set', elements: sortElements(s.map.elements.map((e) => kernelElement(e, typesOf(s.key, family), null, family)), typesOf(s.key, family)) } : s.map };
    case 'set':
      return { ...s, target: kernelExpr(s.target, null, family), value: kernelExpr(s.value, typesOf(s.target, family), family) };
    case 'nat': {
      const addrType: DataType | null = s.family === 'ip6' || (s.family === null && family === 'ip6') ? 'ipv6_addr' : 'ipv4_addr';
      return { ...s, address: s.address ? kernelExpr(s.address, [addrType], family) : null, port: s.port ? kernelExpr(s.port, ['inet_service'], family) : null };
    }
    case 'setUpdate':
      return { ...s, element: { ...s.element, key: kernelExpr(s.element.key, null, family), span: null } };
    case 'opaque':
      return { ...s, span: null };
    default:
      return s;
  }
}

/**
 * `meta mark & MASK == V` with MASK a run of leading ones (masqueradeBit 31: 0x80000000): nft
 * reads the mask as a prefix and prints `meta mark V/LEN`, which the IR has no value for; kept as
 * the text nft prints.
 */
function markPrefix(s: Extract<Stmt, { kind: 'match' }>): Stmt | null {
  const l = s.left;
  if (l.kind !== 'binary' || l.op !== 'and' || l.left.kind !== 'meta' || l.left.key !== 'mark' || (s.op !== 'eq' && s.op !== 'implicit')) return null;
  if (l.right.kind !== 'value' || l.right.value.kind !== 'number' || s.right.kind !== 'value' || s.right.value.kind !== 'number') return null;
  const mask = l.right.value.value >>> 0;
  const len = Math.clz32(~mask);
  if (len === 0 || len === 32 || mask !== (~0 << (32 - len)) >>> 0) return null;
  return { kind: 'opaque', text: `meta mark 0x${(s.right.value.value >>> 0).toString(16).padStart(8, '0')}/${len}`, span: null };
}

/** meta keys nft prints without `meta` (meta.c meta_key_is_unqualified). */
const UNQUALIFIED_META = new Set(['iif', 'oif', 'iifname', 'oifname', 'iifgroup', 'oifgroup']);

function kernelExpr(e: Expr, types: Types, family: NftFamily): Expr {
  switch (e.kind) {
    case 'meta':
      return { ...e, bare: UNQUALIFIED_META.has(e.key) };
    case 'binary': {
      const left = kernelExpr(e.left, null, family);
      return { ...e, left, spelling: BINARY_SPELLING[e.op], right: kernelExpr(e.right, typesOf(e.left, family), family) };
    }
    case 'concat':
      return { ...e, parts: e.parts.map((p, i) => kernelExpr(p, types && types[i] !== undefined ? [types[i]] : typesOf(p, family), family)) };
    case 'value':
      return { kind: 'value', value: kernelValue(e.value, types?.length === 1 ? types[0] : null) };
    case 'set':
      return { kind: 'set', elements: sortElements(e.elements.map((el) => kernelElement(el, types, null, family)), types) };
    case 'map':
      return { ...e, key: kernelExpr(e.key, null, family), map: e.map.kind === 'set' ? { kind: 'set', elements: sortElements(e.map.elements.map((el) => kernelElement(el, typesOf(e.key, family), null, family)), typesOf(e.key, family)) } : e.map };
    case 'paren':
      return { ...e, expr: kernelExpr(e.expr, types, family) };
    default:
      return e;
  }
}

function kernelValue(v: Value, type: DataType | null): Value {
  switch (v.kind) {
    case 'ipv4':
      return { ...v, text: formatIPv4(v.address) };
    case 'ipv6':
      return { ...v, text: formatIpKernel(v.address, 'ipv6') };
    case 'prefix': {
      const full = v.base.kind === 'ipv4' ? 32 : 128;
      const base = v.base.kind === 'ipv4' ? { kind: 'ipv4', text: formatIPv4(v.network as number), address: v.network as number } as const : { kind: 'ipv6', text: formatIpKernel(v.network as bigint, 'ipv6'), address: v.network as bigint } as const;
      return v.length === full ? base : { ...v, base, lengthText: String(v.length) };
    }
    case 'number':
      return type === 'mark' ? { ...v, text: `0x${(v.value >>> 0).toString(16).padStart(8, '0')}` } : { ...v, text: String(v.value) };
    case 'time':
      return { ...v, text: nftTime(v.ms) };
    case 'string':
      return type === 'ifname' && !v.quoted ? { ...v, text: JSON.stringify(v.value), quoted: true } : v;
    case 'range':
      return { ...v, from: kernelValue(v.from, type), to: kernelValue(v.to, type) };
    default:
      return v;
  }
}

// ---- anonymous sets in comparisons

/** An address or number of an anonymous set as an interval; null when it is not one. */
interface Interval {
  readonly lo: bigint;
  readonly hi: bigint;
  /** A plain value (not a prefix or range). */
  readonly single: boolean;
  readonly family: 'ipv4' | 'ipv6';
}

function intervalOf(e: Expr): Interval | null {
  if (e.kind !== 'value') return null;
  const v = e.value;
  switch (v.kind) {
    case 'ipv4':
      return { lo: BigInt(v.address), hi: BigInt(v.address), single: true, family: 'ipv4' };
    case 'ipv6':
      return { lo: v.address, hi: v.address, single: true, family: 'ipv6' };
    case 'prefix': {
      const bits = v.base.kind === 'ipv4' ? 32 : 128;
      const lo = BigInt(v.network);
      return { lo, hi: lo + (1n << BigInt(bits - v.length)) - 1n, single: false, family: v.base.kind };
    }
    case 'range': {
      const a = intervalOf({ kind: 'value', value: v.from });
      const b = intervalOf({ kind: 'value', value: v.to });
      return a && b && a.family === b.family ? { lo: a.lo, hi: b.hi, single: false, family: a.family } : null;
    }
    default:
      return null;
  }
}

/**
 * The right side of `ip saddr != { ... }` as the kernel holds it. One element: a plain comparison.
 * Plain values only: a hash set, duplicates dropped, sorted. A prefix or range among them: an
 * interval set, overlapping and adjacent intervals merged (nft does it for anonymous sets).
 */
function anonymousSet(elements: readonly SetElement[], types: Types, family: NftFamily): Expr {
  if (elements.length === 1 && elements[0].data === null && elements[0].options.length === 0) return kernelExpr(elements[0].key, types, family);
  const intervals = elements.map((e) => (e.data === null && e.options.length === 0 ? intervalOf(e.key) : null));
  if (intervals.some((i) => i === null) || new Set(intervals.map((i) => i!.family)).size !== 1) return kernelExpr({ kind: 'set', elements }, types, family);
  const all = (intervals as Interval[]).slice().sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const merged: Interval[] = [];
  const interval = all.some((i) => !i.single);
  for (const i of all) {
    const last = merged[merged.length - 1];
    if (last && (i.lo <= last.hi || (interval && i.lo === last.hi + 1n))) {
      if (i.hi > last.hi) merged[merged.length - 1] = { ...last, hi: i.hi, single: false };
      continue;
    }
    merged.push(i);
  }
  return { kind: 'set', elements: merged.map((i) => ({ key: { kind: 'value', value: intervalValue(i) }, options: [], data: null, span: null })) };
}

function address(family: 'ipv4' | 'ipv6', v: bigint): Value {
  return family === 'ipv4' ? { kind: 'ipv4', text: formatIPv4(Number(v)), address: Number(v) } : { kind: 'ipv6', text: formatIpKernel(v, 'ipv6'), address: v };
}

/** An interval as nft prints it from the kernel's set: an address, a prefix, or `lo-hi`. */
function intervalValue(i: Interval): Value {
  if (i.lo === i.hi) return address(i.family, i.lo);
  const bits = i.family === 'ipv4' ? 32 : 128;
  const size = i.hi - i.lo + 1n;
  const host = size.toString(2).length - 1;
  if (size === 1n << BigInt(host) && i.lo % size === 0n) {
    const base = address(i.family, i.lo) as Extract<Value, { kind: 'ipv4' | 'ipv6' }>;
    const length = bits - host;
    return { kind: 'prefix', base, lengthText: String(length), length, network: i.family === 'ipv4' ? Number(i.lo) : i.lo };
  }
  return { kind: 'range', from: address(i.family, i.lo), to: address(i.family, i.hi) };
}

// ---- element order

/** Bytes of one key part as the kernel stores it (network order for addresses and ports). */
const PART_BYTES: Partial<Record<DataType, number>> = { ipv4_addr: 4, ipv6_addr: 16, inet_proto: 1, inet_service: 2, nf_proto: 1 };

function scalarOf(e: Expr): bigint | null {
  if (e.kind !== 'value') return null;
  const v = e.value;
  switch (v.kind) {
    case 'ipv4':
      return BigInt(v.address);
    case 'ipv6':
      return v.address;
    case 'number':
      return BigInt(v.value);
    case 'symbol':
      return v.value === null ? null : BigInt(v.value);
    case 'prefix':
      return BigInt(v.network);
    case 'range':
      return scalarOf({ kind: 'value', value: v.from });
    default:
      return null;
  }
}

/**
 * The value nft sorts an element by (mergesort.c expr_msort_value): a single value is its number;
 * a concatenation's parts are written in their byte order, one after another, and the bytes read
 * as a host-endian (little-endian) number. Null when kpsim cannot tell.
 */
function sortValue(key: Expr, types: Types): bigint | null {
  if (key.kind !== 'concat') return scalarOf(key);
  const bytes: number[] = [];
  for (const [i, part] of key.parts.entries()) {
    const t = types?.[i] ?? null;
    const n = t ? PART_BYTES[t] : undefined;
    const v = scalarOf(part);
    if (n === undefined || v === null) return null;
    for (let b = n - 1; b >= 0; b--) bytes.push(Number((v >> BigInt(8 * b)) & 0xffn));
  }
  let out = 0n;
  for (let b = bytes.length - 1; b >= 0; b--) out = (out << 8n) | BigInt(bytes[b]);
  return out;
}

function sortElements(elements: readonly SetElement[], types: Types): SetElement[] {
  const keyed = elements.map((e, i) => ({ e, i, v: sortValue(e.key, types) }));
  if (keyed.some((k) => k.v === null)) return [...elements];
  keyed.sort((a, b) => (a.v! < b.v! ? -1 : a.v! > b.v! ? 1 : a.i - b.i));
  return keyed.map((k) => k.e);
}
