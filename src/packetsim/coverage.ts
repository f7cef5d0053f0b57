// What the simulator models: one table, read by the rule compiler (a match or target outside it
// becomes an UNKNOWN fork or stop at trace time) and by `kpsim parse --stats` (its "not modelled"
// list), so the two can never disagree. A module is modelled when every option the reader types
// for it is simulated; the options listed in PARTIAL are not, and a rule using one is UNKNOWN.
import type { Rule, Target } from '../iptables/ir.js';
import { groupArgs, type MatchGroup } from './rule-groups.js';

export const MODELLED_MATCHES = [
  'tcp', 'udp', 'sctp', 'multiport', 'comment', 'nfacct', 'mark', 'connmark', 'conntrack', 'state',
  'addrtype', 'statistic', 'recent', 'set', 'iprange', 'pkttype', 'icmp', 'icmp6', 'physdev', 'rpfilter',
  'length', 'ttl', 'hl', 'tos', 'dscp', 'owner', 'socket', 'cgroup', 'connbytes', 'connlimit', 'helper',
  'limit', 'hashlimit', 'time', 'ipvs',
] as const;
export type ModelledMatch = (typeof MODELLED_MATCHES)[number];

/** Target extensions the reader types and the simulator models. */
export const MODELLED_TARGETS = [
  'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'MARK', 'CONNMARK', 'CT', 'NOTRACK',
  'LOG', 'NFLOG', 'TRACE', 'CHECKSUM', 'TCPMSS',
] as const;
export type ModelledTarget = (typeof MODELLED_TARGETS)[number];

/**
 * Targets the reader keeps opaque (their options untyped) whose effect on the packet's path is
 * nothing: they log, count, classify for traffic control or label for security modules, and
 * return XT_CONTINUE. NFQUEUE hands the verdict to a program (UNKNOWN, but known to be so).
 */
export const CONTINUING_OPAQUE_TARGETS: ReadonlySet<string> = new Set(['ULOG', 'AUDIT', 'CLASSIFY', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'LED', 'RATEEST']);
export const QUEUE_TARGETS: ReadonlySet<string> = new Set(['NFQUEUE']);

/** Options of modelled matches that are not simulated, with why. */
const PARTIAL: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  conntrack: { ctexpire: 'the time a connection has left is not modelled' },
};

export function isModelledMatch(name: string): name is ModelledMatch {
  return (MODELLED_MATCHES as readonly string[]).includes(name);
}

export function isModelledTarget(name: string): name is ModelledTarget {
  return (MODELLED_TARGETS as readonly string[]).includes(name);
}

/** Why a match group is not simulated (with what to name it by), or null when it is. */
export function matchGap(g: MatchGroup): { item: string; reason: string } | null {
  if (g.opaque !== null || !isModelledMatch(g.module)) return { item: `-m ${g.module}`, reason: `match ${g.module} is not modelled` };
  const partial = PARTIAL[g.module];
  for (const o of g.opts) {
    if (partial && Object.hasOwn(partial, o.name)) return { item: `-m ${g.module} ${o.spelling}`, reason: `${g.module} ${o.spelling}: ${partial[o.name]}` };
  }
  return null;
}

/** Why a target is not simulated, or null when it is (verdicts, chains, modelled extensions). */
export function targetGap(t: Target | null): { item: string; reason: string } | null {
  if (t === null || t.kind === 'verdict' || t.kind === 'chain') return null;
  if (t.kind === 'extension' ? isModelledTarget(t.name) : CONTINUING_OPAQUE_TARGETS.has(t.name) || QUEUE_TARGETS.has(t.name)) return null;
  return { item: `-j ${t.name}`, reason: `target ${t.name} is not modelled` };
}

/** What in a rule the simulator does not model, each named as `kpsim parse --stats` lists it. */
export function unmodelledItems(rule: Rule): string[] {
  const out: string[] = [];
  for (const g of groupArgs(rule.args).groups) {
    const gap = matchGap(g);
    if (gap) out.push(gap.item);
  }
  const t = targetGap(rule.target);
  if (t) out.push(t.item);
  return out;
}

