// What a rule or set element of an nftables table says, read once for the analyses (explain, diff,
// lint), as rule-facts.ts does for iptables: the chain a rule jumps or goes to, its DNAT
// destination, its comment, its normal form (the kernel's spelling, src/nftables/list.ts
// kernelRule, without comments and counters: two dumps spelled differently, or kube-proxy's
// transaction and the node's listing, compare equal), and element keys as values (`0x50` and `80`
// are one port). kube-proxy's per-service chain names are recognised here too
// (pkg/proxy/nftables/proxier.go servicePortPolicyClusterChainNamePrefix and the rest): a prefix,
// then the base `HASH-ns/svc/proto/port`, an endpoint's with `__ip/port` (IPv6 colons made dots).
import type { Expr, NftFamily, Rule, SetElement, Stmt, Value } from '../nftables/ir.js';
import { kernelRule } from '../nftables/list.js';
import { INLINE_LIST, renderExpr, renderRuleTokens, TokOut } from '../nftables/render-expr.js';
import { formatIp, formatIPv4, parseAddress, type Family } from '../net/index.js';

export type NftChainKind = 'service' | 'local' | 'external' | 'firewall' | 'endpoint';

export interface NftServiceChain {
  readonly kind: NftChainKind;
  /** The 8-character hash the base starts with. */
  readonly hash: string;
  /** `HASH-ns/svc/tcp/p80` (an endpoint's: `HASH-ns/svc/tcp/p80__10.0.0.1/80`). */
  readonly base: string;
  /** The readable part: `ns/svc/tcp/p80`, an endpoint's with `__ip/port`; cut short (`...`) on long names. */
  readonly readable: string;
}

const NFT_SERVICE_CHAIN = /^(service|local|external|firewall|endpoint)-([A-Z2-7]{8})-(.+)$/;

/** A kube-proxy nftables per-service chain's kind, hash and base, or null for any other chain. */
export function nftServiceChainOf(name: string): NftServiceChain | null {
  const m = NFT_SERVICE_CHAIN.exec(name);
  return m ? { kind: m[1] as NftChainKind, hash: m[2], base: `${m[2]}-${m[3]}`, readable: m[3] } : null;
}

/** `ns/svc/tcp/p80` -> `ns/svc:p80` (`ns/svc` for an unnamed port) and its protocol; null when the text is not whole. */
export function portOfReadable(readable: string): { readonly name: string; readonly protocol: 'TCP' | 'UDP' | 'SCTP' } | null {
  const m = /^([^/]+)\/([^/]+)\/(tcp|udp|sctp)\/([^/]*)$/.exec(readable);
  if (!m) return null;
  return { name: m[4] ? `${m[1]}/${m[2]}:${m[4]}` : `${m[1]}/${m[2]}`, protocol: m[3].toUpperCase() as 'TCP' | 'UDP' | 'SCTP' };
}

/** An endpoint chain's readable part `ns/svc/tcp/p80__10.0.0.1/80`: the port's part and the endpoint, or null when cut short. */
export function endpointOfReadable(readable: string, family: Family): { readonly port: string; readonly address: string; readonly portNumber: number } | null {
  const m = /^(.*)__([^/]+)\/(\d+)$/.exec(readable);
  if (!m) return null;
  // The endpoint's address with an IPv6 address's colons made dots (servicePortEndpointChainNameBase).
  const text = family === 'ipv6' ? m[2].replaceAll('.', ':') : m[2];
  const a = parseAddress(text, family);
  return a === null ? null : { port: m[1], address: formatIp(a, family), portNumber: Number(m[3]) };
}

export function nftFamilyOf(family: Family): NftFamily {
  return family === 'ipv6' ? 'ip6' : 'ip';
}

/** Statements that do not change what a rule does to a packet's path. */
function inert(s: Stmt): boolean {
  return s.kind === 'comment' || s.kind === 'counter';
}

const normalForms = new WeakMap<Rule, string>();

/** The rule in the kernel's spelling, without comments and counters. */
export function nftNormalForm(r: Rule, family: Family): string {
  let text = normalForms.get(r);
  if (text === undefined) {
    const bare: Rule = { ...r, stmts: r.stmts.filter((s) => !inert(s)) };
    const out = new TokOut();
    renderRuleTokens(kernelRule(bare, nftFamilyOf(family)), out, '', INLINE_LIST);
    normalForms.set(r, (text = out.join()));
  }
  return text;
}

/** The rule's `comment "..."`, or null. */
export function nftCommentOf(r: Rule): string | null {
  for (const s of r.stmts) if (s.kind === 'comment') return s.comment.value;
  return null;
}

/** The rule's last verdict statement (`jump X`, `goto X`, `drop`, ...), or null. */
export function nftVerdictOf(r: Rule): Extract<Stmt, { kind: 'verdict' }> | null {
  for (let i = r.stmts.length - 1; i >= 0; i--) {
    const s = r.stmts[i];
    if (s.kind === 'verdict') return s;
  }
  return null;
}

/** The rule has no match (comments, counters and its verdict only). */
export function nftUnconditional(r: Rule): boolean {
  return r.stmts.every((s) => inert(s) || s.kind === 'verdict');
}

/** `dnat to A:P` (`dnat ip to A:P`, `[A]:P`): the address and port, or null. */
export function nftDnatOf(r: Rule, family: Family): { readonly address: string; readonly port: number | null } | null {
  for (const s of r.stmts) {
    if (s.kind !== 'nat' || s.type !== 'dnat' || !s.address) continue;
    const a = s.address.kind === 'value' ? s.address.value : null;
    if (!a || (a.kind !== 'ipv4' && a.kind !== 'ipv6')) return null;
    const p = s.port?.kind === 'value' && s.port.value.kind === 'number' ? s.port.value.value : null;
    return { address: a.kind === 'ipv4' ? formatIPv4(a.address) : formatIp(a.address, family), port: p };
  }
  return null;
}

/** A value as what it means: addresses formatted, numbers in decimal, symbols as written. */
function valueText(v: Value, family: Family): string {
  switch (v.kind) {
    case 'ipv4':
      return formatIPv4(v.address);
    case 'ipv6':
      return formatIp(v.address, 'ipv6');
    case 'number':
      return String(v.value);
    case 'negative':
      return String(v.value);
    case 'prefix':
      return `${formatIp(v.network, v.base.kind === 'ipv4' ? 'ipv4' : 'ipv6')}/${v.length}`;
    case 'range':
      return `${valueText(v.from, family)}-${valueText(v.to, family)}`;
    case 'string':
      return v.value;
    case 'list':
      return v.items.map((x) => valueText(x, family)).join(',');
    default:
      return v.text;
  }
}

/** An element key or datum as what it means: `10.96.0.10 . tcp . 80`, `goto service-X`. */
export function nftExprText(e: Expr, family: Family): string {
  switch (e.kind) {
    case 'value':
      return valueText(e.value, family);
    case 'concat':
      return e.parts.map((p) => nftExprText(p, family)).join(' . ');
    case 'verdict':
      return e.chain === null ? e.verdict : `${e.verdict} ${e.chain}`;
    case 'paren':
      return nftExprText(e.expr, family);
    default: {
      const out = new TokOut();
      renderExpr(e, out, '', INLINE_LIST);
      return out.join();
    }
  }
}

/** The element's comment (kube-proxy names the service port on no-endpoint elements), or null. */
export function nftElementComment(el: SetElement): string | null {
  for (const o of el.options) if (o.kind === 'comment') return o.comment.value;
  return null;
}

/** The chain an element's verdict sends to (`goto service-X`), or null. */
export function nftElementTarget(el: SetElement): string | null {
  return el.data?.kind === 'verdict' ? el.data.chain : null;
}

/** What a chain kube-proxy's nftables table jumps to is for, as a phrase. */
function targetPhrase(chain: string): string {
  if (chain === 'mark-for-masquerade') return "marks it for masquerading (SNAT to the node's address on the way out)";
  if (chain === 'reject-chain') return 'rejects it';
  const sc = nftServiceChainOf(chain);
  switch (sc?.kind) {
    case 'service':
      return `sends it to the Cluster-policy endpoints (${chain})`;
    case 'local':
      return `sends it to this node's endpoints, Local policy (${chain})`;
    case 'external':
      return `sends it on to the external-traffic chain ${chain}`;
    case 'firewall':
      return `sends it to the load-balancer source-range check ${chain}`;
    case 'endpoint':
      return `sends it to endpoint chain ${chain}`;
    default:
      return `goes on in ${chain}`;
  }
}

/** What the rule does to a packet it matches, as a phrase. */
function actionPhrase(r: Rule, family: Family): string {
  for (const s of r.stmts) {
    if (s.kind === 'vmap') {
      if (s.key.kind === 'numgen') return 'picks an endpoint at random (numgen)';
      return s.map.kind === 'setRef' ? `looks the packet up in verdict map @${s.map.name}` : 'looks the packet up in its verdict map';
    }
    if (s.kind === 'nat') {
      const dnat = nftDnatOf(r, family);
      if (dnat) return `DNATs it to ${dnat.address.includes(':') ? `[${dnat.address}]` : dnat.address}${dnat.port !== null ? `:${dnat.port}` : ''}`;
      return s.type === 'masquerade' ? 'masquerades it' : `${s.type}s it`;
    }
    if (s.kind === 'reject') return 'rejects it';
    if (s.kind === 'setUpdate') return `records its source in @${s.set}`;
  }
  const v = nftVerdictOf(r);
  if (v?.chain) return targetPhrase(v.chain);
  if (v) return v.verdict === 'accept' ? 'accepts it' : v.verdict === 'drop' ? 'drops it' : v.verdict === 'return' ? 'returns to the calling chain' : v.verdict;
  if (r.stmts.some((s) => s.kind === 'set')) return 'changes its mark';
  return 'counts it';
}

/** The rule as a line for people: its normal form, what it does, and its comment. */
export function nftRuleSentence(r: Rule, family: Family): string {
  const c = nftCommentOf(r);
  return `${nftNormalForm(r, family)}  -> ${actionPhrase(r, family)}${c ? ` ("${c}")` : ''}`;
}
