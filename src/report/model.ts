// A trace as a person reads it, as data: what the text printer prints today and the HTML page
// (issue 18) draws later. A trace is a tree: the path all outcomes share is one segment of steps,
// and where walks part (a statistic split, an IPVS scheduler's choice, an unmodelled match traced
// both ways, the state earlier packets left) a fork holds one branch per way, each with its exact
// share of the fork. Every step carries the rule in the user's spelling and line, the packet's
// state when the step was taken and what its effect changed; a rule that did not match carries
// why. Built by tree.ts from the simulator's walks; renderers only read it.
import type { Family } from '../iptables/ir.js';
import type { Prob } from '../packetsim/fraction.js';
import type { ListedRef } from '../packetsim/types.js';
import type { Outcome } from '../packetsim/trace.js';

/** The packet and its connection at one point of the walk. */
export interface PacketView {
  readonly protocol: string;
  readonly source: string;
  readonly sourcePort: number | null;
  readonly destination: string;
  readonly destinationPort: number | null;
  readonly mark: number;
  readonly inInterface: string | null;
  readonly outInterface: string | null;
  /** --ctstate as the conntrack match sees it (`NEW`, `ESTABLISHED,DNAT`); null where unknown. */
  readonly ctState: string | null;
  readonly ctMark: number | null;
  readonly direction: 'original' | 'reply' | null;
}

export type ChangedField = 'source' | 'destination' | 'mark' | 'inInterface' | 'outInterface' | 'ctState' | 'ctMark';

/** How a person calls each field a step may change. */
export const FIELD_NAMES: Readonly<Record<ChangedField, string>> = {
  destination: 'destination',
  source: 'source',
  mark: 'mark',
  ctMark: 'connection mark',
  inInterface: 'in interface',
  outInterface: 'out interface',
  ctState: 'conntrack state',
};

/** A field of the packet a step's effect changed (seen at the next step, or at the end). */
export interface Change {
  readonly field: ChangedField;
  readonly from: string;
  readonly to: string;
}

/** A rule (or a chain's policy line) in the ruleset the user has. */
export interface RuleRef {
  readonly table: string;
  readonly chain: string;
  /** 1-based position in its chain (`iptables -L --line-numbers`); null for a policy or a return. */
  readonly num: number | null;
  /** The file `line` points into; null when the node has no listing. */
  readonly file: string | null;
  readonly line: number | null;
  /** The line as the ruleset writes it (`-A KUBE-SERVICES ...`, `:FORWARD ACCEPT [0:0]`). */
  readonly text: string;
  /** A hook extension's rule or chain: where its own listing writes it (nftables, IPVS); null for iptables'. */
  readonly listed: ListedRef | null;
}

export type StepKind = 'rule' | 'nomatch' | 'policy' | 'return' | 'extension' | 'conntrack' | 'route';

export interface Step {
  /**
   * rule: matched, its target taken; nomatch: tried, did not match (--verbose); extension: a hook
   * extension's work (IPVS); conntrack: the connection's NAT binding rewriting a later packet or a
   * reply between two hooks (nf_nat_packet), no rule involved; route: the routing decision that
   * set the packet's interfaces (its hook is `routing`).
   */
  readonly kind: StepKind;
  /** The netfilter hook the step is in (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING; `routing` for a route step). */
  readonly hook: string;
  /**
   * The hook function the step is in: an iptables table (`nat`), an nftables base chain (`ip
   * kube-proxy nat-prerouting`), a hook extension (`ipvs`); '' for a route step.
   */
  readonly fn: string;
  /** The hook function's netfilter priority (nat's: the NAT core's); null where none applies. */
  readonly priority: number | null;
  readonly rule: RuleRef;
  /** What the step does: `jump KUBE-SVC-X`, `DNAT --to-destination 10.244.1.5:8080`, `policy ACCEPT`, `return`. */
  readonly action: string;
  /** The packet when the step was taken (before its target acted); null when the trace did not record it. */
  readonly state: PacketView | null;
  readonly changes: readonly Change[];
  /** nomatch: the first test that failed, in words (`--dport 443 != 80`). */
  readonly why: string | null;
  /** What the step means, in words: session affinity, IPVS persistence. */
  readonly words: string | null;
  /** nomatch: this walk left the rule at a fork (the statistic split went the other way; an unknown match assumed false). */
  readonly forked: 'random' | 'unknown' | null;
  /** Identity of the step (same rule, same kind): how walks are compared. */
  readonly key: string;
}

export type ForkKind = 'statistic' | 'extension' | 'unknown' | 'state' | 'other';

export interface Fork {
  /**
   * statistic: a random split: `-m statistic --mode random` rules of one chain (kube-proxy's
   * endpoint split), an nftables rule's `numgen random`;
   * extension: a hook extension's choice (IPVS's scheduler); unknown: a match kpsim does not model,
   * traced both ways; state: the worlds earlier packets left (--flows, --state, --reply).
   */
  readonly kind: ForkKind;
  /** Where the walks part: the chain (null for a state fork). */
  readonly table: string | null;
  readonly chain: string | null;
  /** What decides, in words (`-m statistic --mode random`, `ipvs:TCP 10.96.0.10:80 rr`). */
  readonly what: string;
  readonly branches: readonly Branch[];
}

export interface Branch {
  /** The way this branch goes (`rule 2 -> KUBE-SEP-X`, `10.244.1.5:8080`, `assumed to match`). */
  readonly label: string;
  /** Its share of the fork, exact; null for assumptions (UNKNOWN), which are not chances. */
  readonly share: Prob | null;
  readonly segment: Segment;
  /** Outcomes (1-based numbers into TraceReport.outcomes) its walks end in. */
  readonly outcomes: readonly number[];
  /** A state fork's branch traces a packet of its own (a reply to that world's connection). */
  readonly packet: PacketView | null;
}

export interface Segment {
  readonly steps: readonly Step[];
  readonly fork: Fork | null;
  /** Outcomes of the walks that end with this segment's steps. */
  readonly ends: readonly number[];
  /** The probability of reaching this segment (of the whole trace). */
  readonly prob: Prob;
}

export interface UnknownView {
  readonly rule: RuleRef;
  readonly text: string;
  readonly reason: string;
  readonly assumed: string;
}

/** An outcome as the simulator gives it (verdict, delivery, NAT flags, note, paths), for people. */
export interface OutcomeView extends Readonly<Pick<Outcome, 'verdict' | 'assumedVerdict' | 'delivery' | 'dnat' | 'snat' | 'masquerade' | 'note' | 'paths' | 'min' | 'portDraw'>> {
  /** 1-based. */
  readonly number: number;
  readonly prob: Prob;
  /** The packet at the end. */
  readonly packet: PacketView;
  readonly unknown: readonly UnknownView[];
}

/** How the traced packet relates to its connection (kpsim trace --state / --reply). */
export interface ConnectionView {
  readonly state: 'new' | 'established' | 'related' | 'invalid';
  readonly reply: boolean;
  /** The chance the connection's first packet is accepted (ONE for a first packet). */
  readonly accepted: Prob;
}

export interface TraceReport {
  readonly name: string | null;
  readonly family: Family;
  /** The packet as given (for a reply: the connection's first packet). */
  readonly packet: PacketView;
  readonly origin: 'local' | 'remote';
  readonly connection: ConnectionView | null;
  readonly outcomes: readonly OutcomeView[];
  readonly tree: Segment;
  /** The file rule lines point into, and what it is; null when the node has no listing. */
  readonly listing: { readonly file: string; readonly what: string } | null;
  /** Steps include the rules that did not match (explain mode). */
  readonly verbose: boolean;
  readonly approximate: boolean;
}
