// The part of a node's nftables tables a destination can meet (slice.ts does the same for its
// iptables tables, and calls this for the nftables ones): from every base chain of the tables a
// packet of the family meets (ip or ip6, and inet), every chain reachable through rules that can
// match a packet to the destination, with those rules in normal form (the kernel's spelling); a
// rule is left out only when a match on what the destination fixes (`ip daddr`, `meta l4proto`,
// `th dport`, `fib daddr type local`, a lookup keyed on them) cannot hold. A verdict-map lookup keyed
// on the destination alone (kube-proxy's `ip daddr . meta l4proto . th dport vmap @service-ips`)
// follows only the element found, and the part names it; a lookup keyed on the source too (an
// affinity set, a numgen split) follows every element. A DNAT's new destination is sliced as well.
// The part also yields what splits the sources: `ip saddr` networks, `iifname`s, tested marks.
import type { Cidr, Family, Ip } from '../net/index.js';
import type { Expr, Rule, SetElement, Stmt } from '../nftables/ir.js';
import type { NftState, NftStateChain, NftStateTable } from '../nftables/state.js';
import type { NodeEnv } from '../packetsim/env.js';
import { keyParts, partMatches, type PartMatch } from '../packetsim-nft/sets.js';
import { constant, type Val } from '../packetsim-nft/values.js';
import { nftExprText, nftNormalForm } from '../explain/nft-facts.js';
import type { Destination, SourceConstants } from './slice.js';

/** What a part of a lookup key or a match's left side reads: a part of the destination, of the source, or something else. */
type Part = { readonly k: 'dst'; readonly what: 'addr' | 'port' | 'proto' | 'nfproto'; readonly proto: number | null } | { readonly k: 'saddr' } | { readonly k: 'iif' } | { readonly k: 'other' };

/** Protocols whose header a `tcp dport` / `udp dport` reads (and so requires). */
const PAYLOAD_PROTO: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132, udplite: 136, dccp: 33 };

const NFPROTO: Readonly<Record<Family, number>> = { ipv4: 2, ipv6: 10 };

function partOf(e: Expr, family: Family): Part {
  if (e.kind === 'paren') return partOf(e.expr, family);
  const ipWord = family === 'ipv4' ? 'ip' : 'ip6';
  if (e.kind === 'payload') {
    if (e.field === 'daddr' && e.protocol === ipWord) return { k: 'dst', what: 'addr', proto: null };
    if (e.field === 'saddr' && e.protocol === ipWord) return { k: 'saddr' };
    if (e.field === 'dport' && (e.protocol === 'th' || e.protocol in PAYLOAD_PROTO)) return { k: 'dst', what: 'port', proto: PAYLOAD_PROTO[e.protocol] ?? null };
    if ((e.protocol === 'ip' && e.field === 'protocol') || (e.protocol === 'ip6' && e.field === 'nexthdr')) return { k: 'dst', what: 'proto', proto: null };
    return { k: 'other' };
  }
  if (e.kind === 'meta') {
    if (e.key === 'l4proto') return { k: 'dst', what: 'proto', proto: null };
    if (e.key === 'nfproto') return { k: 'dst', what: 'nfproto', proto: null };
    if (e.key === 'iifname' || e.key === 'iif') return { k: 'iif' };
  }
  return { k: 'other' };
}

/** The address of a packet of the other family, which an `ip daddr` match never matches. */
function wrongFamily(e: Expr, family: Family): boolean {
  return e.kind === 'payload' && (e.field === 'daddr' || e.field === 'saddr') && e.protocol === (family === 'ipv4' ? 'ip6' : 'ip');
}

/** Parts of a concatenation (or one expression). */
function partsOf(key: Expr, family: Family): Part[] {
  return (key.kind === 'concat' ? key.parts : [key]).map((p) => partOf(p, family));
}

/** The value a destination part has for packets to `d`. */
function dstValue(p: Extract<Part, { k: 'dst' }>, d: Destination, family: Family): Val {
  switch (p.what) {
    case 'addr':
      return d.address;
    case 'port':
      return d.port;
    case 'proto':
      return d.proto;
    case 'nfproto':
      return NFPROTO[family];
  }
}

function matchesDst(parts: readonly Part[], m: readonly PartMatch[], d: Destination, family: Family): boolean {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.k !== 'dst') continue;
    if (p.proto !== null && p.proto !== d.proto) return false;
    if (!m[i] || !partMatches(m[i], dstValue(p, d, family))) return false;
  }
  return true;
}

/** The destination of a DNAT: `dnat to A[:P]`; null when it is not a constant (wild). */
function dnatTarget(s: Extract<Stmt, { kind: 'nat' }>, d: Destination): { address: Ip; port: number } | null {
  const a = s.address ? constant(s.address) : null;
  if (a === null || typeof a === 'string') return null;
  const p = s.port ? constant(s.port) : null;
  if (s.port && typeof p !== 'number') return null;
  return { address: a, port: typeof p === 'number' ? p : d.port };
}

interface Elements {
  readonly list: readonly { readonly el: SetElement; readonly m: PartMatch[] }[];
}

/** The source parts of elements become source constants: networks, interfaces. */
function elementConstants(parts: readonly Part[], list: Elements['list'], c: SourceConstants | null, family: Family): void {
  if (!c) return;
  for (const { m } of list) {
    parts.forEach((p, i) => {
      const x = m[i];
      if (!x) return;
      if (p.k === 'saddr') {
        const cidr = rangeCidr(x, family);
        if (cidr) c.cidrs.push(cidr);
      } else if (p.k === 'iif' && x.k !== 'range') c.interfaces.add(x.k === 'prefix' ? `${x.p}0` : String(x.v));
    });
  }
}

/** A value or an aligned range of addresses as a network, or null. */
function rangeCidr(x: PartMatch, family: Family): Cidr | null {
  const bits = family === 'ipv4' ? 32 : 128;
  if (x.k === 'eq') return typeof x.v === 'string' ? null : { family, network: x.v, prefix: bits };
  if (x.k !== 'range') return null;
  const lo = BigInt(x.lo);
  const size = BigInt(x.hi) - lo + 1n;
  if (size <= 0n || (size & (size - 1n)) !== 0n || lo % size !== 0n) return null;
  const prefix = bits - (size.toString(2).length - 1);
  return { family, network: family === 'ipv4' ? Number(lo) : lo, prefix };
}

interface ChainRef {
  readonly table: NftStateTable;
  readonly chain: NftStateChain;
  mark: number;
  /** The interned head of the chain in a part, once asked. */
  head: number;
}

/** One node's nftables tables of one family, sliced per destination. */
export class NftSlicer {
  private readonly tables: readonly { readonly t: NftStateTable; readonly bases: readonly ChainRef[]; readonly refs: Map<string, ChainRef> }[];
  private readonly matches = new Map<string, { parts: Part[]; list: Elements['list'] }>();
  /** Named sets' elements by their destination parts (exact ones; the rest scanned), per set and key shape: kube-proxy's maps hold an element per service address. */
  private readonly indexes = new Map<string, { readonly exact: Map<string, Elements['list'][number][]>; readonly scan: Elements['list'][number][] }>();
  private slices = 0;
  /** Interned normal forms of rules, once each. */
  private readonly ruleIds = new WeakMap<Rule, number>();
  /** A sliced destination met a NAT statement the slice does not follow. */
  wild = false;
  /** Mark bits some `meta mark set` may set: a tested mark made of these is the node's own, not an input. */
  readonly markBitsSet: number;

  constructor(
    state: NftState,
    private readonly family: Family,
    private readonly env: NodeEnv,
    private readonly id: (text: string) => number,
  ) {
    const families = family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
    const tables = [...state.tables.values()].filter((t) => families.includes(t.family)).sort((a, b) => (`${a.family} ${a.name}` < `${b.family} ${b.name}` ? -1 : 1));
    let bits = 0;
    this.tables = tables.map((t) => {
      const refs = new Map<string, ChainRef>();
      for (const ch of t.chains.values()) {
        refs.set(ch.name, { table: t, chain: ch, mark: 0, head: -1 });
        for (const r of ch.rules) for (const s of r.stmts) if (s.kind === 'set' && s.target.kind === 'meta' && s.target.key === 'mark') bits |= markBits(s.value);
      }
      // Base chains in the order the kernel runs them at a hook: by priority; by name between equals (the load order says nothing).
      const bases = [...refs.values()].filter((c) => c.chain.hook).sort((a, b) => a.chain.hook!.hook.localeCompare(b.chain.hook!.hook) || a.chain.hook!.priority.value - b.chain.hook!.priority.value || a.chain.name.localeCompare(b.chain.name));
      return { t, bases, refs };
    });
    this.markBitsSet = bits >>> 0;
  }

  /** Elements of a set or an anonymous set, read once: each key's parts. */
  private elements(t: NftStateTable, e: Expr): Elements['list'] {
    if (e.kind === 'set') return e.elements.flatMap((el) => withParts(el));
    if (e.kind !== 'setRef') {
      const m = keyParts(e);
      return typeof m === 'string' ? [] : [{ el: { key: e, options: [], data: null, span: null }, m }];
    }
    const key = `${t.family} ${t.name} @${e.name}`;
    let hit = this.matches.get(key);
    if (!hit) this.matches.set(key, (hit = { parts: [], list: (t.sets.get(e.name)?.elements ?? []).flatMap((el) => withParts(el)) }));
    return hit.list;
  }

  /**
   * Appends the nftables part of the node packets to `d` can meet; pushes the destinations its
   * DNATs lead to onto `todo`; adds what splits their sources to `constants`.
   */
  sliceOne(d: Destination, emit: (x: number) => void, todo: Destination[], constants: SourceConstants | null): void {
    const mark = ++this.slices;
    for (const { t, bases, refs } of this.tables) {
      for (const base of bases) {
        if (base.mark === mark) continue;
        base.mark = mark;
        const queue: ChainRef[] = [base];
        for (let q = 0; q < queue.length; q++) {
          const c = queue[q];
          if (c.head < 0) {
            const h = c.chain.hook;
            c.head = this.id(`nft ${t.family} ${t.name} ${c.chain.name}${h ? `: ${h.type} ${h.hook} ${h.priority.value} ${c.chain.policy ?? 'accept'}` : ''}`);
          }
          emit(c.head);
          for (const r of c.chain.rules) {
            const next = this.rule(t, r, d, emit, todo, constants);
            if (next === null) continue;
            for (const name of next) {
              const target = refs.get(name);
              if (target && target.mark !== mark) {
                target.mark = mark;
                queue.push(target);
              }
            }
          }
        }
      }
    }
  }

  /** The chains a rule that may match a packet to `d` sends it to, after emitting it; null when it cannot match. */
  private rule(t: NftStateTable, r: Rule, d: Destination, emit: (x: number) => void, todo: Destination[], constants: SourceConstants | null): string[] | null {
    const extra: string[] = [];
    const next: string[] = [];
    for (const s of r.stmts) {
      switch (s.kind) {
        case 'match': {
          if (wrongFamily(s.left, this.family)) return null;
          const decided = this.match(t, s, d, constants, extra);
          if (decided === false) return null;
          break;
        }
        case 'vmap': {
          const hits = this.lookup(t, s.key, s.map, d, constants);
          if (hits === null) return null;
          if (hits.exact) extra.push(`${s.map.kind === 'setRef' ? `@${s.map.name}` : 'vmap'} -> ${hits.list.map((h) => (h.el.data ? nftExprText(h.el.data, this.family) : '')).join(', ') || 'none'}`);
          else if (s.map.kind === 'setRef') extra.push(`@${s.map.name}: ${hits.list.map((h) => elementText(h.el, this.family)).sort().join(', ')}`);
          if (hits.exact && hits.list.length === 0) return null;
          for (const h of hits.list) if (h.el.data?.kind === 'verdict' && h.el.data.chain) next.push(h.el.data.chain);
          break;
        }
        case 'verdict':
          if (s.chain) next.push(s.chain);
          break;
        case 'nat': {
          if (s.type === 'snat' || s.type === 'masquerade') break;
          const to = s.type === 'dnat' ? dnatTarget(s, d) : null;
          if (to) todo.push({ ...d, address: to.address, port: to.port });
          else {
            // Where the packet goes next is not followed (a map, a redirect): this part equals no other.
            this.wild = true;
            extra.push(`wild ${this.slices}`);
          }
          break;
        }
        default:
          break;
      }
    }
    let rid = this.ruleIds.get(r);
    if (rid === undefined) this.ruleIds.set(r, (rid = this.id(`  ${nftNormalForm(r, this.family)}`)));
    emit(rid);
    for (const x of extra) emit(this.id(`    ${x}`));
    if (constants) this.constantsOf(r, constants);
    return next;
  }

  /** Whether a match can hold for a packet to `d`: false when it cannot, true when it may. */
  private match(t: NftStateTable, s: Extract<Stmt, { kind: 'match' }>, d: Destination, constants: SourceConstants | null, extra: string[]): boolean {
    if (s.left.kind === 'fib' && s.left.flags.length === 1 && s.left.flags[0] === 'daddr' && s.left.result === 'type') {
      const right = s.right.kind === 'value' && s.right.value.kind === 'symbol' ? s.right.value.text : null;
      if (right !== 'local' || (s.op !== 'implicit' && s.op !== 'eq' && s.op !== 'ne')) return true;
      return this.env.isLocal(d.address) === (s.op !== 'ne');
    }
    if (s.op !== 'implicit' && s.op !== 'eq' && s.op !== 'ne') return true;
    const parts = partsOf(s.left, this.family);
    if (!parts.some((p) => p.k === 'dst')) {
      // A lookup on the source alone: the elements are the part (an affinity set's clients), and split the sources.
      if (s.right.kind === 'setRef') {
        const list = this.elements(t, s.right);
        extra.push(`@${s.right.name}: ${list.map((h) => elementText(h.el, this.family)).sort().join(', ')}`);
        elementConstants(parts, list, constants, this.family);
      }
      return true;
    }
    const hits = this.lookup(t, s.left, s.right, d, constants);
    if (hits === null) return s.op === 'ne';
    if (!hits.exact) return true;
    return (hits.list.length > 0) === (s.op !== 'ne');
  }

  /**
   * The elements of `right` whose destination parts hold for `d` (`exact`: the key is the
   * destination's alone, so these decide), or null when a part the key needs is absent (a `tcp
   * dport` of a UDP packet: the expression breaks, the rule does not match).
   */
  private lookup(t: NftStateTable, key: Expr, right: Expr, d: Destination, constants: SourceConstants | null): { exact: boolean; list: Elements['list'] } | null {
    const parts = partsOf(key, this.family);
    if (parts.some((p) => p.k === 'dst' && p.proto !== null && p.proto !== d.proto)) return null;
    const exact = parts.every((p) => p.k === 'dst');
    const list = this.candidates(t, right, parts, d).filter((h) => h.m.length === parts.length && matchesDst(parts, h.m, d, this.family));
    if (!exact) elementConstants(parts, list, constants, this.family);
    return { exact, list };
  }

  /** The elements of `right` that may hold `d`'s destination parts: a named set's through its index. */
  private candidates(t: NftStateTable, right: Expr, parts: readonly Part[], d: Destination): Elements['list'] {
    if (right.kind !== 'setRef') return this.elements(t, right);
    const dims = parts.map((p) => p.k === 'dst');
    const name = `${t.family} ${t.name} @${right.name} ${dims.map(Number).join('')}`;
    let ix = this.indexes.get(name);
    if (!ix) {
      ix = { exact: new Map(), scan: [] };
      for (const h of this.elements(t, right)) {
        const exact = h.m.length === parts.length && h.m.every((x, i) => !dims[i] || x.k === 'eq');
        if (!exact) ix.scan.push(h);
        else push(ix.exact, h.m.flatMap((x, i) => (dims[i] && x.k === 'eq' ? [String(x.v)] : [])).join('\u0000'), h);
      }
      this.indexes.set(name, ix);
    }
    let key = '';
    let first = true;
    for (const p of parts) {
      if (p.k !== 'dst') continue;
      key = first ? String(dstValue(p, d, this.family)) : `${key}\u0000${String(dstValue(p, d, this.family))}`;
      first = false;
    }
    const hits = ix.exact.get(key);
    return hits ? (ix.scan.length ? [...hits, ...ix.scan] : hits) : ix.scan;
  }

  /** `ip saddr`, `iifname` and mark matches of a rule that may match: what splits the sources. */
  private constantsOf(r: Rule, c: SourceConstants): void {
    for (const s of r.stmts) {
      if (s.kind !== 'match' || (s.op !== 'implicit' && s.op !== 'eq' && s.op !== 'ne')) continue;
      const left = s.left;
      if (left.kind === 'payload' || left.kind === 'meta') {
        const p = partOf(left, this.family);
        if (p.k === 'saddr' || p.k === 'iif') {
          if (s.right.kind === 'setRef') continue;
          const list = s.right.kind === 'set' ? s.right.elements.flatMap((el) => withParts(el)) : withParts({ key: s.right, options: [], data: null, span: null });
          elementConstants([p], list, c, this.family);
          continue;
        }
        if (left.kind === 'meta' && left.key === 'mark') {
          const v = constant(s.right);
          if (typeof v === 'number') c.marks.set(`mark ${v}`, { value: v >>> 0, mask: 0xffffffff });
        }
      } else if (left.kind === 'binary' && left.op === 'and' && left.left.kind === 'meta' && left.left.key === 'mark') {
        const mask = constant(left.right);
        const v = constant(s.right);
        if (typeof mask === 'number' && typeof v === 'number') c.marks.set(`mark ${v}/${mask}`, { value: v >>> 0, mask: mask >>> 0 });
      }
    }
  }

  /**
   * Destinations the rules name outside kube-proxy's maps: a host address with a port (another
   * component's DNAT), and the networks of `ip daddr` matches (kube-proxy's service CIDRs: an
   * address of one that no Service holds is a destination of its own).
   */
  namedDestinations(): { readonly hosts: Destination[]; readonly networks: Cidr[] } {
    const hosts: Destination[] = [];
    const networks: Cidr[] = [];
    const bits = this.family === 'ipv4' ? 32 : 128;
    for (const { t } of this.tables) {
      for (const ch of t.chains.values()) {
        for (const r of ch.rules) {
          let addr: Ip | null = null;
          let port: number | null = null;
          let proto: Destination['protocol'] | null = null;
          for (const s of r.stmts) {
            if (s.kind !== 'match' || (s.op !== 'implicit' && s.op !== 'eq')) continue;
            const p = partOf(s.left, this.family);
            if (p.k !== 'dst') continue;
            const list = s.right.kind === 'set' ? s.right.elements.flatMap((el) => withParts(el)) : s.right.kind === 'setRef' ? [] : withParts({ key: s.right, options: [], data: null, span: null });
            for (const { m } of list) {
              const x = m[0];
              if (p.what === 'addr') {
                const cidr = rangeCidr(x, this.family);
                if (cidr && cidr.prefix < bits) networks.push(cidr);
                else if (cidr && list.length === 1) addr = cidr.network;
              } else if (p.what === 'port' && x.k === 'eq' && typeof x.v === 'number' && list.length === 1) port = x.v;
              else if (p.what === 'proto' && x.k === 'eq' && list.length === 1) proto = protocolWord(x.v) ?? proto;
            }
            if (p.proto !== null) proto = protocolWord(p.proto) ?? proto;
          }
          if (addr !== null && port !== null && proto !== null) hosts.push({ protocol: proto, proto: proto === 'tcp' ? 6 : proto === 'udp' ? 17 : 132, address: addr, port });
        }
      }
    }
    return { hosts, networks };
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function protocolWord(v: Val): Destination['protocol'] | null {
  return v === 6 ? 'tcp' : v === 17 ? 'udp' : v === 132 ? 'sctp' : null;
}

function withParts(el: SetElement): { el: SetElement; m: PartMatch[] }[] {
  const m = keyParts(el.key);
  return typeof m === 'string' ? [] : [{ el, m }];
}

function elementText(el: SetElement, family: Family): string {
  return `${nftExprText(el.key, family)}${el.data ? ` : ${nftExprText(el.data, family)}` : ''}`;
}

/** The bits a `meta mark set EXPR` may change. */
function markBits(e: Expr): number {
  if (e.kind === 'binary' && e.left.kind === 'meta' && e.left.key === 'mark') {
    const k = constant(e.right);
    if (typeof k === 'number') return e.op === 'and' ? ~k >>> 0 : k >>> 0;
  }
  return 0xffffffff;
}
