// NAT targets (nf_nat_core.c, xt_nat.c, xt_MASQUERADE.c, xt_REDIRECT.c). They only act in the
// nat table and only on a connection's first packet; they bind the connection (the reply tuple
// changes, IPS_DST_NAT / IPS_SRC_NAT set) and end the nat table's traversal with NF_ACCEPT.
import type { Family, OptionArg } from '../../iptables/ir.js';
import { parseIp } from '../addr.js';
import { canonicalName, ValueError, valueText } from '../matches/values.js';
import type { CTarget, NatSpec } from '../types.js';

/** `ADDR[-ADDR][:PORT[-PORT]]`, IPv6 as `[ADDR]:PORT`; or `:PORT` / `PORT[-PORT]` with portsOnly. */
export function parseNatRange(text: string, family: Family, portsOnly = false): NatSpec | null {
  let addrPart = text;
  let portPart: string | null = null;
  if (portsOnly) {
    addrPart = '';
    portPart = text.startsWith(':') ? text.slice(1) : text;
  } else if (family === 'ipv6' && text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    addrPart = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest.startsWith(':')) portPart = rest.slice(1);
    else if (rest !== '') return null;
  } else if (family === 'ipv4') {
    const colon = text.indexOf(':');
    if (colon >= 0) {
      addrPart = text.slice(0, colon);
      portPart = text.slice(colon + 1);
    }
  }
  let fromAddr = null;
  let toAddr = null;
  if (addrPart !== '') {
    const [a, b] = addrPart.split('-');
    fromAddr = parseIp(a, family);
    toAddr = b === undefined ? fromAddr : parseIp(b, family);
    if (fromAddr === null || toAddr === null) return null;
  }
  let fromPort = null;
  let toPort = null;
  if (portPart !== null) {
    const [a, b] = portPart.split('-');
    fromPort = Number(a);
    toPort = b === undefined ? fromPort : Number(b);
    if (!Number.isInteger(fromPort) || !Number.isInteger(toPort) || fromPort < 0 || toPort > 65535) return null;
  }
  return { fromAddr, toAddr, fromPort, toPort };
}

const NO_RANGE: NatSpec = { fromAddr: null, toAddr: null, fromPort: null, toPort: null };

function rangeOption(opt: OptionArg, family: Family, portsOnly: boolean): NatSpec {
  const v = opt.values[0];
  const text = v ? valueText(v) : '';
  const r = parseNatRange(text, family, portsOnly);
  if (!r) throw new ValueError(`bad NAT range ${text}`, opt);
  return r;
}

export function compileNatTarget(name: 'DNAT' | 'SNAT' | 'MASQUERADE' | 'REDIRECT', opts: readonly OptionArg[], family: Family): CTarget {
  let to: NatSpec | null = null;
  for (const opt of opts) {
    const n = canonicalName(opt.name);
    if (n === 'to-destination' || n === 'to-source') to = rangeOption(opt, family, false);
    else if (n === 'to-ports' || n === 'to') to = rangeOption(opt, family, true);
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
