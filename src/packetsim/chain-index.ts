// An index for long chains like KUBE-SERVICES (one rule per service IP) or KUBE-NODEPORTS (one
// per node port). It never changes a result: a rule is left out for a packet only when it would
// certainly fail, either on its built-in `-d ADDR/32` (ip_packet_match checks built-ins before
// any extension match runs, so nothing else in the rule could have had an effect) or on a pure
// `--dport N` test with only pure tests before it. Every other rule stays in every bucket, and
// buckets keep chain order.
import type { Family } from '../iptables/ir.js';
import type { CompiledChain, CompiledRule, RuleList, Walk } from './types.js';

const MIN_RULES = 24;
const MAX_GENERIC = 16;

function buckets<K>(rules: readonly CompiledRule[], keysOf: (r: CompiledRule) => readonly K[] | null): Map<K, CompiledRule[]> | null {
  const generic = rules.filter((r) => keysOf(r) === null).length;
  if (generic > MAX_GENERIC || rules.length - generic < MIN_RULES) return null;
  const map = new Map<K, CompiledRule[]>();
  const genericSoFar: CompiledRule[] = [];
  for (const r of rules) {
    const keys = keysOf(r);
    if (keys === null) {
      genericSoFar.push(r);
      for (const list of map.values()) list.push(r);
      continue;
    }
    for (const k of new Set(keys)) {
      let list = map.get(k);
      if (!list) {
        // A new bucket starts with every generic rule seen so far.
        list = genericSoFar.slice();
        map.set(k, list);
      }
      list.push(r);
    }
  }
  return map;
}

/**
 * An IPv4 address key as a signed 32-bit value: a small integer, which the Map compares without
 * fetching a boxed double (172.16.0.1 as an unsigned number is one).
 */
function smallKey<K>(k: K): K {
  return (typeof k === 'number' ? k | 0 : k) as K;
}

/** A bucket as a list of nodes of its own (its rules' own links go through the whole chain). */
function listOf(rules: readonly CompiledRule[]): RuleList | null {
  let list: RuleList | null = null;
  for (let i = rules.length - 1; i >= 0; i--) list = { first: rules[i], rest: list };
  return list;
}

function lists<K>(map: Map<K, CompiledRule[]>): Map<K, RuleList | null> {
  return new Map([...map].map(([k, rules]) => [smallKey(k), listOf(rules)]));
}

export function buildIndex(chain: CompiledChain, family: Family): ((w: Walk) => RuleList | null) | null {
  void family;
  const rules = chain.rules;
  if (rules.length < MIN_RULES) return null;
  const generic = listOf(rules.filter((r) => r.dstKeys === null));
  const byDst = buckets(rules, (r) => r.dstKeys);
  if (byDst) {
    const m = lists(byDst);
    return (w) => {
      const list = m.get(smallKey(w.pkt.dst));
      return list === undefined ? generic : list;
    };
  }
  const genericPort = listOf(rules.filter((r) => r.dportKeys === null));
  const byPort = buckets(rules, (r) => r.dportKeys);
  if (byPort) {
    const m = lists(byPort);
    return (w) => {
      const list = m.get(w.pkt.dport);
      return list === undefined ? genericPort : list;
    };
  }
  return null;
}
