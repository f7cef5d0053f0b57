// The state that outlives one packet: the conntrack table, the `recent` lists, `statistic --mode
// nth` counters, and the clock. A world is immutable; a walk writes a `Delta` (a persistent list,
// shared between forks) and a finished walk folds its delta into a new world.
import type { Conn } from './conntrack.js';
import type { UnknownNode } from './types.js';
import { copyConn, timeoutSeconds } from './conntrack.js';

export interface RecentEntry {
  /** Times of the last hits, oldest first, at most `RECENT_STAMPS` (xt_recent ip_pkt_list_tot). */
  readonly stamps: readonly number[];
  readonly ttl: number;
}

export const RECENT_STAMPS = 20;

/**
 * A hook extension's state that is not a connection (IPVS: a persistence template or rr's last
 * pick), by the key the extension chose.
 */
export interface ExtensionSlot {
  /** What the extension remembers (IPVS: the real server, `ip:port`). */
  readonly value: string;
  readonly expires: number;
}

/**
 * A token bucket of -m limit (per rule) or -m hashlimit (per table entry): its credit in
 * microseconds of refill (one packet costs the rate's interval) as of `atUs`, the clock in
 * microseconds when it was last looked at.
 */
export interface Bucket {
  readonly atUs: number;
  readonly credit: number;
}

export interface World {
  readonly now: number;
  /** Tuple key of either direction -> the connection. */
  readonly conns: ReadonlyMap<string, Conn>;
  /** `LIST|address` -> entry. */
  readonly recent: ReadonlyMap<string, RecentEntry>;
  /** Rule uid -> nth counter. */
  readonly nth: ReadonlyMap<number, number>;
  /** Hook extensions' state by key (IPVS persistence templates and rr positions). */
  readonly ext: ReadonlyMap<string, ExtensionSlot>;
  /** Token buckets by key (`l<rule uid>`, `h<family>|<name>|<entry>`); absent: full. */
  readonly buckets: ReadonlyMap<string, Bucket>;
  /**
   * The unmodelled branches the packets before took to leave this world (null: none). The world
   * is what the node holds if those assumptions are true; a packet traced in it starts resting on
   * them, so its outcomes say what they depend on (trace.ts bounds their probabilities).
   */
  readonly assumed: UnknownNode | null;
}

export const EMPTY_WORLD: World = { now: 0, conns: new Map(), recent: new Map(), nth: new Map(), ext: new Map(), buckets: new Map(), assumed: null };

export type Delta =
  | { readonly kind: 'recent'; readonly key: string; readonly entry: RecentEntry | null; readonly prev: Delta | null }
  | { readonly kind: 'nth'; readonly uid: number; readonly count: number; readonly prev: Delta | null }
  | { readonly kind: 'ext'; readonly key: string; readonly slot: ExtensionSlot; readonly prev: Delta | null }
  | { readonly kind: 'bucket'; readonly key: string; readonly bucket: Bucket; readonly prev: Delta | null };

export function readRecent(world: World, delta: Delta | null, key: string): RecentEntry | null {
  for (let d = delta; d; d = d.prev) if (d.kind === 'recent' && d.key === key) return d.entry;
  return world.recent.get(key) ?? null;
}

export function readNth(world: World, delta: Delta | null, uid: number, initial: number): number {
  for (let d = delta; d; d = d.prev) if (d.kind === 'nth' && d.uid === uid) return d.count;
  return world.nth.get(uid) ?? initial;
}

export function readExtension(world: World, delta: Delta | null, key: string): ExtensionSlot | null {
  for (let d = delta; d; d = d.prev) if (d.kind === 'ext' && d.key === key) return d.slot;
  return world.ext.get(key) ?? null;
}

export function readBucket(world: World, delta: Delta | null, key: string): Bucket | null {
  for (let d = delta; d; d = d.prev) if (d.kind === 'bucket' && d.key === key) return d.bucket;
  return world.buckets.get(key) ?? null;
}

/** The world after a walk: its delta applied, its connection confirmed if it got that far, resting on what the walk assumed. */
export function applyDelta(world: World, delta: Delta | null, conn: Conn | null, keys: readonly string[], assumed: UnknownNode | null = world.assumed): World {
  const writes: Delta[] = [];
  for (let d = delta; d; d = d.prev) writes.push(d);
  let recent = world.recent;
  let nth = world.nth;
  let ext = world.ext;
  let buckets = world.buckets;
  if (writes.length) {
    const r = new Map(recent);
    const n = new Map(nth);
    const v = new Map(ext);
    const b = new Map(buckets);
    for (let i = writes.length - 1; i >= 0; i--) {
      const d = writes[i];
      if (d.kind === 'recent') {
        if (d.entry) r.set(d.key, d.entry);
        else r.delete(d.key);
      } else if (d.kind === 'ext') v.set(d.key, d.slot);
      else if (d.kind === 'bucket') b.set(d.key, d.bucket);
      else n.set(d.uid, d.count);
    }
    recent = r;
    nth = n;
    ext = v;
    buckets = b;
  }
  let conns = world.conns;
  if (conn && !conn.untracked && keys.length) {
    const c = new Map(conns);
    const stored = copyConn(conn);
    stored.confirmed = true;
    stored.expires = world.now + timeoutSeconds(stored);
    for (const k of keys) c.set(k, stored);
    conns = c;
  }
  return { now: world.now, conns, recent, nth, ext, buckets, assumed };
}

/** Moves the clock; expired connections disappear (recent entries age by their stamps). */
export function advance(world: World, now: number): World {
  if (now <= world.now) return world;
  let conns = world.conns;
  for (const c of conns.values()) {
    if (c.expires <= now) {
      const m = new Map<string, Conn>();
      for (const [k, v] of conns) if (v.expires > now) m.set(k, v);
      conns = m;
      break;
    }
  }
  let ext = world.ext;
  for (const v of ext.values()) {
    if (v.expires <= now) {
      ext = new Map([...ext].filter(([, x]) => x.expires > now));
      break;
    }
  }
  return { now, conns, recent: world.recent, nth: world.nth, ext, buckets: world.buckets, assumed: world.assumed };
}

/** A stable text of the whole state, so identical worlds from different paths merge. */
export function worldFingerprint(world: World): string {
  const parts: string[] = [];
  const seen = new Set<number>();
  for (const c of world.conns.values()) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    parts.push(
      `c${c.proto}:${c.orig.src}:${c.orig.sport}:${c.orig.dst}:${c.orig.dport}>${c.reply.src}:${c.reply.sport}:${c.reply.dst}:${c.reply.dport}:${+c.dnat}${+c.snat}${+c.seenReply}:${c.mark}:${c.expires}`,
    );
  }
  for (const [k, v] of world.recent) parts.push(`r${k}=${v.stamps.join(',')}`);
  for (const [k, v] of world.nth) parts.push(`n${k}=${v}`);
  for (const [k, v] of world.ext) parts.push(`x${k}=${v.value}@${v.expires}`);
  for (const [k, v] of world.buckets) parts.push(`b${k}=${v.atUs}:${v.credit}`);
  if (world.assumed) parts.push(`a${world.assumed.id}`);
  return parts.sort().join(';');
}
