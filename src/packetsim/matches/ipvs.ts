// ipvs (xt_ipvs.c ipvs_mt): a packet IPVS has handled. IPVS marks the packets it sends on
// (skb->ipvs_property, set by ip_vs_nat_send_or_cont and by handle_response for replies); `--ipvs`
// alone tests that mark. Every other option implies it and then asks about the IPVS connection
// the packet belongs to, found the way the match looks it up: conn_out_get with the packet's
// addresses inverted, which finds the connection for the client's packets IPVS forwarded (the
// destination already the real server) but not for the replies IPVS rewrote. --vproto reads the
// packet's own protocol; --vdir the conntrack direction; --vportctl the controlling connection,
// which only application helpers (FTP) create, so it never matches here.
import type { Family, OptionArg } from '../../iptables/ir.js';
import { cidrContains, type Cidr } from '../../net/index.js';
import type { CMatch, Walk } from '../types.js';
import { cidrsOf, negated, portsOf, protocolOf, ValueError, wordOf } from './values.js';

export function compileIpvs(opts: readonly OptionArg[], family: Family): CMatch[] {
  // `--ipvs` alone: the mark, possibly negated. With other options, `--ipvs` adds nothing
  // (libxt_ipvs refuses `! --ipvs` beside them; the kernel ignores its inversion then).
  const others = opts.filter((o) => o.name !== 'ipvs');
  if (others.length === 0) {
    const neg = opts.some(negated);
    return [{ kind: 'test', pure: true, test: (w) => (w.pkt.ipvs !== null) !== neg }];
  }
  const tests: ((w: Walk) => boolean)[] = [];
  for (const opt of others) {
    const neg = negated(opt);
    switch (opt.name) {
      case 'vproto': {
        const p = protocolOf(opt);
        tests.push((w) => (w.pkt.proto === p) !== neg);
        break;
      }
      case 'vaddr': {
        const c: Cidr = cidrsOf(opt, family)[0];
        tests.push((w) => cidrContains(c, w.pkt.ipvs!.vaddr) !== neg);
        break;
      }
      case 'vport': {
        const port = portsOf(opt)[0][0];
        tests.push((w) => (w.pkt.ipvs!.vport === port) !== neg);
        break;
      }
      case 'vdir': {
        const d = wordOf(opt).toUpperCase();
        if (d !== 'ORIGINAL' && d !== 'REPLY') throw new ValueError('--vdir takes ORIGINAL or REPLY', opt);
        tests.push((w) => (w.dir === 'reply') === (d === 'REPLY'));
        break;
      }
      case 'vmethod': {
        const m = wordOf(opt).toUpperCase();
        if (m !== 'GATE' && m !== 'IPIP' && m !== 'MASQ') throw new ValueError('--vmethod takes GATE, IPIP or MASQ', opt);
        tests.push((w) => (w.pkt.ipvs!.method === m) !== neg);
        break;
      }
      case 'vportctl':
        // No controlling connection (cp->control is NULL): no match, negated or not.
        tests.push(() => false);
        break;
      default:
        throw new ValueError(`unknown ipvs option ${opt.spelling}`, opt);
    }
  }
  // Any option but --ipvs: no mark or no connection found, no match (whatever is negated).
  return [{ kind: 'test', pure: true, test: (w) => w.pkt.ipvs !== null && w.pkt.ipvs.found && tests.every((t) => t(w)) }];
}
