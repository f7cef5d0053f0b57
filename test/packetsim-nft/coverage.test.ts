// Every statement and expression kind of the nftables IR, traced in a rule of its own: what the
// simulator's table (src/packetsim-nft/kinds.ts) calls simulated gives a known outcome, what it
// does not ends UNKNOWN (or follows both ways). A kind without a sample here fails the test.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { nftablesExtensions } from '../../src/packetsim-nft/hook.js';
import { SIM_EXPRS, SIM_STMTS } from '../../src/packetsim-nft/kinds.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { tracePacket } from '../../src/packetsim/trace.js';

const IFACES = [
  { name: 'lo', addresses: ['127.0.0.1/8'] },
  { name: 'eth0', addresses: ['192.168.0.2/24'] },
];

/** The rule's chain: a nat chain (prerouting) for nat statements, else a filter chain at input. */
function verdicts(rule: string, nat = false): string[] {
  const text = `table ip t {
  set s { type ipv4_addr; flags dynamic,timeout; timeout 1m; }
  map m { type ipv4_addr : ipv4_addr; elements = { 192.168.0.2 : 10.0.0.9 } }
  chain c { type ${nat ? 'nat' : 'filter'} hook ${nat ? 'prerouting' : 'input'} priority ${nat ? 'dstnat' : 'filter'}; policy accept; ${rule} }
  chain x { drop }
}`;
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [], nft: { file: 'rule.nft', text }, interfaces: IFACES }, sink);
  expect(sink.errors, rule).toEqual([]);
  const { sim } = prepareNode(node!, 'ipv4', { extensions: nftablesExtensions(node!.nftables!, 'ipv4', ['lo', 'eth0']) });
  const r = tracePacket(sim.rs, sim.env, { protocol: 'tcp', sourceIP: '203.0.113.9', destIP: '192.168.0.2', destPort: 80 });
  return r.outcomes.map((o) => `${o.verdict}${o.dnat ? ' dnat' : ''}`).sort();
}

/** A rule using the kind, and the outcomes it gives. */
const STMT_SAMPLES: Record<keyof typeof SIM_STMTS, readonly [string, string[], boolean?]> = {
  match: ['tcp dport 80 drop', ['DROP']],
  verdict: ['jump x', ['DROP']],
  vmap: ['tcp dport vmap { 80 : drop }', ['DROP']],
  reject: ['reject with tcp reset', ['REJECT']],
  counter: ['counter drop', ['DROP']],
  nat: ['dnat to 10.0.0.9:8080', ['ACCEPT dnat'], true],
  set: ['meta mark set 0x10 meta mark 0x10 drop', ['DROP']],
  setUpdate: ['update @s { ip saddr } ip saddr @s drop', ['DROP']],
  log: ['log prefix "x" drop', ['DROP']],
  comment: ['drop comment "x"', ['DROP']],
  notrack: ['notrack drop', ['DROP']],
  limit: ['limit rate 1/second drop', ['UNKNOWN', 'UNKNOWN']],
  xt: ['xt match "recent" drop', ['UNKNOWN', 'UNKNOWN']],
  opaque: ['queue', ['UNKNOWN']],
};

const EXPR_SAMPLES: Record<keyof typeof SIM_EXPRS, readonly [string, string[], boolean?]> = {
  payload: ['ip daddr 192.168.0.2 drop', ['DROP']],
  meta: ['meta l4proto tcp drop', ['DROP']],
  ct: ['ct state new drop', ['DROP']],
  fib: ['fib daddr type local drop', ['DROP']],
  numgen: ['numgen random mod 2 vmap { 0 : drop, 1 : accept }', ['ACCEPT', 'DROP']],
  hash: ['jhash ip saddr mod 1 seed 0x1 vmap { 0 : drop }', ['DROP']],
  concat: ['ip daddr . tcp dport { 192.168.0.2 . 80 } drop', ['DROP']],
  binary: ['meta mark & 0x1 == 0 drop', ['DROP']],
  masked: ['tcp flags syn / fin,syn,rst,ack drop', ['DROP']],
  value: ['tcp dport 80 drop', ['DROP']],
  set: ['tcp dport { 79, 80 } drop', ['DROP']],
  setRef: ['ip saddr @s drop', ['ACCEPT']],
  map: ['dnat to ip daddr map @m', ['ACCEPT dnat'], true],
  verdict: ['tcp dport vmap { 80 : jump x }', ['DROP']],
  paren: ['meta mark & (0x1) == 0 drop', ['DROP']],
};

describe('nftables simulator coverage', () => {
  it.each(Object.entries(STMT_SAMPLES))('statement %s', (kind, [rule, want, nat]) => {
    expect(verdicts(rule, nat)).toEqual(want);
    // What the table says is not simulated ends UNKNOWN, and what it says is never does.
    expect(want.includes('UNKNOWN')).toBe(SIM_STMTS[kind as keyof typeof SIM_STMTS] !== true);
  });

  it.each(Object.entries(EXPR_SAMPLES))('expression %s', (kind, [rule, want, nat]) => {
    expect(verdicts(rule, nat)).toEqual(want);
    expect(want.includes('UNKNOWN')).toBe(SIM_EXPRS[kind as keyof typeof SIM_EXPRS] !== true);
  });
});
