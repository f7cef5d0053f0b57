// NAT targets (nf_nat_core.c, xt_nat.c, xt_MASQUERADE.c, xt_REDIRECT.c). They only act in the
// nat table and only on a connection's first packet; they bind the connection (the reply tuple
// changes, IPS_DST_NAT / IPS_SRC_NAT set) and end the nat table's traversal with NF_ACCEPT. The
// ranges come read from the IR: `--to-destination`/`--to-source` a natRange, `--to-ports` ports.
import type { OptionArg } from '../../iptables/ir.js';
import { portsOf, ValueError } from '../matches/values.js';
import type { CTarget, NatSpec } from '../types.js';

const NO_RANGE: NatSpec = { fromAddr: null, toAddr: null, fromPort: null, toPort: null, random: false };

function natRangeOf(opt: OptionArg): NatSpec {
  const v = opt.values[0];
  if (v?.type !== 'natRange') throw new ValueError(`bad NAT range ${v?.text ?? ''}`, opt);
  return { fromAddr: v.fromAddress, toAddr: v.toAddress, fromPort: v.fromPort, toPort: v.toPort, random: false };
}

function toPortsOf(opt: OptionArg): NatSpec {
  const [[fromPort, toPort]] = portsOf(opt);
  return { fromAddr: null, toAddr: null, fromPort, toPort, random: false };
}

export function compileNatTarget(name: 'DNAT' | 'SNAT' | 'MASQUERADE' | 'REDIRECT', opts: readonly OptionArg[]): CTarget {
  let to: NatSpec | null = null;
  let random = false;
  for (const opt of opts) {
    const n = opt.name;
    if (n === 'to-destination' || n === 'to-source') to = natRangeOf(opt);
    else if (n === 'to-ports') to = toPortsOf(opt);
    else if (n === 'random' || n === 'random-fully') random = true;
    else if (n === 'persistent') continue;
    else throw new ValueError(`unknown ${name} option ${opt.spelling}`, opt);
  }
  const { fromAddr, toAddr, fromPort, toPort } = to ?? NO_RANGE;
  switch (name) {
    case 'DNAT':
      return { kind: 'dnat', fromAddr, toAddr, fromPort, toPort, random };
    case 'SNAT':
      if (!to) throw new ValueError('SNAT needs --to-source', opts[0] ?? ({ spelling: 'SNAT' } as OptionArg));
      return { kind: 'snat', fromAddr, toAddr, fromPort, toPort, random };
    case 'MASQUERADE':
      return { kind: 'masquerade', fromAddr, toAddr, fromPort, toPort, random };
    case 'REDIRECT':
      return { kind: 'redirect', fromAddr, toAddr, fromPort, toPort, random };
  }
}

/**
 * Which port a NAT binding gives the manipulated side (nf_nat_core.c, kernel 6.x): get_unique_tuple
 * keeps the packet's port when no port range is given, or when it is already in the range, unless
 * --random/--random-fully; otherwise nf_nat_l4proto_unique_tuple takes `min + off % size`, the
 * first free one from there (kpsim's node has no other connections: that one), with `off` 0 for
 * a destination without --random (so the range's first port; "netfilter: nat: fix DNAT port
 * shadowing" in 6.x, and what this kernel does) and `get_random_u16()` otherwise. A destination
 * is never moved without a range; a source without a range is drawn from its class (1-511,
 * 600-1023 or 1024-65535, by the port it had). Only TCP, UDP, SCTP, DCCP and UDP-Lite have ports
 * (ICMP's id is not modelled: kept).
 */
export type PortBinding =
  | { readonly kind: 'keep' }
  /** Drawn from [from, to]: port from + k with probability weight(k) / 65536. */
  | { readonly kind: 'draw'; readonly from: number; readonly to: number };

export function natPortBinding(manip: 'src' | 'dst', hasPorts: boolean, port: number, spec: NatSpec): PortBinding {
  if (!hasPorts) return { kind: 'keep' };
  const ranged = spec.fromPort !== null;
  if (!spec.random && (!ranged || (port >= spec.fromPort! && port <= spec.toPort!))) return { kind: 'keep' };
  const [from, to] = ranged ? [Math.min(spec.fromPort!, spec.toPort!), Math.max(spec.fromPort!, spec.toPort!)] : [0, 0];
  if (ranged && manip === 'dst' && !spec.random) return { kind: 'draw', from, to: from };
  if (ranged) return { kind: 'draw', from, to };
  if (manip === 'dst') return { kind: 'keep' };
  if (port < 512) return { kind: 'draw', from: 1, to: 511 };
  if (port < 1024) return { kind: 'draw', from: 600, to: 1023 };
  return { kind: 'draw', from: 1024, to: 65535 };
}

/** How many of the 65536 values of get_random_u16() give `min + off % size` = from + k. */
export function drawWeight(size: number, k: number): number {
  return Math.floor(65536 / size) + (k < 65536 % size ? 1 : 0);
}

/** Draws over at most this many ports are followed port by port; larger ones keep one walk and say so. */
export const MAX_PORT_FORKS = 64;
