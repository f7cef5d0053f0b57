// ipset contents for `-m set`, read from `ipset save` output (`create NAME TYPE ...` and
// `add NAME ENTRY ...` lines). The types kube-proxy's IPVS mode uses are modelled: hash:ip,
// hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip, hash:ip,port,net, bitmap:port.
import { SET_TYPES, type Dimension } from '../ipset/ir.js';
import type { Family } from '../iptables/ir.js';
import { cidrContains, parseCidr, type Cidr, type Ip } from './addr.js';
import type { Packet } from './packet.js';
import { PROTOCOL_NUMBERS, type Protocol } from './packet.js';

type Dim = Dimension;

interface Element {
  readonly parts: readonly ElementPart[];
}

type ElementPart =
  | { readonly dim: 'ip'; readonly cidr: Cidr }
  | { readonly dim: 'port'; readonly proto: number | null; readonly from: number; readonly to: number };

export interface IpSet {
  readonly name: string;
  readonly type: string;
  readonly family: Family;
  readonly dims: readonly Dim[];
  readonly elements: Element[];
}

export type IpsetDb = ReadonlyMap<string, IpSet>;

export interface IpsetProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

// The set types and their dimensions are the ipset reader's (src/ipset/ir.ts).
const TYPES: Readonly<Record<string, readonly Dim[]>> = SET_TYPES;

export function parseIpsetSave(text: string, problems: IpsetProblem[]): Map<string, IpSet> {
  const sets = new Map<string, IpSet>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    const err = (message: string, word = 0) => {
      const col = lines[i].indexOf(words[word] ?? '') + 1;
      problems.push({ line: i + 1, col: col > 0 ? col : 1, message });
    };
    if (words[0] === 'create') {
      const dims = TYPES[words[2] ?? ''];
      if (!dims) {
        err(`unsupported set type ${words[2] ?? '(none)'}`, 2);
        continue;
      }
      const fam = words.indexOf('family');
      const family: Family = fam >= 0 && words[fam + 1] === 'inet6' ? 'ipv6' : 'ipv4';
      sets.set(words[1], { name: words[1], type: words[2], family, dims, elements: [] });
    } else if (words[0] === 'add') {
      const set = sets.get(words[1]);
      if (!set) {
        err(`add to undeclared set ${words[1]}`, 1);
        continue;
      }
      const el = parseElement(words[2] ?? '', set);
      if (typeof el === 'string') err(el, 2);
      else set.elements.push(el);
    } else {
      err(`unexpected ${words[0]}`);
    }
  }
  return sets;
}

function parseElement(text: string, set: IpSet): Element | string {
  const pieces = text.split(',');
  if (pieces.length !== set.dims.length) return `element ${text} does not fit ${set.type}`;
  const parts: ElementPart[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const dim = set.dims[i];
    const p = pieces[i];
    if (dim === 'port') {
      const colon = p.indexOf(':');
      const protoText = colon >= 0 ? p.slice(0, colon) : null;
      const portText = colon >= 0 ? p.slice(colon + 1) : p;
      const [a, b] = portText.split('-').map(Number);
      if (!Number.isInteger(a)) return `bad port ${p}`;
      const proto =
        set.type === 'bitmap:port' ? null : protoText === null ? 6 : (PROTOCOL_NUMBERS[protoText as Protocol] ?? Number(protoText));
      parts.push({ dim: 'port', proto, from: a, to: Number.isInteger(b) ? b : a });
    } else {
      const cidr = parseCidr(p, set.family);
      if (!cidr) return `bad address ${p}`;
      parts.push({ dim: 'ip', cidr });
    }
  }
  return { parts };
}

/** Whether the packet is in the set, each dimension taken from src or dst as `flags` says. */
export function setContains(set: IpSet, pkt: Packet, flags: readonly ('src' | 'dst')[]): boolean {
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

