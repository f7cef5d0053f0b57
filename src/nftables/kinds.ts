// Every kind of value, expression and statement the IR has, with what it stands for. The records
// are keyed by the IR's unions, so a new kind does not compile until it is listed here; the
// coverage test (test/nftables/coverage.test.ts) requires each to be read and rendered from real
// text, and the simulator's table will sit beside this one.
import type { Expr, Stmt, Value } from './ir.js';

export const VALUE_KINDS: Readonly<Record<Value['kind'], string>> = {
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  prefix: 'an address prefix (10.0.0.0/8)',
  number: 'a decimal or hexadecimal number',
  negative: 'a negative number (priority -110)',
  time: 'a time (3h, 10800s)',
  string: 'a word or quoted string (interface names, wildcards)',
  symbol: "a name from a datatype's table (tcp, new, local)",
  range: 'a range (80-90, 1.2.3.4-1.2.3.8)',
  list: 'a comma list of flags (established,related)',
  variable: 'a $variable',
  raw: 'a literal kept as text (an Ethernet address)',
};

export const EXPR_KINDS: Readonly<Record<Expr['kind'], string>> = {
  payload: 'a header field (ip saddr, tcp dport, th dport)',
  meta: 'a meta key (meta l4proto, iifname, mark)',
  ct: 'a conntrack key (ct state, ct original saddr)',
  fib: 'a FIB lookup (fib daddr type, fib saddr . iif oif)',
  numgen: 'numgen random|inc mod N [offset K]',
  hash: 'jhash / symhash',
  concat: 'a concatenation (a . b . c)',
  binary: 'a bitwise operation (& | ^ << >>)',
  masked: 'flags / mask (tcp flags syn / fin,syn,rst,ack)',
  value: 'a value',
  set: 'an anonymous set or map { ... }',
  setRef: 'a named set or map @name',
  map: 'a map lookup (KEY map { ... })',
  verdict: 'a verdict as map data',
  paren: 'a parenthesised expression',
};

export const STMT_KINDS: Readonly<Record<Stmt['kind'], string>> = {
  match: 'a relational match (implicit, ==, !=, <, >, <=, >=)',
  verdict: 'accept, drop, continue, return, jump, goto',
  vmap: 'a verdict map lookup',
  reject: 'reject [with icmp|icmpv6|icmpx|tcp ...]',
  counter: 'counter [packets N bytes M]',
  nat: 'snat, dnat, masquerade, redirect',
  set: 'meta/ct key set EXPR',
  setUpdate: 'add/update/delete @set { ... }',
  log: 'log [prefix|level|group|...]',
  limit: 'limit rate [over] N/unit [burst N]',
  comment: 'comment "..."',
  notrack: 'notrack',
  xt: "iptables-nft's xt match/target",
  opaque: 'a statement kpsim does not model, kept as written',
};
