// physdev (xt_physdev.c physdev_mt): the bridge ports of a frame br_netfilter passes to
// netfilter. Without nf_bridge info (the packet did not come through a bridge port, or
// br_netfilter is off) every option fails unless negated. With it: --physdev-is-bridged holds
// when the bridge forwards the frame (physoutdev set: FORWARD and POSTROUTING of bridged
// traffic), --physdev-is-in when it came in by a port, --physdev-is-out when it leaves by one;
// --physdev-in NAME compares the port it came in by (and passes when none is known to the
// kernel), --physdev-out NAME the port it leaves by (passing while that is not set yet, as in
// PREROUTING and INPUT). NAME ending in `+` matches by prefix (ifname_compare_aligned).
import type { OptionArg } from '../../iptables/ir.js';
import type { CMatch, Walk } from '../types.js';
import { negated, ValueError } from './values.js';

interface PhysdevSpec {
  bridged: boolean | null;
  isIn: boolean | null;
  isOut: boolean | null;
  /** The name test and whether it is negated. */
  inName: { test: (n: string) => boolean; neg: boolean; text: string } | null;
  outName: { test: (n: string) => boolean; neg: boolean; text: string } | null;
}

function nameTest(opt: OptionArg): { test: (n: string) => boolean; neg: boolean; text: string } {
  const v = opt.values[0];
  if (v?.type !== 'interface') throw new ValueError(`--${opt.name} needs an interface name`, opt);
  const { name, wildcard } = v;
  return { test: wildcard ? (n) => n.startsWith(name) : (n) => n === name, neg: negated(opt), text: v.text };
}

export function compilePhysdev(opts: readonly OptionArg[]): CMatch[] {
  const s: PhysdevSpec = { bridged: null, isIn: null, isOut: null, inName: null, outName: null };
  for (const opt of opts) {
    switch (opt.name) {
      case 'physdev-is-bridged':
        s.bridged = !negated(opt);
        break;
      case 'physdev-is-in':
        s.isIn = !negated(opt);
        break;
      case 'physdev-is-out':
        s.isOut = !negated(opt);
        break;
      case 'physdev-in':
        s.inName = nameTest(opt);
        break;
      case 'physdev-out':
        s.outName = nameTest(opt);
        break;
      default:
        throw new ValueError(`unknown physdev option ${opt.spelling}`, opt);
    }
  }
  const text = `-m physdev ${opts.map((o) => `${negated(o) ? '! ' : ''}${o.spelling}${o.values.length ? ` ${o.values.map((v) => v.text).join(' ')}` : ''}`).join(' ')}`;
  return [{ kind: 'maybe', text, test: (w) => physdevTest(s, w) }];
}

function physdevTest(s: PhysdevSpec, w: Walk): boolean | string {
  const p = w.pkt;
  if (!p.viaBridge) {
    // No nf_bridge: only negated options can hold.
    return s.bridged !== true && s.isIn !== true && s.isOut !== true && !(s.inName && !s.inName.neg) && !(s.outName && !s.outName.neg);
  }
  const out = p.bridged;
  if (s.bridged !== null && out !== s.bridged) return false;
  if (s.isIn !== null && s.isIn !== true) return false;
  if (s.isOut !== null && out !== s.isOut) return false;
  if (s.inName) {
    if (p.physIn === null) return `the bridge port ${p.inIface} received it on is not known: give the port as the packet's in-interface`;
    if (s.inName.test(p.physIn) === s.inName.neg) return false;
  }
  if (!s.outName || !out) return true;
  if (p.physOut === null) return `which port of ${p.outIface} leads to the destination is not known: give it (trace --out-port, flows: outPort)`;
  return s.outName.test(p.physOut) !== s.outName.neg;
}
