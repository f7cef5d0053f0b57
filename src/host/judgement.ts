// The judge's vocabulary, shared by its halves (judge.ts: independent probes; judge-sequence.ts:
// flows that share state, sent as sequences): the flows and rules it is given, one way a packet
// ends as both the kernel and kpsim can observe it, kpsim's outcomes seen that way, and a flow's
// judgement in kube-proxy's tracer shape.
import type { Family } from '../iptables/ir.js';
import { formatHostPort, formatIp, parseIp } from '../packetsim/addr.js';
import { add, fractionText, toDecimal, ZERO, type Prob } from '../packetsim/fraction.js';
import type { FlowSpec, Outcome } from '../packetsim/trace.js';

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
   * The node interface the packet arrives on: `eth0` (the client side) or the pods side's name,
   * which the default topology then gives the node's pods-side interface (one name per judgement).
   */
  readonly inInterface?: string;
}

/** A node's rules: texts loaded in order (each with --noflush, as kube-proxy restores) into an empty kernel. */
export interface JudgeRules {
  readonly family: Family;
  readonly texts: readonly { readonly label: string; readonly text: string }[];
  /** The node's own addresses (both families may be given); loopback is always local. */
  readonly nodeAddrs: readonly string[];
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
}

export type Marginal = Map<string, { obs: Observed; prob: Prob }> & { stateful?: boolean };

export function observedOf(o: Outcome, input: FlowSpec, family: Family): Observed {
  if (o.verdict !== 'ACCEPT') return { key: o.verdict, verdict: o.verdict, dest: null, source: null, dnat: false, masquerade: false };
  const dest = formatHostPort(o.packet.dst, o.packet.dport, family);
  const source = formatIp(o.packet.src, family);
  return accepted(dest, source, o.dnat || dest !== formatHostPort(parseIp(input.destIP, family)!, input.destPort ?? 0, family), source !== normalIp(input.sourceIP, family));
}

export function accepted(dest: string, source: string, dnat: boolean, masquerade: boolean): Observed {
  return { key: `ACCEPT ${dest} from ${source}`, verdict: 'ACCEPT', dest, source, dnat, masquerade };
}

export function normalIp(text: string, family: Family): string {
  const ip = parseIp(text, family);
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

export const specOf = (f: JudgeFlow, sourcePort: number): FlowSpec => ({
  name: f.name,
  protocol: f.protocol.toLowerCase() as FlowSpec['protocol'],
  sourceIP: f.sourceIP,
  sourcePort,
  destIP: f.destIP,
  destPort: f.destPort,
});

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
  return { flow, verdict: 'skipped', why, kpsim: kpsimSide(m), kernel: null, chiSquare: null };
}
