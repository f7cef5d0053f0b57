// Findings about a node's nftables tables (kube-proxy's in nftables mode, and any other table of the
// family), the same questions lint asks of iptables tables: chains nothing sends to (a service- or
// endpoint- chain left behind is stale), endpoint chains that never DNAT or DNAT elsewhere than the
// endpoint their name says (servicePortEndpointChainNameBase: `__ip/port`), numgen splits that are
// not kube-proxy's `mod N` over 0..N-1 (some connections fall through, an endpoint gets none or a
// double share), rules after a rule that ends the chain for every packet or shadowed by an earlier
// one, another table's rules on kube-proxy's masquerade bit, and with the objects, per-service
// chains no service port or endpoint has. A jump to a chain that does not exist never gets here:
// nft refuses such a rule, and reading the dump already said so.
import type { Family } from '../iptables/ir.js';
import type { NameBook } from '../explain/names.js';
import { KUBE_PROXY_TABLE } from '../explain/nftables-view.js';
import { endpointOfReadable, nftDnatOf, nftElementTarget, nftFamilyOf, nftNormalForm, nftServiceChainOf } from '../explain/nft-facts.js';
import { numgenShare } from '../explain/shares.js';
import type { Expr, Rule, Stmt } from '../nftables/ir.js';
import { targetsOf, type NftState, type NftStateChain, type NftStateTable } from '../nftables/state.js';
import { fractionText, reduce } from '../packetsim/fraction.js';
import { report, type LintContext } from './finding.js';

/** kube-proxy's own chains that may have no rule sending to them (reject-chain when no service lacks endpoints, mark-for-masquerade when none masquerades). */
const KEPT_UNREFERENCED: ReadonlySet<string> = new Set(['reject-chain', 'mark-for-masquerade']);

export function lintNftables(state: NftState, family: Family, ctx: LintContext, names: NameBook | null): void {
  const fams = family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
  for (const t of state.tables.values()) {
    if (!fams.includes(t.family)) continue;
    const label = `${t.family} ${t.name}`;
    const kubeProxy = t.name === KUBE_PROXY_TABLE && t.family === nftFamilyOf(family);
    unreferenced(t, label, kubeProxy, ctx);
    for (const ch of t.chains.values()) {
      order(ch, label, family, ctx);
      if (!kubeProxy) continue;
      const sc = nftServiceChainOf(ch.name);
      if (sc?.kind === 'endpoint') endpointDnat(ch, sc.readable, family, ctx);
      if (sc?.kind === 'service' || sc?.kind === 'local') splits(ch, ctx);
      if (sc && names && !names.nftBases().has(sc.base)) {
        report(ctx, 'warning', 'LINT_CHAIN_NO_OBJECT', `${label} ${ch.name}: no ${sc.kind === 'endpoint' ? 'endpoint of any service port' : 'service port'} of the objects has this name (a Service or endpoint that is gone, or objects of another cluster)`, ch.span ?? null);
      }
    }
  }
  masqueradeMark(state, family, ctx);
}

/** Chains no rule and no verdict-map element sends to (base chains are reached by their hook). */
function unreferenced(t: NftStateTable, label: string, kubeProxy: boolean, ctx: LintContext): void {
  const referenced = new Set<string>();
  for (const ch of t.chains.values()) for (const r of ch.rules) for (const x of targetsOf(r.stmts)) referenced.add(x);
  for (const s of t.sets.values()) for (const el of s.elements) {
    const x = nftElementTarget(el);
    if (x !== null) referenced.add(x);
  }
  for (const ch of t.chains.values()) {
    if (ch.hook || referenced.has(ch.name) || (kubeProxy && KEPT_UNREFERENCED.has(ch.name))) continue;
    const sc = kubeProxy ? nftServiceChainOf(ch.name) : null;
    if (sc) report(ctx, 'warning', 'LINT_STALE_SERVICE_CHAIN', `${label} ${ch.name} is a kube-proxy ${sc.kind} chain nothing sends to: stale (left from a service port or endpoint that is gone?)`, ch.span ?? null);
    else report(ctx, 'note', 'LINT_UNREFERENCED_CHAIN', `${label} ${ch.name}: no rule or verdict map sends to this chain`, ch.span ?? null);
  }
}

/** An endpoint chain DNATs, and to the endpoint its name says. */
function endpointDnat(ch: NftStateChain, readable: string, family: Family, ctx: LintContext): void {
  const at = ch.rules.findIndex((r) => r.stmts.some((s) => s.kind === 'nat' && s.type === 'dnat'));
  if (at < 0) {
    report(ctx, 'warning', 'LINT_SEP_WITHOUT_DNAT', `${ch.name} is an endpoint chain without a DNAT rule: packets sent to this endpoint come back out unchanged`, ch.span ?? null);
    return;
  }
  const named = endpointOfReadable(readable, family);
  const dnat = nftDnatOf(ch.rules[at], family);
  if (!named || !dnat) return;
  if (dnat.address !== named.address || (dnat.port !== null && dnat.port !== named.portNumber)) {
    const to = `${dnat.address.includes(':') ? `[${dnat.address}]` : dnat.address}${dnat.port !== null ? `:${dnat.port}` : ''}`;
    report(ctx, 'warning', 'LINT_DNAT_NOT_ENDPOINT', `${ch.name} rule ${at + 1} DNATs to ${to}, but the chain is named for endpoint ${named.address}/${named.portNumber}: kube-proxy writes each endpoint's chain with the DNAT to that endpoint`, ch.rules[at].span);
  }
}

/**
 * kube-proxy's split (writeServiceToEndpointRules): `numgen random mod N vmap { 0 : goto endpoint-A,
 * ..., N-1 : goto endpoint-Z }`, each value once, each endpoint once. Values no element covers fall
 * through the chain un-DNATed; an element outside 0..N-1 is never drawn; an endpoint with several
 * values gets several shares.
 */
function splits(ch: NftStateChain, ctx: LintContext): void {
  for (const r of ch.rules) {
    for (const s of r.stmts) {
      if (s.kind !== 'vmap' || s.key.kind !== 'numgen' || s.map.kind !== 'set') continue;
      const n = s.key.mod.value;
      const offset = s.key.offset?.value ?? 0;
      const covered = new Array<number>(n).fill(0);
      const perChain = new Map<string, number>();
      for (const el of s.map.elements) {
        const range = valuesOf(el.key);
        const target = nftElementTarget(el) ?? '?';
        if (!range) continue;
        const [lo, hi] = [range[0] - offset, range[1] - offset];
        if (hi < 0 || lo > n - 1) {
          report(ctx, 'warning', 'LINT_UNREACHABLE_ENDPOINT', `${ch.name}: the element for ${target} has value ${range[0] === range[1] ? range[0] : `${range[0]}-${range[1]}`}, which numgen random mod ${n}${offset ? ` offset ${offset}` : ''} never draws: that endpoint gets no connections`, el.span ?? r.span);
          continue;
        }
        for (let v = Math.max(lo, 0); v <= Math.min(hi, n - 1); v++) covered[v]++;
        perChain.set(target, (perChain.get(target) ?? 0) + Math.min(hi, n - 1) - Math.max(lo, 0) + 1);
      }
      let missing = 0n;
      for (let v = 0; v < n; v++) {
        if (covered[v] > 0) continue;
        const share = numgenShare(v, v, n);
        missing += share.num << BigInt(32 - share.exp);
      }
      if (missing > 0n) {
        report(ctx, 'warning', 'LINT_SPLIT_FALLS_THROUGH', `${ch.name}: ${fractionText(reduce({ num: missing, exp: 32, den: 1n }))} of new connections draw a value no element of the split has and leave the chain un-DNATed (numgen random mod ${n} over ${s.map.elements.length} element${s.map.elements.length === 1 ? '' : 's'})`, r.span);
      }
      const doubled = [...perChain].filter(([, k]) => k > 1);
      if (missing === 0n && (doubled.length > 0 || perChain.size !== n)) {
        report(ctx, 'warning', 'LINT_UNEVEN_SPLIT', `${ch.name}: numgen random mod ${n} over ${perChain.size} endpoint chain${perChain.size === 1 ? '' : 's'}; kube-proxy writes mod N with one value per endpoint${doubled.length ? ` (${doubled.map(([c, k]) => `${c} has ${k} values`).join(', ')})` : ''}`, r.span);
      }
    }
  }
}

/** A numgen vmap element's values: `1`, `0-2`. */
function valuesOf(key: Expr): [number, number] | null {
  if (key.kind !== 'value') return null;
  const v = key.value;
  if (v.kind === 'number') return [v.value, v.value];
  if (v.kind === 'range' && v.from.kind === 'number' && v.to.kind === 'number') return [v.from.value, v.to.value];
  return null;
}

/** The statement ends the chain for the packet (a verdict other than jump/continue, a reject, a NAT). */
function terminal(s: Stmt): boolean {
  if (s.kind === 'verdict') return s.verdict !== 'jump' && s.verdict !== 'continue';
  return s.kind === 'reject' || (s.kind === 'nat' && s.type !== 'masquerade');
}

/** The rule may change what a later rule matches on (a mark, a set, a jump that may do either). */
function mayChange(r: Rule): boolean {
  return r.stmts.some((s) => s.kind === 'set' || s.kind === 'setUpdate' || s.kind === 'vmap' || (s.kind === 'verdict' && s.verdict === 'jump') || s.kind === 'opaque' || s.kind === 'xt');
}

/**
 * Rules after a rule that ends the chain for every packet, and rules an earlier one shadows: every
 * match statement of the earlier rule is one of this rule's (so it matches every packet this one
 * would) and it ends the chain. Sound, not complete: matches are compared as the kernel spells them.
 */
function order(ch: NftStateChain, label: string, family: Family, ctx: LintContext): void {
  let earlier: { index: number; matches: Set<string> }[] = [];
  const matchesOf = (r: Rule) => r.stmts.filter((s) => s.kind === 'match').map((s) => nftNormalForm({ ...r, stmts: [s] }, family));
  for (let i = 0; i < ch.rules.length; i++) {
    const r = ch.rules[i];
    // Matches only sometimes (a random draw, a rate), or not at all (a verdict map without the key): shadows nothing.
    const sometimes = r.stmts.some((s) => s.kind === 'vmap' || s.kind === 'limit' || (s.kind === 'match' && (s.left.kind === 'numgen' || s.left.kind === 'hash')));
    const shadows = r.stmts.some(terminal) && !sometimes && i < ch.rules.length - 1;
    // Until a rule that shadows has been seen, nothing to compare (kube-proxy's chains mostly).
    if (earlier.length === 0 && !shadows) continue;
    const matches = matchesOf(r);
    const by = earlier.find((e) => [...e.matches].every((m) => matches.includes(m)));
    if (by) {
      if (by.matches.size === 0) {
        const rest = ch.rules.length - i - 1;
        report(ctx, 'warning', 'LINT_UNREACHABLE_RULE', `${label} ${ch.name} rule ${i + 1}${rest ? ` and the ${rest} after it` : ''} can never run: rule ${by.index + 1} ends the chain for every packet`, r.span);
        return;
      }
      report(ctx, 'warning', 'LINT_SHADOWED_RULE', `${label} ${ch.name} rule ${i + 1} can never match: rule ${by.index + 1} matches every packet it would and ends the chain first`, r.span, [`rule ${by.index + 1} is at line ${ch.rules[by.index].span?.line ?? '?'}`]);
      continue;
    }
    if (shadows) earlier.push({ index: i, matches: new Set(matches) });
    else if (mayChange(r)) earlier = earlier.filter((e) => ![...e.matches].some((m) => /mark|ct |@/.test(m)));
  }
}

/** The bit kube-proxy's mark-for-masquerade sets (`meta mark set meta mark | 0x4000`), or null. */
function masqueradeBit(state: NftState, family: Family): number | null {
  const ch = state.tables.get(`${nftFamilyOf(family)} ${KUBE_PROXY_TABLE}`)?.chains.get('mark-for-masquerade');
  for (const r of ch?.rules ?? []) {
    for (const s of r.stmts) {
      if (s.kind === 'set' && s.target.kind === 'meta' && s.target.key === 'mark' && s.value.kind === 'binary' && s.value.op === 'or') {
        const k = s.value.right.kind === 'value' && s.value.right.value.kind === 'number' ? s.value.right.value.value : null;
        if (k !== null) return k >>> 0;
      }
    }
  }
  return null;
}

/** Another table's rules that test or set kube-proxy's masquerade bit. */
function masqueradeMark(state: NftState, family: Family, ctx: LintContext): void {
  const bit = masqueradeBit(state, family);
  if (bit === null) return;
  const hex = `0x${bit.toString(16).padStart(8, '0')}`;
  const fams = family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
  for (const t of state.tables.values()) {
    if (!fams.includes(t.family) || t.name === KUBE_PROXY_TABLE) continue;
    for (const ch of t.chains.values()) {
      ch.rules.forEach((r, i) => {
        const what = markUse(r, bit);
        if (what) report(ctx, 'warning', 'LINT_MASQ_MARK_CONFLICT', `${t.family} ${t.name} ${ch.name} rule ${i + 1} ${what}: mark bit ${hex} is kube-proxy's masquerade mark (mark-for-masquerade), so packets this component marks get masqueraded by kube-proxy's masquerading chain, or kube-proxy's marks change what this rule does`, r.span);
      });
    }
  }
}

function constantOf(e: Expr): number | null {
  return e.kind === 'value' && e.value.kind === 'number' ? e.value.value >>> 0 : null;
}

/** What the rule does with the bit: tests it, changes it, or nothing. */
function markUse(r: Rule, bit: number): string | null {
  for (const s of r.stmts) {
    if (s.kind === 'match') {
      const l = s.left;
      // The whole mark compared: the bit is part of what is compared.
      if (l.kind === 'meta' && l.key === 'mark') return 'tests it';
      if (l.kind === 'binary' && l.left.kind === 'meta' && l.left.key === 'mark' && l.op === 'and') {
        const m = constantOf(l.right);
        if (m === null || (m & bit) !== 0) return 'tests it';
      }
    }
    if (s.kind === 'set' && s.target.kind === 'meta' && s.target.key === 'mark') {
      const v = s.value;
      const k = v.kind === 'binary' ? constantOf(v.right) : constantOf(v);
      if (k === null || v.kind !== 'binary' || (v.op === 'and' ? (k & bit) === 0 : (k & bit) !== 0)) return 'changes it';
    }
  }
  return null;
}
