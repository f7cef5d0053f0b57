// ipset contents for `-m set`, from the ipset reader's dump (src/ipset: `ipset save` output or
// kube-proxy's compiled sets), its entries already read into numbers. The types kube-proxy's IPVS
// mode uses are modelled: hash:ip, hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip,
// hash:ip,port,net, bitmap:port. Sets of other types are left out, so a rule naming one is
// UNKNOWN, not wrong.
import { isKnownSetType, SET_TYPES, type Dimension, type IpsetDump } from '../ipset/ir.js';
import { cidrContains, type Cidr, type Family, type Ip } from '../net/index.js';
import type { Packet } from './packet.js';

interface Element {
  readonly parts: readonly ElementPart[];
}

type ElementPart =
  | { readonly dim: 'ip'; readonly cidr: Cidr }
  /** `proto` null: any protocol (bitmap:port). */
  | { readonly dim: 'port'; readonly proto: number | null; readonly from: number; readonly to: number };

/** One set as `-m set` sees it. */
export interface SetContents {
  readonly name: string;
  readonly type: string;
  readonly family: Family;
  readonly dims: readonly Dimension[];
  readonly elements: readonly Element[];
}

export type IpsetDb = ReadonlyMap<string, SetContents>;

/** The sets of a dump; a set with no family of its own (bitmap:port) takes the rules' family. */
export function ipsetDb(dump: IpsetDump, family: Family): IpsetDb {
  const db = new Map<string, SetContents>();
  for (const set of dump.sets) {
    if (!isKnownSetType(set.type)) continue;
    const fam = set.family ?? family;
    const elements: Element[] = [];
    for (const e of set.entries) {
      // `nomatch` entries are holes in a hash:net set; kube-proxy writes none.
      if (e.options.some((o) => o.name === 'nomatch')) continue;
      const parts: ElementPart[] = [];
      for (const p of e.parts) {
        if (p.dim === 'port') parts.push({ dim: 'port', proto: p.protocol, from: p.from, to: p.to });
        else if (p.family === fam) parts.push({ dim: 'ip', cidr: p });
      }
      if (parts.length === e.parts.length && parts.length > 0) elements.push({ parts });
    }
    db.set(set.name, { name: set.name, type: set.type, family: fam, dims: SET_TYPES[set.type], elements });
  }
  return db;
}

/** Whether the packet is in the set, each dimension taken from src or dst as `flags` says. */
export function setContains(set: SetContents, pkt: Packet, flags: readonly ('src' | 'dst')[]): boolean {
  if (set.family !== pkt.family) return false;
  outer: for (const el of set.elements) {
    for (let i = 0; i < el.parts.length; i++) {
      const part = el.parts[i];
      const fromSrc = (flags[i] ?? flags[flags.length - 1]) === 'src';
      if (part.dim === 'ip') {
        const addr: Ip = fromSrc ? pkt.src : pkt.dst;
        if (!cidrContains(part.cidr, addr)) continue outer;
      } else {
        if (part.proto !== null && part.proto !== pkt.proto) continue outer;
        const port = fromSrc ? pkt.sport : pkt.dport;
        if (port < part.from || port > part.to) continue outer;
      }
    }
    return true;
  }
  return false;
}
