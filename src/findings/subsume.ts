// Does every packet one rule matches also match another? Each rule's matches become atoms
// (addresses, protocol, ports, interfaces, conntrack states, and any other option by its exact
// text); rule A's matches cover rule B's when each atom of A is implied by some atom of B. Sound,
// not complete: where kpsim cannot tell (an atom it only knows as text), it says no, so a rule is
// never called shadowed when it is not. A statistic match covers nothing (it matches only
// sometimes); `recent` and other stateful atoms only themselves.
import type { Arg, OptionArg, Rule } from '../iptables/ir.js';
import { maskIp, type Cidr, type Family } from '../net/index.js';

type Atom =
  | { readonly kind: 'addr'; readonly dir: 'src' | 'dst'; readonly cidr: Cidr; readonly neg: boolean }
  | { readonly kind: 'proto'; readonly number: number | null; readonly neg: boolean }
  | { readonly kind: 'ports'; readonly dir: 'src' | 'dst'; readonly ranges: readonly (readonly [number, number])[]; readonly neg: boolean }
  | { readonly kind: 'iface'; readonly dir: 'in' | 'out'; readonly name: string; readonly wildcard: boolean; readonly neg: boolean }
  | { readonly kind: 'states'; readonly states: ReadonlySet<string>; readonly neg: boolean }
  /** Matches only sometimes: implies nothing and is implied by nothing. */
  | { readonly kind: 'random' }
  | { readonly kind: 'text'; readonly text: string };

const PORT_OPTIONS: Readonly<Record<string, 'src' | 'dst'>> = { dport: 'dst', sport: 'src', dports: 'dst', sports: 'src', 'destination-ports': 'dst', 'source-ports': 'src' };

function atomOf(o: OptionArg, family: Family): Atom | null {
  const neg = o.negation !== 'none';
  const v = o.values[0];
  if (o.module === null) {
    if ((o.name === 'source' || o.name === 'destination') && v?.type === 'address') {
      // The reader's address value is the network, host bits cleared: a Cidr already.
      if (v.family === family) return { kind: 'addr', dir: o.name === 'source' ? 'src' : 'dst', cidr: v, neg };
    }
    if (o.name === 'protocol' && v?.type === 'protocol') return { kind: 'proto', number: v.number, neg };
    if ((o.name === 'in-interface' || o.name === 'out-interface') && v?.type === 'interface') return { kind: 'iface', dir: o.name === 'in-interface' ? 'in' : 'out', name: v.name, wildcard: v.wildcard, neg };
  } else {
    if (o.module === 'comment') return null;
    if (o.module === 'statistic') return { kind: 'random' };
    if (o.name in PORT_OPTIONS && v?.type === 'ports') return { kind: 'ports', dir: PORT_OPTIONS[o.name], ranges: v.ranges, neg };
    if ((o.name === 'ctstate' || o.name === 'state') && v?.type === 'list') return { kind: 'states', states: new Set(v.items), neg };
  }
  return { kind: 'text', text: `${o.module ?? ''} ${neg ? '!' : ''}${o.name} ${o.values.map((x) => x.text).join(' ')}` };
}

/** The rule's matches as atoms (`-m MODULE` loads and comments are not matches). */
export function atoms(r: Rule, family: Family): Atom[] {
  const out: Atom[] = [];
  for (const a of r.args as readonly Arg[]) {
    if (a.kind === 'module') continue;
    if (a.kind === 'opaque') {
      out.push({ kind: 'text', text: `opaque ${a.text}` });
      continue;
    }
    const atom = atomOf(a, family);
    if (atom) out.push(atom);
  }
  return out;
}

function within(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && maskIp(inner.network, outer.prefix, inner.family) === outer.network;
}

function disjoint(a: Cidr, b: Cidr): boolean {
  return !within(a, b) && !within(b, a);
}

function rangesWithin(inner: readonly (readonly [number, number])[], outer: readonly (readonly [number, number])[]): boolean {
  return inner.every(([lo, hi]) => outer.some(([a, b]) => a <= lo && hi <= b));
}

function rangesDisjoint(x: readonly (readonly [number, number])[], y: readonly (readonly [number, number])[]): boolean {
  return x.every(([lo, hi]) => y.every(([a, b]) => hi < a || b < lo));
}

/** Every packet matching `b` matches `a`. */
function implies(b: Atom, a: Atom): boolean {
  switch (a.kind) {
    case 'random':
      return false;
    case 'text':
      return b.kind === 'text' && b.text === a.text;
    case 'addr':
      if (b.kind !== 'addr' || b.dir !== a.dir) return false;
      if (!a.neg) return !b.neg && within(b.cidr, a.cidr);
      return b.neg ? within(a.cidr, b.cidr) : disjoint(b.cidr, a.cidr);
    case 'proto':
      if (b.kind !== 'proto') return false;
      if (!a.neg) return a.number === null ? !b.neg : !b.neg && b.number === a.number;
      return b.neg ? b.number === a.number : b.number !== null && b.number !== a.number;
    case 'ports':
      if (b.kind !== 'ports' || b.dir !== a.dir) return false;
      if (!a.neg) return !b.neg && rangesWithin(b.ranges, a.ranges);
      return b.neg ? rangesWithin(a.ranges, b.ranges) : rangesDisjoint(b.ranges, a.ranges);
    case 'iface':
      if (b.kind !== 'iface' || b.dir !== a.dir || b.neg !== a.neg) return false;
      if (a.neg) return b.name === a.name && b.wildcard === a.wildcard;
      return a.wildcard ? b.name.startsWith(a.name) : !b.wildcard && b.name === a.name;
    case 'states':
      if (b.kind !== 'states') return false;
      if (!a.neg) return !b.neg && [...b.states].every((s) => a.states.has(s));
      return b.neg ? [...a.states].every((s) => b.states.has(s)) : [...b.states].every((s) => !a.states.has(s));
    default: {
      const never: never = a;
      return never;
    }
  }
}

/** Every packet that matches rule `b`'s matches also matches rule `a`'s. */
export function covers(a: readonly Atom[], b: readonly Atom[]): boolean {
  return a.every((x) => b.some((y) => implies(y, x)));
}

/** The single destination host (`-d A/32`) and destination ports of a rule: what shadowing candidates are indexed by. */
export function indexKeys(list: readonly Atom[]): { readonly host: string | null; readonly port: number | null } {
  let host: string | null = null;
  let port: number | null = null;
  for (const a of list) {
    if (a.kind === 'addr' && a.dir === 'dst' && !a.neg && a.cidr.prefix === (typeof a.cidr.network === 'number' ? 32 : 128)) host = String(a.cidr.network);
    if (a.kind === 'ports' && a.dir === 'dst' && !a.neg && a.ranges.length === 1 && a.ranges[0][0] === a.ranges[0][1]) port = a.ranges[0][0];
  }
  return { host, port };
}

export type { Atom };
