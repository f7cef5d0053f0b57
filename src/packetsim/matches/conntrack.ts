// conntrack (xt_conntrack.c, conntrack_mt) and the older state match (xt_state.c). The state
// of the simulated connection: NEW until a reply was seen (IPS_SEEN_REPLY), ESTABLISHED for
// replies and after, UNTRACKED after CT --notrack; the virtual states SNAT and DNAT follow the
// IPS_SRC_NAT / IPS_DST_NAT status bits, set once a NAT rule bound the connection.
import type { Family, OptionArg } from '../../iptables/ir.js';
import { cidrTest } from '../../net/index.js';
import { READS, type CMatch, type Walk } from '../types.js';
import { cidrsOf, listOf, negated, portsOf, protocolOf, ValueError, wordOf } from './values.js';

const STATE = { INVALID: 1, ESTABLISHED: 2, RELATED: 4, NEW: 8, UNTRACKED: 16, SNAT: 32, DNAT: 64 } as const;
const STATUS = { NONE: 0, EXPECTED: 1, SEEN_REPLY: 2, ASSURED: 4, CONFIRMED: 8 } as const;

export function ctStateBits(w: Walk): number {
  const c = w.conn;
  if (c.untracked) return c.invalid ? STATE.INVALID : STATE.UNTRACKED;
  let bits = w.dir === 'reply' || c.seenReply ? STATE.ESTABLISHED : c.related ? STATE.RELATED : STATE.NEW;
  if (c.snat) bits |= STATE.SNAT;
  if (c.dnat) bits |= STATE.DNAT;
  return bits;
}

function ctStatusBits(w: Walk): number {
  const c = w.conn;
  let bits = 0;
  if (c.seenReply) bits |= STATUS.SEEN_REPLY | STATUS.ASSURED;
  if (c.related) bits |= STATUS.EXPECTED;
  if (c.confirmed) bits |= STATUS.CONFIRMED;
  return bits;
}

function bitsOf(opt: OptionArg, table: Readonly<Record<string, number>>): number {
  let bits = 0;
  for (const s of listOf(opt)) {
    const u = s.toUpperCase();
    if (!(u in table)) throw new ValueError(`unknown state ${s}`, opt);
    bits |= table[u];
  }
  return bits;
}

export function compileConntrack(module: 'conntrack' | 'state', opts: readonly OptionArg[], family: Family): CMatch[] {
  const out: CMatch[] = [];
  for (const opt of opts) {
    const neg = negated(opt);
    const name = opt.name;
    const push = (test: (w: Walk) => boolean) => out.push({ kind: 'test', pure: true, test: (w) => test(w) !== neg });
    switch (name) {
      case 'state':
      case 'ctstate': {
        const bits = bitsOf(opt, STATE);
        out.push({ kind: 'test', pure: true, reads: READS.CTSTATE, test: (w) => ((ctStateBits(w) & bits) !== 0) !== neg });
        break;
      }
      case 'ctstatus': {
        const bits = bitsOf(opt, STATUS);
        push((w) => (ctStatusBits(w) & bits) !== 0 || (bits === 0 && ctStatusBits(w) === 0));
        break;
      }
      case 'ctproto': {
        const n = protocolOf(opt);
        push((w) => w.conn.proto === n);
        break;
      }
      case 'ctorigsrc':
      case 'ctorigdst':
      case 'ctreplsrc':
      case 'ctrepldst': {
        const ts = cidrsOf(opt, family).map(cidrTest);
        const pick = {
          ctorigsrc: (w: Walk) => w.conn.orig.src,
          ctorigdst: (w: Walk) => w.conn.orig.dst,
          ctreplsrc: (w: Walk) => w.conn.reply.src,
          ctrepldst: (w: Walk) => w.conn.reply.dst,
        }[name];
        push((w) => ts.some((t) => t(pick(w))));
        break;
      }
      case 'ctorigsrcport':
      case 'ctorigdstport':
      case 'ctreplsrcport':
      case 'ctrepldstport': {
        const [[a, b]] = portsOf(opt);
        const pick = {
          ctorigsrcport: (w: Walk) => w.conn.orig.sport,
          ctorigdstport: (w: Walk) => w.conn.orig.dport,
          ctreplsrcport: (w: Walk) => w.conn.reply.sport,
          ctrepldstport: (w: Walk) => w.conn.reply.dport,
        }[name];
        push((w) => pick(w) >= a && pick(w) <= b);
        break;
      }
      case 'ctdir': {
        const d = wordOf(opt).toUpperCase();
        if (d !== 'ORIGINAL' && d !== 'REPLY') throw new ValueError(`--ctdir takes ORIGINAL or REPLY`, opt);
        out.push({ kind: 'test', pure: true, reads: READS.CTSTATE, test: (w) => (w.dir === 'reply') === (d === 'REPLY') });
        break;
      }
      default:
        out.push({ kind: 'unknown', text: `${opt.spelling} ${opt.values.map((v) => v.text).join(' ')}`, reason: `${module} option ${opt.spelling} is not modelled` });
    }
  }
  return out;
}
