// MARK (xt_mark.c mark_tg: `skb->mark = (skb->mark & ~mask) ^ mark`, with libxt_MARK turning
// --set-mark V/M into mark V, mask V|M; --and-mark B into mark 0, mask ~B; --or-mark B into
// mark B, mask B; --xor-mark B into mark B, mask 0) and CONNMARK (xt_connmark.c, the same on
// ct->mark, plus --save-mark / --restore-mark between the two with nfmask/ctmask).
import type { OptionArg } from '../../iptables/ir.js';
import { markOf, ValueError } from '../matches/values.js';
import type { CTarget, Walk } from '../types.js';

function xset(opt: OptionArg): { mark: number; mask: number } | null {
  const n = opt.name;
  if (n !== 'set-xmark' && n !== 'set-mark' && n !== 'and-mark' && n !== 'or-mark' && n !== 'xor-mark') return null;
  const { value, mask } = markOf(opt);
  switch (n) {
    case 'set-xmark':
      return { mark: value, mask };
    case 'set-mark':
      return { mark: value, mask: (value | mask) >>> 0 };
    case 'and-mark':
      return { mark: 0, mask: ~value >>> 0 };
    case 'or-mark':
      return { mark: value, mask: value };
    case 'xor-mark':
      return { mark: value, mask: 0 };
    default:
      return null;
  }
}

const apply = (m: number, x: { mark: number; mask: number }) => ((m & ~x.mask) ^ x.mark) >>> 0;

export function compileMarkTarget(opts: readonly OptionArg[]): CTarget {
  const opt = opts[0];
  const x = opt ? xset(opt) : null;
  if (!opt || !x) throw new ValueError('MARK needs --set-mark, --set-xmark, --and-mark, --or-mark or --xor-mark', opt ?? ({ spelling: 'MARK' } as OptionArg));
  return { kind: 'mark', apply: (m) => apply(m, x), text: `${opt.spelling} ${opt.values.map((v) => v.text).join(' ')}` };
}

export function compileConnmarkTarget(opts: readonly OptionArg[]): CTarget {
  let nfmask = 0xffffffff;
  let ctmask = 0xffffffff;
  let action: ((w: Walk) => void) | null = null;
  let text = '';
  for (const opt of opts) {
    const n = opt.name;
    if (n === 'nfmask') nfmask = markOf(opt).value;
    else if (n === 'ctmask') ctmask = markOf(opt).value;
    else if (n === 'mask') nfmask = ctmask = markOf(opt).value;
  }
  for (const opt of opts) {
    const n = opt.name;
    text = `${opt.spelling} ${opt.values.map((v) => v.text).join(' ')}`.trim();
    const x = xset(opt);
    if (x) {
      action = (w) => {
        w.conn.mark = apply(w.conn.mark, x);
      };
      break;
    }
    if (n === 'save-mark') {
      action = (w) => {
        w.conn.mark = ((w.conn.mark & ~ctmask) ^ (w.pkt.mark & nfmask)) >>> 0;
      };
      break;
    }
    if (n === 'restore-mark') {
      action = (w) => {
        w.pkt.mark = ((w.pkt.mark & ~nfmask) ^ (w.conn.mark & ctmask)) >>> 0;
      };
      break;
    }
  }
  if (!action) throw new ValueError('CONNMARK needs a --set-mark, --save-mark or --restore-mark option', opts[0] ?? ({ spelling: 'CONNMARK' } as OptionArg));
  return { kind: 'connmark', apply: action, text };
}
