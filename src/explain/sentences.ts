// A kube-proxy rule in words: who it applies to and what it does. Used for the per-source decisions
// of KUBE-EXT / KUBE-SVC chains (masquerading, short-circuits) and for explaining one rule.
import type { OptionArg, Rule } from '../iptables/ir.js';
import { commentOf, dnatTo, jumpTarget, option, recentOf, serviceChainOf, statisticStored } from './rule-facts.js';
import { hostPort } from './view.js';

function neg(o: OptionArg): boolean {
  return o.negation !== 'none';
}

/** Who the rule applies to, as a phrase: `traffic from outside 10.244.0.0/16`, `all traffic`. */
export function whoPhrase(r: Rule): string {
  const parts: string[] = [];
  const src = option(r, null, 'source');
  if (src) parts.push(`${neg(src) ? 'not ' : ''}from ${src.values[0]?.text}`);
  const srcType = option(r, 'addrtype', 'src-type');
  if (srcType) parts.push(`${neg(srcType) ? 'not ' : ''}from ${srcType.values[0]?.text === 'LOCAL' ? 'the node itself' : `a ${srcType.values[0]?.text} address`}`);
  const iif = option(r, null, 'in-interface');
  if (iif) parts.push(`${neg(iif) ? 'not ' : ''}arriving on ${iif.values[0]?.text}`);
  const dst = option(r, null, 'destination');
  if (dst) parts.push(`${neg(dst) ? 'not ' : ''}to ${dst.values[0]?.text}`);
  const dstType = option(r, 'addrtype', 'dst-type');
  if (dstType) parts.push(`${neg(dstType) ? 'not ' : ''}to ${dstType.values[0]?.text === 'LOCAL' ? 'a local address' : `a ${dstType.values[0]?.text} address`}`);
  for (const m of ['tcp', 'udp', 'sctp', 'multiport']) {
    const dport = option(r, m, m === 'multiport' ? 'dports' : 'dport');
    if (dport) parts.push(`${neg(dport) ? 'not ' : ''}to port ${dport.values[0]?.text}`);
  }
  const mark = option(r, 'mark', 'mark');
  if (mark) parts.push(`${neg(mark) ? 'without' : 'with'} mark ${mark.values[0]?.text}`);
  const set = option(r, 'set', 'match-set');
  if (set) parts.push(`${neg(set) ? 'not ' : ''}in set ${set.values[0]?.text} (${set.values[1]?.text ?? ''})`);
  const stored = statisticStored(r);
  if (stored !== null) parts.push(`with probability ${(stored / 0x80000000).toFixed(10)}`);
  const recent = recentOf(r);
  if (recent?.check) parts.push(`whose source is in the recent list ${recent.name}${recent.seconds !== null ? ` (last ${recent.seconds} s)` : ''}`);
  return parts.length ? `traffic ${parts.join(', ')}` : 'all traffic';
}

/** What the rule does, as a phrase: `is marked for masquerading`, `goes to the Cluster-policy endpoints (KUBE-SVC-X)`. */
export function actionPhrase(r: Rule): string {
  const jump = jumpTarget(r);
  if (jump) {
    if (jump === 'KUBE-MARK-MASQ') return 'is marked for masquerading (SNAT to the node\'s address on the way out)';
    if (jump === 'KUBE-MARK-DROP') return 'is marked to be dropped';
    const sc = serviceChainOf(jump);
    switch (sc?.kind) {
      case 'SVC':
        return `goes to the Cluster-policy endpoints (${jump})`;
      case 'SVL':
        return `goes to this node's endpoints, Local policy (${jump})`;
      case 'EXT':
        return `goes on to the external-traffic chain ${jump}`;
      case 'XLB':
        return `goes on to the external-traffic chain ${jump} (Local policy: this node's endpoints)`;
      case 'FW':
        return `goes on to the load-balancer source-range check ${jump}`;
      case 'SEP':
        return `goes to endpoint chain ${jump}`;
      default:
        return `${r.target?.kind === 'chain' && r.target.goto ? 'goes' : 'jumps'} to ${jump}`;
    }
  }
  const dnat = dnatTo(r);
  if (dnat) return `is sent to ${hostPort(dnat.address, dnat.port)} (DNAT)`;
  const recent = recentOf(r);
  const t = r.target;
  if (!t) return recent?.set ? `records its source in the recent list ${recent.name}` : 'is counted';
  switch (t.kind) {
    case 'verdict':
      return t.name === 'RETURN' ? 'returns to the calling chain' : `is ${t.name === 'ACCEPT' ? 'accepted' : t.name === 'DROP' ? 'dropped' : 'queued'}`;
    case 'extension':
      if (t.name === 'REJECT') return 'is rejected';
      if (t.name === 'MASQUERADE') return 'is masqueraded';
      if (t.name === 'MARK') return `has its mark changed (${t.options.map((o) => `${o.spelling} ${o.values.map((v) => v.text).join(' ')}`).join(' ')})`;
      return `goes to ${t.name}`;
    default:
      return `goes to ${t.name}`;
  }
}

/** The rule as a sentence, with its comment when it has one. */
export function ruleSentence(r: Rule): string {
  const c = commentOf(r);
  return `${whoPhrase(r)} ${actionPhrase(r)}${c ? ` ("${c}")` : ''}`;
}
