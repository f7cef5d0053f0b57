// Reading option values. The reader types each value (`Value` in the IR); these helpers take the
// typed meaning when it is there and fall back to the exact text otherwise, so the simulator
// does not depend on which value type a given option happens to get.
import type { Family, OptionArg, Value } from '../../iptables/ir.js';
import { parseCidr, parseIp, type Cidr, type Ip } from '../addr.js';

export class ValueError extends Error {
  constructor(
    message: string,
    readonly opt: OptionArg,
  ) {
    super(message);
  }
}

export function negated(opt: OptionArg): boolean {
  return opt.negation !== 'none';
}

function unquote(t: string): string {
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/\\"/g, '"') : t;
}

export function valueText(v: Value): string {
  if (v.type === 'string') return v.value;
  return unquote(v.text);
}

export function textOf(opt: OptionArg): string {
  return opt.values.map(valueText).join(' ');
}

export function cidrsOf(opt: OptionArg, family: Family): Cidr[] {
  const out: Cidr[] = [];
  for (const v of opt.values) {
    if (v.type === 'address') {
      if (v.family !== family) throw new ValueError(`${v.text} is not an ${family} address`, opt);
      const c = parseCidr(`${v.address}/${v.prefix}`, family);
      if (!c) throw new ValueError(`bad address ${v.text}`, opt);
      out.push(c);
      continue;
    }
    for (const piece of valueText(v).split(',')) {
      const c = parseCidr(piece, family);
      if (!c) throw new ValueError(`bad ${family} address ${piece}`, opt);
      out.push(c);
    }
  }
  if (out.length === 0) throw new ValueError(`--${opt.name} needs an address`, opt);
  return out;
}

export function rangeOf(opt: OptionArg, family: Family): [Ip, Ip] {
  const v = opt.values[0];
  if (v && v.type === 'addressRange') {
    const a = parseIp(v.from, family);
    const b = parseIp(v.to, family);
    if (a !== null && b !== null) return [a, b];
  }
  const t = v ? valueText(v) : '';
  const [x, y] = t.split('-');
  const a = parseIp(x ?? '', family);
  const b = parseIp(y ?? x ?? '', family);
  if (a === null || b === null) throw new ValueError(`bad address range ${t}`, opt);
  return [a, b];
}

export type PortRanges = readonly (readonly [number, number])[];

export function portsOf(opt: OptionArg): PortRanges {
  const out: [number, number][] = [];
  for (const v of opt.values) {
    if (v.type === 'ports') {
      for (const r of v.ranges) out.push([r[0], r[1]]);
      continue;
    }
    if (v.type === 'integer') {
      out.push([v.value, v.value]);
      continue;
    }
    if (v.type === 'intRange') {
      out.push([v.from, v.to]);
      continue;
    }
    for (const piece of valueText(v).split(',')) {
      const [a, b] = piece.split(':');
      const from = a === '' ? 0 : Number(a);
      const to = b === undefined ? from : b === '' ? 65535 : Number(b);
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > 65535)
        throw new ValueError(`bad port ${piece}`, opt);
      out.push([from, to]);
    }
  }
  if (out.length === 0) throw new ValueError(`--${opt.name} needs a port`, opt);
  return out;
}

export function markOf(opt: OptionArg, index = 0): { value: number; mask: number } {
  const v = opt.values[index];
  if (v && v.type === 'mark') return { value: v.value >>> 0, mask: v.mask === null ? 0xffffffff : v.mask >>> 0 };
  if (v && v.type === 'integer') return { value: v.value >>> 0, mask: 0xffffffff };
  const t = v ? valueText(v) : '';
  const [a, b] = t.split('/');
  const value = Number(a);
  const mask = b === undefined ? 0xffffffff : Number(b);
  if (!Number.isFinite(value) || !Number.isFinite(mask) || a === '') throw new ValueError(`bad mark ${t}`, opt);
  return { value: value >>> 0, mask: mask >>> 0 };
}

export function intOf(opt: OptionArg): number {
  const v = opt.values[0];
  if (v && v.type === 'integer') return v.value;
  const t = v ? valueText(v) : '';
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new ValueError(`--${opt.name} needs a number, not ${t || 'nothing'}`, opt);
  return n;
}

export function listOf(opt: OptionArg): string[] {
  const out: string[] = [];
  for (const v of opt.values) {
    if (v.type === 'list') out.push(...v.items);
    else out.push(...valueText(v).split(','));
  }
  return out.filter(Boolean);
}

export function wordOf(opt: OptionArg): string {
  const v = opt.values[0];
  return v ? valueText(v) : '';
}

/** Canonical option names: the reader should already give these; aliases are folded just in case. */
const ALIASES: Readonly<Record<string, string>> = {
  s: 'source',
  src: 'source',
  d: 'destination',
  dst: 'destination',
  p: 'protocol',
  i: 'in-interface',
  o: 'out-interface',
  f: 'fragment',
  sport: 'source-port',
  dport: 'destination-port',
  sports: 'source-ports',
  dports: 'destination-ports',
  port: 'ports',
  'to-destination': 'to-destination',
  'to-source': 'to-source',
  'src-range': 'src-range',
  'dst-range': 'dst-range',
};

export function canonicalName(name: string): string {
  const n = name.replace(/^-+/, '');
  return ALIASES[n] ?? n;
}
