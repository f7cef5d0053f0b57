// The nftables IR: one file of nft text as written, typed, for both spellings nft reads:
//
//   knftables' transaction lines (what kube-proxy hands to `nft -f`):
//     add table ip kube-proxy { comment "rules for kube-proxy" ; }
//     add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
//   `nft list ruleset` blocks (what a node shows):
//     table ip kube-proxy {
//     	chain nat-prerouting {
//     		type nat hook prerouting priority dstnat; policy accept;
//     		jump services
//     	}
//     }
//
// Both are commands (`table ip x { ... }` is nft's `add table` without the verb) whose bodies hold
// declarations, properties and rules. A rule is an ordered list of typed statements; statements
// hold typed expressions; values carry what nft reads from them (addresses as numbers, ports,
// protocol numbers, ct state bits), so the simulator never reads text again. Anything kpsim does
// not model is an `opaque` statement (or item) with its exact text.
//
// Rendering (render.ts) spells the IR back. Each unit (a command line, a property, a rule) is a
// list of tokens with the whitespace nft's own printer (listing) or knftables (transaction) puts
// between them; where the source spaced or laid out things otherwise, `layout` and `gaps` keep the
// source's whitespace, so render(parse(x)) === x for every well-formed x.
//
// Who builds on it: a compiler emits Commands with no layout (canonical): `add` lines for what
// kube-proxy hands to `nft -f`, and a verb-less `table` block, in the kernel's order and spelling,
// for what `nft list table` shows; renderNft spells both. state.ts applies any file to the
// kernel's state as `nft -f` does (tables, chains with hooks and rules, sets with typed elements,
// handles as the kernel numbers them): what the node value and the simulator read.
import type { SourceSpan } from '../diag/diagnostic.js';
import type { Family } from '../net/index.js';

export type Span = SourceSpan;
/** The family of an address literal (the lexer tells IPv4 and IPv6 apart by their form). */
export type AddressFamily = Family;

/** The families of nft tables (`nft(8)`, ADDRESS FAMILIES). Omitted in the text, it is `ip`. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

// ---------------------------------------------------------------------------------------------
// Values: the literals of nft's expressions. `text` is always the exact token.

export interface Ipv4Value {
  readonly kind: 'ipv4';
  readonly text: string;
  readonly address: number;
}
export interface Ipv6Value {
  readonly kind: 'ipv6';
  readonly text: string;
  readonly address: bigint;
}
/** `10.0.0.0/8`: `network` has the host bits cleared (nft warns about none and clears them). */
export interface PrefixValue {
  readonly kind: 'prefix';
  readonly base: Ipv4Value | Ipv6Value;
  readonly lengthText: string;
  readonly length: number;
  readonly network: number | bigint;
}
/** A number, decimal or `0x` hex. */
export interface NumberValue {
  readonly kind: 'number';
  readonly text: string;
  readonly value: number;
}
/** A negative number (`priority -110`): the `-` and the number are two tokens. */
export interface NegativeValue {
  readonly kind: 'negative';
  readonly magnitude: NumberValue;
  readonly value: number;
}
/** `10800s`, `3h`, `2h59m59s996ms`, in milliseconds. */
export interface TimeValue {
  readonly kind: 'time';
  readonly text: string;
  readonly ms: number;
}
/**
 * A string: an unquoted word (`eth0`, `ipv4_addr`) or a quoted one (`"cali*"`). `wildcard` is an
 * interface name ending in `*` (nft's prefix match on interface names).
 */
export interface StringValue {
  readonly kind: 'string';
  readonly text: string;
  readonly value: string;
  readonly quoted: boolean;
  readonly wildcard: boolean;
}
/**
 * A name from a datatype's symbol table, resolved against the left side's type: `tcp` (inet_proto
 * 6), `new` (ct_state 8), `local` (fib_addrtype 2), `ipv6` (nfproto 10), `http` (inet_service 80).
 * `value` is null where kpsim does not know the type's symbols.
 */
export interface SymbolValue {
  readonly kind: 'symbol';
  readonly text: string;
  readonly value: number | null;
}
/** `a-b`: a range of numbers, ports or addresses. */
export interface RangeValue {
  readonly kind: 'range';
  readonly from: Value;
  readonly to: Value;
}
/** `established,related`, `dynamic,timeout`: a comma list of flags (bits or-ed in `value`). */
export interface ListValue {
  readonly kind: 'list';
  readonly items: readonly Value[];
  readonly value: number | null;
}
/** `$name`, a variable from `define` (nft -f input only). */
export interface VariableValue {
  readonly kind: 'variable';
  readonly text: string;
}
/** A literal kpsim reads but does not interpret (an Ethernet address). */
export interface RawValue {
  readonly kind: 'raw';
  readonly text: string;
}

export type Value =
  | Ipv4Value
  | Ipv6Value
  | PrefixValue
  | NumberValue
  | NegativeValue
  | TimeValue
  | StringValue
  | SymbolValue
  | RangeValue
  | ListValue
  | VariableValue
  | RawValue;

// ---------------------------------------------------------------------------------------------
// Expressions (nft(8), EXPRESSIONS).

/** `ip saddr`, `ip6 daddr`, `tcp dport`, `th dport`, `ether type`, `icmp type`: header fields. */
export interface PayloadExpr {
  readonly kind: 'payload';
  readonly protocol: string;
  readonly field: string;
}
/** `meta l4proto` (written with `meta`) or `iifname`, `mark` (meta keys nft also reads bare). */
export interface MetaExpr {
  readonly kind: 'meta';
  readonly key: string;
  readonly bare: boolean;
}
/** `ct state`, `ct mark`, `ct original saddr`, `ct reply ip daddr`. */
export interface CtExpr {
  readonly kind: 'ct';
  readonly key: string;
  readonly direction: 'original' | 'reply' | null;
  /** `ct original ip saddr`: the family word nft writes before address keys. */
  readonly family: 'ip' | 'ip6' | null;
}
/** `fib daddr type`, `fib saddr . iif oif`: a FIB lookup on the listed keys. */
export interface FibExpr {
  readonly kind: 'fib';
  readonly flags: readonly string[];
  readonly result: string;
}
/** `numgen random mod N [offset K]`: the kernel draws reciprocal_scale(get_random_u32(), N) + K. */
export interface NumgenExpr {
  readonly kind: 'numgen';
  readonly mode: 'random' | 'inc';
  readonly mod: NumberValue;
  readonly offset: NumberValue | null;
}
/** `jhash EXPR mod N [seed S] [offset K]`, `symhash mod N [offset K]`. */
export interface HashExpr {
  readonly kind: 'hash';
  readonly function: 'jhash' | 'symhash';
  readonly expr: Expr | null;
  readonly mod: NumberValue;
  readonly seed: NumberValue | null;
  readonly offset: NumberValue | null;
}
/** `a . b . c`. */
export interface ConcatExpr {
  readonly kind: 'concat';
  readonly parts: readonly Expr[];
}
export type BinaryOp = 'and' | 'or' | 'xor' | 'lshift' | 'rshift';
/** `meta mark & 0x4000`, `mark or 0x4000` (`spelling` is the operator as written). */
export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly spelling: string;
  readonly left: Expr;
  readonly right: Expr;
}
/** `tcp flags syn / fin,syn,rst,ack`: nft's short form of `(flags & mask) == value`. */
export interface MaskedExpr {
  readonly kind: 'masked';
  readonly value: Expr;
  readonly mask: Expr;
}
export interface ValueExpr {
  readonly kind: 'value';
  readonly value: Value;
}
/** `{ a, b }`: an anonymous set (or map, when its elements carry data). */
export interface SetExpr {
  readonly kind: 'set';
  readonly elements: readonly SetElement[];
}
/** `@name`: a named set or map. */
export interface SetRefExpr {
  readonly kind: 'setRef';
  readonly name: string;
}
/** `KEY map { ... }` / `KEY map @m`: the data of the element KEY finds (NAT targets). */
export interface MapExpr {
  readonly kind: 'map';
  readonly key: Expr;
  readonly map: SetExpr | SetRefExpr;
}
/** A verdict as data (`: goto chain` in a verdict map, `policy accept`). */
export interface VerdictExpr {
  readonly kind: 'verdict';
  readonly verdict: Verdict;
  readonly chain: string | null;
}
/** `(expr)`, kept for rendering. */
export interface ParenExpr {
  readonly kind: 'paren';
  readonly expr: Expr;
}

export type Expr =
  | PayloadExpr
  | MetaExpr
  | CtExpr
  | FibExpr
  | NumgenExpr
  | HashExpr
  | ConcatExpr
  | BinaryExpr
  | MaskedExpr
  | ValueExpr
  | SetExpr
  | SetRefExpr
  | MapExpr
  | VerdictExpr
  | ParenExpr;

/** One element of a set or map: its key, options as written, and the data after `:`. */
export interface SetElement {
  readonly key: Expr;
  readonly options: readonly ElementOption[];
  readonly data: Expr | null;
  readonly span: Span | null;
}
export type ElementOption =
  | { readonly kind: 'timeout'; readonly value: TimeValue | NumberValue }
  | { readonly kind: 'expires'; readonly value: TimeValue | NumberValue }
  | { readonly kind: 'comment'; readonly comment: StringValue }
  | { readonly kind: 'counter'; readonly packets: NumberValue | null; readonly bytes: NumberValue | null };

// ---------------------------------------------------------------------------------------------
// Statements (nft(8), STATEMENTS).

export type Verdict = 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto' | 'queue';

/** `eq` `==`, `ne` `!=`, ...; `implicit` when no operator is written (equality, set lookup, flag test). */
export type RelOp = 'implicit' | 'eq' | 'ne' | 'lt' | 'gt' | 'le' | 'ge';

export interface MatchStmt {
  readonly kind: 'match';
  readonly left: Expr;
  readonly op: RelOp;
  /** The operator as written (`!=`, `ne`), null when implicit. */
  readonly opSpelling: string | null;
  readonly right: Expr;
}
/** `accept`, `drop`, `return`, `continue`, `jump X`, `goto X`. */
export interface VerdictStmt {
  readonly kind: 'verdict';
  readonly verdict: Verdict;
  readonly chain: string | null;
}
/** `KEY vmap { ... }` / `KEY vmap @m`: the verdict of the element KEY finds; none found, the rule goes on. */
export interface VmapStmt {
  readonly kind: 'vmap';
  readonly key: Expr;
  readonly map: SetExpr | SetRefExpr;
}
/** `reject`, `reject with icmp port-unreachable`, `reject with tcp reset`. */
export interface RejectStmt {
  readonly kind: 'reject';
  readonly with: { readonly family: 'icmp' | 'icmpv6' | 'icmpx' | 'tcp'; readonly typeWord: boolean; readonly code: string } | null;
}
/** `counter` or `counter packets N bytes M`. */
export interface CounterStmt {
  readonly kind: 'counter';
  readonly packets: NumberValue | null;
  readonly bytes: NumberValue | null;
}
export type NatType = 'snat' | 'dnat' | 'masquerade' | 'redirect';
/**
 * `dnat to 10.180.0.1:80`, `dnat ip to ip daddr . tcp dport map @m`, `snat to 1.2.3.4-1.2.3.8`,
 * `masquerade fully-random`, `redirect to :8080`. `address` and `port` are what follows `to`
 * (either may be absent); `flags` are `random`, `fully-random`, `persistent`.
 */
export interface NatStmt {
  readonly kind: 'nat';
  readonly type: NatType;
  readonly family: 'ip' | 'ip6' | null;
  readonly to: boolean;
  readonly address: Expr | null;
  /** `[fd00::1]:80`: the IPv6 address was bracketed. */
  readonly bracketed: boolean;
  readonly port: Expr | null;
  readonly flags: readonly string[];
}
/** `meta mark set EXPR`, `ct mark set EXPR`, `mark set mark or 0x4000`. */
export interface SetStmt {
  readonly kind: 'set';
  readonly target: Expr;
  readonly value: Expr;
}
/** `update @s { ip saddr }`, `add @s { ip saddr timeout 1h }`, `delete @s { ... }`: the packet's key into a set. */
export interface SetUpdateStmt {
  readonly kind: 'setUpdate';
  readonly op: 'add' | 'update' | 'delete';
  readonly set: string;
  readonly element: SetElement;
}
export type LogOption =
  | { readonly kind: 'prefix'; readonly value: StringValue }
  | { readonly kind: 'level' | 'flags'; readonly value: StringValue }
  | { readonly kind: 'group' | 'snaplen' | 'queue-threshold'; readonly value: NumberValue };
export interface LogStmt {
  readonly kind: 'log';
  readonly options: readonly LogOption[];
}
/** `limit rate [over] 10/second [burst 5 packets]`, `limit rate 1 mbytes/second`. */
export interface LimitStmt {
  readonly kind: 'limit';
  readonly over: boolean;
  readonly rate: NumberValue;
  readonly unit: string | null;
  readonly per: string;
  readonly burst: NumberValue | null;
  readonly burstUnit: string | null;
}
/** `comment "..."`: nft keeps it in the rule's user data and prints it last. */
export interface CommentStmt {
  readonly kind: 'comment';
  readonly comment: StringValue;
}
export interface NotrackStmt {
  readonly kind: 'notrack';
}
/** `xt match set`, `xt target MARK`: an iptables-nft rule part nft cannot print in its own terms. */
export interface XtStmt {
  readonly kind: 'xt';
  readonly type: 'match' | 'target' | 'watcher';
  readonly name: string;
}
/** Text kpsim does not model, kept as written; the simulator reports it at `span`. */
export interface OpaqueStmt {
  readonly kind: 'opaque';
  readonly text: string;
  readonly span: Span | null;
}

export type Stmt =
  | MatchStmt
  | VerdictStmt
  | VmapStmt
  | RejectStmt
  | CounterStmt
  | NatStmt
  | SetStmt
  | SetUpdateStmt
  | LogStmt
  | LimitStmt
  | CommentStmt
  | NotrackStmt
  | XtStmt
  | OpaqueStmt;

/** Where a unit's source spacing differs from the canonical one (see the file comment). */
export interface Layout {
  /** The text before each token but the first, when not the canonical spacing. */
  readonly layout?: readonly string[] | null;
  /** The exact text, when the unit's tokens cannot be rendered back from the IR (kept rarely). */
  readonly raw?: string | null;
}

export interface Rule extends Layout {
  readonly kind: 'rule';
  readonly stmts: readonly Stmt[];
  /** `# handle N` after the rule (`nft -a list ruleset`). */
  readonly handle: number | null;
  readonly span: Span | null;
}

// ---------------------------------------------------------------------------------------------
// Declarations and their bodies.

/** A chain's priority: `-110`, `dstnat`, `dstnat - 10`, `filter + 5`; `value` is the number. */
export interface Priority {
  readonly name: string | null;
  readonly sign: '+' | '-' | null;
  readonly number: NumberValue | NegativeValue | null;
  /** The priority as a number: the named priority's value (by family and hook) plus the offset. */
  readonly value: number;
}

export type ChainItem =
  | ({ readonly kind: 'hook'; readonly type: string; readonly hook: string; readonly device: StringValue | null; readonly priority: Priority; readonly span: Span | null; readonly handle?: null } & Layout)
  | ({ readonly kind: 'policy'; readonly policy: 'accept' | 'drop'; readonly span: Span | null; readonly handle?: null } & Layout)
  | CommentItem
  | Rule
  | OpaqueItem;

export type SetItem =
  | ({
      readonly kind: 'type';
      /** `ipv4_addr . inet_proto . inet_service`; `data` after `:` (`verdict`, `ipv4_addr`, ...). */
      readonly key: readonly string[];
      readonly data: readonly string[] | null;
      readonly span: Span | null;
      readonly handle?: null;
    } & Layout)
  | ({ readonly kind: 'typeof'; readonly key: Expr; readonly data: Expr | null; readonly span: Span | null; readonly handle?: null } & Layout)
  | ({ readonly kind: 'flags'; readonly flags: readonly string[]; readonly span: Span | null; readonly handle?: null } & Layout)
  | ({ readonly kind: 'timeout' | 'gc-interval'; readonly value: TimeValue | NumberValue; readonly span: Span | null; readonly handle?: null } & Layout)
  | ({ readonly kind: 'size'; readonly value: NumberValue; readonly span: Span | null; readonly handle?: null } & Layout)
  | ({ readonly kind: 'policy'; readonly policy: string; readonly span: Span | null; readonly handle?: null } & Layout)
  | ({ readonly kind: 'counter' | 'auto-merge'; readonly span: Span | null; readonly handle?: null } & Layout)
  | ({ readonly kind: 'elements'; readonly elements: readonly SetElement[]; readonly span: Span | null; readonly handle?: null } & Layout)
  | CommentItem
  | OpaqueItem;

export type TableItem =
  | ({ readonly kind: 'flags'; readonly flags: readonly string[]; readonly span: Span | null; readonly handle?: null } & Layout)
  | CommentItem
  | ChainDecl
  | SetDecl
  | ObjectDecl
  | OpaqueItem;

export type CommentItem = { readonly kind: 'comment'; readonly comment: StringValue; readonly span: Span | null; readonly handle?: null } & Layout;

/** A unit kpsim does not model (a flowtable's `devices = { ... }`, a counter object's values), as written. */
export interface OpaqueItem {
  readonly kind: 'opaque';
  readonly text: string;
  readonly span: Span | null;
  readonly handle?: number | null;
}

/** What is between `{` and `}`: items, and where the source laid them out otherwise, the gaps. */
export interface Body<I> {
  readonly items: readonly I[];
  /** One line (`{ type ipv4_addr ; comment "x" ; }`) or a block of indented lines. */
  readonly inline: boolean;
  /**
   * The exact text before each item and before `}` (whitespace, `;`, comment lines), only when it
   * is not the canonical layout; `# handle N` comments are read into the items' `handle`.
   */
  readonly gaps: readonly string[] | null;
}

/** The declaration heads shared by commands and blocks. */
interface DeclBase extends Layout {
  readonly name: string;
  /** `# handle N` after the `{` (`nft -a`). */
  readonly handle: number | null;
  readonly span: Span | null;
}
export interface ChainDecl extends DeclBase {
  readonly kind: 'chain';
  readonly body: Body<ChainItem>;
}
export interface SetDecl extends DeclBase {
  readonly kind: 'set' | 'map';
  readonly body: Body<SetItem>;
}
/** flowtable, counter, quota, limit, ct helper/timeout/expectation, synproxy, secmark: kept as written. */
export interface ObjectDecl extends DeclBase {
  readonly kind: 'object';
  readonly objectType: string;
  readonly body: Body<OpaqueItem>;
}

// ---------------------------------------------------------------------------------------------
// Commands: every top-level statement of a file.

export type Verb = 'add' | 'create' | 'insert' | 'replace' | 'delete' | 'destroy' | 'flush' | 'reset' | 'list';

/** Which table a command names: `ip kube-proxy` (the family omitted means `ip`). */
export interface TableRef {
  readonly family: NftFamily;
  readonly familyWritten: boolean;
  readonly table: string;
}

export type CommandObject =
  | { readonly kind: 'table'; readonly ref: TableRef; readonly handle: NumberValue | null; readonly body: Body<TableItem> | null; readonly declHandle: number | null }
  | { readonly kind: 'chain'; readonly ref: TableRef; readonly name: string | null; readonly handle: NumberValue | null; readonly body: Body<ChainItem> | null; readonly declHandle: number | null }
  | { readonly kind: 'set' | 'map'; readonly ref: TableRef; readonly name: string | null; readonly handle: NumberValue | null; readonly body: Body<SetItem> | null; readonly declHandle: number | null }
  | { readonly kind: 'element'; readonly ref: TableRef; readonly set: string; readonly elements: readonly SetElement[] }
  | {
      readonly kind: 'rule';
      readonly ref: TableRef;
      readonly chain: string;
      /** `index N`, `handle N` or `position N` before the rule. */
      readonly position: { readonly keyword: 'index' | 'handle' | 'position'; readonly value: NumberValue } | null;
      /** Null for `delete rule ... handle N`. */
      readonly rule: Rule | null;
    }
  | { readonly kind: 'ruleset'; readonly family: NftFamily | null }
  | { readonly kind: 'object'; readonly objectType: string; readonly ref: TableRef; readonly name: string; readonly body: Body<OpaqueItem> | null; readonly declHandle: number | null };

export interface Command extends Layout {
  readonly kind: 'command';
  /** Null: `table ip x { ... }` written without a verb, which nft reads as `add`. */
  readonly verb: Verb | null;
  readonly object: CommandObject;
  readonly span: Span | null;
}

/** A comment line or blank line between top-level commands, or a line kpsim could not read. */
export interface Trivia {
  readonly kind: 'trivia';
  readonly text: string;
  readonly span: Span | null;
}

/** A top-level unit nft reads but kpsim keeps as written (`define`, `include`, `list ...`). */
export interface OpaqueCommand {
  readonly kind: 'opaque';
  readonly text: string;
  readonly span: Span | null;
}

export type TopItem = Command | Trivia | OpaqueCommand;

export interface NftFile {
  readonly items: readonly TopItem[];
  /** The text between top-level items when not one newline each (`;`-separated commands). */
  readonly gaps: readonly string[] | null;
  readonly finalNewline: boolean;
}
