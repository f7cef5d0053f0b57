// checkWords: the words an option accepts, by `module.option` (the kernel refuses anything else),
// and the longest strings the kernel structures hold. Applied to a Value after readValue.
import type { Value } from '../iptables/ir.js';
import type { Family } from '../net/index.js';
import { ADDR_TYPES, CT_STATES, CT_STATUSES, REJECT_WITH_V4, REJECT_WITH_V6, TCP_FLAGS } from './names.js';
import type { ValueResult } from './read-value.js';

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
  'hashlimit.hashlimit-mode': ['srcip', 'srcport', 'dstip', 'dstport'],
  'connbytes.connbytes-mode': ['packets', 'bytes', 'avgpkt'],
  'connbytes.connbytes-dir': ['original', 'reply', 'both'],
};

/** Words libxt_ipvs compares with strcasecmp: any case, stored (and printed back) in capitals. */
const ANY_CASE_ITEMS: Readonly<Record<string, readonly string[]>> = {
  'ipvs.vdir': ['ORIGINAL', 'REPLY'],
  'ipvs.vmethod': ['GATE', 'IPIP', 'MASQ'],
};

/** Options xtables_parse_port reads: one port, no range. */
const SINGLE_PORT = new Set(['ipvs.vport', 'ipvs.vportctl']);

/** Longest strings the kernel structures hold (XT_MAX_COMMENT_LEN, LOG and NFLOG prefixes), NUL excluded. */
const MAX_STRING: Readonly<Record<string, number>> = { 'comment.comment': 255, 'LOG.log-prefix': 29, 'NFLOG.nflog-prefix': 63, 'cgroup.path': 4095, 'helper.helper': 29 };

/** Whether the words of the value at `key` (argument `index`) are checked against a list. */
export function hasWordList(key: string, index: number): boolean {
  return key === 'REJECT.reject-with' || Object.hasOwn(ANY_CASE_ITEMS, key) || Object.hasOwn(ALLOWED_ITEMS, `${key}#${index}`) || Object.hasOwn(ALLOWED_ITEMS, key);
}

/** The longest string the option's kernel structure holds, or undefined when any length fits. */
export function maxStringLength(key: string): number | undefined {
  return Object.hasOwn(MAX_STRING, key) ? MAX_STRING[key] : undefined;
}

const bad = (message: string): ValueResult => ({ problem: 'IPT_BAD_VALUE', message });

/** The value, or the problem with its words or length. */
export function checkWords(v: Value, key: string, argIndex: number, family: Family): ValueResult {
  if (v.type === 'string') {
    const max = maxStringLength(key);
    return max !== undefined && v.value.length > max ? bad(`the text is ${v.value.length} characters long; at most ${max} fit`) : v;
  }
  if (key === 'REJECT.reject-with') {
    const names = family === 'ipv4' ? REJECT_WITH_V4 : REJECT_WITH_V6;
    return Object.hasOwn(names, v.text) ? v : bad(`'${v.text}' is not a --reject-with type for ${family === 'ipv4' ? 'iptables' : 'ip6tables'}`);
  }
  if (SINGLE_PORT.has(key) && v.type === 'ports' && (v.ranges.length !== 1 || v.ranges[0][0] !== v.ranges[0][1])) return bad(`'${v.text}' is not one port (no ranges or lists here)`);
  if (Object.hasOwn(ANY_CASE_ITEMS, key)) {
    const words = ANY_CASE_ITEMS[key];
    return words.includes(v.text.toUpperCase()) ? v : bad(`'${v.text}' is not one of ${words.join(', ')} (any case)`);
  }
  const allowed = Object.hasOwn(ALLOWED_ITEMS, `${key}#${argIndex}`) ? ALLOWED_ITEMS[`${key}#${argIndex}`] : Object.hasOwn(ALLOWED_ITEMS, key) ? ALLOWED_ITEMS[key] : undefined;
  if (!allowed) return v;
  const items = v.type === 'list' ? v.items : [v.text];
  for (const item of items) {
    if (!allowed.includes(item)) return bad(`'${item}' is not one of ${allowed.join(', ')}`);
  }
  return v;
}
