// nftables sets and maps as lookups (nft_lookup.c, nft_set_*.c): named ones from the node's
// tables, anonymous ones from the rules. An element's key is one part per concatenated expression
// (`ip daddr . meta l4proto . th dport`); each part a value, a prefix or range (interval sets,
// `10.0.0.0/8`, `1000-2000`), or an interface name with `*` (a prefix of the name). Exact keys are
// found in a hash, the others by scanning, as the kernel's hash and rbtree/pipapo backends do.
//
// A set a rule updates (`update @affinity-X { ip saddr }`, kube-proxy's session affinity) also has
// the elements the walk's world holds: added by packets, each with its expiry (the set's or the
// statement's timeout), so `--flows` sees an entry age out.
import type { Expr, SetElement } from '../nftables/ir.js';
import type { Walk } from '../packetsim/types.js';
import { readExtension } from '../packetsim/world.js';
import { constant, type Val } from './values.js';

export type PartMatch =
  | { readonly k: 'eq'; readonly v: Val }
  | { readonly k: 'range'; readonly lo: number | bigint; readonly hi: number | bigint }
  /** An interface name written with `*`: the names it starts. */
  | { readonly k: 'prefix'; readonly p: string };

export interface SetEntry {
  readonly parts: readonly PartMatch[];
  /** A map's data (`goto service-X`, `10.0.0.1 . 80`); null in a set. */
  readonly data: Expr | null;
  /** When the element goes (seconds on the trace's clock); Infinity: never. */
  readonly expires: number;
  readonly element: SetElement | null;
}

/** Separates the parts of an exact key. */
const SEP = '\u0000';

export function exactKey(vals: readonly Val[]): string {
  return vals.length === 1 ? String(vals[0]) : vals.map(String).join(SEP);
}

/** The parts an element's key matches, or why kpsim cannot read it. */
export function keyParts(key: Expr): PartMatch[] | string {
  const parts = key.kind === 'concat' ? key.parts : [key];
  const out: PartMatch[] = [];
  for (const p of parts) {
    const m = partMatch(p);
    if (typeof m === 'string') return m;
    out.push(m);
  }
  return out;
}

function partMatch(e: Expr): PartMatch | string {
  if (e.kind === 'paren') return partMatch(e.expr);
  if (e.kind !== 'value') return `a ${e.kind} in a set element`;
  const v = e.value;
  switch (v.kind) {
    case 'prefix': {
      if (v.base.kind === 'ipv4') {
        const net = (v.network as number) >>> 0;
        const host = v.length === 0 ? 0xffffffff : v.length >= 32 ? 0 : (0xffffffff >>> v.length);
        return { k: 'range', lo: net, hi: (net | host) >>> 0 };
      }
      const net = v.network as bigint;
      const host = (1n << BigInt(128 - v.length)) - 1n;
      return { k: 'range', lo: net, hi: net | host };
    }
    case 'range': {
      const lo = constant({ kind: 'value', value: v.from });
      const hi = constant({ kind: 'value', value: v.to });
      if (lo === null || hi === null || typeof lo === 'string' || typeof hi === 'string') return 'a range kpsim cannot read';
      return { k: 'range', lo, hi };
    }
    case 'string':
      return v.wildcard ? { k: 'prefix', p: v.value.slice(0, -1) } : { k: 'eq', v: v.value };
    default: {
      const c = constant(e);
      return c === null ? `a ${v.kind} value in a set element` : { k: 'eq', v: c };
    }
  }
}

export function partMatches(m: PartMatch, v: Val): boolean {
  switch (m.k) {
    case 'eq':
      return m.v === v;
    case 'range':
      return typeof v !== 'string' && v >= m.lo && v <= m.hi;
    case 'prefix':
      return typeof v === 'string' && v.startsWith(m.p);
  }
}

/** Seconds an element lives from time 0 (`expires` as listed, else its `timeout`), Infinity without either. */
function expiry(el: SetElement): number {
  let timeout = Infinity;
  for (const o of el.options) {
    if (o.kind === 'expires') return (o.value.kind === 'time' ? o.value.ms : o.value.value * 1000) / 1000;
    if (o.kind === 'timeout') timeout = (o.value.kind === 'time' ? o.value.ms : o.value.value * 1000) / 1000;
  }
  return timeout;
}

export interface SetProblem {
  readonly element: SetElement;
  readonly reason: string;
}

/** Whether an element that goes at `expires` is there now (the clock read only for one that goes). */
function live(w: Walk, expires: number): boolean {
  return expires === Infinity || expires > w.ctx.world.now;
}

export class SetLookup {
  private readonly exact = new Map<string, SetEntry>();
  private readonly scan: SetEntry[] = [];
  /**
   * Whether a lookup may rest on the clock or on earlier packets: a set packets add to, or an
   * element that expires. A lookup in any other set reads nothing but its key (the flow cache asks
   * it again of another source: compile.ts).
   */
  readonly timed: boolean;

  /**
   * `dynamic`: the world key prefix of elements packets added (`update`/`add` statements), or null
   * for a set no rule writes.
   */
  constructor(
    elements: readonly SetElement[],
    readonly dynamic: string | null,
    problems: SetProblem[],
  ) {
    for (const el of elements) {
      const parts = keyParts(el.key);
      if (typeof parts === 'string') {
        problems.push({ element: el, reason: parts });
        continue;
      }
      const entry: SetEntry = { parts, data: el.data, expires: expiry(el), element: el };
      if (parts.every((p) => p.k === 'eq')) this.exact.set(exactKey(parts.map((p) => (p as { v: Val }).v)), entry);
      else this.scan.push(entry);
    }
    this.timed = dynamic !== null || [...this.exact.values(), ...this.scan].some((e) => e.expires !== Infinity);
  }

  /**
   * The element holding the packet's key, if any (and not expired). The clock is read only for an
   * element that expires: a trace that meets none has not read it (the flow cache may keep it).
   */
  find(w: Walk, vals: readonly Val[]): SetEntry | null {
    const key = exactKey(vals);
    if (this.dynamic !== null) {
      const slot = readExtension(w.ctx.world, w.delta, this.dynamic + key);
      // What packets did replaces what the table listed.
      if (slot) return live(w, slot.expires) ? { parts: [], data: null, expires: slot.expires, element: null } : null;
    }
    const hit = this.exact.get(key);
    if (hit) return live(w, hit.expires) ? hit : null;
    for (const e of this.scan) {
      if (e.parts.length !== vals.length) continue;
      let ok = true;
      for (let i = 0; i < vals.length && ok; i++) ok = partMatches(e.parts[i], vals[i]);
      if (ok && live(w, e.expires)) return e;
    }
    return null;
  }
}
