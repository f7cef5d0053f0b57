// The judge's vocabulary, shared by its halves (judge.ts: independent probes; judge-sequence.ts:
// flows that share state, sent as sequences): the flows and rules it is given, one way a packet
// ends as both the kernel and kpsim can observe it, kpsim's outcomes seen that way, and a flow's
// judgement in kube-proxy's tracer shape.
import type { Family } from '../../src/iptables/ir.js';
import { familyOfText, formatHostPort, formatIp, parseAddress } from '../../src/net/index.js';
import { add, fractionText, toDecimal, ZERO, type Prob } from '../../src/packetsim/fraction.js';
import type { FlowSpec, Outcome } from '../../src/packetsim/trace.js';

/** A packet flow in kube-proxy's flow-test shape (other keys are ignored). */
export interface JudgeFlow {
  readonly name: string;
  readonly sourceIP: string;
  /** tcp, udp or sctp, any case. */
  readonly protocol: string;
  readonly destIP: string;
  readonly destPort: number;
  /** The first probe's source port; later probes use other ports. */
  readonly sourcePort?: number;
  /**
   * Seconds since the first packet, for flows that share state (ClientIP affinity): the judge
   * sends such a flow that long after the first flow of its sequence (judge-sequence.ts).
   */
  readonly at?: number;
  /**
   * The node interface the packet arrives on: `eth0` (the client side) or the pods side's name,
   * which the default topology then gives the node's pods-side interface (one name per judgement).
   */
  readonly inInterface?: string;
  /**
   * What the packets' headers and socket hold, where a rule looks at them (-m ttl/hl, tos/dscp,
   * length, owner, socket, cgroup): the probes are sent that way (flow-client.py) and kpsim is told.
   */
  readonly ttl?: number;
  readonly tos?: number;
  /** IP length of a UDP probe (its payload padded to it). */
  readonly length?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** The local socket that takes the packet (-m socket; a responder listens on any address: `wildcard`). */
  readonly socket?: string;
  readonly cgroup?: string;
  readonly classid?: number;
  /** Seconds since the epoch when the judgement's first flow is sent (-m time); `at` adds to it. */
  readonly now?: number;
}

/** The header facts that need the Python client (Node's sockets cannot set them). */
export const HEADER_FACTS = ['ttl', 'tos', 'length', 'uid', 'gid'] as const;

/** The IP length of a UDP probe of the TCP/UDP clients: their payload is `probe`. */
export const udpProbeLength = (family: Family, f: JudgeFlow) => f.length ?? (family === 'ipv6' ? 48 : 28) + 5;

/**
 * A node's rules: texts loaded in order into an empty kernel, each with iptables-restore --noflush
 * (as kube-proxy restores in iptables and IPVS modes) or, `format: 'nft'`, with `nft -f` (its
 * nftables mode).
 */
export interface JudgeRules {
  readonly family: Family;
  readonly format?: 'iptables' | 'nft';
  readonly texts: readonly { readonly label: string; readonly text: string }[];
  /** The node's own addresses (both families may be given); loopback is always local. */
  readonly nodeAddrs: readonly string[];
  /** `ipset save` text restored before the rules (for -m set). */
  readonly ipsets?: string | null;
}

/** One way a packet ends, as both sides can observe it. */
export interface Observed {
  /** `ACCEPT 10.180.0.1:80 from 169.254.2.1`, `DROP`, `REJECT`, `UNKNOWN`, `ERROR EHOSTUNREACH`. */
  readonly key: string;
  readonly verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'UNKNOWN' | 'ERROR';
  /** After DNAT (ACCEPT only). */
  readonly dest: string | null;
  /** Source address after SNAT/MASQUERADE (ACCEPT only). */
  readonly source: string | null;
  readonly dnat: boolean;
  readonly masquerade: boolean;
}

export interface ProbeRecord {
  readonly sourcePort: number;
  /** When the client sent the probe's first packet (epoch ms). */
  readonly sentAt: number;
  readonly observed: Observed;
  /** The responder's line or the client's error. */
  readonly client: string;
  /** The node's conntrack entry for the probe, when there is one. */
  readonly conntrack: string | null;
}

/** A flow's answer in kube-proxy's tracer shape, for a golden flows.yaml entry. */
export interface TracerAnswer {
  /** DNAT destinations, DROP, REJECT, sorted, `, `-joined (`""` for untouched). */
  readonly output: string;
  readonly masq: boolean;
}

export interface ChiSquare {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  readonly alpha: number;
}

export interface FlowJudgement {
  readonly flow: JudgeFlow;
  readonly verdict: 'agree' | 'disagree' | 'skipped';
  /** Why it disagrees or was skipped. */
  readonly why: readonly string[];
  readonly kpsim: TracerAnswer & { readonly outcomes: readonly { readonly key: string; readonly fraction: string; readonly probability: number }[] };
  readonly kernel: (TracerAnswer & { readonly outcomes: readonly { readonly key: string; readonly count: number }[]; readonly probes: readonly ProbeRecord[] }) | null;
  /** The goodness-of-fit check of a split, when it ran. */
  readonly chiSquare: ChiSquare | null;
  /** Set when the flow was judged as part of a sequence (judge-sequence.ts). */
  readonly sequence: SequenceRun | null;
}

/**
 * A flow that shares state with others (ClientIP affinity) is sent once per trial, in file order
 * with those others, each trial in a fresh node; the kernel's outcomes are then one per trial, and
 * each trial's whole run was judged on the joint odds kpsim gives it.
 */
export interface SequenceRun {
  /** The flows of the sequence, by name, in the order sent. */
  readonly flows: readonly string[];
  /** Per trial: when this flow was sent, in seconds after its sequence's first packet was (kpsim's clock for the trial). */
  readonly sentAt: readonly number[];
  /** Per trial: kpsim's probability of that trial's whole observed run (a fraction; `0/1` when impossible). */
  readonly runOdds: readonly string[];
  /**
   * Set when a trial sent this flow late enough, against its `at`, to change the odds kpsim gives
   * what the kernel did: answers computed with `at` (a golden case's) may not apply to that trial.
   */
  readonly timing: string | null;
}

export type Marginal = Map<string, { obs: Observed; prob: Prob }> & { stateful?: boolean };

export function observedOf(o: Outcome, input: FlowSpec, family: Family): Observed {
  if (o.verdict !== 'ACCEPT') return { key: o.verdict, verdict: o.verdict, dest: null, source: null, dnat: false, masquerade: false };
  const dest = formatHostPort(o.packet.dst, o.packet.dport, family);
  const source = formatIp(o.packet.src, family);
  return accepted(dest, source, o.dnat || dest !== formatHostPort(parseAddress(input.destIP, family, true)!, input.destPort ?? 0, family), source !== normalIp(input.sourceIP, family));
}

export function accepted(dest: string, source: string, dnat: boolean, masquerade: boolean): Observed {
  return { key: `ACCEPT ${dest} from ${source}`, verdict: 'ACCEPT', dest, source, dnat, masquerade };
}

export function normalIp(text: string, family: Family): string {
  const ip = parseAddress(text, family, true);
  return ip === null ? text : formatIp(ip, family);
}

export function marginal(outcomes: readonly Outcome[], input: FlowSpec, family: Family): Marginal {
  const m: Marginal = new Map();
  for (const o of outcomes) {
    const obs = observedOf(o, input, family);
    const prev = m.get(obs.key);
    m.set(obs.key, { obs, prob: add(prev?.prob ?? ZERO, o.prob) });
  }
  return m;
}

export function specOf(f: JudgeFlow, sourcePort: number): FlowSpec {
  const protocol = f.protocol.toLowerCase() as FlowSpec['protocol'];
  const facts = { ttl: f.ttl, tos: f.tos, uid: f.uid, gid: f.gid, socket: f.socket, cgroup: f.cgroup, classid: f.classid, now: f.now };
  return {
    name: f.name,
    protocol,
    sourceIP: f.sourceIP,
    sourcePort,
    destIP: f.destIP,
    destPort: f.destPort,
    ...(f.at === undefined ? {} : { at: f.at }),
    ...Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)),
    // A TCP probe's SYN is as long as the kernel makes it (kpsim's default); a UDP probe's is known.
    ...(protocol === 'udp' ? { length: udpProbeLength(familyOfText(f.sourceIP), f) } : {}),
  };
}

/** kube-proxy's tracer view of a set of outcomes (an explicit filter ACCEPT is not visible to the kernel, so it is not included). */
export function tracerAnswer(obs: Iterable<Observed>): TracerAnswer {
  const out = new Set<string>();
  let masq = false;
  for (const o of obs) {
    if (o.verdict === 'ACCEPT' && o.dnat && o.dest) out.add(o.dest);
    if (o.verdict === 'DROP' || o.verdict === 'REJECT') out.add(o.verdict);
    if (o.masquerade) masq = true;
  }
  return { output: [...out].sort().join(', '), masq };
}

export function kpsimSide(m: Marginal | undefined): FlowJudgement['kpsim'] {
  const vals = [...(m?.values() ?? [])].filter((v) => toDecimal(v.prob) > 0);
  return {
    ...tracerAnswer(vals.map((v) => v.obs)),
    outcomes: vals.map((v) => ({ key: v.obs.key, fraction: fractionText(v.prob), probability: toDecimal(v.prob) })).sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

export function skipped(flow: JudgeFlow, why: string[], m?: Marginal): FlowJudgement {
  return { flow, verdict: 'skipped', why, kpsim: kpsimSide(m), kernel: null, chiSquare: null, sequence: null };
}

/** What the kernel did with a flow's probes, counted per outcome, in the tracer's shape. */
export function kernelSide(probes: readonly ProbeRecord[]): NonNullable<FlowJudgement['kernel']> {
  const counts = new Map<string, { obs: Observed; count: number }>();
  for (const r of probes) counts.set(r.observed.key, { obs: r.observed, count: (counts.get(r.observed.key)?.count ?? 0) + 1 });
  return {
    ...tracerAnswer([...counts.values()].map((c) => c.obs)),
    outcomes: [...counts.values()].map((c) => ({ key: c.obs.key, count: c.count })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    probes,
  };
}

/**
 * Outcomes kpsim expects that no probe showed, where that is implausible: probe i an independent
 * draw from m[i], the odds of missing an outcome in all of them below alpha.
 */
export function neverSeen(m: readonly Marginal[], probes: readonly ProbeRecord[], alpha: number, what: string): string[] {
  const seen = new Set(probes.map((r) => r.observed.key));
  const why: string[] = [];
  for (const k of new Set(m.flatMap((x) => [...x.keys()]))) {
    if (seen.has(k)) continue;
    const miss = m.reduce((q, x) => q * (1 - toDecimal(x.get(k)?.prob ?? ZERO)), 1);
    if (miss < alpha) why.push(`kernel: never ended ${k} in ${probes.length} ${what} (odds of that ${miss.toExponential(2)} < ${alpha})`);
  }
  return why;
}
