// An iptables-mode node's Services, read back from its netfilter tables the way syncProxyRules
// wrote them (pkg/proxy/iptables/proxier.go): the entry rules of nat KUBE-SERVICES and
// KUBE-NODEPORTS jump into a service port's KUBE-SVC / KUBE-SVL (endpoint splits), KUBE-EXT
// (external traffic) and KUBE-FW (source ranges) chains, which share the port's hash; the splits
// jump to one KUBE-SEP chain per endpoint (DNAT). A port without endpoints has only filter rules
// (KUBE-SERVICES / KUBE-EXTERNAL-SERVICES: REJECT, or DROP for a Local policy without local
// endpoints). Names come from the rules' comments, else from the objects (names.ts), else stay
// unknown; a port's rules are tied together by the hash in their chain names, so a dump without
// comments still reads as whole service ports.
import type { Family, Rule, TargetName } from '../iptables/ir.js';
import { ruleAt, ruleCount, ruleMatchOption, ruleSpan, ruleTargets, type KernelChain, type KernelState } from '../iptables/state.js';
import type { Node } from '../node/node.js';
import { addressKey, type NameBook } from './names.js';
import { chainPiece } from './pieces.js';
import { formatIp } from '../net/index.js';
import { commentAt, firstDnat, jumpTarget, option, recentCheckAt, recentSecondsAt, serviceChainOf, servicePortNameInComment, statisticStoredAt, unconditional, type ServiceChainKind } from './rule-facts.js';
import { unreachedChains } from './reach.js';
import { ruleSentence } from './sentences.js';
import { splitShares } from './shares.js';
import { captureOutcome, externalChainRead, newDraft, portView, type CaptureRole, type EndpointShare, type EntryKind, type EntryOutcome, type NodeServices, type Piece, type PortDraft, type Protocol, type ServicePortView, type Split, type Where } from './view.js';

/** The chains whose rules are entry points of many service ports (the rest of their rules are the node's own). */
const ENTRY_CHAINS: Readonly<Record<string, readonly string[]>> = {
  nat: ['KUBE-SERVICES', 'KUBE-NODEPORTS'],
  filter: ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL'],
};

interface Builder extends PortDraft {
  hash: string | null;
}

function newBuilder(hash: string | null, name: string | null): Builder {
  return { ...newDraft(name, name ? 'comment' : null), hash };
}

function ruleWhere(table: string, chain: string, ch: KernelChain, index: number): Where {
  return { source: 'iptables', span: ruleSpan(ch, index), what: `${table} ${chain} #${index + 1}` };
}

// What explain reads of a rule, from the chain index without building the rule (ruleMatchOption):
// a 10k-service dump has 110k KUBE-SVC and 30k entry rules.
function protocolAt(ch: KernelChain, j: number): Protocol | null {
  const v = ruleMatchOption(ch, j, null, 'protocol')?.value;
  const name = v?.type === 'protocol' ? v.name.toUpperCase() : null;
  return name === 'TCP' || name === 'UDP' || name === 'SCTP' ? name : null;
}

function destinationAt(ch: KernelChain, j: number): string | null {
  const v = ruleMatchOption(ch, j, null, 'destination')?.value;
  return v?.type === 'address' ? formatIp(v.address, v.family) : null;
}

function dportAt(ch: KernelChain, j: number): number | null {
  for (const m of ['tcp', 'udp', 'sctp']) {
    const v = ruleMatchOption(ch, j, m, 'dport')?.value;
    if (v?.type === 'ports' && v.ranges.length === 1 && v.ranges[0][0] === v.ranges[0][1]) return v.ranges[0][0];
  }
  return null;
}

/** The chain a rule jumps or goes to, from its target as the index read it. */
function chainOf(t: TargetName | undefined): string | null {
  return t?.kind === 'chain' ? t.name : null;
}

/** The entry kind kube-proxy's comment names (`ns/name:port cluster IP`, `external IP`, `loadbalancer IP`). */
function kindInComment(comment: string | null): EntryKind | null {
  if (!comment) return null;
  if (comment.endsWith(' cluster IP')) return 'clusterIP';
  if (comment.endsWith(' external IP')) return 'externalIP';
  if (comment.endsWith(' loadbalancer IP')) return 'loadBalancerIP';
  return null;
}

class Reader {
  readonly byHash = new Map<string, Builder>();
  readonly byName = new Map<string, Builder>();
  readonly hashedByName = new Map<string, Builder>();
  /** `TCP 10.96.0.10:53` / `TCP *:30080` -> the port captured there (for filter rules without a comment). */
  readonly byDestination = new Map<string, Builder>();
  /** KUBE-SEP chain -> the ports whose splits jump to it. */
  readonly sepOwners = new Map<string, Builder>();
  readonly other: Piece[] = [];
  readonly orphans: Piece[] = [];
  /** Entry-chain rules that belong to a service port, by their number in the chain (left out of the chain's own piece). */
  readonly claimed = new Map<KernelChain, Set<number>>();
  /** Per-service nat chains no packet can reach: nothing jumps to them, or only other stale chains do. */
  readonly stale: ReadonlySet<string>;

  /** nat's chains, and its per-service chains by kind: read once (a 10k-service node has 120k). */
  readonly nat: ReadonlyMap<string, KernelChain>;
  readonly serviceChains: { readonly name: string; readonly ch: KernelChain; readonly kind: ServiceChainKind; readonly hash: string }[] = [];
  readonly endpointChains: { readonly name: string; readonly ch: KernelChain }[] = [];

  constructor(
    readonly state: KernelState,
    readonly names: NameBook | null,
  ) {
    this.nat = this.chains('nat');
    for (const [name, ch] of this.nat) {
      const sc = serviceChainOf(name);
      if (sc?.kind === 'SEP') this.endpointChains.push({ name, ch });
      else if (sc) this.serviceChains.push({ name, ch, kind: sc.kind, hash: sc.hash });
    }
    this.stale = staleServiceChains(this.nat);
  }

  hashed(hash: string): Builder {
    let b = this.byHash.get(hash);
    if (!b) this.byHash.set(hash, (b = newBuilder(hash, null)));
    return b;
  }

  /** The port of that name: a hashed one already named by a comment, else one known by name alone (so far). */
  named(name: string): Builder {
    const hashed = this.hashedByName.get(name);
    if (hashed) return hashed;
    let b = this.byName.get(name);
    if (!b) this.byName.set(name, (b = newBuilder(null, name)));
    return b;
  }

  /** Rule j of the chain belongs to a service port. */
  claim(ch: KernelChain, j: number): void {
    let s = this.claimed.get(ch);
    if (!s) this.claimed.set(ch, (s = new Set()));
    s.add(j);
  }

  nameFromComment(b: Builder, comment: string | null): void {
    if (b.name) return;
    const n = servicePortNameInComment(comment);
    if (n) {
      b.name = n;
      b.nameFrom = 'comment';
      if (b.hash) this.hashedByName.set(n, b);
    }
  }

  chains(table: string): ReadonlyMap<string, KernelChain> {
    return this.state.tables.get(table) ?? new Map();
  }
}

/**
 * Per-service chains no packet reaches: those nothing jumps to, and those only such chains jump
 * to (a stale KUBE-SVC's endpoint chains). Counted in declaration order, then followed from the
 * few unreferenced ones (a walk from the built-in chains costs several times more at 100k chains).
 */
function staleServiceChains(nat: ReadonlyMap<string, KernelChain>): Set<string> {
  const refs = new Map<string, number>();
  for (const ch of nat.values()) {
    for (const t of ruleTargets(ch)) if (t?.kind === 'chain') refs.set(t.name, (refs.get(t.name) ?? 0) + 1);
  }
  return unreachedChains(nat.keys(), refs, (name) => serviceChainOf(name) !== null, function* (name) {
    const ch = nat.get(name);
    for (const t of ch ? ruleTargets(ch) : []) if (t?.kind === 'chain') yield t.name;
  });
}

/** The service ports of an iptables-mode node (one family), read from its tables. */
export function iptablesServices(node: Node, family: Family, names: NameBook | null): NodeServices {
  const state = node.netfilter.get(family);
  const rd = new Reader(state ?? { family, tables: new Map() }, names);
  readServiceChains(rd, family);
  readNatEntries(rd);
  readFilterEntries(rd);
  readEndpointChains(rd, family);
  readOtherChains(rd, family);
  return { mode: 'iptables', ports: finish(rd), other: rd.other, orphans: rd.orphans };
}

/** KUBE-SVC / SVL / EXT / FW: splits, affinity, the external chain's per-source decisions, source ranges. */
function readServiceChains(rd: Reader, family: Family): void {
  for (const sc of rd.serviceChains) {
    const { name, ch } = sc;
    const b = rd.hashed(sc.hash);
    b.pieces.push(chainPiece('nat', name, ch, null, family, rd.stale.has(name)));
    // The first comment with a name and the first protocol (later ones change neither).
    for (let j = 0, n = ruleCount(ch); j < n && (!b.name || !b.protocol); j++) {
      rd.nameFromComment(b, commentAt(ch, j));
      b.protocol ??= protocolAt(ch, j);
    }
    switch (sc.kind) {
      case 'SVC':
      case 'SVL':
        b.splits.push(readSplit(rd, b, name, ch, sc.kind === 'SVC' ? 'Cluster' : 'Local'));
        break;
      case 'EXT': {
        // The external policy's chain is the last, unconditional jump (kube-proxy writes it only
        // when that policy has endpoints); without it, only the short-circuits for pods and the
        // node remain: a Local policy with no endpoint here, whose external traffic the filter
        // table drops.
        const last = ch.rules.at(-1);
        const policy = last && unconditional(last) ? serviceChainOf(jumpTarget(last) ?? '')?.kind : undefined;
        const rest = ch.rules.filter((r) => r !== last || policy === undefined).map(ruleSentence);
        externalChainRead(b, policy === 'SVC' ? 'Cluster' : policy === 'SVL' ? 'Local' : undefined, ch.rules.length, rest);
        break;
      }
      case 'XLB': {
        b.externalPolicy = 'Local';
        const split = readSplit(rd, b, name, ch, 'Local', 'external');
        b.splits.push(split);
        if (split.endpoints.length) b.notes.push("external: other external traffic goes to this node's endpoints only, keeping the client's address (externalTrafficPolicy: Local)");
        break;
      }
      case 'FW':
        b.notes.push(firewallNote(b, name, ch));
        break;
    }
  }
}

/**
 * KUBE-FW: `-s RANGE` rules pass the load balancer's allowed sources on; kube-proxy since 1.25
 * leaves the rest to filter KUBE-PROXY-FIREWALL, older ones marked it with KUBE-MARK-DROP (kubelet's
 * KUBE-FIREWALL drops it) and wrote the chain for every load-balancer IP, sources or not.
 */
function firewallNote(b: Builder, name: string, ch: KernelChain): string {
  let everyone = false;
  let markDrop = false;
  for (const r of ch.rules) {
    const target = jumpTarget(r);
    if (target === 'KUBE-MARK-DROP') markDrop = true;
    else if (target && serviceChainOf(target)) {
      const src = option(r, null, 'source');
      if (src && src.negation === 'none') b.sourceRanges.push(src.values[0]?.text ?? '?');
      else if (!src) everyone = true;
    }
  }
  if (everyone) return `load balancer: every source passes ${name} (no loadBalancerSourceRanges)`;
  const rest = markDrop ? "is marked to be dropped (KUBE-MARK-DROP; kubelet's KUBE-FIREWALL drops it)" : 'is dropped by filter KUBE-PROXY-FIREWALL';
  return `load balancer: only sources in ${b.sourceRanges.join(', ') || '(none)'} pass ${name}; other traffic ${rest}`;
}

/** A split's endpoint rules; its other rules become notes (`prefix`: whose they are, for KUBE-XLB's short-circuits `external`). */
function readSplit(rd: Reader, b: Builder, chain: string, ch: KernelChain, policy: 'Cluster' | 'Local', prefix?: 'external'): Split {
  const jumps: { index: number; sep: string }[] = [];
  ruleTargets(ch).forEach((t, index) => {
    const target = chainOf(t);
    if (recentCheckAt(ch, index)) {
      b.affinitySeconds = recentSecondsAt(ch, index);
      return;
    }
    if (target && serviceChainOf(target)?.kind === 'SEP') jumps.push({ index, sep: target });
    else if (prefix) b.notes.push(`${prefix}: ${ruleSentence(ruleAt(ch, index))}`);
    else if (target === 'KUBE-MARK-MASQ') b.notes.push(`before the ${policy} split: ${ruleSentence(ruleAt(ch, index))}`);
  });
  const { shares, fallThrough } = splitShares(jumps.map((j) => statisticStoredAt(ch, j.index)));
  const endpoints: EndpointShare[] = jumps.map((j, k) => {
    rd.sepOwners.set(j.sep, b);
    const sep = rd.nat.get(j.sep);
    const dnat = (sep ? firstDnat(sep) : null) ?? endpointInComment(commentAt(ch, j.index));
    return { address: dnat?.address ?? '?', port: dnat?.port ?? null, share: shares[k], via: j.sep, at: ruleWhere('nat', chain, ch, j.index) };
  });
  return { policy, via: chain, endpoints, fallThrough: fallThrough.num === 0n ? null : fallThrough, scheduler: null, at: { source: 'iptables', span: ch.span, what: `nat ${chain}` } };
}

/** `ns/name:port -> 10.244.1.5:8080`: the endpoint a split rule's comment names. */
function endpointInComment(comment: string | null): { address: string; port: number | null } | null {
  const m = comment ? / -> (\[([^\]]+)\]|[^:]+):(\d+)$/.exec(comment) : null;
  return m ? { address: m[2] ?? m[1], port: Number(m[3]) } : null;
}

/** Per-service chains captures jump to, and what they do (KUBE-XLB: kube-proxy before 1.24's external chain). */
const CAPTURE_ROLE: Readonly<Partial<Record<string, CaptureRole>>> = { SVC: 'Cluster', SVL: 'Local', EXT: 'chain', XLB: 'chain', FW: 'chain' };

function entryOutcome(target: string): EntryOutcome | null {
  const kind = serviceChainOf(target)?.kind;
  return kind ? captureOutcome(target, CAPTURE_ROLE[kind]) : null;
}

/** nat KUBE-SERVICES and KUBE-NODEPORTS: each capture's jump into a port's chains. */
function readNatEntries(rd: Reader): void {
  for (const chainName of ENTRY_CHAINS.nat) {
    const ch = rd.nat.get(chainName);
    if (!ch) continue;
    ruleTargets(ch).forEach((t, index) => {
      const target = chainOf(t);
      const sc = target ? serviceChainOf(target) : null;
      const outcome = target ? entryOutcome(target) : null;
      if (!sc || !outcome) return;
      rd.claim(ch, index);
      const b = rd.hashed(sc.hash);
      const comment = commentAt(ch, index);
      rd.nameFromComment(b, comment);
      const protocol = protocolAt(ch, index);
      b.protocol ??= protocol;
      const address = destinationAt(ch, index);
      const port = dportAt(ch, index);
      let kind: EntryKind;
      if (chainName === 'KUBE-NODEPORTS') kind = 'nodePort';
      else if (sc.kind === 'FW') kind = 'loadBalancerIP'; // only load-balancer IPs have a KUBE-FW chain
      else kind = kindInComment(comment) ?? (rd.names && address && protocol ? rd.names.byAddress.get(addressKey(protocol, address, port))?.kind : undefined) ?? (sc.kind === 'SVC' || sc.kind === 'SVL' ? 'clusterIP' : 'external');
      const localhost = kind === 'nodePort' && address !== null && address.startsWith('127.');
      b.entries.push({ kind, protocol, address: kind === 'nodePort' ? null : address, port, ...(localhost ? { localhost } : {}), outcome, at: ruleWhere('nat', chainName, ch, index) });
      if (kind === 'clusterIP' && outcome.kind === 'endpoints') b.internalPolicy = outcome.policy;
      if (protocol) rd.byDestination.set(kind === 'nodePort' ? `${protocol} *:${port}` : addressKey(protocol, address ?? '*', port), b);
    });
  }
}

/** filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES (no endpoints), KUBE-NODEPORTS (health checks), KUBE-PROXY-FIREWALL. */
function readFilterEntries(rd: Reader): void {
  for (const chainName of ENTRY_CHAINS.filter) {
    const ch = rd.chains('filter').get(chainName);
    if (!ch) continue;
    ruleTargets(ch).forEach((t, index) => {
      const verdict = t?.name ?? null;
      const protocol = protocolAt(ch, index);
      const address = destinationAt(ch, index);
      const port = dportAt(ch, index);
      const comment = commentAt(ch, index);
      const local = ruleMatchOption(ch, index, 'addrtype', 'dst-type')?.value?.text === 'LOCAL';
      const owner = (): Builder | null => {
        const n = servicePortNameInComment(comment);
        if (n) return rd.named(n);
        const key = protocol ? (local ? `${protocol} *:${port}` : addressKey(protocol, address ?? '*', port)) : null;
        const known = key ? rd.byDestination.get(key) : undefined;
        if (known) return known;
        const fromObjects = rd.names && protocol && !local && address ? rd.names.byAddress.get(addressKey(protocol, address, port)) : rd.names && protocol && local ? rd.names.byNodePort.get(`${protocol} ${port}`) : undefined;
        return fromObjects ? rd.named(fromObjects.name) : null;
      };
      const at = ruleWhere('filter', chainName, ch, index);
      if (chainName === 'KUBE-NODEPORTS') {
        if (verdict !== 'ACCEPT' || port === null) return;
        const b = owner();
        if (!b) return;
        rd.claim(ch, index);
        b.entries.push({ kind: 'healthCheckNodePort', protocol: 'TCP', address: null, port, outcome: { kind: 'accept', why: "kube-proxy's health-check server answers the load balancer" }, at });
        return;
      }
      if (verdict !== 'REJECT' && verdict !== 'DROP') return;
      const b = owner();
      if (!b) return;
      rd.claim(ch, index);
      b.protocol ??= protocol;
      if (chainName === 'KUBE-PROXY-FIREWALL') {
        b.notes.push(`load balancer: traffic to ${address ?? '?'}${port !== null ? `:${port}` : ''} that its KUBE-FW chain did not accept is dropped here`);
        return;
      }
      const why = comment?.endsWith(' has no local endpoints') ? 'no local endpoints (Local traffic policy)' : comment?.endsWith(' has no endpoints') ? 'no endpoints' : verdict === 'REJECT' ? 'no endpoints' : 'no local endpoints';
      // The same address captured in nat says which kind it is; else the objects; else only "external".
      const known = b.entries.find((e) => e.address === address && e.port === port && e.kind !== 'external')?.kind;
      const kind: EntryKind = local ? 'nodePort' : chainName === 'KUBE-SERVICES' ? 'clusterIP' : (known ?? (rd.names && protocol && address ? rd.names.byAddress.get(addressKey(protocol, address, port))?.kind : undefined) ?? 'external');
      b.entries.push({ kind, protocol, address: local ? null : address, port, outcome: { kind: 'verdict', verdict, why }, at });
    });
  }
}

/** KUBE-SEP chains: their owner (the split jumping to them, else their comment, else the objects' hashes). */
function readEndpointChains(rd: Reader, family: Family): void {
  for (const { name, ch } of rd.endpointChains) {
    const piece = chainPiece('nat', name, ch, null, family, rd.stale.has(name));
    let b = rd.sepOwners.get(name) ?? null;
    if (!b) {
      const n = firstNameInComments(ch) ?? rd.names?.byEndpointChain.get(name)?.name ?? null;
      if (n) b = rd.named(n);
    }
    if (b) b.pieces.push(piece);
    else rd.orphans.push(piece);
  }
}

function firstNameInComments(ch: KernelChain): string | null {
  for (let j = 0, n = ruleCount(ch); j < n; j++) {
    const name = servicePortNameInComment(commentAt(ch, j));
    if (name !== null) return name;
  }
  return null;
}

/** Every other chain, with the entry chains' unclaimed rules: the node's own pieces. */
function readOtherChains(rd: Reader, family: Family): void {
  for (const [table, chains] of rd.state.tables) {
    for (const [name, ch] of chains) {
      if (table === 'nat' && serviceChainOf(name)) continue;
      const claimed = rd.claimed.get(ch);
      let rules: Rule[] | null = null;
      if (claimed) {
        rules = [];
        for (let j = 0, n = ruleCount(ch); j < n; j++) if (!claimed.has(j)) rules.push(ruleAt(ch, j));
      }
      rd.other.push(chainPiece(table, name, ch, rules, family));
    }
  }
}

/** Ports known by name only (filter rules) join the hashed port of that name; names from the objects fill the gaps. */
function finish(rd: Reader): ServicePortView[] {
  const out: ServicePortView[] = [];
  const named = new Map(rd.byName);
  for (const b of rd.byHash.values()) {
    if (!b.name && rd.names && b.hash) {
      const n = rd.names.byHash.get(b.hash);
      if (n) {
        b.name = n.name;
        b.nameFrom = 'objects';
        b.protocol ??= n.protocol;
      }
    }
    const same = b.name ? named.get(b.name) : undefined;
    if (same) {
      named.delete(b.name!);
      merge(b, same);
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

function merge(into: Builder, from: Builder): void {
  into.entries.push(...from.entries);
  into.splits.push(...from.splits);
  into.notes.push(...from.notes);
  into.pieces.push(...from.pieces);
  into.sourceRanges.push(...from.sourceRanges);
  into.protocol ??= from.protocol;
}

function view(b: Builder): ServicePortView {
  const first = b.entries[0];
  const key = b.name ?? (b.hash ? `hash:${b.hash}` : first ? `dest:${first.protocol ?? ''} ${first.address ?? '*'}:${first.port ?? '*'}` : 'unknown');
  return portView(b, key, b.hash);
}
