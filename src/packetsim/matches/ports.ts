// tcp, udp, sctp (xt_tcpudp.c, xt_sctp.c) and multiport (xt_multiport.c) matches.
import type { OptionArg } from '../../iptables/ir.js';
import { READS, type CMatch, type Walk } from '../types.js';
import { inPortRanges, type PortRange } from '../../net/index.js';
import { listOf, negated, portsOf, ValueError } from './values.js';
import { TCP_FLAGS } from '../packet.js';

function inRanges(r: readonly PortRange[]): (port: number) => boolean {
  if (r.length === 1) {
    const [a, b] = r[0];
    if (a === b) return (p) => p === a;
    return (p) => p >= a && p <= b;
  }
  return (p) => inPortRanges(r, p);
}

function flagsOf(names: readonly string[], opt: OptionArg): number {
  let v = 0;
  for (const n of names) {
    const u = n.toUpperCase();
    if (u === 'ALL') v |= 0x3f;
    else if (u === 'NONE') continue;
    else if (u in TCP_FLAGS) v |= TCP_FLAGS[u as keyof typeof TCP_FLAGS];
    else throw new ValueError(`unknown TCP flag ${n}`, opt);
  }
  return v;
}

/** One test per option of a tcp/udp/sctp match; the protocol itself is -p's business. */
export function compilePorts(module: string, opts: readonly OptionArg[]): CMatch[] {
  const out: CMatch[] = [];
  for (const opt of opts) {
    const neg = negated(opt);
    switch (opt.name) {
      case 'sport': {
        const t = inRanges(portsOf(opt));
        out.push({ kind: 'test', pure: true, reads: READS.SPORT, test: (w: Walk) => t(w.pkt.sport) !== neg });
        break;
      }
      case 'dport': {
        const ranges = portsOf(opt);
        const dports = neg ? undefined : ranges;
        // `--dport N`, kube-proxy's every service rule: one closure, no range test behind it.
        if (ranges.length === 1 && ranges[0][0] === ranges[0][1]) {
          const port = ranges[0][0];
          out.push({ kind: 'test', pure: true, reads: READS.DPORT, dports, test: (w: Walk) => (w.pkt.dport === port) !== neg });
          break;
        }
        const t = inRanges(ranges);
        out.push({ kind: 'test', pure: true, reads: READS.DPORT, dports, test: (w: Walk) => t(w.pkt.dport) !== neg });
        break;
      }
      case 'syn':
        // --syn is --tcp-flags SYN,RST,ACK,FIN SYN.
        out.push({ kind: 'test', pure: true, reads: READS.TCPFLAGS, test: (w) => ((w.pkt.tcpFlags & 0x17) === TCP_FLAGS.SYN) !== neg });
        break;
      case 'tcp-flags': {
        if (opt.values.length < 2) throw new ValueError('--tcp-flags needs a mask and a comparison', opt);
        const mask = flagsOf(listOf(opt, 0), opt);
        const comp = flagsOf(listOf(opt, 1), opt);
        out.push({ kind: 'test', pure: true, reads: READS.TCPFLAGS, test: (w) => ((w.pkt.tcpFlags & mask) === comp) !== neg });
        break;
      }
      default:
        out.push({ kind: 'unknown', text: `${opt.spelling} ${opt.values.map((v) => v.text).join(' ')}`, reason: `${module} option ${opt.spelling} is not modelled` });
    }
  }
  return out;
}

export function compileMultiport(opts: readonly OptionArg[]): CMatch[] {
  const out: CMatch[] = [];
  for (const opt of opts) {
    const neg = negated(opt);
    const ranges = portsOf(opt);
    const t = inRanges(ranges);
    switch (opt.name) {
      case 'sports':
        out.push({ kind: 'test', pure: true, reads: READS.SPORT, test: (w) => t(w.pkt.sport) !== neg });
        break;
      case 'dports':
        out.push({ kind: 'test', pure: true, reads: READS.DPORT, dports: neg ? undefined : ranges, test: (w) => t(w.pkt.dport) !== neg });
        break;
      case 'ports':
        out.push({ kind: 'test', pure: true, reads: READS.SPORT | READS.DPORT, test: (w) => (t(w.pkt.sport) || t(w.pkt.dport)) !== neg });
        break;
      default:
        throw new ValueError(`unknown multiport option ${opt.spelling}`, opt);
    }
  }
  return out;
}
