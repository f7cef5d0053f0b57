// What the nftables simulator does with each kind of statement and expression of the IR
// (src/nftables/kinds.ts lists them for the reader). Keyed by the IR's unions, so a new kind does
// not compile until it is placed here; test/packetsim-nft/coverage.test.ts traces a rule of every
// kind and requires the outcome this table says. The "not modelled" lists come from here.
import type { Expr, Stmt } from '../nftables/ir.js';

/** `true`: simulated; a string: why not (the rule is followed both ways, or the walk ends UNKNOWN). */
export type Simulated = true | string;

export const SIM_STMTS: Readonly<Record<Stmt['kind'], Simulated>> = {
  match: true,
  verdict: true,
  vmap: true,
  reject: true,
  counter: true,
  nat: true,
  set: true,
  setUpdate: true,
  log: true,
  comment: true,
  notrack: true,
  limit: 'rate limits depend on the traffic rate: both ways',
  xt: "iptables-nft's xt matches and targets are not readable as nft (trace the iptables-save dump)",
  opaque: 'a statement kpsim keeps as written (queue, tproxy, dup, ...) ends the walk UNKNOWN',
};

export const SIM_EXPRS: Readonly<Record<Expr['kind'], Simulated>> = {
  payload: true,
  meta: true,
  ct: true,
  fib: true,
  numgen: true,
  hash: true,
  concat: true,
  binary: true,
  masked: true,
  value: true,
  set: true,
  setRef: true,
  map: true,
  verdict: true,
  paren: true,
};
