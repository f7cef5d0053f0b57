// The moo lexer of nft text, and the shape of a token for the grammar.
//
// Token rules follow nft's flex scanner (nftables' src/scanner.l) where it matters for reading:
// an unquoted string starts with a letter or `_` and goes on with letters, digits, `/`, `-`, `_`
// and `.` (so `endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80` and `mbytes/second` are one
// word); a quoted string has no escapes and no newline; `#` starts a comment to the end of the
// line; dotted quads and IPv6 addresses are their own tokens (`10.0.0.0/8` is an address, `/`,
// a number). Whitespace and newlines are tokens too: the reader computes layout from offsets.
import moo from 'moo';
import { PAYLOAD_FIELD_WORDS } from './datatypes.js';

export const lexer = moo.compile({
  // Single characters first: moo matches them without the regular expression.
  space: [' ', '\t'],
  nl: { match: '\n', lineBreaks: true },
  lbrace: '{',
  rbrace: '}',
  lparen: '(',
  rparen: ')',
  lbracket: '[',
  rbracket: ']',
  semi: ';',
  comma: ',',
  dot: '.',
  slash: '/',
  plus: '+',
  star: '*',
  minus: '-',
  amp: '&',
  pipe: '|',
  caret: '^',
  crlf: { match: '\r\n', lineBreaks: true },
  comment: /#[^\n]*/,
  string: /"[^"\n]*"/,
  openQuote: /"[^"\n]*/,
  op: ['!=', '==', '<=', '>=', '<<', '>>', '!', '=', '<', '>'],
  ref: /@[A-Za-z_][A-Za-z0-9_\-/.]*/,
  variable: /\$[A-Za-z_][A-Za-z0-9_\-/.]*/,
  mac: /[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}(?![:0-9a-fA-F])/,
  ipv4: /[0-9]+(?:\.[0-9]+){3}(?![0-9A-Za-z_])/,
  ipv6: /(?:[0-9a-fA-F]{0,4}:){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F]{1,4})?(?![0-9A-Za-z_])/,
  // After ipv6, so that `::1` is an address: a rule before every regular expression would be
  // matched first by moo's single-character table.
  colon: ':',
  hex: /0[xX][0-9a-fA-F]+(?![0-9A-Za-z_])/,
  time: /[0-9]+(?:ms|[dhms])(?:[0-9]+(?:ms|[dhms]))*(?![0-9A-Za-z_])/,
  number: /[0-9]+(?![A-Za-z_0-9])/,
  word: /[A-Za-z_0-9][A-Za-z0-9_\-/.]*\*?/,
  junk: { match: /[\s\S]/, lineBreaks: true },
});

export type TokenType =
  | 'space'
  | 'nl'
  | 'crlf'
  | 'lbrace'
  | 'rbrace'
  | 'lparen'
  | 'rparen'
  | 'lbracket'
  | 'rbracket'
  | 'semi'
  | 'comma'
  | 'dot'
  | 'colon'
  | 'slash'
  | 'plus'
  | 'star'
  | 'minus'
  | 'amp'
  | 'pipe'
  | 'caret'
  | 'comment'
  | 'string'
  | 'openQuote'
  | 'op'
  | 'ref'
  | 'variable'
  | 'mac'
  | 'ipv4'
  | 'ipv6'
  | 'hex'
  | 'time'
  | 'number'
  | 'word'
  | 'junk';

/** A token of a unit: type, exact text, and where it is (0-based offset, 1-based line and column). */
export interface Tok {
  readonly type: TokenType;
  readonly text: string;
  readonly offset: number;
  readonly line: number;
  readonly col: number;
}

/**
 * Words the grammar reads as themselves. Each is a keyword of nft's scanner too (so nft prints a
 * name spelled like one in quotes); every other word is a name or a value, `%W` in a shape.
 */
export const KEYWORDS: ReadonlySet<string> = new Set([
  // commands and objects
  'add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush', 'reset', 'list', 'rename',
  'table', 'chain', 'set', 'map', 'element', 'rule', 'ruleset', 'flowtable', 'counter', 'quota',
  'limit', 'ct', 'synproxy', 'secmark', 'handle', 'index', 'position', 'define', 'include',
  // properties
  'type', 'typeof', 'hook', 'device', 'devices', 'priority', 'policy', 'comment', 'flags',
  'timeout', 'gc-interval', 'size', 'elements', 'auto-merge', 'expires', 'packets', 'bytes',
  // statements
  'accept', 'drop', 'continue', 'return', 'jump', 'goto', 'queue', 'reject', 'with', 'log',
  'prefix', 'level', 'group', 'snaplen', 'queue-threshold', 'rate', 'over', 'burst', 'masquerade',
  'snat', 'dnat', 'redirect', 'to', 'random', 'fully-random', 'persistent', 'notrack', 'update',
  'vmap', 'xt', 'match', 'target', 'watcher', 'name', 'icmpx',
  // expressions
  'meta', 'fib', 'numgen', 'inc', 'mod', 'offset', 'jhash', 'symhash', 'seed', 'th', 'tcp', 'udp',
  'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'igmp', 'ether', 'vlan', 'ah', 'esp', 'comp',
  'mark', 'iif', 'iifname', 'iiftype', 'oif', 'oifname', 'oiftype', 'skuid', 'skgid', 'nftrace',
  'rtclassid', 'pkttype', 'cpu', 'iifgroup', 'oifgroup', 'cgroup', 'l4proto', 'nfproto',
  'protocol', 'length', 'original', 'reply', 'and', 'or', 'xor', 'lshift', 'rshift', 'eq', 'ne',
  'lt', 'gt', 'le', 'ge', 'state', 'status', 'direction', 'option',
  // header fields (datatypes.ts PAYLOAD_FIELDS): a field is a word of the grammar, so `ip6 hbh`
  // and `tcp option` are not read as fields
  ...PAYLOAD_FIELD_WORDS,
]);

export const FAMILY_WORDS: ReadonlySet<string> = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

/**
 * The shape of a token for the grammar (grammar.ne): a keyword or punctuation as itself, else its
 * class: %W word, %Q quoted string, %N number, %T time, %A4 / %A6 address, %MAC, %REF `@set`,
 * %VAR `$x`. Lines of one shape share one grammar run (plan.ts).
 */
export function shapeOf(t: Tok): string {
  switch (t.type) {
    case 'word':
      return FAMILY_WORDS.has(t.text) || KEYWORDS.has(t.text) ? t.text : '%W';
    case 'string':
      return '%Q';
    case 'number':
    case 'hex':
      return '%N';
    case 'time':
      return '%T';
    case 'ipv4':
      return '%A4';
    case 'ipv6':
      return '%A6';
    case 'mac':
      return '%MAC';
    case 'ref':
      return '%REF';
    case 'variable':
      return '%VAR';
    default:
      return t.text;
  }
}

