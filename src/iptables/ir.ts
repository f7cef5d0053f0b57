// The rule IR shared by the compiler, the iptables-save reader/renderer and the packet simulator.
//
// A rule is kept the way iptables itself thinks of it: an ordered list of arguments (built-in
// matches such as `-s`, `-p`, `-i`; `-m MODULE` loads; the options of a loaded module) and one
// target with its options. Order is significant: kube-proxy writes `-m tcp -p tcp -d IP --dport N`
// while iptables-save prints `-d IP/32 -p tcp -m tcp --dport N`, and both must render back byte
// for byte. Anything not modelled is kept as `opaque` with its exact text, so the simulator can
// say it does not understand it instead of guessing. Values carry their parsed numbers (src/net)
// next to their exact text: later stages read the numbers and never parse the text again.
import type { Family, Ip, PortRange } from '../net/index.js';

export type { Family } from '../net/index.js';

/** The tables iptables has, in the order the kernel registers their hooks' priorities (raw first). */
export const TABLE_NAMES = ['raw', 'mangle', 'nat', 'filter', 'security'] as const;

/** A position in source text: 1-based line and column, 0-based offset, length in characters. */
export interface Span {
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  readonly length: number;
}

/** `[packets:bytes]`, kept as decimal strings so 64-bit counters never lose precision. */
export interface Counters {
  readonly packets: string;
  readonly bytes: string;
}

/**
 * A typed option value. `text` is always the exact token as written, so rendering in the
 * source's own spelling never loses a byte; the other fields are the parsed meaning.
 */
export type Value =
  /**
   * `-s 10.0.0.1/8`, `--mask 255.255.255.0`, `10.0.0.0/255.0.0.0`: the address as written and the
   * network, host bits cleared (a `Cidr` of src/net). `-s`/`-d` store the network; conntrack keeps
   * the address and its mask, and compares masked.
   */
  | { readonly type: 'address'; readonly text: string; readonly family: Family; readonly address: Ip; readonly network: Ip; readonly prefix: number }
  | { readonly type: 'addressRange'; readonly text: string; readonly family: Family; readonly from: Ip; readonly to: Ip }
  | { readonly type: 'ports'; readonly text: string; readonly ranges: readonly PortRange[] }
  | { readonly type: 'integer'; readonly text: string; readonly value: number }
  | { readonly type: 'intRange'; readonly text: string; readonly from: number; readonly to: number }
  | { readonly type: 'mark'; readonly text: string; readonly value: number; readonly mask: number | null }
  | { readonly type: 'list'; readonly text: string; readonly items: readonly string[] }
  | { readonly type: 'string'; readonly text: string; readonly value: string }
  | { readonly type: 'interface'; readonly text: string; readonly name: string; readonly wildcard: boolean }
  | { readonly type: 'probability'; readonly text: string; readonly value: number }
  /** `--to-destination 10.0.0.1-10.0.0.5:80-90`, `[fd00::1]:80`, `:8080`: addresses and ports, null where not given. */
  | { readonly type: 'natRange'; readonly text: string; readonly family: Family; readonly fromAddress: Ip | null; readonly toAddress: Ip | null; readonly fromPort: number | null; readonly toPort: number | null }
  /** `-p tcp`, `-p 6`, `--ctproto udp`: `number` is null for `all` (any protocol). */
  | { readonly type: 'protocol'; readonly text: string; readonly name: string; readonly number: number | null }
  /** `--icmp-type echo-request`, `3/4`, `any`: `icmpType` null for `any`, `code` null for every code. */
  | { readonly type: 'icmpType'; readonly text: string; readonly icmpType: number | null; readonly code: number | null }
  /**
   * `--limit 3/min`, `--hashlimit-upto 50/sec`: the interval between tokens as the kernel stores it
   * (xt_limit in 1/10000 s, xt_hashlimit in microseconds; integer division as libxt_*'s
   * parse_rate does), here in microseconds, and the seconds of the unit it was given per.
   */
  | { readonly type: 'rate'; readonly text: string; readonly periodUs: number; readonly perSeconds: number }
  /** A word with no further structure (`--mode random`, `--name KUBE`): `value` is it unquoted. */
  | { readonly type: 'word'; readonly text: string; readonly value: string };

/** How a `!` was written: before the option (`! -s X`), after it (old `-s ! X`), or not at all. */
export type Negation = 'none' | 'prefix' | 'infix';

/**
 * One option: a built-in match (`module: null`, e.g. `-s`, `-p`, `-i`, `-f`), an option of a
 * loaded match module (`module: 'tcp'`, `name: 'dport'`), or a target option (`module` is the
 * target name). `name` is the canonical long name without dashes; `spelling` is what was written
 * (`-s`, `--source`, `--src`, `--dport`, `--destination-port`).
 */
export interface OptionArg {
  readonly kind: 'option';
  readonly module: string | null;
  readonly name: string;
  readonly spelling: string;
  readonly negation: Negation;
  readonly values: readonly Value[];
  readonly span: Span | null;
}

/** `-m NAME` (or `--match NAME`). */
export interface ModuleArg {
  readonly kind: 'module';
  readonly name: string;
  readonly spelling: string;
  readonly span: Span | null;
}

/** Text the reader does not model (an unknown module and its options), kept verbatim. */
export interface OpaqueArg {
  readonly kind: 'opaque';
  readonly module: string | null;
  readonly text: string;
  readonly span: Span | null;
}

export type Arg = OptionArg | ModuleArg | OpaqueArg;

export type BuiltinVerdict = 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE';

/**
 * `-j NAME [options]` or `-g CHAIN`. `kind: 'verdict'` for the built-in verdicts, `'chain'` for a
 * jump or goto to a user chain, `'extension'` for a modelled target extension (DNAT, MARK, ...),
 * `'opaque'` for one that is not modelled (options kept verbatim in `text`).
 */
export type Target =
  | { readonly kind: 'verdict'; readonly name: BuiltinVerdict; readonly spelling: string; readonly span: Span | null }
  | { readonly kind: 'chain'; readonly name: string; readonly goto: boolean; readonly spelling: string; readonly span: Span | null }
  | { readonly kind: 'extension'; readonly name: string; readonly spelling: string; readonly options: readonly OptionArg[]; readonly span: Span | null }
  | { readonly kind: 'opaque'; readonly name: string; readonly spelling: string; readonly text: string; readonly span: Span | null };

export type RuleOp = 'A' | 'I' | 'D' | 'R';

export interface Rule {
  readonly kind: 'rule';
  readonly op: RuleOp;
  readonly chain: string;
  /** For `-I CHAIN N`, `-D CHAIN N`, `-R CHAIN N`. */
  readonly position: number | null;
  readonly counters: Counters | null;
  readonly args: readonly Arg[];
  readonly target: Target | null;
  readonly span: Span | null;
  /** How the command was spelled (`-A`, `--append`, ...); absent means the short form. */
  readonly opSpelling?: string;
  /** Where `-j`/`-g` was written among `args` when not after all of them (restore input may). */
  readonly targetAt?: number | null;
  /**
   * The exact line, only when its words cannot be rendered back from the IR in their order (a
   * target's options mixed with matches after `-j`, which iptables accepts and never writes).
   */
  readonly raw?: string | null;
  /**
   * The whitespace before each token of the line and after the last one, when the line did not
   * use single spaces (null otherwise, the common case). Only the restore-spelling renderer reads
   * it, and only when its length still fits the rule's tokens.
   */
  readonly layout?: readonly string[] | null;
}

/** `-N`, `-X`, `-F`, `-Z`, `-P` lines as restore input may contain them. */
export interface ChainCommand {
  readonly kind: 'chainCommand';
  readonly op: 'N' | 'X' | 'F' | 'Z' | 'P';
  readonly chain: string | null;
  readonly policy: string | null;
  /** `-P CHAIN POLICY [packets:bytes]` may carry counters. */
  readonly counters?: Counters | null;
  readonly span: Span | null;
  /** The exact line when it was not written in the canonical spelling (extra spaces, CR). */
  readonly raw?: string | null;
}

export type Command = Rule | ChainCommand;

/** `:NAME POLICY [packets:bytes]`; user chains have policy `-`. */
export interface ChainDecl {
  readonly name: string;
  readonly policy: string;
  readonly counters: Counters | null;
  readonly span: Span | null;
  /** The exact line when it was not written in the canonical spelling (extra spaces, CR). */
  readonly raw?: string | null;
}

/** A `#` line or blank line, kept so the file renders back byte for byte. */
export interface Trivia {
  readonly kind: 'comment' | 'blank';
  readonly text: string;
  /** Index into the table's `lines` order; see `TableLine`. */
  readonly span: Span | null;
}

export type TableLine =
  | { readonly kind: 'chain'; readonly decl: ChainDecl }
  | { readonly kind: 'command'; readonly command: Command }
  | { readonly kind: 'trivia'; readonly trivia: Trivia };

export interface Table {
  readonly name: string;
  readonly chains: readonly ChainDecl[];
  readonly commands: readonly Command[];
  /** Every line between `*table` and `COMMIT`, in file order (declarations, commands, trivia). */
  readonly lines: readonly TableLine[];
  readonly committed: boolean;
  readonly span: Span | null;
  /** The exact `*table` and `COMMIT` lines when not written canonically. */
  readonly rawHeader?: string | null;
  readonly rawCommit?: string | null;
}

/**
 * A table's rules by chain, as a reader can give them without building every rule. Only for a
 * table whose lines declare chains (`:NAME`) and append rules (`-A` without a rule number), which
 * is what iptables-save prints and what kube-proxy writes: src/iptables/state.ts then loads it
 * chain by chain, each chain's rules built when something first reads them (the simulator: only
 * the chains a packet reaches). A reader attaches it with setChainIndex.
 */
export interface ChainIndex {
  /** The names the `:NAME` lines declare, in order. */
  readonly declared: readonly string[];
  /** The declaration of declared[i] (built on each call). */
  decl(i: number): ChainDecl;
  /** Where declared[i] is declared (its whole line), as decl(i).span without building it. */
  declSpan(i: number): Span;
  /** The chains that have `-A` lines, in the order of their first one. */
  readonly ruleChains: readonly string[];
  /** How many `-A` lines ruleChains[i] has. */
  count(i: number): number;
  /** The rules of ruleChains[i], in order (built on each call). */
  rules(i: number): Rule[];
  /**
   * What each rule of ruleChains[i] jumps to or ends with, read without building the rules; null
   * when the reader cannot tell for some rule (the caller builds them instead).
   */
  targets?(i: number): readonly TargetName[] | null;
  /** Rule j of ruleChains[i] alone (built on each call). */
  rule?(i: number, j: number): Rule;
  /**
   * The first value of the target option `name` of rule j of ruleChains[i], as the built rule holds
   * it (undefined: none), without building the rule; null when the reader cannot tell.
   */
  targetValue?(i: number, j: number, name: string): Value | undefined | null;
  /**
   * The first match option `module` `name` of rule j of ruleChains[i] (its negation and first
   * value) as the built rule holds it (undefined: none), without building the rule; null when the
   * reader cannot tell.
   */
  matchOption?(i: number, j: number, module: string | null, name: string): MatchOptionValue | undefined | null;
  /**
   * The match options of rule j of ruleChains[i] that `wanted` takes (by module and name), in
   * order, with their negation and values as the built rule holds them, without building the
   * rule; null when the reader cannot tell.
   */
  matchOptions?(i: number, j: number, wanted: (module: string | null, name: string) => boolean): readonly MatchOptionRead[] | null;
  /**
   * The line of rule j of ruleChains[i] as written, without its line end: equal lines build
   * equal rules (but for their spans), so comparing them needs no rule built; null when the
   * reader cannot tell.
   */
  ruleText?(i: number, j: number): string | null;
  /** Where rule j of ruleChains[i] is (its whole line), as its built rule's span, without building it. */
  ruleSpan?(i: number, j: number): Span;
  /** Chains `-A` lines name that no `:NAME` line before them declared: they must exist already. */
  readonly external: readonly string[];
  /** Jumps to chains no line before them declared, in file order (each must exist already). */
  readonly jumpsBefore: readonly { readonly name: string; readonly span: Span | null }[];
}

/** A match option as explain and lint read it: whether it is negated, and its first value. */
export interface MatchOptionValue {
  readonly negation: OptionArg['negation'];
  readonly value: Value | undefined;
}

/** A match option read without building its rule: what it is and says, not how it was spelled or where. */
export type MatchOptionRead = Pick<OptionArg, 'module' | 'name' | 'negation' | 'values'>;

/**
 * A rule's target as far as its kind and name go (null: no -j or -g): what the analyses that
 * follow jumps or look for verdicts read of every rule, without the rule built.
 */
export type TargetName = { readonly kind: Target['kind']; readonly name: string; readonly goto: boolean } | null;

/** The TargetName of a built rule. */
export function targetNameOf(r: Rule): TargetName {
  const t = r.target;
  return t ? { kind: t.kind, name: t.name, goto: t.kind === 'chain' && t.goto } : null;
}

const chainIndices = new WeakMap<Table, () => ChainIndex | null>();

/** Gives `table` its chain index, made on first use (null: the table is not of the kind above). */
export function setChainIndex(table: Table, index: () => ChainIndex | null): void {
  chainIndices.set(table, index);
}

/** The table's chain index, when its reader gave one and the table is of that kind. */
export function chainIndexOf(table: Table): ChainIndex | null {
  return chainIndices.get(table)?.() ?? null;
}

export interface Ruleset {
  readonly family: Family;
  readonly tables: readonly Table[];
  /** Lines outside any table (comments, blanks), with the index of the table they precede. */
  readonly outer: readonly { readonly before: number; readonly trivia: Trivia }[];
  /** False when the text's last line had no newline (restore rendering keeps that). */
  readonly finalNewline?: boolean;
}

export const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};
