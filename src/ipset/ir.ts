// ipset contents as data: what `ipset save` prints and `ipset restore` reads (ipset(8)). One set
// is a `create NAME TYPE OPTIONS...` line followed by one `add NAME ENTRY` line per member.
// Entries keep their exact text (kube-proxy compares entry strings, Entry.String in
// pkg/proxy/ipvs/ipset) plus the parsed dimensions, as numbers, the simulator matches on.
import type { Span } from '../iptables/ir.js';
import type { Family, Ip } from '../net/index.js';

/** The set types kpsim understands; any other type is kept with its entries as text. */
export const SET_TYPES = {
  'hash:ip': ['ip'],
  'hash:net': ['net'],
  'hash:ip,port': ['ip', 'port'],
  'hash:net,port': ['net', 'port'],
  'hash:ip,port,ip': ['ip', 'port', 'ip'],
  'hash:ip,port,net': ['ip', 'port', 'net'],
  'bitmap:port': ['port'],
} as const satisfies Record<string, readonly Dimension[]>;

export type Dimension = 'ip' | 'net' | 'port';
export type KnownSetType = keyof typeof SET_TYPES;

export function isKnownSetType(t: string): t is KnownSetType {
  return Object.hasOwn(SET_TYPES, t);
}

/** `family inet`, `hashsize 1024`, `range 0-65535`, `counters` (a flag: value null), in written order. */
export interface SetOption {
  readonly name: string;
  readonly value: string | null;
}

/**
 * One dimension of an entry: an address (a network for `net`, /32 or /128 for `ip`: a `Cidr` of
 * src/net) or a port.
 */
export type EntryPart =
  | { readonly dim: 'ip' | 'net'; readonly family: Family; readonly network: Ip; readonly prefix: number }
  /** `tcp:80` in hash types (the protocol's number; tcp when none is written; null for bitmap:port, which has none), ranges `a-b`. */
  | { readonly dim: 'port'; readonly protocol: number | null; readonly from: number; readonly to: number };

export interface SetEntry {
  /** The entry exactly as written: `10.20.30.41,tcp:80`. */
  readonly text: string;
  /** Parsed dimensions; empty for sets of types kpsim does not model. */
  readonly parts: readonly EntryPart[];
  /** Per-entry options after the entry (`timeout 30`, `comment "x"`, `nomatch`), verbatim. */
  readonly options: readonly SetOption[];
  readonly span: Span | null;
}

export interface IpSet {
  readonly name: string;
  readonly type: string;
  /** From the `family` option; hash types default to inet, bitmap:port has none. */
  readonly family: Family | null;
  readonly options: readonly SetOption[];
  readonly entries: readonly SetEntry[];
  readonly span: Span | null;
}

/** Sets in creation order, as `ipset save` lists them. */
export interface IpsetDump {
  readonly sets: readonly IpSet[];
}

/** ipset's IPSET_MAXNAMELEN is 32 bytes including the terminating NUL. */
export const MAX_SET_NAME = 31;

/** Options the kernel adds on ipset 7.x (`bucketsize`, `initval` is random per set) that restore accepts but kube-proxy never writes. */
export const KERNEL_ADDED_OPTIONS: ReadonlySet<string> = new Set(['bucketsize', 'initval']);
