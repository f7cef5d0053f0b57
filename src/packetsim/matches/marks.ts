// mark (xt_mark.c: `(skb->mark & mask) == mark`) and connmark (xt_connmark.c, on ct->mark).
import type { OptionArg } from '../../iptables/ir.js';
import { READS, type CMatch } from '../types.js';
import { markOf, negated, ValueError } from './values.js';

export function compileMark(module: 'mark' | 'connmark', opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    if (opt.name !== 'mark') throw new ValueError(`unknown ${module} option ${opt.spelling}`, opt);
    const { value, mask } = markOf(opt);
    const v = (value & mask) >>> 0;
    const neg = negated(opt);
    if (module === 'mark') return { kind: 'test', pure: true, reads: READS.MARK, test: (w) => ((w.pkt.mark & mask) >>> 0 === v) !== neg };
    return { kind: 'test', pure: true, test: (w) => ((w.conn.mark & mask) >>> 0 === v) !== neg };
  });
}
