// Matches on what conntrack counts and relates. kpsim's node holds only the connections of the
// packets it is given (the world: earlier flows, while later flows still use them).
//  - connbytes (xt_connbytes.c): the connection's packet or byte counters, or their average, per
//    direction. conntrack counts a packet before any table but raw sees it (nf_ct_refresh_acct),
//    so a new connection's first packet finds 1 packet and its length in the original direction,
//    nothing in the reply one. An established connection's counters hold packets kpsim never
//    saw (handshakes, data): undecided.
//  - connlimit (xt_connlimit.c, nf_conncount): how many tracked connections share the packet's
//    masked source (or destination) address, this one included.
//  - helper (xt_helper.c): the connection's master has that helper; kpsim's connections are never
//    expected by a helper (no master), so the match is its negation.
import type { Family, OptionArg } from '../../iptables/ir.js';
import type { Conn } from '../conntrack.js';
import type { CMatch, Walk } from '../types.js';
import { intOf, negated, ValueError, wordOf } from './values.js';

export function compileConnbytes(opts: readonly OptionArg[]): CMatch[] {
  let range: { from: number; to: number; neg: boolean } | null = null;
  let mode = 'packets';
  let dir = 'both';
  for (const opt of opts) {
    if (opt.name === 'connbytes') {
      const v = opt.values[0];
      if (v?.type !== 'intRange') throw new ValueError('--connbytes needs a count or range', opt);
      range = { from: v.from, to: v.to, neg: negated(opt) };
    } else if (opt.name === 'connbytes-mode') mode = wordOf(opt);
    else if (opt.name === 'connbytes-dir') dir = wordOf(opt);
    else throw new ValueError(`unknown connbytes option ${opt.spelling}`, opt);
  }
  if (!range) throw new ValueError('connbytes needs --connbytes', opts[0]);
  const r = range;
  return [
    {
      kind: 'maybe',
      text: `-m connbytes ${r.neg ? '! ' : ''}--connbytes ${r.from}${r.to === Infinity ? '' : `:${r.to}`} --connbytes-mode ${mode} --connbytes-dir ${dir}`,
      test: (w) => {
        // No connection yet (raw), or none at all (UNTRACKED): nf_ct_get gives none, no match.
        if (!w.ctAttached || w.conn.untracked) return false;
        if (w.known) return "an established connection's counters hold packets kpsim does not follow";
        const bytes = w.pkt.length;
        const packets = dir === 'reply' ? 0 : 1;
        let what: number;
        if (mode === 'packets') what = packets;
        else if (bytes === null) return 'the packet length is not given (--length)';
        else if (mode === 'bytes') what = dir === 'reply' ? 0 : bytes;
        else what = packets === 0 ? 0 : bytes;
        return (what >= r.from && what <= r.to) !== r.neg;
      },
    },
  ];
}

export function compileConnlimit(opts: readonly OptionArg[], family: Family): CMatch[] {
  let limit = 0;
  let above = true;
  let prefix = family === 'ipv4' ? 32 : 128;
  let daddr = false;
  for (const opt of opts) {
    switch (opt.name) {
      case 'connlimit-above':
        limit = intOf(opt);
        above = !negated(opt);
        break;
      case 'connlimit-upto':
        limit = intOf(opt);
        above = negated(opt);
        break;
      case 'connlimit-mask':
        prefix = intOf(opt);
        break;
      case 'connlimit-saddr':
        daddr = false;
        break;
      case 'connlimit-daddr':
        daddr = true;
        break;
      default:
        throw new ValueError(`unknown connlimit option ${opt.spelling}`, opt);
    }
  }
  const mask = (a: number | bigint) =>
    family === 'ipv4' ? (prefix === 0 ? 0 : ((a as number) & (-1 << (32 - prefix))) >>> 0) : prefix === 0 ? 0n : (a as bigint) >> BigInt(128 - prefix);
  const side = (c: Conn) => (daddr ? c.orig.dst : c.orig.src);
  return [
    {
      kind: 'test',
      pure: false,
      test: (w: Walk) => {
        const key = mask(daddr ? w.pkt.dst : w.pkt.src);
        let count = 1;
        const seen = new Set<number>([w.conn.id]);
        for (const c of w.ctx.world.conns.values()) {
          if (seen.has(c.id)) continue;
          seen.add(c.id);
          if (!c.untracked && mask(side(c)) === key) count++;
        }
        return count > limit === above;
      },
    },
  ];
}

export function compileHelper(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const neg = negated(opt);
    return { kind: 'test', pure: true, test: () => neg };
  });
}
