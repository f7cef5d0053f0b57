// Matches on IP header fields: length (xt_length.c: IPv4 total length, IPv6 payload length plus
// its 40-byte header), ttl / hl (ipt_ttl.c, ip6t_hl.c: the TTL or hop limit as the packet is now;
// the node decrements it when forwarding, before FORWARD), tos (xt_dscp.c tos_mt: `(tos & mask)
// == value`) and dscp (xt_dscp.c dscp_mt: the upper six bits of the TOS / traffic class byte).
import type { OptionArg } from '../../iptables/ir.js';
import type { CMatch, Walk } from '../types.js';
import { intOf, markOf, negated, ValueError } from './values.js';

export function compileLength(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const v = opt.values[0];
    if (v?.type !== 'intRange') throw new ValueError('--length needs a length or range', opt);
    const neg = negated(opt);
    return {
      kind: 'maybe',
      text: `-m length ${neg ? '! ' : ''}--length ${v.text}`,
      test: (w) => {
        const n = w.pkt.length;
        if (n === null) return 'the packet length is not given (--length)';
        return (n >= v.from && n <= v.to) !== neg;
      },
    };
  });
}

export function compileTtl(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const n = intOf(opt);
    const neg = negated(opt);
    const kind = opt.name.slice(opt.name.indexOf('-') + 1);
    const test: (w: Walk) => boolean =
      kind === 'eq' ? (w) => (w.pkt.ttl === n) !== neg : kind === 'lt' ? (w) => w.pkt.ttl < n : kind === 'gt' ? (w) => w.pkt.ttl > n : () => false;
    if (kind !== 'eq' && kind !== 'lt' && kind !== 'gt') throw new ValueError(`unknown option ${opt.spelling}`, opt);
    return { kind: 'test', pure: true, test };
  });
}

export function compileTos(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const { value, mask } = markOf(opt);
    const neg = negated(opt);
    return { kind: 'test', pure: true, test: (w) => ((w.pkt.tos & mask) === value) !== neg };
  });
}

export function compileDscp(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const n = intOf(opt);
    const neg = negated(opt);
    return { kind: 'test', pure: true, test: (w) => (w.pkt.tos >> 2 === n) !== neg };
  });
}
