// NAT targets (nf_nat_core.c, xt_nat.c, xt_MASQUERADE.c, xt_REDIRECT.c). They only act in the
// nat table and only on a connection's first packet; they bind the connection (the reply tuple
// changes, IPS_DST_NAT / IPS_SRC_NAT set) and end the nat table's traversal with NF_ACCEPT. The
// ranges come read from the IR: `--to-destination`/`--to-source` a natRange, `--to-ports` ports.
import type { OptionArg } from '../../iptables/ir.js';
import { portsOf, ValueError } from '../matches/values.js';
import type { CTarget, NatSpec } from '../types.js';

const NO_RANGE: NatSpec = { fromAddr: null, toAddr: null, fromPort: null, toPort: null };

function natRangeOf(opt: OptionArg): NatSpec {
  const v = opt.values[0];
  if (v?.type !== 'natRange') throw new ValueError(`bad NAT range ${v?.text ?? ''}`, opt);
  return { fromAddr: v.fromAddress, toAddr: v.toAddress, fromPort: v.fromPort, toPort: v.toPort };
}

function toPortsOf(opt: OptionArg): NatSpec {
  const [[fromPort, toPort]] = portsOf(opt);
  return { fromAddr: null, toAddr: null, fromPort, toPort };
}

export function compileNatTarget(name: 'DNAT' | 'SNAT' | 'MASQUERADE' | 'REDIRECT', opts: readonly OptionArg[]): CTarget {
  let to: NatSpec | null = null;
  for (const opt of opts) {
    const n = opt.name;
    if (n === 'to-destination' || n === 'to-source') to = natRangeOf(opt);
    else if (n === 'to-ports') to = toPortsOf(opt);
    else if (n === 'random' || n === 'random-fully' || n === 'persistent') continue;
    else throw new ValueError(`unknown ${name} option ${opt.spelling}`, opt);
  }
  const range = to ?? NO_RANGE;
  const { fromAddr, toAddr, fromPort, toPort } = range;
  switch (name) {
    case 'DNAT':
      return { kind: 'dnat', fromAddr, toAddr, fromPort, toPort };
    case 'SNAT':
      if (!to) throw new ValueError('SNAT needs --to-source', opts[0] ?? ({ spelling: 'SNAT' } as OptionArg));
      return { kind: 'snat', fromAddr, toAddr, fromPort, toPort };
    case 'MASQUERADE':
      return { kind: 'masquerade', fromAddr, toAddr, fromPort, toPort };
    case 'REDIRECT':
      return { kind: 'redirect', fromAddr, toAddr, fromPort, toPort };
  }
}
