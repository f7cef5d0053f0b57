// Behavioural diff: for every destination either node names (classes.ts), compare the two nodes'
// parts for it (slice.ts); where they differ, trace one packet of every source class on both
// nodes with the simulator and report each class whose outcome distribution differs: the
// example packet and both distributions with exact probabilities. Outcomes are compared by what
// is observable: verdict, delivery, the packet's addresses and ports after NAT, masquerading;
// not by the rules on the way, so equal rulesets spelled or ordered differently never differ.
import type { Family } from '../iptables/ir.js';
import { ruleCount, ruleMatchOptions } from '../iptables/state.js';
import { formatIp, type Ip } from '../net/index.js';
import type { Node } from '../node/node.js';
import { add, equal, ZERO, type Prob } from '../packetsim/fraction.js';
import { prepareNode, type SimNode } from '../packetsim/prepare.js';
import { TooManyPaths, TraceInputError, tracePacket, type Outcome, type PacketSpec } from '../packetsim/trace.js';
import type { HookExtension } from '../packetsim/types.js';
import type { NodeServices } from '../explain/view.js';
import { serviceChainOf } from '../explain/rule-facts.js';
import { destinations, pickSource, sourceClasses, type ClassInputs, type SourceClass } from './classes.js';
import { classify, type DestinationEntry, type KnownDifference } from './known.js';
import { destinationKey, emptyConstants, Interner, PROTO_NUMBERS, SameChains, sameParts, Slicer, type Destination, type Keep, type SourceConstants } from './slice.js';

export interface DiffSide {
  /** `LEFT`'s name as the user gave it. */
  readonly label: string;
  readonly node: Node;
  readonly view: NodeServices;
  readonly mode: string;
  readonly extensions: readonly HookExtension[];
  /** Differences this side's mode has from iptables mode, kube-proxy's reference (modes.ts rows). */
  readonly known: readonly KnownDifference[];
}

/** One observable outcome and its exact probability. */
export interface OutcomeShare {
  readonly verdict: Outcome['verdict'];
  readonly delivery: Outcome['delivery'];
  /** `10.244.1.5:8080` after NAT. */
  readonly destination: string;
  readonly source: string;
  readonly masquerade: boolean;
  readonly probability: Prob;
}

export interface ClassDifference {
  readonly destination: Destination;
  /** `tcp 10.96.0.10:53` */
  readonly destinationText: string;
  /** What the destination is on either node: `cluster IP 10.96.0.10:53/TCP of kube-system/kube-dns:dns`. */
  readonly destinationLabel: string;
  readonly source: SourceClass;
  /** The packet traced on the left; the right one differs only in the source the node picked for its own packet. */
  readonly packet: PacketSpec;
  readonly rightPacket: PacketSpec;
  readonly left: readonly OutcomeShare[];
  readonly right: readonly OutcomeShare[];
  /** The service entry points the destination is, on either side. */
  readonly entries: readonly DestinationEntry[];
  /** The destination's address is a service address (of another port or protocol when `entries` is empty). */
  readonly serviceAddress: boolean;
  /** The documented mode differences that explain it, when the two sides are of different modes (empty: not documented). */
  readonly known: readonly KnownDifference[];
}

export interface BehaviourReport {
  readonly destinations: number;
  /** Destinations whose parts differ (the others behave alike by construction). */
  readonly differingParts: number;
  readonly classes: number;
  readonly traced: number;
  readonly differences: readonly ClassDifference[];
  /** Classes whose outcome on either side rests on something the simulator does not model (neither equal nor different). */
  readonly undecided: readonly ClassDifference[];
  /** Destinations that could not be traced (too many paths, ...). */
  readonly problems: readonly string[];
}

const SOURCE_PORT = 40000;

/**
 * What is compared: the verdict, and for a packet that goes on, its delivery and addresses after
 * NAT (masquerading shows in the source); not the rules on the way. A dropped or rejected packet
 * is that alone, whichever source the node picked for its own.
 */
export function outcomeKey(o: OutcomeShare): string {
  if (o.verdict === 'DROP' || o.verdict === 'REJECT') return o.verdict;
  return `${o.verdict} ${o.delivery ?? '-'} ${o.source} -> ${o.destination}`;
}

/** The trace's outcomes as observable shares, merged where they look alike, in a stable order. */
function shares(outcomes: readonly Outcome[], family: Family): OutcomeShare[] {
  const m = new Map<string, OutcomeShare>();
  for (const o of outcomes) {
    const hp = (a: Ip, p: number) => (family === 'ipv6' ? `[${formatIp(a, family)}]:${p}` : `${formatIp(a, family)}:${p}`);
    const s: OutcomeShare = { verdict: o.verdict, delivery: o.delivery, destination: hp(o.packet.dst, o.packet.dport), source: hp(o.packet.src, o.packet.sport), masquerade: o.masquerade || o.snat, probability: o.prob };
    const k = outcomeKey(s);
    const prev = m.get(k);
    m.set(k, prev ? { ...prev, probability: add(prev.probability, s.probability) } : s);
  }
  return [...m.values()].sort((a, b) => (outcomeKey(a) < outcomeKey(b) ? -1 : 1));
}

/** Distributions over outcome keys, exactly equal. */
export function sameDistribution(a: readonly OutcomeShare[], b: readonly OutcomeShare[]): boolean {
  const sum = (l: readonly OutcomeShare[]) => {
    const m = new Map<string, Prob>();
    for (const o of l) m.set(outcomeKey(o), add(m.get(outcomeKey(o)) ?? ZERO, o.probability));
    return m;
  };
  const x = sum(a);
  const y = sum(b);
  if (x.size !== y.size) return false;
  for (const [k, p] of x) {
    const q = y.get(k);
    if (!q || !equal(p, q)) return false;
  }
  return true;
}

/** Destinations rules name outside the per-service chains (another component's DNAT, say): host and single port. */
/** The options ruleDestinations reads: `-d`, `-p` and any module's `--dport`. */
function destinationOption(module: string | null, name: string): boolean {
  return name === 'dport' || (module === null && (name === 'destination' || name === 'protocol'));
}

/** Exported for its test: the destinations the node's rules (outside per-service chains) name with one address, protocol and port. */
export function ruleDestinations(node: Node, family: Family): Destination[] {
  const out: Destination[] = [];
  for (const [, chains] of node.netfilter.get(family)?.tables ?? []) {
    for (const [name, ch] of chains) {
      if (serviceChainOf(name)) continue;
      for (let j = 0, n = ruleCount(ch); j < n; j++) {
        let addr: Ip | null = null;
        let port: number | null = null;
        let proto: Destination['protocol'] | null = null;
        // Read from the chain index without building the rule (the entry chains hold 30k rules at 10k services).
        for (const a of ruleMatchOptions(ch, j, destinationOption)) {
          if (a.negation !== 'none') continue;
          const v = a.values[0];
          if (a.module === null && a.name === 'destination' && v?.type === 'address' && v.prefix === (family === 'ipv4' ? 32 : 128)) addr = v.address;
          if (a.module === null && a.name === 'protocol' && v?.type === 'protocol' && (v.name === 'tcp' || v.name === 'udp' || v.name === 'sctp')) proto = v.name;
          if (a.name === 'dport' && v?.type === 'ports' && v.ranges.length === 1 && v.ranges[0][0] === v.ranges[0][1]) port = v.ranges[0][0];
        }
        if (addr === null || port === null || proto === null) continue;
        out.push({ protocol: proto, proto: PROTO_NUMBERS[proto], address: addr, port });
      }
    }
  }
  return out;
}

/** What a destination is on either node: the entry points it is, whether its address is a service's, and a label. */
function describer(left: NodeServices, right: NodeServices, family: Family, isLocal: (a: Ip) => boolean): (d: Destination) => { entries: DestinationEntry[]; serviceAddress: boolean; label: string } {
  const exact = new Map<string, DestinationEntry[]>();
  const nodePorts = new Map<string, DestinationEntry[]>();
  const addresses = new Set<string>();
  for (const [side, v] of [['left', left], ['right', right]] as const) {
    for (const p of v.ports) {
      for (const e of p.entries) {
        if (e.port === null || !e.protocol) continue;
        const entry: DestinationEntry = { side, kind: e.kind, localhost: e.localhost ?? false, port: p };
        if (e.kind === 'nodePort' || e.kind === 'healthCheckNodePort') push(nodePorts, `${e.protocol.toLowerCase()} ${e.port}`, entry);
        else if (e.address !== null) {
          push(exact, `${e.protocol.toLowerCase()} ${e.address} ${e.port}`, entry);
          addresses.add(e.address);
        }
      }
    }
  }
  return (d) => {
    const addr = formatIp(d.address, family);
    const here = exact.get(`${d.protocol} ${addr} ${d.port}`) ?? [];
    const np = isLocal(d.address) ? (nodePorts.get(`${d.protocol} ${d.port}`) ?? []) : [];
    const entries = [...here, ...np];
    const names = [...new Set(entries.map((e) => `${e.kind === 'nodePort' ? `NodePort ${d.port}` : e.kind === 'healthCheckNodePort' ? `health-check NodePort ${d.port}` : e.kind} of ${e.port.name ?? e.port.key}`))];
    const serviceAddress = addresses.has(addr);
    const label = names.length ? names.join('; ') : serviceAddress ? `another port or protocol of service address ${addr}` : 'no service';
    return { entries, serviceAddress, label };
  };
}

function push<V>(m: Map<string, V[]>, k: string, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export interface BehaviourOptions {
  /** Trace every destination, even where both parts are equal (a check of the slicing itself). */
  readonly traceAll?: boolean;
  /** Which chains both nodes wrote alike, when the structural diff has asked already. */
  readonly same?: SameChains;
}

export function behaviouralDiff(left: DiffSide, right: DiffSide, family: Family, opts: BehaviourOptions = {}): BehaviourReport {
  const interner = new Interner();
  const same = opts.same ?? new SameChains(left.node, right.node, family);
  const ls = new Slicer(left.node, family, interner, same);
  const rs = new Slicer(right.node, family, interner, same);
  const inputs: ClassInputs = {
    left: left.node,
    right: right.node,
    family,
    isLocal: (a) => ls.env.isLocal(a) && rs.env.isLocal(a),
    isLocalEither: (a) => ls.env.isLocal(a) || rs.env.isLocal(a),
    markBitsSet: ls.markBitsSet | rs.markBitsSet,
  };
  const named = [ls.nft?.namedDestinations(), rs.nft?.namedDestinations()];
  const extra = [...ruleDestinations(left.node, family), ...ruleDestinations(right.node, family), ...named.flatMap((n) => n?.hosts ?? [])];
  const dests = destinations([left.view, right.view], extra, inputs, named.flatMap((n) => n?.networks ?? []));
  const describe = describer(left.view, right.view, family, (a) => ls.env.isLocal(a) || rs.env.isLocal(a));
  const problems: string[] = [];
  const differences: ClassDifference[] = [];
  const undecided: ClassDifference[] = [];
  let classes = 0;
  let traced = 0;
  // Pass 1: the destinations whose parts differ, with their source constants and the rules their traces can meet.
  const differingDests: { d: Destination; constants: SourceConstants[] }[] = [];
  const lk: Keep = new Map();
  const rk: Keep = new Map();
  for (const d of dests) {
    if (!opts.traceAll && sameParts(ls.slice(d), rs.slice(d))) continue;
    const lc = emptyConstants();
    const rc = emptyConstants();
    ls.slice(d, lc, lk);
    rs.slice(d, rc, rk);
    differingDests.push({ d, constants: [lc, rc] });
  }
  // Pass 2: trace them through each node cut down to those rules (the rest cannot match these packets).
  let a: SimNode | null = null;
  let b: SimNode | null = null;
  if (differingDests.length) {
    const pa = prepareNode(ls.cutDown(lk), family, { extensions: left.extensions });
    const pb = prepareNode(rs.cutDown(rk), family, { extensions: right.extensions });
    for (const p of [...pa.problems, ...pb.problems]) problems.push(p.message);
    a = pa.sim;
    b = pb.sim;
  }
  for (const { d, constants } of differingDests) {
    for (const sc of sourceClasses(d, constants, inputs)) {
      classes++;
      const packetFrom = (env: Slicer['env']): PacketSpec | null => {
        const src = sc.address ?? pickSource(env, d.address, family);
        if (src === null) return null;
        return { protocol: d.protocol, sourceIP: formatIp(src, family), sourcePort: SOURCE_PORT, destIP: formatIp(d.address, family), destPort: d.port, inInterface: sc.inInterface, mark: sc.mark };
      };
      const packet = packetFrom(ls.env);
      const rightPacket = packetFrom(rs.env);
      if (!packet || !rightPacket) {
        problems.push(`${destinationKey(d, family)}: no route from the node`);
        continue;
      }
      let lo: OutcomeShare[];
      let ro: OutcomeShare[];
      try {
        lo = shares(tracePacket(a!.rs, a!.env, packet).outcomes, family);
        ro = shares(tracePacket(b!.rs, b!.env, rightPacket).outcomes, family);
        traced += 2;
      } catch (e) {
        if (e instanceof TooManyPaths || e instanceof TraceInputError) {
          problems.push(`${destinationKey(d, family)} from ${packet.sourceIP}: ${e.message}`);
          continue;
        }
        throw e;
      }
      if (sameDistribution(lo, ro)) continue;
      const info = describe(d);
      const diff: Omit<ClassDifference, 'known'> = { destination: d, destinationText: destinationKey(d, family), destinationLabel: info.label, entries: info.entries, serviceAddress: info.serviceAddress, source: sc, packet, rightPacket, left: lo, right: ro };
      if ([...lo, ...ro].some((o) => o.verdict === 'UNKNOWN')) undecided.push({ ...diff, known: [] });
      else differences.push({ ...diff, known: classify(diff, left, right, sameDistribution) });
    }
  }
  return { destinations: dests.length, differingParts: differingDests.length, classes, traced, differences, undecided, problems };
}
