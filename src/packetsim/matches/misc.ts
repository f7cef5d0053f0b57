// Matches with no bearing on the path (comment, nfacct counters), and small ones on packet
// fields: iprange, pkttype, icmp types (a simulated ICMP packet is an echo request).
import type { OptionArg } from '../../iptables/ir.js';
import { IPPROTO } from '../../net/index.js';
import type { CMatch, Walk } from '../types.js';
import { negated, rangeOf, ValueError, wordOf } from './values.js';

export const ALWAYS: CMatch = { kind: 'test', pure: true, test: () => true };

export function compileIprange(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const n = opt.name;
    if (n !== 'src-range' && n !== 'dst-range') throw new ValueError(`unknown iprange option ${opt.spelling}`, opt);
    const [a, b] = rangeOf(opt);
    const neg = negated(opt);
    const pick = n === 'src-range' ? (w: Walk) => w.pkt.src : (w: Walk) => w.pkt.dst;
    return { kind: 'test', pure: true, test: (w) => (pick(w) >= a && pick(w) <= b) !== neg };
  });
}

export function compilePkttype(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const t = wordOf(opt).toLowerCase();
    const neg = negated(opt);
    if (t !== 'unicast' && t !== 'broadcast' && t !== 'multicast') throw new ValueError(`unknown packet type ${t}`, opt);
    return {
      kind: 'test',
      pure: true,
      test: (w) => {
        const d = w.pkt.dst;
        const env = w.ctx.env;
        const kind =
          w.pkt.family === 'ipv4'
            ? (d as number) >>> 28 === 0xe
              ? 'multicast'
              : env.isBroadcast(d)
                ? 'broadcast'
                : 'unicast'
            : (d as bigint) >> 120n === 0xffn
              ? 'multicast'
              : 'unicast';
        return (kind === t) !== neg;
      },
    };
  });
}

/** The echo request's ICMP type: 8 (icmp), 128 (icmpv6). */
const ECHO_REQUEST = { icmp: 8, icmp6: 128 } as const;

export function compileIcmp(module: 'icmp' | 'icmp6', opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const v = opt.values[0];
    if (v?.type !== 'icmpType') throw new ValueError(`--${opt.name} needs an ICMP type`, opt);
    const neg = negated(opt);
    // `any`, or the echo request's type with every code or code 0.
    const echo = v.icmpType === null || (v.icmpType === ECHO_REQUEST[module] && (v.code === null || v.code === 0));
    return { kind: 'test', pure: true, test: (w) => (echo && (w.pkt.proto === IPPROTO.ICMP || w.pkt.proto === IPPROTO.ICMPV6)) !== neg };
  });
}
