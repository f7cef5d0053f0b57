// The compiled form of a ruleset and the state of one walk through it. Rules are compiled once
// per ruleset into closures (no per-packet parsing); a walk is one path of a packet through the
// hooks, forked at every probabilistic or unknown branch.
import { TABLE_NAMES, type Family, type Span } from '../iptables/ir.js';
import type { Conn, Direction } from './conntrack.js';
import type { NodeEnv } from './env.js';
import type { Prob } from './fraction.js';
import type { Origin, Packet, PacketMeta } from './packet.js';
import type { Delta, World } from './world.js';

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export const HOOK_NAMES = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'] as const satisfies readonly Hook[];

/** Where a table's base chain for a hook sits in CompiledRuleset.bases. */
export function baseSlot(table: string, hook: Hook): number {
  const t = (TABLE_NAMES as readonly string[]).indexOf(table);
  if (t < 0) throw new Error(`no table ${table}`);
  return t * HOOK_NAMES.length + HOOK_NAMES.indexOf(hook);
}

/** A compiled match. `test` may write to the walk's delta (recent --set, nth counters). */
export type CMatch =
  | {
      readonly kind: 'test';
      readonly test: (w: Walk) => boolean;
      /** No side effects and no dependence on state: safe to skip when an index says it can't matter. */
      readonly pure: boolean;
      /** Destination ports this test requires, when it is exactly a --dport test (for indexing). */
      readonly dports?: readonly (readonly [number, number])[];
      /** What of the walk the test reads (READS bits), when that is all; absent: unknown, never memoised. */
      readonly reads?: number;
      /**
       * The test writes state that other rules read (recent --set/--update/--remove, a hashlimit
       * table): a rule holding it matters even when its target does nothing (CompiledRule.inert).
       */
      readonly shared?: boolean;
    }
  | RandomMatch
  /**
   * A test whose answer may rest on something no input gives (the bridge port that leads to a
   * destination, the owner of a packet, the time): true, false, or why it is not known (both
   * branches are then explored, UNKNOWN, unless the rule is inert).
   */
  | { readonly kind: 'maybe'; readonly test: (w: Walk) => boolean | string; readonly text: string }
  | { readonly kind: 'unknown'; readonly text: string; readonly reason: string };

/**
 * `statistic --mode random`, with the last split made at it: for an incoming probability (by
 * identity), the two products. Walks of kube-proxy's KUBE-SVC chains meet each statistic rule
 * with the previous rule's cached `no`, so after the first packet no BigInt is multiplied on the
 * hot path. The cache sits in the match itself, not in an object of its own: one cold object
 * fewer per statistic rule at 10k services.
 */
export interface RandomMatch extends RandomCache {
  readonly kind: 'random';
  readonly stored: number;
  readonly invert: boolean;
  readonly text: string;
}

/** The last split made at a random match: for an incoming probability (by identity), the two products. */
export interface RandomCache {
  cacheIn: Prob | null;
  cacheYes: Prob;
  cacheNo: Prob;
}

/**
 * What a rule's tests may read of a walk, as bits: a table traversal whose rules read only these
 * (and have no randomness, state or unknowns) is a function of them, and memo.ts caches it.
 */
export const READS = {
  SRC: 1, DST: 2, PROTO: 4, SPORT: 8, DPORT: 16, IIF: 32, OIF: 64, MARK: 128,
  /** ctStateBits and the direction. */
  CTSTATE: 256,
  TCPFLAGS: 512,
} as const;

/** A NAT range (--to-destination, --to-source, --to-ports); null parts are not given. */
export type NatSpec = {
  readonly fromAddr: import('../net/index.js').Ip | null;
  readonly toAddr: import('../net/index.js').Ip | null;
  readonly fromPort: number | null;
  readonly toPort: number | null;
  /** --random or --random-fully (NF_NAT_RANGE_PROTO_RANDOM_ALL): the port is always drawn. */
  readonly random: boolean;
};

/**
 * A NAT target with its range in the target object itself (all null when none is given): every
 * KUBE-SEP chain's DNAT is cold at 10k services, and this is one object fewer to fetch.
 */
export type NatTarget<K extends string> = { readonly kind: K } & NatSpec;

/** A compiled target. */
export type CTarget =
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'reject'; readonly with: string | null }
  | { readonly kind: 'queue'; readonly name: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'jump'; readonly chain: string; readonly goto: boolean }
  | NatTarget<'dnat'>
  | NatTarget<'snat'>
  /** The range holds only --to-ports. */
  | NatTarget<'masquerade'>
  | NatTarget<'redirect'>
  | { readonly kind: 'mark'; readonly apply: (mark: number) => number; readonly text: string }
  | { readonly kind: 'connmark'; readonly apply: (w: Walk) => void; readonly text: string }
  | { readonly kind: 'notrack' }
  /** LOG, NFLOG, TRACE, counters-only rules and other targets with no effect on the verdict. */
  | { readonly kind: 'continue'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'unknown'; readonly text: string; readonly reason: string };

/**
 * The built-in check of kube-proxy's common IPv4 shape (at most one -s and one -d CIDR and a -p)
 * as three small integers in the rule itself (matchIPv4 in matches/builtin.ts): no closure, no
 * context, and no boxed double (172.16.0.1 as an unsigned number would be one), so a rule that
 * fails its check costs one cache line when it is cold, as most rules are at 10k services.
 */
export interface IPv4Builtin {
  /**
   * 0: no such check. Otherwise V4 bits (which checks, which negated) in bits 0-5, the -s and -d
   * prefix lengths in bits 8-13 and 16-21, the -p protocol number in bits 24-31.
   */
  readonly v4: number;
  /** The -s and -d networks as signed 32-bit values (`addr & mask` is one). */
  readonly v4Src: number;
  readonly v4Dst: number;
}

/**
 * Rules to try, in chain order, as a linked list. A CompiledRule is itself the list of its
 * chain's rules from it on (`first` is the rule, `rest` the rule after it), so a walk through an
 * unindexed chain reads no array, two cold objects fewer per chain at 10k services; an index
 * bucket is a list of nodes of its own.
 */
export interface RuleList {
  readonly first: CompiledRule;
  readonly rest: RuleList | null;
}

export interface CompiledRule extends IPv4Builtin, RuleList, RandomCache {
  // The fields the walker reads come first, in the order it reads them: V8 lays an object
  // literal's properties out in the order written, and at 10k services most rules are cold when a
  // packet meets them, so a rule that fails its built-in check costs one cache line and a
  // statistic rule or a DNAT rule about three, with no other object to fetch.
  /**
   * -s -d -p -i -o -f: checked first, as ip_packet_match does, before any extension match; null
   * when there is nothing to check or `v4` holds the check.
   */
  readonly builtin: ((w: Walk) => boolean) | null;
  /** matches.length, here so that a rule with no match reads no array. */
  readonly matchCount: number;
  // What a jump or a DNAT reads, then what a statistic split reads.
  /** The chain a jump or goto enters, resolved after all chains are compiled. */
  jumpTo: CompiledChain | null;
  /** The target's kind, and for NAT targets its range, copied out of `target` (no object to fetch). */
  readonly targetKind: CTarget['kind'];
  readonly table: string;
  readonly natAddr: import('../net/index.js').Ip | null;
  readonly natPort: number | null;
  /**
   * The NAT port is not simply natPort: a port range, or --random/--random-fully, which
   * targets/nat.ts natPortBinding decides per packet from the target's range.
   */
  readonly natDraws: boolean;
  /** The target is a goto (`-g`): the chain replaces the current frame. */
  readonly goto: boolean;
  /**
   * jumpTo has an index; otherwise jumpStart is its rule list and a jump reads no chain object.
   * Both are set on the first jump (undefined until then): jumpTo's rules are compiled when a
   * packet first reaches it (link.ts).
   */
  jumpIndexed: boolean;
  jumpStart: RuleList | null | undefined;
  /** N when matches[0] is exactly `--dport N` (kube-proxy's service rules), tested inline; else -1. */
  readonly dport0: number;
  /**
   * When matches[0] is `statistic --mode random`: the probability that it matches, as the
   * kernel's 31-bit stored value with any `!` applied (0..2^31); else -1. The split is made from
   * the rule's fields without reading the match object, and cached in the rule (RandomCache:
   * cacheIn, cacheYes and cacheNo, which follow rand0 in link.ts's literal).
   */
  readonly rand0: number;
  readonly match0: CMatch | null;
  readonly target: CTarget;
  readonly matches: readonly CMatch[];
  /** Unique within the compiled ruleset. */
  readonly uid: number;
  readonly chain: string;
  /** 1-based position in its chain (iptables -L --line-numbers). */
  readonly num: number;
  /** READS bits of its built-in and extension tests; null when some test's reads are unknown. */
  readonly reads: number | null;
  readonly span: Span | null;
  /**
   * The rule's arguments and target as written (output.ts ruleText). Kept as text rather than the
   * rule's IR: a few dozen bytes instead of a tree of objects, and every live object in the old
   * generation makes each young-generation collection of a trace slower.
   */
  readonly text: string;
  /** recent, limit, hashlimit, connlimit or `statistic --mode nth`: the rule's outcome depends on earlier packets. */
  readonly stateful: boolean;
  /**
   * What of the rule reads the packet's source address or port, for the flow cache
   * (flow-cache.ts): its built-in check (0 not the source, 1 the source in the IPv4 check `v4`, 2
   * otherwise or not known); the first extension match that reads them or does not say what it
   * reads (-1: none); whether its target reads or changes them (any but the source-blind ones).
   */
  readonly srcRead: 0 | 1 | 2;
  readonly srcMatch: number;
  readonly srcTarget: boolean;
  readonly comment: string | null;
  /** Exact destination addresses the built-in -d requires (for indexing); null if any. */
  readonly dstKeys: readonly (number | bigint)[] | null;
  /** Single destination ports a pure --dport test requires (for indexing); null if any. */
  readonly dportKeys: readonly number[] | null;
  /** What the target does, for the trace: `jump KUBE-SVC-X`, `DNAT --to-destination 10.0.0.1:80`. */
  readonly action: string;
  /**
   * Whether the rule matching or not changes nothing that decides the packet's outcome: its target
   * only logs, counts or continues (LOG, NFLOG, no target, a jump to a chain of such rules) and
   * its matches write no state other rules read. An unmodelled match on such a rule is no fork:
   * both ways the walk goes on the same. Decided when first asked (inert.ts isInert): it reads the
   * chains the rule jumps to, which are compiled only when something reaches them (link.ts);
   * undefined until then.
   */
  inert: boolean | undefined;
  /**
   * A hook extension's rule that matched on what earlier packets left (nftables: a lookup in a set
   * a rule updates, kube-proxy's affinity); iptables' `-m recent --rcheck` rules are told by text.
   */
  readonly recalls?: boolean;
  /**
   * A hook extension's rule that draws at random (nftables' `numgen random mod N`): the draw as
   * written. Its walks part there with exact shares, as at iptables' statistic rules.
   */
  readonly random?: string;
  /** A hook extension's rule: where the node's own listing of that extension writes it. */
  readonly listed?: ListedRef;
}

/**
 * Where a hook extension's rule or chain is written in the listing the node has of that extension
 * (src/node/listing.ts: `nft list ruleset`, `ipvsadm-save`, a dump or kpsim's own output).
 */
export interface ListedRef {
  /** Which listing (Node.hookListings' key). */
  readonly listing: string;
  readonly table: string;
  readonly chain: string;
  /** 0-based position in the chain; null: the chain's own line (its policy, a virtual server's `-A`). */
  readonly index: number | null;
}

/** A hook function an extension's chain is: what a trace calls it, and its netfilter priority. */
export interface HookFunction {
  readonly hook: Hook;
  /** `ip kube-proxy nat-prerouting`, `ipvs`. */
  readonly name: string;
  readonly priority: number;
}

export interface CompiledChain {
  readonly table: string;
  readonly name: string;
  readonly builtin: boolean;
  readonly policy: 'ACCEPT' | 'DROP';
  readonly span: Span | null;
  /** A hook extension's pseudo-chain (its steps print as their action alone). */
  readonly extension?: boolean;
  /** A hook extension's chain that a hook calls (an nftables base chain, IPVS at LOCAL_IN): which and where. */
  readonly hookFn?: HookFunction;
  /** A hook extension's chain: where its listing writes it. */
  readonly listed?: ListedRef;
  /** Compiled when first read (link.ts): a trace compiles only the chains its packets reach. */
  readonly rules: readonly CompiledRule[];
  /** `rules` as a list: the first rule, null for an empty chain. */
  readonly start: RuleList | null;
  /**
   * The rules to try for this packet, in chain order, when the chain is indexed (chain-index.ts);
   * null: all of them (no closure to call for the many short chains).
   */
  readonly index: ((w: Walk) => RuleList | null) | null;
  /** Set when a traversal from this built-in chain is a function of a few fields (memo.ts); planned when first read. */
  readonly memo: ChainMemo | null;
}

export interface ChainMemo {
  /** READS bits of every rule reachable from the chain. */
  readonly reads: number;
  /** Key (the read fields' values) -> the path segment the traversal recorded. */
  readonly entries: Map<string | number, readonly MemoStep[]>;
  /** The entry found last, and its key (null: none). */
  lastKey: string | number | null;
  lastSteps: readonly MemoStep[] | undefined;
}

export interface MemoStep {
  readonly kind: 'rule' | 'policy';
  readonly chain: CompiledChain;
  readonly rule: CompiledRule | null;
}

export interface CompiledTable {
  readonly name: string;
  readonly chains: ReadonlyMap<string, CompiledChain>;
}

export interface CompileProblem {
  readonly code: 'SIM_UNKNOWN_CHAIN' | 'SIM_BAD_VALUE' | 'SIM_UNSUPPORTED';
  readonly message: string;
  readonly span: Span | null;
}

export interface CompiledRuleset {
  readonly family: Family;
  readonly tables: ReadonlyMap<string, CompiledTable>;
  /** What the chains compiled so far could not model: it grows as packets reach more chains. */
  readonly problems: readonly CompileProblem[];
  readonly ruleCount: number;
  readonly indexed: boolean;
  /** Each table's built-in chain per hook (baseSlot), null where the ruleset has none. */
  readonly bases: readonly (CompiledChain | null)[];
  /** evaluate.ts's hook programs without the steps of missing tables. */
  readonly programs: { readonly remote: readonly Step[]; readonly input: readonly Step[]; readonly forward: readonly Step[]; readonly local: readonly Step[]; readonly loopback: readonly Step[] };
}

/** The hooks an extension's steps may sit at. */
export type ExtensionHook = Hook;

/**
 * A netfilter hook function the core does not know by name (IPVS: src/packetsim-ipvs), plugged in
 * by the proxy mode's row in src/modes.ts. It places its steps in the hook programs and runs them;
 * forks go to `pending`. What it records in a path is a pseudo-chain with `extension` set, whose
 * rule's `action` is the whole line to print.
 */
export interface HookExtension {
  readonly name: string;
  /** What the extension could not model in the node, said as the ruleset's own problems are. */
  readonly problems?: readonly CompileProblem[];
  /**
   * Puts the extension's steps in the programs. `step` makes one, at its netfilter priority
   * (hook-order.ts `placeStep` inserts it where the kernel calls it).
   */
  place(programs: CompiledRuleset['programs'], step: (hook: ExtensionHook, at: HookPriority) => ExtStep): CompiledRuleset['programs'];
  run(w: Walk, hook: ExtensionHook, pending: Walk[]): void;
  /**
   * True when the extension tells a trace recorded for the flow cache (WalkContext.rec) what it
   * read of the source, as the core's rules do: each read of the IPv4 source address noted as a
   * question (TraceRecord.asks), any other read of the source or its port, and any change to it,
   * by marking the trace not cacheable. Its reads of state go through the world (watched) and its
   * writes make a delta (flow-cache.ts sourceBlind). Otherwise a trace that takes its step is
   * never cached.
   */
  readonly notesSource?: boolean;
}

/** A calling chain: where RETURN (or the end of the called chain) resumes. */
export interface Frame {
  readonly chain: CompiledChain;
  /** The rules left to try there. */
  readonly next: RuleList | null;
  readonly caller: Frame | null;
}

/**
 * One line of the trace, kernel TRACE style: a rule that matched, a chain's policy, an implicit
 * return at the end of a user chain; in explain mode also the rules tried that did not match.
 */
export interface PathNode {
  readonly kind: 'rule' | 'nomatch' | 'policy' | 'return';
  readonly chain: CompiledChain;
  readonly rule: CompiledRule | null;
  readonly prev: PathNode | null;
  /** A replayed traversal (memo.ts): the node stands for all these steps (kind/chain/rule are the last's). */
  readonly segment: readonly MemoStep[] | null;
  /**
   * Explain mode only: the walk as it was when the step was taken (before the rule's target acted),
   * its packet and connection frozen (the walk copies them before writing again). Reports read the
   * packet's state at each step from it, and explain.ts re-tests a rule that did not match on it.
   */
  readonly at?: Readonly<Walk>;
  /**
   * Explain mode, a rule this walk did not take at a fork: why, when the walker knows it without
   * re-testing (`random`: the statistic split went the other way; `unknown`: this walk assumes the
   * unmodelled match does not match).
   */
  readonly forked?: 'random' | 'unknown';
}

export interface UnknownNote {
  readonly rule: CompiledRule;
  readonly text: string;
  readonly reason: string;
  /** The branch this outcome assumed. */
  readonly assumed: 'match' | 'no match' | 'target';
  /**
   * The fork this note is one side of: both walks of an unmodelled match's fork carry notes with
   * the same number. Absent for an unmodelled target, which stops its walk without a fork.
   */
  readonly fork?: number;
}

/**
 * The unmodelled branches a walk rests on, innermost first. Walks that part at a statistic split
 * share the node they had, so a node stands for one side of one fork, whoever holds it (the
 * outcome bounds of trace.ts rely on it).
 */
export interface UnknownNode {
  readonly note: UnknownNote;
  readonly prev: UnknownNode | null;
  /** Unique; identifies the node in world fingerprints. */
  readonly id: number;
}

let unknownIds = 0;
let forkIds = 0;

/** A number for a new fork at an unmodelled match: both its walks' notes carry it (UnknownNote.fork). */
export function newFork(): number {
  return ++forkIds;
}

/** The walk now rests on `note` too. */
export function addUnknown(w: Walk, note: UnknownNote): void {
  w.unknown = { note, prev: w.unknown, id: ++unknownIds };
}

export interface TraceOptions {
  /** Record rules that were tried and did not match (human output). */
  readonly explain: boolean;
  /** Use chain indices (same results; faster). */
  readonly index: boolean;
  /** Give up beyond this many outcomes. */
  readonly maxWalks: number;
  /**
   * Record each walk's path (default). Off (`--no-paths`), a walk records only what a memoised
   * traversal needs to remember, and outcomes keep no path: bulk checks build nothing per rule.
   */
  readonly paths?: boolean;
}

export interface Walk {
  pkt: Packet;
  /** The packet / connection object is shared with a fork: copy before writing (mutPkt, mutConn). */
  pktShared: boolean;
  connShared: boolean;
  prob: Prob;
  /**
   * The chain being traversed (null outside a table) and the rules left to try in it (of its
   * index's pick). Forks copy these and share the callers, which never change.
   */
  chain: CompiledChain | null;
  next: RuleList | null;
  /** The chains that jumped here, innermost first. */
  callers: Frame | null;
  /** How many chains deep the walk is (the current one included); 0 outside a table. */
  depth: number;
  program: readonly Step[];
  pc: number;
  conn: Conn;
  dir: Direction;
  /** The conntrack entry existed before this packet (the nat table is skipped for its manips). */
  known: boolean;
  /** Conntrack has looked at the packet (before that, in raw, --ctstate sees INVALID). */
  ctAttached: boolean;
  /** The connection reached the confirm point (it enters the table if the packet is accepted). */
  confirmed: boolean;
  /** The hook and base chain of the table being traversed. */
  hook: Hook;
  base: CompiledChain | null;
  path: PathNode | null;
  delta: Delta | null;
  unknown: UnknownNode | null;
  masquerade: boolean;
  snat: boolean;
  dnat: boolean;
  /** Set when the walk ends. */
  verdict: 'ACCEPT' | 'DROP' | 'REJECT' | 'UNKNOWN' | null;
  delivery: 'local' | 'forward' | null;
  /** What stopped the walk, when not a plain verdict (no route, loop, QUEUE, unknown target). */
  note: string | null;
  /**
   * A NAT binding drew the port of one side from a range too large to follow port by port
   * (targets/nat.ts MAX_PORT_FORKS): the packet keeps the port it had, which stands for any of them.
   */
  portDraw: PortDraw | null;
  readonly ctx: WalkContext;
}

export interface WalkContext {
  readonly rs: CompiledRuleset;
  readonly env: NodeEnv;
  readonly world: World;
  readonly origin: Origin;
  readonly opts: TraceOptions;
  /** The bridge port that leads to the destination, when the trace says (PacketSpec.outPort). */
  readonly outPort: string | null;
  readonly meta: PacketMeta;
  /** Set when the trace is recorded for the flow cache (flow-cache.ts). */
  readonly rec: TraceRecord | null;
}

/**
 * What a trace's result depends on of the packet's source address and port, as the flow cache
 * needs it: every IPv4 built-in check that read the source, with the destination and protocol it
 * saw and its answer. `cacheable` falls when the result may depend on them in any other way, or on
 * state (flow-cache.ts lists the ways).
 */
export interface TraceRecord {
  cacheable: boolean;
  readonly checks: { readonly rule: IPv4Builtin; readonly dst: number; readonly proto: number; readonly matched: boolean }[];
  /**
   * A hook extension's reads of the IPv4 source (HookExtension.notesSource: an nftables `ip saddr`
   * test, a verdict map keyed by it): the answer seen, and the question that gives the answer for
   * another source (compared with ===).
   */
  readonly asks: { readonly ask: (src: number) => unknown; readonly seen: unknown }[];
}

/** A port NAT drew at random from `from`-`to` (each about equally likely) and kpsim did not follow one by one. */
export interface PortDraw {
  readonly side: 'source' | 'destination';
  readonly from: number;
  readonly to: number;
}

export type Step =
  /** What the kernel checks before PREROUTING (ipv6_rcv_core); a bridge that forwards without br_netfilter. */
  | { readonly kind: 'receive' }
  | { readonly kind: 'table'; readonly table: string; readonly hook: Hook; readonly slot: number }
  | { readonly kind: 'nat'; readonly hook: Hook; readonly manip: 'dst' | 'src' }
  /** nf_conntrack_in, at priority -200 of the hook a packet enters by (PREROUTING or OUTPUT). */
  | { readonly kind: 'conntrack'; readonly hook: Hook }
  | { readonly kind: 'routeIn' }
  | { readonly kind: 'routeOut' }
  | { readonly kind: 'reroute' }
  /** nf_confirm, last of the hook a packet leaves by (INPUT or POSTROUTING). */
  | { readonly kind: 'confirm'; readonly hook: Hook }
  | { readonly kind: 'loopback' }
  | { readonly kind: 'deliver'; readonly to: 'local' | 'forward' }
  /** A hook extension's work at this point (HookExtension: IPVS's ip_vs_remote_request, ...). */
  | { readonly kind: 'ext'; readonly ext: HookExtension; readonly hook: ExtensionHook; readonly at: HookPriority };

/** A hook extension's step. */
export type ExtStep = Extract<Step, { readonly kind: 'ext' }>;

/**
 * Where a hook function runs within its hook: its netfilter priority, and for a NAT chain (which
 * the NAT core calls at its own priority, in their priority order: nf_nat_inet_fn) that order.
 */
export interface HookPriority {
  readonly priority: number;
  /** A chain of type nat (nftables) or the nat table: called by the NAT core. */
  readonly nat: boolean;
}
