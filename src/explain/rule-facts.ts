// What a rule of the IR says, read once for the analyses (explain, diff, lint): its comment, the
// chain it jumps to, its DNAT destination, its statistic probability, its `recent` use, and its
// normal form (the kernel's spelling without comments), so two dumps spelled differently compare
// equal. kube-proxy's per-service chain names are recognised here too: KUBE-SVC/SVL/EXT/FW-<hash>
// share portProtoHash of the service port, KUBE-SEP-<hash> hashes the endpoint as well
// (pkg/proxy/iptables/proxier.go servicePortPolicyClusterChain ... servicePortEndpointChainName).
import type { Arg, Family, MatchOptionValue, OptionArg, Rule, Value } from '../iptables/ir.js';
import { ruleMatchOption, ruleTargets, ruleTargetValue, type KernelChain } from '../iptables/state.js';
import { renderSaveRule } from '../iptables-save/render-save.js';
import { storedProbability } from '../packetsim/fraction.js';
import { formatIp, type Ip } from '../net/index.js';

/**
 * XLB: kube-proxy before 1.24 wrote one KUBE-XLB chain per service port with a Local external
 * policy (serviceLBChainName, the same hash), holding the pod and node short-circuits and the
 * local endpoint split itself; 1.24 split it into KUBE-EXT and KUBE-SVL.
 */
export type ServiceChainKind = 'SVC' | 'SVL' | 'EXT' | 'FW' | 'SEP' | 'XLB';

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-([A-Z2-7]{16})$/;

export type ServiceChain = { readonly kind: ServiceChainKind; readonly hash: string } | null;

const KINDS = new Map<string, ServiceChainKind>([['SVC', 'SVC'], ['SVL', 'SVL'], ['EXT', 'EXT'], ['FW', 'FW'], ['SEP', 'SEP'], ['XLB', 'XLB']]);

/** A kube-proxy per-service chain's kind and hash (`KUBE-<kind>-<16 of A-Z2-7>`), or null for any other chain. */
export function serviceChainOf(name: string): ServiceChain {
  // By hand rather than by SERVICE_CHAIN.exec: the analyses ask every chain name of a 10k-service
  // node (120k) several times; test/explain checks the two agree.
  const dash = name.length - 17;
  if (dash < 7 || dash > 8 || name.charCodeAt(dash) !== 45 /* - */ || !name.startsWith('KUBE-')) return null;
  const kind = KINDS.get(name.slice(5, dash));
  if (kind === undefined) return null;
  for (let i = dash + 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 50 && c <= 55))) return null; // A-Z, 2-7
  }
  return { kind, hash: name.slice(dash + 1) };
}

/** serviceChainOf by the regular expression (the reference the hand-written reader is tested against). */
export function serviceChainByPattern(name: string): ServiceChain {
  const m = SERVICE_CHAIN.exec(name);
  return m ? { kind: m[1] as ServiceChainKind, hash: m[2] } : null;
}

export function option(r: Rule, module: string | null, name: string): OptionArg | undefined {
  for (const a of r.args) if (a.kind === 'option' && a.module === module && a.name === name) return a;
  return undefined;
}

export function targetOption(r: Rule, name: string): OptionArg | undefined {
  return r.target?.kind === 'extension' ? r.target.options.find((o) => o.name === name) : undefined;
}

function firstValue(o: OptionArg | undefined): Value | undefined {
  return o?.values[0];
}

/** The `-m comment --comment` text, or null. */
export function commentOf(r: Rule): string | null {
  return commentText(firstValue(option(r, 'comment', 'comment')));
}

/** commentOf rule j of a chain, read without building the rule (ruleMatchOption). */
export function commentAt(ch: KernelChain, j: number): string | null {
  return commentText(ruleMatchOption(ch, j, 'comment', 'comment')?.value);
}

function commentText(v: Value | undefined): string | null {
  return v?.type === 'string' ? v.value : (v?.text ?? null);
}

/**
 * kube-proxy's comments start with the service port name (`ns/name:port cluster IP`,
 * `ns/name:port -> 10.0.0.1:80`); an unnamed port is `ns/name` (ServicePortName.String), which
 * older kube-proxy spelled `ns/name:`. Kept as written: the chain hashes were computed from it.
 */
export function servicePortNameInComment(comment: string | null): string | null {
  if (!comment) return null;
  const first = comment.split(' ', 1)[0];
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[-a-z0-9]*)?$/.test(first) ? first : null;
}

/** The chain a rule jumps or goes to, or null. */
export function jumpTarget(r: Rule): string | null {
  return r.target?.kind === 'chain' ? r.target.name : null;
}

export interface HostPort {
  readonly address: string;
  /** The address as a number, as the reader parsed it. */
  readonly ip: Ip;
  readonly port: number | null;
}

/** `-j DNAT --to-destination A[:P]`: the address and port, or null. */
export function dnatTo(r: Rule): HostPort | null {
  if (r.target?.kind !== 'extension' || r.target.name !== 'DNAT') return null;
  return dnatOfValue(firstValue(targetOption(r, 'to-destination')));
}

function dnatOfValue(v: Value | undefined): HostPort | null {
  if (v?.type !== 'natRange' || v.fromAddress === null) return null;
  return { address: formatIp(v.fromAddress, v.family), ip: v.fromAddress, port: v.fromPort };
}

/**
 * The first DNAT of a chain (dnatTo of its first rule that has one), read without building its
 * rules when they are not built: a 10k-service dump has 100k endpoint chains.
 */
export function firstDnat(ch: KernelChain): HostPort | null {
  const targets = ruleTargets(ch);
  for (let j = 0; j < targets.length; j++) {
    const t = targets[j];
    if (t?.kind !== 'extension' || t.name !== 'DNAT') continue;
    const to = dnatOfValue(ruleTargetValue(ch, j, 'to-destination'));
    if (to) return to;
  }
  return null;
}

/** `-m statistic --mode random --probability p` as the kernel stores it (of 2^31), negation applied; null without one. */
export function statisticStored(r: Rule): number | null {
  const p = option(r, 'statistic', 'probability');
  return storedOf(p && { negation: p.negation, value: firstValue(p) });
}

/** statisticStored of rule j of a chain, read without building the rule (ruleMatchOption). */
export function statisticStoredAt(ch: KernelChain, j: number): number | null {
  return storedOf(ruleMatchOption(ch, j, 'statistic', 'probability'));
}

function storedOf(p: MatchOptionValue | undefined): number | null {
  const v = p?.value;
  if (!p || v?.type !== 'probability') return null;
  const stored = storedProbability(v.value);
  return p.negation === 'none' ? stored : 0x80000000 - stored;
}

/** Whether rule j of a chain checks a recent list (`--rcheck` or `--update`), read without building the rule. */
export function recentCheckAt(ch: KernelChain, j: number): boolean {
  return ruleMatchOption(ch, j, 'recent', 'rcheck') !== undefined || ruleMatchOption(ch, j, 'recent', 'update') !== undefined;
}

/** The `--seconds` of rule j's `-m recent` (session affinity's timeout), read without building the rule; null without one. */
export function recentSecondsAt(ch: KernelChain, j: number): number | null {
  const v = ruleMatchOption(ch, j, 'recent', 'seconds')?.value;
  return v?.type === 'integer' ? v.value : null;
}

export interface RecentUse {
  readonly name: string;
  readonly check: boolean;
  readonly set: boolean;
  readonly seconds: number | null;
}

/** `-m recent`: the list's name, whether the rule checks it (`--rcheck`/`--update`) or sets it. */
export function recentOf(r: Rule): RecentUse | null {
  if (!r.args.some((a) => a.kind === 'module' && a.name === 'recent')) return null;
  const name = firstValue(option(r, 'recent', 'name'))?.text ?? 'DEFAULT';
  const seconds = firstValue(option(r, 'recent', 'seconds'));
  return {
    name,
    check: option(r, 'recent', 'rcheck') !== undefined || option(r, 'recent', 'update') !== undefined,
    set: option(r, 'recent', 'set') !== undefined,
    seconds: seconds?.type === 'integer' ? seconds.value : null,
  };
}

/** A rule without its comment: comments do not change what a rule does. */
export function withoutComment(r: Rule): Rule {
  if (!r.args.some((a) => a.kind !== 'opaque' && (a.kind === 'module' ? a.name === 'comment' : a.module === 'comment'))) return r;
  return { ...r, args: r.args.filter((a) => a.kind === 'opaque' || (a.kind === 'module' ? a.name !== 'comment' : a.module !== 'comment')) };
}

/**
 * The rule's normal form: the kernel's spelling (iptables-save's order of options, addresses with
 * their prefix, `-m tcp` for an implicit protocol match) without the comment and without
 * `-A CHAIN`. Two rules that load to the same kernel rule have the same normal form.
 */
export function normalForm(r: Rule, family: Family): string {
  const text = renderSaveRule(withoutComment(r), family);
  const at = text.indexOf(' ', 3);
  return at < 0 ? '' : text.slice(at + 1);
}

/** The rule has no match at all (a comment is not one). */
export function unconditional(r: Rule): boolean {
  return r.args.every((a) => a.kind !== 'opaque' && (a.kind === 'module' ? a.name === 'comment' : a.module === 'comment'));
}

function isComment(a: Arg): boolean {
  return a.kind !== 'opaque' && (a.kind === 'module' ? a.name === 'comment' : a.module === 'comment');
}

function sameOption(a: OptionArg, b: OptionArg): boolean {
  if (a.module !== b.module || a.name !== b.name || (a.negation === 'none') !== (b.negation === 'none') || a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.values.length; i++) if (a.values[i].type !== b.values[i].type || a.values[i].text !== b.values[i].text) return false;
  return true;
}

function sameArg(a: Arg, b: Arg): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'module') return a.name === (b as typeof a).name;
  if (a.kind === 'opaque') return a.module === (b as typeof a).module && a.text === (b as typeof a).text;
  return sameOption(a, b as OptionArg);
}

/**
 * The two rules are written alike, comments and option spellings aside: then their normal forms
 * are equal too, without rendering them (diff compares every rule of two 10k-service dumps).
 * False says nothing: compare the normal forms.
 */
export function writtenAlike(a: Rule, b: Rule): boolean {
  let i = 0;
  let j = 0;
  const x = a.args;
  const y = b.args;
  for (;;) {
    while (i < x.length && isComment(x[i])) i++;
    while (j < y.length && isComment(y[j])) j++;
    if (i === x.length || j === y.length) break;
    if (!sameArg(x[i], y[j])) return false;
    i++;
    j++;
  }
  if (i !== x.length || j !== y.length) return false;
  const s = a.target;
  const t = b.target;
  if (!s || !t) return s === t;
  if (s.kind !== t.kind || s.name !== t.name) return false;
  if (s.kind === 'chain') return s.goto === (t as typeof s).goto;
  if (s.kind === 'opaque') return s.text === (t as typeof s).text;
  if (s.kind === 'extension') {
    const o = (t as typeof s).options;
    return s.options.length === o.length && s.options.every((opt, k) => sameOption(opt, o[k]));
  }
  return true;
}
