// rpfilter (xt_rpfilter.c rpfilter_mt, ip6t_rpfilter.c): a reverse-path check in raw or mangle
// PREROUTING, against the node's routes: the route back to the source must exist and be unicast
// (local too with --accept-local) and leave by the interface the packet came in on (any
// interface with --loose). Looped-back packets pass. --invert negates the answer; --validmark
// adds the packet's mark to the lookup, which only policy rules (ip rule fwmark) read, so with
// the main and local tables alone it changes nothing.
import type { OptionArg } from '../../iptables/ir.js';
import type { CMatch } from '../types.js';
import { ValueError } from './values.js';

export function compileRpfilter(opts: readonly OptionArg[]): CMatch[] {
  let loose = false;
  let acceptLocal = false;
  let invert = false;
  for (const opt of opts) {
    if (opt.name === 'loose') loose = true;
    else if (opt.name === 'accept-local') acceptLocal = true;
    else if (opt.name === 'invert') invert = true;
    else if (opt.name !== 'validmark') throw new ValueError(`unknown rpfilter option ${opt.spelling}`, opt);
  }
  const flags = { loose, acceptLocal };
  return [{ kind: 'test', pure: true, test: (w) => w.ctx.env.rpfilter(w.pkt.src, w.pkt.dst, w.pkt.inIface, flags) !== invert }];
}
