// An nftables-mode node's Services, read back from kube-proxy's table (`ip kube-proxy`, `ip6
// kube-proxy`) the way syncProxyRules wrote it (pkg/proxy/nftables/proxier.go): captures are
// verdict-map elements, not rules: `service-ips` (address . protocol . port: the cluster IP, each
// external and load-balancer IP) and `service-nodeports` (protocol . port) send a service port's
// traffic to its `service-` (Cluster policy), `local-` (Local policy) or `external-` chain;
// `no-endpoint-services` / `no-endpoint-nodeports` drop or reject (`goto reject-chain`) what has no
// endpoint for its policy; `firewall-ips` sends load-balancer traffic to the `firewall-` chain
// (loadBalancerSourceRanges). The policy chains split with one `numgen random mod N vmap` rule
// over `endpoint-` chains (hairpin masquerade, `dnat to`), after the affinity lookups
// (`ip saddr @affinity-... goto endpoint-...`). A service port's chains share the base
// `HASH-ns/svc/proto/port` of their names, so the names are in the dump itself; a base longer than
// 240 characters is cut short (`...`), and then the objects name it (names.ts).
import type { Family } from '../iptables/ir.js';
import type { Rule, SetElement } from '../nftables/ir.js';
import { targetsOf, tableKey, type NftStateChain, type NftStateSet, type NftStateTable } from '../nftables/state.js';
import type { Node } from '../node/node.js';
import { add, mul, ONE, reduce, ZERO, type Prob } from '../packetsim/fraction.js';
import { addressKey, type NameBook } from './names.js';
import {
  endpointOfReadable,
  nftDnatOf,
  nftElementComment,
  nftElementTarget,
  nftExprText,
  nftFamilyOf,
  nftNormalForm,
  nftRuleSentence,
  nftServiceChainOf,
  nftUnconditional,
  nftVerdictOf,
  portOfReadable,
} from './nft-facts.js';
import { servicePortNameInComment } from './rule-facts.js';
import { unreachedChains } from './reach.js';
import { numgenShare } from './shares.js';
import { captureOutcome, externalChainRead, newDraft, portView, type CaptureRole, type EndpointShare, type EntryKind, type EntryPoint, type NodeServices, type Piece, type PortDraft, type Protocol, type ServicePortView, type Split, type Where } from './view.js';

/** kube-proxy's table in nftables mode (pkg/proxy/nftables/proxier.go kubeProxyTable). */
export const KUBE_PROXY_TABLE = 'kube-proxy';

interface Builder extends PortDraft {
  /** `HASH-ns/svc/tcp/p80`, null for a port known only by name (a no-endpoint element's comment). */
  base: string | null;
  hash: string | null;
}

/** A chain of kube-proxy's table as a piece of the node: its rules in normal form, computed when asked. */
class NftChainPiece implements Piece {
  readonly kind = 'chain' as const;
  private cached: readonly string[] | null = null;

  constructor(
    private readonly ch: NftStateChain,
    private readonly family: Family,
    readonly stale: boolean,
  ) {}

  get id(): string {
    return `${KUBE_PROXY_TABLE} ${this.ch.name}`;
  }

  get at(): Where {
    return { source: 'nftables', span: this.ch.span ?? null, what: `chain ${this.ch.name}` };
  }

  lines(): readonly string[] {
    const h = this.ch.hook;
    const head = h ? [`type ${h.type} hook ${h.hook} priority ${h.priority.value}; policy ${this.ch.policy ?? 'accept'};`] : [];
    return (this.cached ??= [...head, ...this.ch.rules.map((r) => nftNormalForm(r, this.family))]);
  }
}

export function nftChainPiece(ch: NftStateChain, family: Family, stale = false): Piece {
  return new NftChainPiece(ch, family, stale);
}

function ruleWhere(chain: string, index: number, r: Rule): Where {
  return { source: 'nftables', span: r.span, what: `chain ${chain} #${index + 1}` };
}

function elementWhere(set: string, key: string, el: SetElement): Where {
  return { source: 'nftables', span: el.span, what: `@${set} ${key}` };
}

/**
 * kube-proxy's chains no packet reaches: those no rule and no verdict-map element sends to, and
 * those only such chains send to (a stale service chain's endpoint chains). Base chains are reached
 * by their hook.
 */
export function staleNftChains(t: NftStateTable): Set<string> {
  const refs = new Map<string, number>();
  const ref = (name: string) => refs.set(name, (refs.get(name) ?? 0) + 1);
  for (const ch of t.chains.values()) for (const r of ch.rules) for (const target of targetsOf(r.stmts)) ref(target);
  for (const s of t.sets.values()) for (const el of s.elements) {
    const target = nftElementTarget(el);
    if (target !== null) ref(target);
  }
  const base = (name: string) => t.chains.get(name)?.hook !== null;
  return unreachedChains(t.chains.keys(), refs, (name) => !base(name), function* (name) {
    for (const r of t.chains.get(name)?.rules ?? []) yield* targetsOf(r.stmts);
  });
}

class Reader {
  readonly byBase = new Map<string, Builder>();
  readonly byName = new Map<string, Builder>();
  /** `TCP 10.96.0.10:53` / `TCP *:30080` -> the port captured there (no-endpoint elements without a comment). */
  readonly byDestination = new Map<string, Builder>();
  /** endpoint chain -> the port whose split sends to it. */
  readonly endpointOwners = new Map<string, Builder>();
  readonly other: Piece[] = [];
  readonly orphans: Piece[] = [];
  /** Set elements that belong to a service port, per set (left out of the set's own piece). */
  readonly claimed = new Map<string, Set<SetElement>>();
  readonly stale: ReadonlySet<string>;
  /** cluster-ips' elements by address. */
  readonly clusterIPs: ReadonlyMap<string, SetElement>;
  /** Ports read from their chains, by name. */
  readonly basedByName = new Map<string, Builder>();
  /** Affinity sets some port's endpoint chain updates. */
  readonly ownedSets = new Set<string>();
  /** The one address of nodeport-ips (NodePorts on the primary IP, or nodePortAddresses naming one); null: several, or every local address but loopback. */
  readonly nodePortIP: string | null;

  constructor(
    readonly t: NftStateTable,
    readonly family: Family,
    readonly names: NameBook | null,
  ) {
    this.stale = staleNftChains(t);
    this.clusterIPs = new Map((t.sets.get('cluster-ips')?.elements ?? []).map((e) => [nftExprText(e.key, family), e]));
    const nodePortIPs = t.sets.get('nodeport-ips')?.elements ?? [];
    this.nodePortIP = nodePortIPs.length === 1 ? nftExprText(nodePortIPs[0].key, family) : null;
  }

  /** The port a per-service chain base belongs to: named by its readable part, else by the objects. */
  based(base: string, hash: string, readable: string): Builder {
    let b = this.byBase.get(base);
    if (b) return b;
    const fromName = portOfReadable(readable);
    const fromObjects = fromName ? null : (this.names?.nftBases().get(base) ?? null);
    const name = fromName?.name ?? fromObjects?.name ?? null;
    b = { ...newDraft(name, fromName ? 'chain' : fromObjects ? 'objects' : null), base, hash };
    b.protocol = fromName?.protocol ?? fromObjects?.protocol ?? null;
    this.byBase.set(base, b);
    if (name !== null && !this.basedByName.has(name)) this.basedByName.set(name, b);
    return b;
  }

  /** The port of that name: one already read from its chains, else one known by name alone (so far). */
  named(name: string): Builder {
    const based = this.basedByName.get(name);
    if (based) return based;
    let b = this.byName.get(name);
    if (!b) this.byName.set(name, (b = { ...newDraft(name, 'comment'), base: null, hash: null }));
    return b;
  }

  /** The port of the chain an element or rule sends to, or null for a chain that is not a service port's. */
  ofChain(name: string): Builder | null {
    const sc = nftServiceChainOf(name);
    if (!sc) return null;
    if (sc.kind === 'endpoint') return this.endpointOwners.get(name) ?? null;
    return this.based(sc.base, sc.hash, sc.readable);
  }

  set(name: string): NftStateSet | undefined {
    return this.t.sets.get(name);
  }

  claim(set: string, el: SetElement, b: Builder, key: string): void {
    let c = this.claimed.get(set);
    if (!c) this.claimed.set(set, (c = new Set()));
    c.add(el);
    const data = el.data ? nftExprText(el.data, this.family) : null;
    b.pieces.push({ id: `@${set} ${key}`, kind: 'set element', lines: () => (data === null ? [] : [data]), at: elementWhere(set, key, el) });
  }
}

/** The service ports of an nftables-mode node (one family), read from kube-proxy's table. */
export function nftablesServices(node: Node, family: Family, names: NameBook | null): NodeServices {
  const t = node.nftables?.tables.get(tableKey(nftFamilyOf(family), KUBE_PROXY_TABLE));
  if (!t) return { mode: 'nftables', ports: [], other: [], orphans: [] };
  const rd = new Reader(t, family, names);
  readPolicyChains(rd);
  readCaptures(rd);
  readNoEndpoints(rd);
  readFirewallElements(rd);
  readEndpointChains(rd);
  readOther(rd);
  return { mode: 'nftables', ports: finish(rd), other: rd.other, orphans: rd.orphans };
}

/** service- / local- / external- / firewall- chains: splits, affinity, the external chain's per-source decisions, source ranges. */
function readPolicyChains(rd: Reader): void {
  for (const [name, ch] of rd.t.chains) {
    const sc = nftServiceChainOf(name);
    if (!sc || sc.kind === 'endpoint') continue;
    const b = rd.based(sc.base, sc.hash, sc.readable);
    b.pieces.push(nftChainPiece(ch, rd.family, rd.stale.has(name)));
    switch (sc.kind) {
      case 'service':
      case 'local':
        b.splits.push(readSplit(rd, b, ch, sc.kind === 'service' ? 'Cluster' : 'Local'));
        break;
      case 'external':
        readExternal(rd, b, ch);
        break;
      case 'firewall':
        b.notes.push(firewallNote(rd, b, ch));
        break;
    }
  }
}

/**
 * The external chain (syncProxyRules' "Set up external traffic handling"): for a Cluster policy
 * `jump mark-for-masquerade` then `goto service-`; for a Local policy the short-circuits of pods
 * and the node to the cluster chain, then `goto local-` when this node has endpoints.
 */
function readExternal(rd: Reader, b: Builder, ch: NftStateChain): void {
  const last = ch.rules.at(-1);
  const v = last && nftUnconditional(last) ? nftVerdictOf(last) : null;
  const policy = v?.chain ? nftServiceChainOf(v.chain)?.kind : undefined;
  const rest = ch.rules.filter((r) => r !== last || policy === undefined).map((r) => nftRuleSentence(r, rd.family));
  externalChainRead(b, policy === 'service' ? 'Cluster' : policy === 'local' ? 'Local' : undefined, ch.rules.length, rest);
}

/** `ip saddr != { RANGES } drop`: only the ranges (and, with the node in one, the load-balancer IPs) pass. */
function firewallNote(rd: Reader, b: Builder, ch: NftStateChain): string {
  for (const r of ch.rules) {
    for (const s of r.stmts) {
      if (s.kind !== 'match' || s.op !== 'ne' || s.left.kind !== 'payload' || s.left.field !== 'saddr') continue;
      const elements = s.right.kind === 'set' ? s.right.elements.map((e) => e.key) : [s.right];
      b.sourceRanges.push(...elements.map((e) => nftExprText(e, rd.family)));
    }
  }
  return `load balancer: only sources in ${b.sourceRanges.join(', ') || '(none)'} pass ${ch.name} (before DNAT, at priority dstnat - 10); other traffic to the load-balancer IP is dropped there`;
}

/** The affinity set's timeout (`affinity-...` sets: `flags dynamic,timeout; timeout Ns`), in seconds. */
function affinitySeconds(s: NftStateSet | undefined): number | null {
  const p = s?.properties.find((x) => x.kind === 'timeout');
  if (!p || p.kind !== 'timeout') return null;
  return p.value.kind === 'time' ? p.value.ms / 1000 : p.value.value;
}

/**
 * A policy chain's split (writeServiceToEndpointRules): the affinity lookups first (a recent client
 * goes back to its endpoint; by client, not by share), then `numgen random mod N vmap { i : goto
 * endpoint-... }`, endpoint i taking reciprocal_scale's share of the u32 draw. What no element
 * covers falls through the chain; an unconditional `goto endpoint-` takes all that is left.
 */
function readSplit(rd: Reader, b: Builder, ch: NftStateChain, policy: 'Cluster' | 'Local'): Split {
  // Per endpoint chain, in the order the split names them: its share (summed over its values) and where it is first named.
  const taken = new Map<string, { share: Prob; at: Where }>();
  let left: Prob = ONE;
  const take = (chain: string, p: Prob, at: Where) => {
    const prev = taken.get(chain);
    taken.set(chain, prev ? { ...prev, share: add(prev.share, p) } : { share: p, at });
  };
  ch.rules.forEach((r, index) => {
    const v = nftVerdictOf(r);
    const affinity = r.stmts.find((s) => s.kind === 'match' && s.left.kind === 'payload' && s.left.field === 'saddr' && s.right.kind === 'setRef');
    if (affinity && affinity.kind === 'match' && affinity.right.kind === 'setRef') {
      b.affinitySeconds = affinitySeconds(rd.set(affinity.right.name));
      return;
    }
    const vmap = r.stmts.find((s) => s.kind === 'vmap');
    if (vmap && vmap.kind === 'vmap' && vmap.key.kind === 'numgen' && vmap.map.kind === 'set' && left.num !== 0n) {
      const n = vmap.key.mod.value;
      const offset = vmap.key.offset?.value ?? 0;
      let covered = 0n;
      for (const el of vmap.map.elements) {
        const target = nftElementTarget(el);
        const range = valueRange(el, offset, n);
        if (!target || !range) continue;
        const share = numgenShare(range[0], range[1], n);
        covered += share.num << BigInt(32 - share.exp);
        take(target, mul(left, share), el.span ? { source: 'nftables', span: el.span, what: `chain ${ch.name} #${index + 1}` } : ruleWhere(ch.name, index, r));
      }
      left = mul(left, reduce({ num: (1n << 32n) - covered, exp: 32, den: 1n }));
      return;
    }
    const target = v?.chain ?? null;
    if (target && nftServiceChainOf(target)?.kind === 'endpoint' && nftUnconditional(r) && left.num !== 0n) {
      take(target, left, ruleWhere(ch.name, index, r));
      left = ZERO;
      return;
    }
    if (target === 'mark-for-masquerade') b.notes.push(`before the ${policy} split: ${nftRuleSentence(r, rd.family)}`);
  });
  const endpoints: EndpointShare[] = [...taken].map(([via, { share, at }]) => {
    rd.endpointOwners.set(via, b);
    // The endpoint is where the chain DNATs to, else what its name says.
    const chain = rd.t.chains.get(via);
    const dnat = chain ? chain.rules.map((r) => nftDnatOf(r, rd.family)).find((x) => x !== null) : null;
    const named = dnat ? null : endpointOfReadable(nftServiceChainOf(via)?.readable ?? '', rd.family);
    return { address: dnat?.address ?? named?.address ?? '?', port: dnat ? dnat.port : (named?.portNumber ?? null), share: reduce(share), via, at };
  });
  return { policy, via: ch.name, endpoints, fallThrough: left.num === 0n ? null : reduce(left), scheduler: null, at: { source: 'nftables', span: ch.span ?? null, what: `chain ${ch.name}` } };
}

/** The numgen values (0-based) an element of the split covers, clipped to 0..n-1, or null. */
function valueRange(el: SetElement, offset: number, n: number): [number, number] | null {
  const k = el.key.kind === 'value' ? el.key.value : null;
  const num = (v: typeof k) => (v?.kind === 'number' ? v.value : null);
  const lo = k?.kind === 'range' ? num(k.from) : num(k);
  const hi = k?.kind === 'range' ? num(k.to) : num(k);
  if (lo === null || hi === null) return null;
  const a = Math.max(lo - offset, 0);
  const b = Math.min(hi - offset, n - 1);
  return a <= b ? [a, b] : null;
}

/** An element key's parts as text: `10.96.0.10 . tcp . 80` -> [10.96.0.10, tcp, 80]. */
function keyParts(el: SetElement, family: Family): string[] {
  return el.key.kind === 'concat' ? el.key.parts.map((p) => nftExprText(p, family)) : [nftExprText(el.key, family)];
}

function protocolOf(text: string | undefined): Protocol | null {
  const p = text?.toUpperCase();
  return p === 'TCP' || p === 'UDP' || p === 'SCTP' ? p : p === '6' ? 'TCP' : p === '17' ? 'UDP' : p === '132' ? 'SCTP' : null;
}

/** The chains captures send to, and what they do. */
const CAPTURE_ROLE: Readonly<Partial<Record<string, CaptureRole>>> = { service: 'Cluster', local: 'Local', external: 'chain', firewall: 'chain' };

/** What an address captured in service-ips is: the cluster IP (cluster-ips holds it), a load-balancer IP (firewall-ips or the objects), else an external address. */
function addressKind(rd: Reader, protocol: Protocol | null, address: string, port: number | null, firewalled: boolean): EntryKind {
  if (rd.clusterIPs.has(address)) return 'clusterIP';
  const known = rd.names && protocol ? rd.names.byAddress.get(addressKey(protocol, address, port))?.kind : undefined;
  return known ?? (firewalled ? 'loadBalancerIP' : 'external');
}

/** Where an element of a capture map is: `address . protocol . port`, or a NodePort's `protocol . port`. */
function capturedAt(rd: Reader, setName: string, el: SetElement): { key: string; nodePort: boolean; address: string | null; protocol: Protocol | null; port: number | null } {
  const parts = keyParts(el, rd.family);
  const nodePort = setName.endsWith('nodeports');
  const [address, protoText, portText] = nodePort ? [null, parts[0], parts[1]] : parts;
  return { key: parts.join(' . '), nodePort, address, protocol: protocolOf(protoText), port: portText === undefined ? null : Number(portText) };
}

/** The cluster IP's cluster-ips element belongs to each of its ports. */
function claimClusterIP(rd: Reader, b: Builder, address: string): void {
  const c = rd.clusterIPs.get(address);
  if (c && !b.pieces.some((p) => p.id === `element cluster-ips ${address}`)) rd.claim('cluster-ips', c, b, address);
}

/** service-ips and service-nodeports: each capture's element sends the port's traffic to its chains. */
function readCaptures(rd: Reader): void {
  const firewalled = new Set((rd.set('firewall-ips')?.elements ?? []).map((el) => keyParts(el, rd.family).join(' . ')));
  for (const setName of ['service-ips', 'service-nodeports'] as const) {
    for (const el of rd.set(setName)?.elements ?? []) {
      const target = nftElementTarget(el);
      const role = target ? nftServiceChainOf(target)?.kind : undefined;
      const outcome = target && role ? captureOutcome(target, CAPTURE_ROLE[role]) : null;
      const b = target ? rd.ofChain(target) : null;
      if (!b || !outcome) continue;
      const { key, nodePort, address, protocol, port } = capturedAt(rd, setName, el);
      b.protocol ??= protocol;
      const kind: EntryKind = nodePort ? 'nodePort' : addressKind(rd, protocol, address!, port, firewalled.has(key));
      b.entries.push({ kind, protocol, address: nodePort ? rd.nodePortIP : address, port, outcome, at: elementWhere(setName, key, el) });
      if (kind === 'clusterIP' && outcome.kind === 'endpoints') b.internalPolicy = outcome.policy;
      if (protocol) rd.byDestination.set(nodePort ? `${protocol} *:${port}` : addressKey(protocol, address!, port), b);
      rd.claim(setName, el, b, key);
      if (kind === 'clusterIP') claimClusterIP(rd, b, address!);
    }
  }
}

/** no-endpoint-services / no-endpoint-nodeports: `drop` (no local endpoints, Local policy) or `goto reject-chain` (no endpoints). */
function readNoEndpoints(rd: Reader): void {
  for (const setName of ['no-endpoint-services', 'no-endpoint-nodeports'] as const) {
    for (const el of rd.set(setName)?.elements ?? []) {
      const { key, nodePort, address, protocol, port } = capturedAt(rd, setName, el);
      const dest = protocol ? (nodePort ? `${protocol} *:${port}` : addressKey(protocol, address!, port)) : null;
      const commented = servicePortNameInComment(nftElementComment(el));
      const fromObjects = !commented && rd.names && protocol ? (nodePort ? rd.names.byNodePort.get(`${protocol} ${port}`) : rd.names.byAddress.get(addressKey(protocol, address!, port))) : undefined;
      const b = commented ? rd.named(commented) : ((dest ? rd.byDestination.get(dest) : undefined) ?? (fromObjects ? rd.named(fromObjects.name) : null));
      if (!b) continue;
      b.protocol ??= protocol;
      const drop = el.data?.kind === 'verdict' && el.data.verdict === 'drop';
      const known = b.entries.find((e) => e.address === address && e.port === port && e.kind !== 'external')?.kind;
      const kind: EntryKind = nodePort ? 'nodePort' : rd.clusterIPs.has(address!) ? 'clusterIP' : (known ?? addressKind(rd, protocol, address!, port, false));
      const why = drop ? 'no local endpoints (Local traffic policy)' : 'no endpoints';
      b.entries.push({ kind, protocol, address: nodePort ? rd.nodePortIP : address, port, outcome: { kind: 'verdict', verdict: drop ? 'DROP' : 'REJECT', why }, at: elementWhere(setName, key, el) });
      rd.claim(setName, el, b, key);
      if (kind === 'clusterIP') claimClusterIP(rd, b, address!);
    }
  }
}

/** firewall-ips: the load-balancer IPs whose sources are checked (the check itself is the firewall chain's note). */
function readFirewallElements(rd: Reader): void {
  for (const el of rd.set('firewall-ips')?.elements ?? []) {
    const target = nftElementTarget(el);
    const b = target ? rd.ofChain(target) : null;
    if (b) rd.claim('firewall-ips', el, b, keyParts(el, rd.family).join(' . '));
  }
}

/** endpoint- chains: their owner (the split sending to them, else their readable name, else the objects). */
function readEndpointChains(rd: Reader): void {
  for (const [name, ch] of rd.t.chains) {
    const sc = nftServiceChainOf(name);
    if (sc?.kind !== 'endpoint') continue;
    const piece = nftChainPiece(ch, rd.family, rd.stale.has(name));
    let b = rd.endpointOwners.get(name) ?? null;
    if (!b) {
      const readable = endpointOfReadable(sc.readable, rd.family);
      const port = readable ? portOfReadable(readable.port) : null;
      const n = port?.name ?? rd.names?.nftBases().get(sc.base)?.name ?? null;
      if (n) b = rd.named(n);
    }
    if (b) b.pieces.push(piece);
    else rd.orphans.push(piece);
    // Affinity sets belong to their endpoint's port.
    for (const r of ch.rules) {
      for (const s of r.stmts) {
        if (s.kind !== 'setUpdate' || !b) continue;
        setPiece(rd, s.set, b.pieces);
        rd.ownedSets.add(s.set);
      }
    }
  }
}

/** An affinity set as a piece: its timeout and flags, and the clients it holds (nft's own `size 65535` on a dynamic set left out). */
function setPiece(rd: Reader, name: string, into: Piece[]): void {
  const s = rd.set(name);
  if (!s || into.some((p) => p.id === `@${name}`)) return;
  const seconds = affinitySeconds(s);
  const flags = s.properties.flatMap((p) => (p.kind === 'flags' ? p.flags : [])).sort();
  const lines = () => [`flags ${flags.join(',')}${seconds !== null ? `; timeout ${seconds}s` : ''}`, ...s.elements.map((el) => nftExprText(el.key, rd.family)).sort()];
  into.push({ id: `@${name}`, kind: 'set element', lines, at: { source: 'nftables', span: null, what: `set ${name}` } });
}

/** The table's other chains and the sets' unclaimed elements: the node's own pieces. */
function readOther(rd: Reader): void {
  for (const [name, ch] of rd.t.chains) if (!nftServiceChainOf(name)) rd.other.push(nftChainPiece(ch, rd.family));
  for (const [name, s] of rd.t.sets) {
    if (name.startsWith('affinity-')) {
      if (!rd.ownedSets.has(name)) setPiece(rd, name, rd.orphans);
      continue;
    }
    const mine = rd.claimed.get(name);
    const rest = s.elements.filter((el) => !mine?.has(el)).map((el) => `${nftExprText(el.key, rd.family)}${el.data ? ` : ${nftExprText(el.data, rd.family)}` : ''}`).sort();
    rd.other.push({ id: `@${name}`, kind: 'set element', lines: () => rest, at: { source: 'nftables', span: null, what: `set ${name}` } });
  }
}

/** Ports known by name only (no-endpoint elements) join the port of that name read from chains; keys and names. */
function finish(rd: Reader): ServicePortView[] {
  const out: ServicePortView[] = [];
  const named = new Map(rd.byName);
  for (const b of rd.byBase.values()) {
    const same = b.name ? named.get(b.name) : undefined;
    if (same) {
      named.delete(b.name!);
      b.entries.push(...same.entries);
      b.notes.push(...same.notes);
      b.pieces.push(...same.pieces);
      b.protocol ??= same.protocol;
    }
    out.push(view(b));
  }
  for (const b of named.values()) {
    if (rd.names && b.name && !b.protocol) b.protocol = rd.names.ports.get(b.name)?.protocol ?? null;
    out.push(view(b));
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/** Map elements have no order (nft lists them sorted, a transaction adds them as it goes): entries by kind, address and port; pieces by id. */
const KIND_ORDER: readonly EntryKind[] = ['clusterIP', 'externalIP', 'loadBalancerIP', 'external', 'nodePort', 'healthCheckNodePort'];

function view(b: Builder): ServicePortView {
  const rank = (e: EntryPoint) => `${KIND_ORDER.indexOf(e.kind)} ${e.address ?? ''} ${String(e.port ?? '').padStart(5, '0')} ${e.outcome.kind}`;
  b.entries.sort((x, y) => (rank(x) < rank(y) ? -1 : rank(x) > rank(y) ? 1 : 0));
  b.pieces.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const first = b.entries[0];
  const key = b.name ?? (b.base ? `nft:${b.base}` : first ? `dest:${first.protocol ?? ''} ${first.address ?? '*'}:${first.port ?? '*'}` : 'unknown');
  return portView(b, key, b.hash);
}

