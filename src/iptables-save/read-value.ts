// readValue: the exact word text of an option value -> its typed Value (which keeps that text), or
// a problem to report at the word. Addresses, networks, ports and protocols are read into numbers
// here, once (src/net); every later stage reads the numbers.
import type { Value } from '../iptables/ir.js';
import {
  familyBits,
  parseAddress,
  parsePortOrService,
  parsePortRange,
  prefixOf,
  protocolNumber,
  maskIp,
  type Family,
  type Ip,
  type PortRange,
} from '../net/index.js';
import type { IptCode } from './codes.js';
import { unquote } from './lexer.js';
import { DSCP_CLASSES, ICMP_TYPES, ICMPV6_TYPES, TOS_NAMES, WEEKDAYS } from './names.js';
import type { ValueKind } from './spec.js';

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

const portNumber = (text: string) => readNumber(text, 65535);

// ---------------------------------------------------------------------------------------------
// addresses: strict, as iptables-save writes them (no leading zeros in a dotted quad)

const anAddress = (family: Family) => (family === 'ipv4' ? 'an IPv4' : 'an IPv6');

function readAddress(text: string, family: Family): ValueResult {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash), family);
  if (addr === null) return bad('IPT_BAD_ADDRESS', `'${text}' is not ${anAddress(family)} address or CIDR`);
  let prefix: number = familyBits(family);
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    const n = prefixOf(p, family);
    if (n === null) return bad('IPT_BAD_ADDRESS', `'${p}' in '${text}' is not a prefix length or contiguous netmask`);
    prefix = n;
  }
  return { type: 'address', text, family, address: addr, network: maskIp(addr, prefix, family), prefix };
}

function readAddressRange(text: string, family: Family): ValueResult {
  const dash = text.indexOf('-');
  const from = parseAddress(dash < 0 ? text : text.slice(0, dash), family);
  const to = dash < 0 ? from : parseAddress(text.slice(dash + 1), family);
  if (from === null || to === null) return bad('IPT_BAD_ADDRESS', `'${text}' is not an address range FROM-TO`);
  return { type: 'addressRange', text, family, from, to };
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
    }
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0) {
      addrPart = text.slice(0, colon);
      portPart = text.slice(colon + 1);
    }
  }
  let fromAddress: Ip | null = null;
  let toAddress: Ip | null = null;
  if (addrPart !== '') {
    const dash = addrPart.indexOf('-');
    fromAddress = parseAddress(dash < 0 ? addrPart : addrPart.slice(0, dash), family);
    toAddress = dash < 0 ? fromAddress : parseAddress(addrPart.slice(dash + 1), family);
    if (fromAddress === null || toAddress === null) return bad('IPT_BAD_ADDRESS', `'${addrPart}' is not ${anAddress(family)} address or range`);
  }
  let ports: PortRange | null = null;
  if (portPart !== null) {
    ports = parsePortRange(portPart, '-', portNumber);
    if (ports === null) return bad('IPT_BAD_PORT', `'${portPart}' is not a port or port range`);
  }
  if (fromAddress === null && ports === null) return bad('IPT_BAD_ADDRESS', `'${text}' names neither an address nor a port`);
  return { type: 'natRange', text, family, fromAddress, toAddress, fromPort: ports?.[0] ?? null, toPort: ports?.[1] ?? null };
}

// ---------------------------------------------------------------------------------------------
// ports and numbers

/** A match port: decimal or an /etc/services name (hex is not a port to xtables_parse_port). */
const matchPort = (text: string) => parsePortOrService(text);

function readPorts(text: string, kind: 'port' | 'portList' | 'dashPorts'): ValueResult {
  const parts = kind === 'portList' ? text.split(',') : [text];
  const ranges: PortRange[] = [];
  let slots = 0;
  for (const part of parts) {
    // `80`, `1:1024`; tcp/udp/sctp also `5:` (to 65535) and `:100` (from 0), which multiport and
    // --to-ports refuse (libxt_tcp parse_ports, libxt_multiport parse_multi_ports); `-` separates
    // --to-ports ranges.
    const r = parsePortRange(part, kind === 'dashPorts' ? '-' : ':', matchPort, kind === 'port');
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
  if (Object.hasOwn(USER_IDS, text)) return { type: 'intRange', text, from: USER_IDS[text], to: USER_IDS[text] };
  if (/^[0-9]/.test(text)) return readIntRange(text, '-');
  // A user or group name is resolved by iptables through the passwd database at load time.
  return { type: 'word', text, value: text };
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

/** `-p`, `--ctproto`: iptables lower-cases the name; `all` (or 0) is any protocol. */
function readProtocol(text: string): ValueResult {
  const lower = text.toLowerCase();
  const named = protocolNumber(lower);
  // mptcp (262) is in /etc/protocols but does not fit the 8-bit protocol field.
  if (named !== null && named <= 255) {
    return { type: 'protocol', text, name: lower === 'icmpv6' ? 'ipv6-icmp' : lower === 'ip' ? 'all' : lower, number: named === 0 ? null : named };
  }
  const n = DEC.test(text) ? readNumber(text, 255) : null;
  if (n === null) return bad('IPT_BAD_PROTOCOL', `'${text}' is not a protocol name or number 0-255`);
  return { type: 'protocol', text, name: text, number: n === 0 ? null : n };
}

function readIcmpType(text: string, names: Readonly<Record<string, readonly [number, number, number]>>): ValueResult {
  const named = Object.hasOwn(names, text) ? names[text] : undefined;
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

/** libxt_tos: a name (mask 0x3f), or VALUE[/MASK] with the mask 0xff when not given. */
function readTos(text: string): ValueResult {
  if (Object.hasOwn(TOS_NAMES, text)) return { type: 'mark', text, value: TOS_NAMES[text], mask: 0x3f };
  const slash = text.indexOf('/');
  const value = readNumber(slash < 0 ? text : text.slice(0, slash), 0xff);
  const mask = slash < 0 ? 0xff : readNumber(text.slice(slash + 1), 0xff);
  if (value === null || mask === null) return bad('IPT_BAD_VALUE', `'${text}' is not a TOS name or VALUE[/MASK] of 8-bit numbers`);
  return { type: 'mark', text, value, mask };
}

/** `--dscp` 0-63, or a `--dscp-class` name. */
function readDscp(text: string, cls: boolean): ValueResult {
  const n = cls ? (Object.hasOwn(DSCP_CLASSES, text.toUpperCase()) ? DSCP_CLASSES[text.toUpperCase()] : null) : readNumber(text, 63);
  if (n === null) return bad('IPT_BAD_VALUE', cls ? `'${text}' is not a DSCP class (${Object.keys(DSCP_CLASSES).join(', ')})` : `'${text}' is not a DSCP value 0-63`);
  return { type: 'integer', text, value: n };
}

/**
 * `N[/second|/minute|/hour|/day]` (any prefix of the unit): libxt_limit / libxt_hashlimit
 * parse_rate store `scale * unit / N` with integer division, in 1/10000 s (limit) or
 * microseconds (hashlimit revision 3); kept here in microseconds.
 */
function readRate(text: string, scale: number): ValueResult {
  const m = /^([0-9]+)(?:\/([A-Za-z]+))?$/.exec(text);
  const n = m ? Number(m[1]) : 0;
  const unit = (m?.[2] ?? 'second').toLowerCase();
  const per = 'second'.startsWith(unit) ? 1 : 'minute'.startsWith(unit) ? 60 : 'hour'.startsWith(unit) ? 3600 : 'day'.startsWith(unit) ? 86400 : 0;
  const stored = n > 0 && per > 0 ? Math.floor((scale * per) / n) : 0;
  if (stored === 0) return bad('IPT_BAD_VALUE', `'${text}' is not a rate N[/second|/minute|/hour|/day] the kernel can hold`);
  return { type: 'rate', text, periodUs: stored * (1_000_000 / scale), perSeconds: per };
}

/** `FROM[:TO]` of 64-bit counts (libxt_connbytes): TO unbounded when not given. */
function readCountRange(text: string): ValueResult {
  const i = text.indexOf(':');
  const from = readNumber(i < 0 ? text : text.slice(0, i), Number.MAX_SAFE_INTEGER);
  const toText = i < 0 ? '' : text.slice(i + 1);
  const to = toText === '' ? Infinity : readNumber(toText, Number.MAX_SAFE_INTEGER);
  if (from === null || to === null || from > to) return bad('IPT_BAD_NUMBER', `'${text}' is not a count or range FROM:TO`);
  return { type: 'intRange', text, from, to };
}

/** libxt_length: `N`, `FROM:TO`, `FROM:` (to 65535) or `:TO` (from 0). */
function readLengthRange(text: string): ValueResult {
  const i = text.indexOf(':');
  const from = i === 0 ? 0 : readNumber(i < 0 ? text : text.slice(0, i), 65535);
  const to = i < 0 ? from : i === text.length - 1 ? 65535 : readNumber(text.slice(i + 1), 65535);
  if (from === null || to === null || from > to) return bad('IPT_BAD_NUMBER', `'${text}' is not a length or range FROM:TO of 0-65535`);
  return { type: 'intRange', text, from, to };
}

/** libxt_time `hh:mm[:ss]`: seconds since midnight. */
function readDaytime(text: string): ValueResult {
  const m = /^([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?$/.exec(text);
  const [h, mi, se] = m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [99, 0, 0];
  if (h > 23 || mi > 59 || se > 59) return bad('IPT_BAD_VALUE', `'${text}' is not a time of day hh:mm[:ss]`);
  return { type: 'integer', text, value: h * 3600 + mi * 60 + se };
}

/** libxt_time `YYYY[-MM[-DD[Thh[:mm[:ss]]]]]` in UTC: seconds since the epoch. */
function readDate(text: string): ValueResult {
  const m = /^([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2})(?:T([0-9]{1,2})(?::([0-9]{1,2})(?::([0-9]{1,2}))?)?)?)?)?$/.exec(text);
  if (!m) return bad('IPT_BAD_VALUE', `'${text}' is not a date YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`);
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((k, i) => (m[k] === undefined ? (i === 1 || i === 2 ? 1 : 0) : Number(m[k])));
  const t = Date.UTC(y, mo - 1, d, h, mi, se) / 1000;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59 || t < 0 || t > 0x7fffffff) return bad('IPT_BAD_VALUE', `'${text}' is not a date from 1970 to 2038`);
  return { type: 'integer', text, value: t };
}

/** `--weekdays Mon,Tue` or `1,2` (1 is Monday): the canonical names. */
function readWeekdays(text: string): ValueResult {
  const items: string[] = [];
  for (const w of text.split(',')) {
    const i = /^[1-7]$/.test(w) ? Number(w) - 1 : (WEEKDAYS as readonly string[]).findIndex((d) => d.toLowerCase() === w.toLowerCase());
    if (i < 0) return bad('IPT_BAD_VALUE', `'${w}' is not a weekday (Mon..Sun or 1..7)`);
    items.push(WEEKDAYS[i]);
  }
  return { type: 'list', text, items };
}

/** `--monthdays 1,15,31`. */
function readMonthdays(text: string): ValueResult {
  const items = text.split(',');
  if (items.some((d) => !/^[0-9]{1,2}$/.test(d) || Number(d) < 1 || Number(d) > 31)) return bad('IPT_BAD_VALUE', `'${text}' is not a list of days of the month 1-31`);
  return { type: 'list', text, items: items.map((d) => String(Number(d))) };
}

/**
 * An Ethernet address as libxtables' xtopt_parse_ethermac reads it: six groups split by `:`, each
 * read by strtoul in base 16 and at most two characters long (so `0:1:2:3:4:5` and `:::::` are
 * addresses, `0x:...` and `000:...` are not). The value is the address as iptables-save prints it.
 */
function readMac(text: string): ValueResult {
  const groups = text.split(':');
  const bytes: number[] = [];
  for (const g of groups) {
    // strtoul: optional sign, hex digits; a '-' negates modulo 2^64, whose low byte is kept.
    const m = /^([+-]?)([0-9a-fA-F]*)$/.exec(g);
    if (groups.length !== 6 || g.length > 2 || !m || (m[1] !== '' && m[2] === '')) return bad('IPT_BAD_VALUE', `'${text}' is not a MAC address (six hex bytes such as 00:11:22:33:44:55)`);
    const n = m[2] === '' ? 0 : parseInt(m[2], 16);
    bytes.push(m[1] === '-' ? (256 - n) & 0xff : n);
  }
  return { type: 'word', text, value: bytes.map((b) => b.toString(16).padStart(2, '0')).join(':') };
}

/** The Value of a word of the given kind, read from its unquoted text. */
export function readValue(kind: ValueKind, text: string, family: Family): ValueResult {
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
    case 'tos':
      return readTos(text);
    case 'dscp':
    case 'dscpClass':
      return readDscp(text, kind === 'dscpClass');
    case 'limitRate':
      return readRate(text, 10_000);
    case 'hashlimitRate':
      // A byte rate (`1kb/s`, XT_HASHLIMIT_BYTES) is kept as written; the simulator does not model it.
      return /b\/s$/.test(text) ? { type: 'word', text, value: text } : readRate(text, 1_000_000);
    case 'countRange':
      return readCountRange(text);
    case 'lengthRange':
      return readLengthRange(text);
    case 'daytime':
      return readDaytime(text);
    case 'date':
      return readDate(text);
    case 'weekdays':
      return readWeekdays(text);
    case 'monthdays':
      return readMonthdays(text);
    case 'mac':
      return readMac(text);
    case 'word':
      return { type: 'word', text, value: text };
    default: {
      const never: never = kind;
      throw new Error(`unhandled value kind ${never}`);
    }
  }
}
