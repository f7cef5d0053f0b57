// The part of a node a destination can meet. For a destination (protocol, address, port), every
// chain reachable from the built-in chains through rules that can match a packet to it, with those
// rules in order; where such a rule rewrites the destination (DNAT, an IPVS virtual server), the
// new destination's part too; and the contents of the sets and virtual servers those rules and
// destinations read. A rule is left out only when it cannot match any packet to the destination
// (its -d, -p, --dport, `--dst-type LOCAL` or destination set say so), so two nodes whose parts for
// a destination are equal treat every packet to it alike, whatever its source, mark or interface:
// behavioural diff traces only destinations whose parts differ, and traces them through a node cut
// down to their parts. The part also yields the constants that split the sources (-s networks,
// sets' source members, -i interfaces, tested marks).
//
// A part is a list of numbers (texts interned once, shared by both sides), built into one reused
// buffer per side: at 10k services a diff slices some 50,000 destinations and their endpoints.
import { BUILTIN_CHAINS, targetNameOf, type Family, type MatchOptionRead, type OptionArg, type Rule, type TargetName } from '../iptables/ir.js';
import { ruleAt, ruleCount, ruleMatchOptions, ruleTargets, ruleTargetValue, ruleTextAt, type KernelChain, type KernelState } from '../iptables/state.js';
import type { VirtualServer } from '../ipvs/ir.js';
import { cidrContains, formatHostPort, inPortRanges, parseAddress, type Cidr, type Ip, type PortRange } from '../net/index.js';
import type { Node } from '../node/node.js';
import { buildEnv, type NodeEnv } from '../packetsim/env.js';
import { ipsetDb, type IpsetDb, type SetContents } from '../packetsim/ipset.js';
import { dnatTo, normalForm, option, writtenAlike } from '../explain/rule-facts.js';
import { NftSlicer } from './slice-nft.js';

export interface Destination {
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly proto: number;
  readonly address: Ip;
  readonly port: number;
}

export const PROTO_NUMBERS = { tcp: 6, udp: 17, sctp: 132 } as const;

export function destinationKey(d: Destination, family: Family): string {
  return `${d.protocol} ${formatHostPort(d.address, d.port, family)}`;
}

/** What a rule requires of a packet's destination, and where it sends one, read once. */
interface RuleFacts {
  readonly addr: { readonly cidr: Cidr; readonly neg: boolean } | null;
  readonly proto: { readonly number: number | null; readonly neg: boolean } | null;
  readonly ports: { readonly ranges: readonly PortRange[]; readonly neg: boolean } | null;
  readonly local: { readonly neg: boolean } | null;
  readonly sets: readonly { readonly name: string; readonly flags: readonly string[]; readonly neg: boolean; readonly key: string }[];
  readonly jump: string | null;
  readonly dnat: { readonly address: Ip; readonly port: number | null } | null;
  /** The target changes the destination in a way the slice does not follow (REDIRECT, NETMAP, a target kpsim does not model). */
  readonly wild: boolean;
}

const FOLLOWED_TARGETS: ReadonlySet<string> = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'MARK', 'CONNMARK', 'REJECT', 'LOG', 'NFLOG', 'CT', 'NOTRACK', 'TRACE', 'NFACCT']);

/** What splits the sources of packets to one destination. */
export interface SourceConstants {
  readonly cidrs: Cidr[];
  readonly interfaces: Set<string>;
  /** `value/mask` tested by -m mark. */
  readonly marks: Map<string, { readonly value: number; readonly mask: number }>;
}

export function emptyConstants(): SourceConstants {
  return { cidrs: [], interfaces: new Set(), marks: new Map() };
}

/** The rules of a traced part, per chain: what a node cut down to the part keeps. */
export type Keep = Map<KernelChain, Set<number>>;

/** What a chain's rules require of a destination, indexed: the same for both nodes when they wrote the chain alike. */
interface ChainShape {
  readonly facts: readonly RuleFacts[];
  /** Rules for one host (`-d A/32`), by the address as a number (a bigint for IPv6: Map keys compare it by value). */
  readonly byAddr: Map<Ip, number[]>;
  readonly byPort: Map<number, number[]>;
  readonly rest: number[];
  /** No rule looks at the destination address (no -d, --dst-type or destination set): the rules that may match, per protocol and port. */
  readonly byProtoPort: Map<number, number[]> | null;
}

function chainShape(ch: KernelChain, family: Family): ChainShape {
  const facts = chainFacts(ch);
  const addressFree = facts.every((f) => !f.addr && !f.local && f.sets.length === 0);
  const shape: ChainShape = { facts, byAddr: new Map(), byPort: new Map(), rest: [], byProtoPort: addressFree ? new Map() : null };
  const full = family === 'ipv4' ? 32 : 128;
  facts.forEach((f, i) => {
    if (f.addr && !f.addr.neg && f.addr.cidr.prefix === full) push(shape.byAddr, f.addr.cidr.network, i);
    else if (f.ports && !f.ports.neg && f.ports.ranges.length === 1 && f.ports.ranges[0][0] === f.ports.ranges[0][1]) push(shape.byPort, f.ports.ranges[0][0], i);
    else shape.rest.push(i);
  });
  return shape;
}

interface ChainIndex {
  readonly chain: KernelChain;
  readonly shape: ChainShape;
  /** Interned normal forms, -1 until first needed (null for a chain written alike on both nodes: never rendered). */
  readonly normal: Int32Array | null;
  /** Written alike on both nodes: rules are named by their index, never rendered. */
  readonly same: boolean;
  readonly head: number;
  /** Per rule, the index of the chain it jumps to, once looked up (undefined: not yet; null: none or missing). */
  readonly jumps: (ChainIndex | null | undefined)[];
  /** The slice that last reached the chain. */
  mark: number;
}

const PORT_MODULES = ['tcp', 'udp', 'sctp'] as const;

/** The match options factsOf reads. */
function factOption(module: string | null, name: string): boolean {
  switch (module) {
    case null:
      return name === 'destination' || name === 'protocol';
    case 'tcp':
    case 'udp':
    case 'sctp':
      return name === 'dport';
    case 'multiport':
      return name === 'dports' || name === 'destination-ports';
    case 'addrtype':
      return name === 'dst-type';
    case 'set':
      return name === 'match-set';
    default:
      return false;
  }
}

/**
 * The facts of every rule of a chain, read from its chain index when its rules are not built
 * (the options factsOf reads, the targets, DNAT's destination): slicing a 10k-service dump
 * reaches every one of its 450k rules, and needs only these of them.
 */
export function chainFacts(ch: KernelChain): RuleFacts[] {
  const targets = ruleTargets(ch);
  const out: RuleFacts[] = new Array(targets.length);
  for (let j = 0; j < targets.length; j++) {
    const t = targets[j];
    const v = t?.kind === 'extension' && t.name === 'DNAT' ? ruleTargetValue(ch, j, 'to-destination') : undefined;
    // dnatTo's reading of the value: a range's first address and port.
    const to = v?.type === 'natRange' && v.fromAddress !== null ? { address: v.fromAddress, port: v.fromPort } : null;
    out[j] = factsOf(ruleMatchOptions(ch, j, factOption), t, to);
  }
  return out;
}

/** chainFacts from built rules (the reference the index's reading is tested against). */
export function builtFacts(rules: readonly Rule[]): RuleFacts[] {
  return rules.map((r) => {
    const to = dnatTo(r);
    return factsOf(
      r.args.filter((a): a is OptionArg => a.kind === 'option' && factOption(a.module, a.name)),
      targetNameOf(r),
      to && { address: to.ip, port: to.port },
    );
  });
}

/** The first option of `module` `name`. */
function first(options: readonly MatchOptionRead[], module: string | null, name: string): MatchOptionRead | undefined {
  for (const o of options) if (o.module === module && o.name === name) return o;
  return undefined;
}

/** A rule's facts from its options factOption takes, its target and DNAT's destination. */
function factsOf(options: readonly MatchOptionRead[], target: TargetName, dnat: RuleFacts['dnat']): RuleFacts {
  const d = first(options, null, 'destination');
  const dv = d?.values[0];
  // The reader's address value is the network, host bits cleared: a Cidr already.
  const cidr: Cidr | null = dv?.type === 'address' ? dv : null;
  const p = first(options, null, 'protocol');
  const pv = p?.values[0];
  let ports: RuleFacts['ports'] = null;
  for (const m of PORT_MODULES) {
    const o = first(options, m, 'dport');
    if (o?.values[0]?.type === 'ports') ports = { ranges: o.values[0].ranges, neg: o.negation !== 'none' };
  }
  const mp = first(options, 'multiport', 'dports') ?? first(options, 'multiport', 'destination-ports');
  if (mp?.values[0]?.type === 'ports') ports = { ranges: mp.values[0].ranges, neg: mp.negation !== 'none' };
  const t = first(options, 'addrtype', 'dst-type');
  const local = t && t.values[0]?.text === 'LOCAL' ? { neg: t.negation !== 'none' } : null;
  const sets: RuleFacts['sets'][number][] = [];
  for (const a of options) {
    if (a.module !== 'set' || a.name !== 'match-set') continue;
    const flags = a.values[1]?.type === 'list' ? a.values[1].items : [];
    const name = a.values[0]?.text ?? '';
    sets.push({ name, flags, neg: a.negation !== 'none', key: `${name} ${flags.join(',')}` });
  }
  return {
    addr: d && cidr ? { cidr, neg: d.negation !== 'none' } : null,
    proto: p && pv?.type === 'protocol' ? { number: pv.number, neg: p.negation !== 'none' } : null,
    ports,
    local,
    sets,
    jump: target?.kind === 'chain' ? target.name : null,
    dnat,
    wild: target?.kind === 'opaque' || (target?.kind === 'extension' && !FOLLOWED_TARGETS.has(target.name)),
  };
}

/** A set's elements by their destination parts, for the exact ones (host address, single port); the rest scanned. */
interface SetIndex {
  readonly set: SetContents;
  readonly flags: readonly string[];
  readonly exact: Map<string, SetContents['elements'][number][]>;
  readonly others: SetContents['elements'][number][];
}

function dstDims(flags: readonly string[], n: number): boolean[] {
  return Array.from({ length: n }, (_, i) => (flags[i] ?? flags[flags.length - 1]) === 'dst');
}

/** The destination parts of an element as an exact key (`addr,proto:port`), or null when one is a range. */
function elementKey(el: SetContents['elements'][number], dims: readonly boolean[], family: Family): string | null {
  const full = family === 'ipv4' ? 32 : 128;
  const out: string[] = [];
  for (let i = 0; i < el.parts.length; i++) {
    if (!dims[i]) continue;
    const p = el.parts[i];
    if (p.dim === 'ip') {
      if (p.cidr.prefix !== full) return null;
      out.push(String(p.cidr.network));
    } else {
      if (p.from !== p.to) return null;
      out.push(`${p.proto ?? '*'}:${p.from}`);
    }
  }
  return out.join(',');
}

function destinationKeyFor(set: SetContents, dims: readonly boolean[], d: Destination, withProto: boolean): string {
  const out: string[] = [];
  for (let i = 0; i < set.dims.length; i++) {
    if (!dims[i]) continue;
    out.push(set.dims[i] === 'port' ? `${withProto ? d.proto : '*'}:${d.port}` : String(d.address));
  }
  return out.join(',');
}

/** The destination parts of a set element match the destination (`dst` flags; `src` parts are not looked at). */
function elementMatchesDst(el: SetContents['elements'][number], dims: readonly boolean[], d: Destination): boolean {
  for (let i = 0; i < el.parts.length; i++) {
    if (!dims[i]) continue;
    const part = el.parts[i];
    if (part.dim === 'ip') {
      if (!cidrContains(part.cidr, d.address)) return false;
    } else {
      if (part.proto !== null && part.proto !== d.proto) return false;
      if (d.port < part.from || d.port > part.to) return false;
    }
  }
  return true;
}

/**
 * Texts as small numbers, shared by both sides' slicers: a part is a list of them, and two parts
 * are equal when the lists are.
 */
export class Interner {
  private readonly ids = new Map<string, number>();

  id(text: string): number {
    let n = this.ids.get(text);
    if (n === undefined) this.ids.set(text, (n = this.ids.size));
    return n;
  }
}

/** Marks a destination's header in a part: -1, then protocol, address, port and whether it is local. */
const DESTINATION = -1;
/** After a chain's head: the chain is written alike on both nodes, so its rules are named by their index. */
const SAME_CHAIN = -3;

/**
 * Which chains both nodes have alike (same policy, rules in order written alike or in the same
 * normal form: compared once, on first use). For those a part names the rules a destination meets
 * by their index, which says as much as their normal forms: equal chains, equal rules, equal
 * verdict on any packet. Only chains that differ are rendered in normal form in parts (two
 * 10k-service dumps differ in a few; a cluster compiled against its node's dump in none).
 */
export class SameChains {
  /** Per table, per chain name (the state's own key strings: no string made or hashed per question). */
  private readonly known = new Map<string, Map<string, boolean>>();
  /** The shapes of chains written alike, built by the first node's slicer and read by the other's. */
  private readonly shapes = new Map<string, Map<string, ChainShape>>();
  private readonly states: readonly [KernelState | undefined, KernelState | undefined];

  constructor(
    left: Node,
    right: Node,
    private readonly family: Family,
  ) {
    this.states = [left.netfilter.get(family), right.netfilter.get(family)];
  }

  same(table: string, name: string): boolean {
    let t = this.known.get(table);
    if (!t) this.known.set(table, (t = new Map()));
    let v = t.get(name);
    if (v === undefined) {
      const a = this.states[0]?.tables.get(table)?.get(name);
      const b = this.states[1]?.tables.get(table)?.get(name);
      v = !!a && !!b && a.policy === b.policy && chainsAlike(a, b, this.family);
      t.set(name, v);
    }
    return v;
  }

  /** `table name`: the piece id explain's views give a chain. */
  sameId(id: string): boolean {
    const space = id.indexOf(' ');
    return space > 0 && this.same(id.slice(0, space), id.slice(space + 1));
  }

  /** The chain's shape, shared between the nodes when both wrote it alike. */
  shape(table: string, name: string, ch: KernelChain, family: Family): ChainShape {
    if (!this.same(table, name)) return chainShape(ch, family);
    let t = this.shapes.get(table);
    if (!t) this.shapes.set(table, (t = new Map()));
    let s = t.get(name);
    if (!s) t.set(name, (s = chainShape(ch, family)));
    return s;
  }
}

/**
 * Two chains' rules alike, in order: written alike, or else in the same normal form (kube-proxy's
 * `-m tcp -p tcp -d 10.96.0.10` and iptables-save's `-d 10.96.0.10/32 -p tcp -m tcp`). Lines the
 * dumps wrote byte for byte alike are compared as text (a 10k-service dump has 450k rules,
 * building them is most of reading it); rules are built, alone, only where the lines differ (a
 * comment, a spelling, a real change), and rendered only where they are not written alike.
 */
export function chainsAlike(a: KernelChain, b: KernelChain, family: Family): boolean {
  const n = ruleCount(a);
  if (n !== ruleCount(b)) return false;
  for (let j = 0; j < n; j++) {
    const x = ruleTextAt(a, j);
    if (x !== null && x === ruleTextAt(b, j)) continue;
    const r = ruleAt(a, j);
    const s = ruleAt(b, j);
    if (!writtenAlike(r, s) && normalForm(r, family) !== normalForm(s, family)) return false;
  }
  return true;
}

/** One side's node, sliced per destination. */
export class Slicer {
  private readonly indexes = new WeakMap<KernelChain, ChainIndex>();
  private readonly tables: readonly { readonly name: string; readonly chains: ReadonlyMap<string, KernelChain>; readonly builtins: readonly (readonly [string, KernelChain])[] }[];
  private readonly setIndexes = new Map<string, SetIndex | null>();
  private readonly servers: Map<string, VirtualServer[]>;
  private buf = new Float64Array(1024);
  private n = 0;
  private slices = 0;
  /** A sliced destination met a target the slice does not follow: no cut-down node, and no part equals another. */
  wild = false;
  readonly env: NodeEnv;
  readonly sets: IpsetDb | null;
  /** Mark bits some MARK/CONNMARK target (or `meta mark set`) may set: a tested mark made of these is the node's own, not an input. */
  readonly markBitsSet: number;
  /** The node's nftables tables (kube-proxy's in nftables mode, other components' beside iptables), or null without any. */
  readonly nft: NftSlicer | null;

  constructor(
    readonly node: Node,
    readonly family: Family,
    private readonly interner: Interner,
    private readonly sameChains: SameChains,
  ) {
    this.env = buildEnv(node, family);
    this.sets = node.ipsets ? ipsetDb(node.ipsets, family) : null;
    this.servers = new Map();
    for (const vs of node.ipvs?.services ?? []) {
      const addr = vs.family === family ? parseAddress(vs.address, family) : null;
      if (addr === null) continue;
      const k = `${PROTO_NUMBERS[vs.protocol.toLowerCase() as Destination['protocol']]} ${String(addr)} ${vs.port}`;
      this.servers.set(k, [...(this.servers.get(k) ?? []), vs]);
    }
    const state: KernelState | undefined = node.netfilter.get(family);
    // Tables by name: the order a node's tables were loaded in (a compile's, a dump's) says nothing about packets.
    this.tables = [...(state?.tables ?? [])]
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([name, chains]) => ({ name, chains, builtins: (BUILTIN_CHAINS[name] ?? []).filter((c) => chains.has(c)).map((c) => [c, chains.get(c)!] as const) }));
    let bits = 0;
    for (const t of this.tables) {
      for (const ch of t.chains.values()) {
        // The targets read alone: only MARK and CONNMARK rules are built.
        const targets = ruleTargets(ch);
        for (let j = 0; j < targets.length; j++) {
          const tn = targets[j];
          if (tn?.kind !== 'extension' || (tn.name !== 'MARK' && tn.name !== 'CONNMARK')) continue;
          const r = ruleAt(ch, j);
          if (r.target?.kind !== 'extension') continue;
          for (const o of r.target.options) {
            const v = o.values[0];
            bits |= v?.type === 'mark' ? (v.mask ?? 0xffffffff) | v.value : 0xffffffff;
          }
        }
      }
    }
    this.nft = node.nftables ? new NftSlicer(node.nftables, family, this.env, (text) => interner.id(text)) : null;
    this.markBitsSet = (bits | (this.nft?.markBitsSet ?? 0)) >>> 0;
  }

  private index(table: string, name: string, ch: KernelChain): ChainIndex {
    let ix = this.indexes.get(ch);
    if (ix) return ix;
    const same = this.sameChains.same(table, name);
    ix = {
      chain: ch,
      shape: this.sameChains.shape(table, name, ch, this.family),
      normal: same ? null : new Int32Array(ruleCount(ch)).fill(-1),
      same,
      head: this.interner.id(`${table} ${name} ${ch.policy}`),
      jumps: new Array<ChainIndex | null | undefined>(ruleCount(ch)),
      mark: 0,
    };
    this.indexes.set(ch, ix);
    return ix;
  }

  private setIndex(name: string, flags: readonly string[]): SetIndex | null {
    const key = `${name} ${flags.join(',')}`;
    if (this.setIndexes.has(key)) return this.setIndexes.get(key)!;
    const set = this.sets?.get(name);
    let ix: SetIndex | null = null;
    if (set) {
      const dims = dstDims(flags, set.dims.length);
      ix = { set, flags, exact: new Map(), others: [] };
      for (const el of set.elements) {
        const k = elementKey(el, dims, this.family);
        if (k === null) ix.others.push(el);
        else push(ix.exact, k, el);
      }
    }
    this.setIndexes.set(key, ix);
    return ix;
  }

  /** The elements of a set whose destination parts match `d`. */
  private setHits(name: string, flags: readonly string[], d: Destination): SetContents['elements'][number][] {
    const ix = this.setIndex(name, flags);
    if (!ix) return [];
    const dims = dstDims(flags, ix.set.dims.length);
    const out = [...(ix.exact.get(destinationKeyFor(ix.set, dims, d, true)) ?? []), ...(ix.exact.get(destinationKeyFor(ix.set, dims, d, false)) ?? [])];
    for (const el of ix.others) if (elementMatchesDst(el, dims, d)) out.push(el);
    return out;
  }

  /** The rule may match some packet to `d`. */
  private compatible(f: RuleFacts, d: Destination): boolean {
    if (f.addr && cidrContains(f.addr.cidr, d.address) === f.addr.neg) return false;
    if (f.proto && f.proto.number !== null && (f.proto.number === d.proto) === f.proto.neg) return false;
    if (f.ports && inPortRanges(f.ports.ranges, d.port) === f.ports.neg) return false;
    if (f.local && this.env.isLocal(d.address) === f.local.neg) return false;
    for (const s of f.sets) {
      if (!s.flags.includes('dst') || !this.sets?.get(s.name)) continue;
      const hit = this.setHits(s.name, s.flags, d).length > 0;
      // A set of destination parts alone decides; with source parts too, only "no element at all" does.
      if (s.flags.every((x) => x === 'dst') ? hit === s.neg : !hit && !s.neg) return false;
    }
    return true;
  }

  private rulesFor(sh: ChainShape, d: Destination): readonly number[] {
    // Without address, --dst-type or set matches, what may match depends on protocol and port alone (not on the node).
    if (sh.byProtoPort) {
      const key = d.proto * 65536 + d.port;
      let hit = sh.byProtoPort.get(key);
      if (!hit) sh.byProtoPort.set(key, (hit = this.pick(sh, d)));
      return hit;
    }
    return this.pick(sh, d);
  }

  private pick(sh: ChainShape, d: Destination): number[] {
    const a = sh.byAddr.size ? sh.byAddr.get(d.address) : undefined;
    const p = sh.byPort.size ? sh.byPort.get(d.port) : undefined;
    // Most chains keep their rules in one of the three lists: no merge needed then.
    const cand = !a && !p ? sh.rest : !p && sh.rest.length === 0 ? a! : !a && sh.rest.length === 0 ? p! : [...(a ?? []), ...(p ?? []), ...sh.rest].sort((x, y) => x - y);
    const out: number[] = [];
    for (const i of cand) if (this.compatible(sh.facts[i], d)) out.push(i);
    return out;
  }

  private emit(x: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = x;
  }

  /**
   * The part of the node packets to `d` can meet, as interned lines (equal lists: equal
   * behaviour), valid until the next call; when asked, the constants that split their sources and
   * the rules a cut-down node keeps.
   */
  slice(d: Destination, constants: SourceConstants | null = null, keep: Keep | null = null): Float64Array {
    this.n = 0;
    const todo: Destination[] = [d];
    // A destination and the few its DNATs lead to: a list is quicker than a set of keys.
    const seen: Destination[] = [];
    while (todo.length) {
      const x = todo.pop()!;
      if (seen.some((y) => y.proto === x.proto && y.address === x.address && y.port === x.port)) continue;
      seen.push(x);
      this.emit(DESTINATION);
      this.emit(x.proto);
      this.emit(typeof x.address === 'number' ? x.address : this.interner.id(String(x.address)));
      this.emit(x.port);
      this.emit(this.env.isLocal(x.address) ? 1 : 0);
      this.sliceOne(x, todo, constants, keep);
    }
    return this.buf.subarray(0, this.n);
  }

  private sliceOne(d: Destination, todo: Destination[], constants: SourceConstants | null, keep: Keep | null): void {
    const mark = ++this.slices;
    let setsRead: Set<string> | null = null;
    for (const t of this.tables) {
      const queue: ChainIndex[] = [];
      for (const [bname, b] of t.builtins) {
        const ix = this.index(t.name, bname, b);
        ix.mark = mark;
        queue.push(ix);
      }
      const chains = t.chains;
      for (let q = 0; q < queue.length; q++) {
        const ix = queue[q];
        this.emit(ix.head);
        if (ix.same) this.emit(SAME_CHAIN);
        const kept = keep ? (keep.get(ix.chain) ?? keep.set(ix.chain, new Set()).get(ix.chain)!) : null;
        const facts = ix.shape.facts;
        for (const i of this.rulesFor(ix.shape, d)) {
          const normal = ix.normal;
          if (!normal) this.emit(i);
          else {
            let id = normal[i];
            if (id < 0) normal[i] = id = this.interner.id(`  ${normalForm(ix.chain.rules[i], this.family)}`);
            this.emit(id);
          }
          kept?.add(i);
          const f = facts[i];
          if (constants) this.constantsOf(ruleAt(ix.chain, i), constants);
          for (const s of f.sets) (setsRead ??= new Set()).add(s.key);
          if (f.jump) {
            let tix = ix.jumps[i];
            if (tix === undefined) {
              const target = chains.get(f.jump);
              ix.jumps[i] = tix = target ? this.index(t.name, f.jump, target) : null;
            }
            if (tix && tix.mark !== mark) {
              tix.mark = mark;
              queue.push(tix);
            }
          }
          if (f.dnat) todo.push({ ...d, address: f.dnat.address, port: f.dnat.port ?? d.port });
          if (f.wild) {
            // Where the packet goes next is not followed: this part equals no other.
            this.wild = true;
            this.emit(-2 - this.slices);
          }
        }
      }
    }
    if (setsRead) for (const s of [...setsRead].sort()) this.emit(this.interner.id(`set ${s}: ${this.setFacts(s, d, constants)}`));
    this.nft?.sliceOne(d, (x) => this.emit(x), todo, constants);
    for (const vs of this.servers.size ? (this.servers.get(`${d.proto} ${String(d.address)} ${d.port}`) ?? []) : []) {
      this.emit(this.interner.id(`ipvs ${vs.scheduler} flags ${vs.flags} timeout ${vs.timeout}/${vs.netmaskPrefix}`));
      for (const rs of [...vs.realServers].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port))) {
        this.emit(this.interner.id(`  -> ${rs.address}:${rs.port} ${rs.forward} ${rs.weight}`));
        const addr = parseAddress(rs.address, this.family);
        if (addr !== null) todo.push({ ...d, address: addr, port: rs.port });
      }
    }
  }

  /** A set as the destination sees it: the source members of its elements that match it. */
  private setFacts(spec: string, d: Destination, constants: SourceConstants | null): string {
    const [name, flagText] = spec.split(' ');
    const flags = flagText ? flagText.split(',') : [];
    const ix = this.setIndex(name, flags);
    if (!ix) return 'absent';
    const dims = dstDims(flags, ix.set.dims.length);
    const hits: string[] = [];
    for (const el of dims.some((x) => x) ? this.setHits(name, flags, d) : ix.set.elements) {
      const srcParts = el.parts.filter((_p, i) => !dims[i]);
      if (constants) for (const p of srcParts) if (p.dim === 'ip') constants.cidrs.push(p.cidr);
      hits.push(srcParts.map((p) => (p.dim === 'ip' ? `${String(p.cidr.network)}/${p.cidr.prefix}` : `${p.proto}:${p.from}-${p.to}`)).join(','));
    }
    return hits.length ? hits.sort().join(' ') : 'no member';
  }

  private constantsOf(r: Rule, c: SourceConstants): void {
    const s = option(r, null, 'source')?.values[0];
    if (s?.type === 'address') {
      c.cidrs.push(s);
    }
    const i = option(r, null, 'in-interface')?.values[0];
    if (i?.type === 'interface') c.interfaces.add(i.wildcard ? `${i.name}0` : i.name);
    const m = option(r, 'mark', 'mark')?.values[0];
    if (m?.type === 'mark') c.marks.set(m.text, { value: m.value, mask: m.mask ?? 0xffffffff });
  }

  /** The node with only the rules `keep` holds: the same behaviour for the destinations sliced into it, compiled in a fraction of the time. */
  cutDown(keep: Keep): Node {
    const state = this.node.netfilter.get(this.family);
    if (!state || this.wild) return this.node;
    const tables = new Map<string, Map<string, KernelChain>>();
    for (const [name, chains] of state.tables) {
      const t = new Map<string, KernelChain>();
      for (const [cname, ch] of chains) {
        const k = keep.get(ch);
        if (!k && ch.policy === '-') continue;
        // The kept rules alone, in order (built alone where the chain's rules are not built).
        t.set(cname, { policy: ch.policy, span: ch.span, rules: k ? [...k].sort((x, y) => x - y).map((i) => ruleAt(ch, i)) : [] });
      }
      tables.set(name, t);
    }
    const netfilter = new Map(this.node.netfilter);
    netfilter.set(this.family, { family: this.family, tables });
    return { ...this.node, netfilter };
  }
}

export function sameParts(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

