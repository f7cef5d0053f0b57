// Reading option values into typed Values. Each reader takes the exact word text and returns the
// Value (which keeps that text) or a problem to report at the word. Results are cached by text:
// a kube-proxy dump repeats the same ports, marks, comments and probabilities thousands of times,
// and Values are immutable, so rules share them.
import { Address6 } from 'ip-address';
import type { Family, Value } from '../iptables/ir.js';
import { dottedQuad } from '../iptables/ipv4.js';
import type { IptCode } from './codes.js';
import { unquote } from './lexer.js';
import {
  ADDR_TYPES,
  CT_STATES,
  CT_STATUSES,
  ICMP_TYPES,
  ICMPV6_TYPES,
  PROTOCOL_NUMBERS,
  REJECT_WITH_V4,
  REJECT_WITH_V6,
  SERVICE_PORTS,
  TCP_FLAGS,
} from './names.js';
import type { ValueKind } from './spec.js';
import { hashOf, WordTable } from './word-table.js';

export interface ValueProblem {
  readonly problem: IptCode;
  readonly message: string;
}

export type ValueResult = Value | ValueProblem;

export function isProblem(r: ValueResult): r is ValueProblem {
  return (r as ValueProblem).problem !== undefined;
}

const bad = (problem: IptCode, message: string): ValueProblem => ({ problem, message });

const DEC = /^[0-9]+$/;
const NUM = /^(0[xX][0-9a-fA-F]+|[0-9]+)$/;

/** xtables_strtoui: decimal, or hex with 0x (octal with a leading 0 is read as decimal here). */
function readNumber(text: string, max: number): number | null {
  if (!NUM.test(text)) return null;
  const n = text.startsWith('0x') || text.startsWith('0X') ? parseInt(text.slice(2), 16) : parseInt(text, 10);
  return n <= max ? n : null;
}

// ---------------------------------------------------------------------------------------------
// addresses

const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

/**
 * An IPv4 address read without the library: a kube-proxy dump holds ~100k distinct endpoint
 * addresses. Address4 takes exactly four decimal parts 0-255 without leading zeros, so its
 * correct form is the text itself.
 */
class Host4 {
  constructor(
    readonly value: number,
    readonly text: string,
  ) {}

  correctForm(): string {
    return this.text;
  }

  bigInt(): bigint {
    return BigInt(this.value);
  }
}

function parseHost(text: string, family: Family): Host4 | Address6 | null {
  if (family === 'ipv4') {
    const v = dottedQuad(text, false);
    return v < 0 ? null : new Host4(v, text);
  }
  try {
    if (!/^[0-9a-fA-F:.]+$/.test(text) || text.indexOf(':') < 0) return null;
    return new Address6(text);
  } catch {
    return null;
  }
}

function hostBits(addr: Host4 | Address6, prefix: number, family: Family): boolean {
  const bits = BITS[family];
  if (prefix >= bits) return false;
  if (addr instanceof Host4) return addr.value % 2 ** (bits - prefix) !== 0;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return (addr.bigInt() & hostMask) !== 0n;
}

/** A dotted netmask (`255.255.0.0`) as a prefix length, or null when its ones are not contiguous. */
function maskPrefix(mask: Host4 | Address6, family: Family): number | null {
  const bits = BITS[family];
  const v = mask.bigInt();
  let ones = 0;
  while (ones < bits && (v >> BigInt(bits - 1 - ones)) & 1n) ones++;
  const expect = ones === 0 ? 0n : ((1n << BigInt(ones)) - 1n) << BigInt(bits - ones);
  return v === expect ? ones : null;
}

function readAddress(text: string, family: Family): ValueResult {
  const slash = text.indexOf('/');
  const hostText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseHost(hostText, family);
  const what = family === 'ipv4' ? 'an IPv4' : 'an IPv6';
  if (!addr) return bad('IPT_BAD_ADDRESS', `'${text}' is not ${what} address or CIDR`);
  let prefix = BITS[family];
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (DEC.test(p) && Number(p) <= BITS[family]) prefix = Number(p);
    else {
      const mask = parseHost(p, family);
      const fromMask = mask ? maskPrefix(mask, family) : null;
      if (fromMask === null) return bad('IPT_BAD_ADDRESS', `'${p}' in '${text}' is not a prefix length or contiguous netmask`);
      prefix = fromMask;
    }
  }
  return { type: 'address', text, family, address: addr.correctForm(), prefix, hostBits: hostBits(addr, prefix, family) };
}

function readAddressRange(text: string, family: Family): ValueResult {
  const dash = text.indexOf('-');
  const from = parseHost(dash < 0 ? text : text.slice(0, dash), family);
  const to = dash < 0 ? from : parseHost(text.slice(dash + 1), family);
  if (!from || !to) return bad('IPT_BAD_ADDRESS', `'${text}' is not an address range FROM-TO`);
  return { type: 'addressRange', text, family, from: from.correctForm(), to: to.correctForm() };
}

/** `ADDR[-ADDR][:PORT[-PORT]]`, IPv6 addresses in brackets when a port follows (libxt_DNAT). */
function readNatRange(text: string, family: Family): ValueResult {
  let addrPart = text;
  let portPart: string | null = null;
  if (family === 'ipv6') {
    if (text.startsWith('[')) {
      const close = text.indexOf(']');
      if (close < 0) return bad('IPT_BAD_ADDRESS', `'${text}' has '[' without ']'`);
      addrPart = text.slice(1, close);
      const rest = text.slice(close + 1);
      if (rest !== '') {
        if (!rest.startsWith(':')) return bad('IPT_BAD_ADDRESS', `'${text}': expected ':PORT' after ']'`);
        portPart = rest.slice(1);
      }
    } else if (text.startsWith(':')) {
      addrPart = '';
      portPart = text.slice(1);
    }
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0) {
      addrPart = text.slice(0, colon);
      portPart = text.slice(colon + 1);
    }
  }
  let fromAddress: string | null = null;
  let toAddress: string | null = null;
  if (addrPart !== '') {
    const dash = addrPart.indexOf('-');
    const a = parseHost(dash < 0 ? addrPart : addrPart.slice(0, dash), family);
    const b = dash < 0 ? a : parseHost(addrPart.slice(dash + 1), family);
    if (!a || !b) return bad('IPT_BAD_ADDRESS', `'${addrPart}' is not ${family === 'ipv4' ? 'an IPv4' : 'an IPv6'} address or range`);
    fromAddress = a.correctForm();
    toAddress = b.correctForm();
  }
  let fromPort: number | null = null;
  let toPort: number | null = null;
  if (portPart !== null) {
    const dash = portPart.indexOf('-');
    fromPort = readNumber(dash < 0 ? portPart : portPart.slice(0, dash), 65535);
    toPort = dash < 0 ? fromPort : readNumber(portPart.slice(dash + 1), 65535);
    if (fromPort === null || toPort === null || fromPort > toPort) return bad('IPT_BAD_PORT', `'${portPart}' is not a port or port range`);
  }
  if (fromAddress === null && fromPort === null) return bad('IPT_BAD_ADDRESS', `'${text}' names neither an address nor a port`);
  return { type: 'natRange', text, family, fromAddress, toAddress, fromPort, toPort };
}

// ---------------------------------------------------------------------------------------------
// ports and numbers

function readPort(text: string): number | null {
  if (text in SERVICE_PORTS) return SERVICE_PORTS[text];
  return DEC.test(text) ? readNumber(text, 65535) : null;
}

/** `80`, `1:1024`, `5:` (to 65535), `:100` (from 0); `sep` is `:` (matches) or `-` (--to-ports). */
function readPortRange(text: string, sep: string): readonly [number, number] | null {
  const i = text.indexOf(sep);
  if (i < 0) {
    const p = readPort(text);
    return p === null ? null : [p, p];
  }
  const from = i === 0 ? 0 : readPort(text.slice(0, i));
  const to = i === text.length - 1 ? 65535 : readPort(text.slice(i + 1));
  if (from === null || to === null || from > to) return null;
  return [from, to];
}

function readPorts(text: string, kind: 'port' | 'portList' | 'dashPorts'): ValueResult {
  const parts = kind === 'portList' ? text.split(',') : [text];
  const ranges: (readonly [number, number])[] = [];
  let slots = 0;
  for (const part of parts) {
    const r = readPortRange(part, kind === 'dashPorts' ? '-' : ':');
    if (!r) return bad('IPT_BAD_PORT', `'${part}' is not a port${kind === 'portList' ? ', port range or list' : ' or port range'}`);
    ranges.push(r);
    slots += r[0] === r[1] ? 1 : 2;
  }
  // xt_multiport holds at most 15 ports, a range taking two of them.
  if (kind === 'portList' && slots > 15) return bad('IPT_BAD_PORT', `'${text}' has more than 15 ports (a range counts as two)`);
  return { type: 'ports', text, ranges };
}

function readInteger(text: string, max = 0xffffffff): ValueResult {
  const n = readNumber(text, max);
  return n === null ? bad('IPT_BAD_NUMBER', `'${text}' is not a number from 0 to ${max}`) : { type: 'integer', text, value: n };
}

function readIntRange(text: string, sep: string): ValueResult {
  const i = text.indexOf(sep);
  const from = readNumber(i < 0 ? text : text.slice(0, i), 0xffffffff);
  const to = i < 0 ? from : readNumber(text.slice(i + 1), 0xffffffff);
  if (from === null || to === null || from > to) return bad('IPT_BAD_NUMBER', `'${text}' is not a number or range N${sep}M`);
  return { type: 'intRange', text, from, to };
}

const USER_IDS: Readonly<Record<string, number>> = { root: 0 };

function readIdRange(text: string): ValueResult {
  if (text in USER_IDS) return { type: 'intRange', text, from: USER_IDS[text], to: USER_IDS[text] };
  if (/^[0-9]/.test(text)) return readIntRange(text, '-');
  // A user or group name is resolved by iptables through the passwd database at load time.
  return { type: 'word', text };
}

function readMark(text: string): ValueResult {
  const slash = text.indexOf('/');
  const value = readNumber(slash < 0 ? text : text.slice(0, slash), 0xffffffff);
  const mask = slash < 0 ? null : readNumber(text.slice(slash + 1), 0xffffffff);
  if (value === null || (slash >= 0 && mask === null)) return bad('IPT_BAD_MARK', `'${text}' is not a mark VALUE[/MASK] of 32-bit numbers`);
  return { type: 'mark', text, value, mask };
}

function readProbability(text: string): ValueResult {
  const p = /^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(p >= 0 && p <= 1)) return bad('IPT_BAD_PROBABILITY', `'${text}' is not a probability from 0 to 1`);
  return { type: 'probability', text, value: p };
}

function readProtocol(text: string): ValueResult {
  const lower = text.toLowerCase();
  if (lower in PROTOCOL_NUMBERS) {
    const n = PROTOCOL_NUMBERS[lower];
    return { type: 'protocol', text, name: lower === 'icmpv6' ? 'ipv6-icmp' : lower === 'ip' ? 'all' : lower, number: n === 0 ? null : n };
  }
  const n = DEC.test(text) ? readNumber(text, 255) : null;
  if (n === null) return bad('IPT_BAD_PROTOCOL', `'${text}' is not a protocol name or number 0-255`);
  return { type: 'protocol', text, name: text, number: n === 0 ? null : n };
}

function readIcmpType(text: string, names: Readonly<Record<string, readonly [number, number, number]>>): ValueResult {
  const named = names[text];
  if (named) {
    const [t, lo, hi] = named;
    return { type: 'icmpType', text, icmpType: t === 0xff && text === 'any' ? null : t, code: lo === 0 && hi === 0xff ? null : lo };
  }
  const m = /^([0-9]+)(?:\/([0-9]+))?$/.exec(text);
  const t = m ? Number(m[1]) : NaN;
  const c = m && m[2] !== undefined ? Number(m[2]) : null;
  if (!(t <= 255) || (c !== null && c > 255)) return bad('IPT_BAD_VALUE', `'${text}' is not an ICMP type name, TYPE or TYPE/CODE`);
  return { type: 'icmpType', text, icmpType: t, code: c };
}

function readInterface(text: string): ValueResult {
  // IFNAMSIZ is 16 with the terminating NUL; `+` at the end matches every name with that prefix.
  if (text.length === 0 || text.length > 15 || /[\/\s]/.test(text)) return bad('IPT_BAD_INTERFACE', `'${text}' is not an interface name (at most 15 characters)`);
  const wildcard = text.endsWith('+');
  return { type: 'interface', text, name: wildcard ? text.slice(0, -1) : text, wildcard };
}

function readList(text: string): ValueResult {
  const items = text.split(',');
  if (items.some((i) => i === '')) return bad('IPT_BAD_VALUE', `'${text}' has an empty item`);
  return { type: 'list', text, items };
}

// ---------------------------------------------------------------------------------------------
// Words an option accepts, by `module.option` (the kernel refuses anything else).

const TCP_FLAG_WORDS = [...TCP_FLAGS, 'ALL', 'NONE'];
const ALLOWED_ITEMS: Readonly<Record<string, readonly string[]>> = {
  'conntrack.ctstate': CT_STATES,
  'state.state': CT_STATES.slice(0, 5),
  'conntrack.ctstatus': CT_STATUSES,
  'addrtype.src-type': ADDR_TYPES,
  'addrtype.dst-type': ADDR_TYPES,
  'tcp.tcp-flags': TCP_FLAG_WORDS,
  'set.match-set#1': ['src', 'dst'],
  'statistic.mode': ['random', 'nth'],
  'conntrack.ctdir': ['ORIGINAL', 'REPLY'],
  'pkttype.pkt-type': ['unicast', 'broadcast', 'multicast', 'host', 'otherhost', 'outgoing', 'loopback'],
};

/** Longest strings the kernel structures hold (XT_MAX_COMMENT_LEN, LOG and NFLOG prefixes), NUL excluded. */
const MAX_STRING: Readonly<Record<string, number>> = { 'comment.comment': 255, 'LOG.log-prefix': 29, 'NFLOG.nflog-prefix': 63 };

function checkWords(v: Value, key: string, argIndex: number, family: Family): ValueResult {
  if (v.type === 'string') {
    const max = MAX_STRING[key];
    return max !== undefined && v.value.length > max ? bad('IPT_BAD_VALUE', `the text is ${v.value.length} characters long; at most ${max} fit`) : v;
  }
  if (key === 'REJECT.reject-with') {
    const names = family === 'ipv4' ? REJECT_WITH_V4 : REJECT_WITH_V6;
    return v.text in names ? v : bad('IPT_BAD_VALUE', `'${v.text}' is not a --reject-with type for ${family === 'ipv4' ? 'iptables' : 'ip6tables'}`);
  }
  const allowed = ALLOWED_ITEMS[`${key}#${argIndex}`] ?? ALLOWED_ITEMS[key];
  if (!allowed) return v;
  const items = v.type === 'list' ? v.items : [v.text];
  for (const item of items) {
    if (!allowed.includes(item)) return bad('IPT_BAD_VALUE', `'${item}' is not one of ${allowed.join(', ')}`);
  }
  return v;
}

function readValue(kind: ValueKind, text: string, family: Family): ValueResult {
  switch (kind) {
    case 'address':
      return readAddress(text, family);
    case 'addressRange':
      return readAddressRange(text, family);
    case 'port':
    case 'portList':
    case 'dashPorts':
      return readPorts(text, kind);
    case 'integer':
      return readInteger(text);
    case 'intRange':
      return readIntRange(text, ':');
    case 'idRange':
      return readIdRange(text);
    case 'mark':
      return readMark(text);
    case 'list':
      return readList(text);
    case 'string':
      return { type: 'string', text, value: unquote(text) };
    case 'interface':
      return readInterface(text);
    case 'probability':
      return readProbability(text);
    case 'natRange':
      return readNatRange(text, family);
    case 'protocol':
      return readProtocol(text);
    case 'icmpType':
      return readIcmpType(text, ICMP_TYPES);
    case 'icmp6Type':
      return readIcmpType(text, ICMPV6_TYPES);
    case 'word':
      return { type: 'word', text };
    default: {
      const never: never = kind;
      throw new Error(`unhandled value kind ${never}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Quick checks: the parse reads each value only to report its problems (the IR is built later,
// build-table.ts), and most values of a kube-proxy dump are written in a form that cannot have
// one. Those are recognised on the source text without making a string or reading a Value; any
// other text goes through readValue. A quick check only ever says "no problem": it accepts a
// subset of what readValue + checkWords accept (test/iptables-save/quick-values.test.ts).

/** No quick check: the value is read. */
export const QUICK_NONE = 0;
/** Never a problem (a free word or text no list or length limit applies to). */
export const QUICK_ALWAYS = 1;
/** A string with a length limit: no problem when the word itself is no longer. */
export const QUICK_MAX_LENGTH = 2;
/** An IPv4 `A.B.C.D` or `A.B.C.D/N`. */
export const QUICK_ADDRESS4 = 3;
/** An IPv4 NAT target `A.B.C.D` or `A.B.C.D:PORT`. */
export const QUICK_NAT4 = 4;
/** A decimal port. */
export const QUICK_PORT = 5;

export interface QuickCheck {
  readonly quick: number;
  /** For QUICK_MAX_LENGTH: the longest word accepted. */
  readonly maxLength: number;
}

/** The quick check of a value slot: what checkWords would look at decides whether one applies. */
export function quickCheckOf(kind: ValueKind, key: string, index: number, family: Family): QuickCheck {
  const none = { quick: QUICK_NONE, maxLength: 0 };
  if (key === 'REJECT.reject-with' || ALLOWED_ITEMS[`${key}#${index}`] || ALLOWED_ITEMS[key]) return none;
  switch (kind) {
    case 'word':
      return { quick: QUICK_ALWAYS, maxLength: 0 };
    case 'string': {
      const max = MAX_STRING[key];
      // unquote never makes a text longer than the word it is read from
      return max === undefined ? { quick: QUICK_ALWAYS, maxLength: 0 } : { quick: QUICK_MAX_LENGTH, maxLength: max };
    }
    case 'address':
      return family === 'ipv4' ? { quick: QUICK_ADDRESS4, maxLength: 0 } : none;
    case 'natRange':
      return family === 'ipv4' ? { quick: QUICK_NAT4, maxLength: 0 } : none;
    case 'port':
      return { quick: QUICK_PORT, maxLength: 0 };
    default:
      return none;
  }
}

/**
 * Where a dotted quad that dottedQuad accepts ends in `src` from `i` (before `end`), or -1: four
 * parts of 1-3 digits, no leading zero, each at most 255.
 */
function quadEnd(src: string, i: number, end: number): number {
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || src.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    let v = 0;
    let digits = 0;
    while (i < end && digits < 4) {
      const c = src.charCodeAt(i);
      if (c < 48 || c > 57) break;
      if (digits > 0 && v === 0) return -1; // a leading zero
      v = v * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || v > 255) return -1;
  }
  return i;
}

/** Whether `src[i, end)` is 1 to `maxDigits` decimal digits of a number at most `max`. */
function decimalUpTo(src: string, i: number, end: number, maxDigits: number, max: number): boolean {
  if (i >= end || end - i > maxDigits) return false;
  let v = 0;
  for (; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    v = v * 10 + (c - 48);
  }
  return v <= max;
}

/** Whether the word `src[start, end)` passes its quick check: then reading it finds no problem. */
export function quickOk(q: QuickCheck, src: string, start: number, end: number): boolean {
  switch (q.quick) {
    case QUICK_ALWAYS:
      return true;
    case QUICK_MAX_LENGTH:
      return end - start <= q.maxLength;
    case QUICK_ADDRESS4: {
      const i = quadEnd(src, start, end);
      if (i === end) return true;
      return i > 0 && src.charCodeAt(i) === 47 /* / */ && decimalUpTo(src, i + 1, end, 2, 32);
    }
    case QUICK_NAT4: {
      const i = quadEnd(src, start, end);
      if (i === end) return true;
      return i > 0 && src.charCodeAt(i) === 58 /* : */ && decimalUpTo(src, i + 1, end, 5, 65535);
    }
    case QUICK_PORT:
      return decimalUpTo(src, start, end, 5, 65535);
    default:
      return false;
  }
}

/** Where a value stands: its kind, `module.option` (for word lists) and argument index. */
export interface ValueSlot {
  readonly kind: ValueKind;
  readonly key: string;
  readonly index: number;
}

/**
 * Reads values for one parse, with a cache per slot (plans are shared, so a slot object stands
 * for the same option position in every line of a shape): the hot path is two Map lookups.
 */
export class ValueReader {
  private readonly bySlot = new Map<ValueSlot, WordTable<Cached>>();
  private readonly byKind = new Map<string, WordTable<Cached>>();

  constructor(readonly family: Family) {}

  read(slot: ValueSlot, text: string): ValueResult {
    return this.readAt(slot, text, 0, text.length, hashOf(text));
  }

  /** The value of the word `src[start, end)`, whose hash (word-table.ts) is `h`. */
  readAt(slot: ValueSlot, src: string, start: number, end: number, h: number): ValueResult {
    return this.cachedAt(slot, src, start, end, h).result;
  }

  /** What the IR holds for the word: its Value, or the word as written when it has a problem. */
  valueAt(slot: ValueSlot, src: string, start: number, end: number, h: number): Value {
    return this.cachedAt(slot, src, start, end, h).value;
  }

  /** valueAt as a one-value list, shared by every option that holds this (immutable) value. */
  singleAt(slot: ValueSlot, src: string, start: number, end: number, h: number): readonly Value[] {
    const c = this.cachedAt(slot, src, start, end, h);
    return (c.single ??= [c.value]);
  }

  private cachedAt(slot: ValueSlot, src: string, start: number, end: number, h: number): Cached {
    let cache = this.bySlot.get(slot);
    if (!cache) {
      // Slots of different shapes with the same meaning share one cache.
      const id = `${slot.kind}\0${slot.key}\0${slot.index}`;
      cache = this.byKind.get(id);
      if (!cache) this.byKind.set(id, (cache = new WordTable()));
      this.bySlot.set(slot, cache);
    }
    let c = cache.getAt(src, start, end, h);
    if (c === undefined) {
      const text = start === 0 && end === src.length ? src : src.slice(start, end);
      // A quoted word is read from its unquoted form, but the Value keeps the exact text.
      const plain = slot.kind === 'string' || text.indexOf('"') < 0 ? text : unquote(text);
      let r = readValue(slot.kind, plain, this.family);
      if (!isProblem(r)) {
        if (plain !== text) r = { ...r, text } as Value;
        r = checkWords(r, slot.key, slot.index, this.family);
      }
      c = { result: r, value: isProblem(r) ? { type: 'word', text } : r, single: null };
      cache.set(text, c, h);
    }
    return c;
  }
}

/** A word's reading, cached per slot and text. */
interface Cached {
  readonly result: ValueResult;
  readonly value: Value;
  single: readonly Value[] | null;
}
