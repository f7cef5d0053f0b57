// Matches with no bearing on the path (comment, nfacct counters), and small ones on packet
// fields: iprange, pkttype, icmp types (a simulated ICMP packet is an echo request).
import type { Family, OptionArg } from '../../iptables/ir.js';
import type { CMatch, Walk } from '../types.js';
import { canonicalName, negated, rangeOf, ValueError, wordOf } from './values.js';

export const ALWAYS: CMatch = { kind: 'test', pure: true, test: () => true };

export function compileIprange(opts: readonly OptionArg[], family: Family): CMatch[] {
  return opts.map((opt): CMatch => {
    const n = canonicalName(opt.name);
    if (n !== 'src-range' && n !== 'dst-range') throw new ValueError(`unknown iprange option ${opt.spelling}`, opt);
    const [a, b] = rangeOf(opt, family);
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

const ECHO_REQUEST: Readonly<Record<string, string>> = { icmp: '8', icmp6: '128' };

export function compileIcmp(module: 'icmp' | 'icmp6', opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const t = wordOf(opt).toLowerCase();
    const neg = negated(opt);
    const echo = t === 'any' || t === 'echo-request' || t === ECHO_REQUEST[module] || t === `${ECHO_REQUEST[module]}/0`;
    return { kind: 'test', pure: true, test: (w) => (echo && (w.pkt.proto === 1 || w.pkt.proto === 58)) !== neg };
  });
}
