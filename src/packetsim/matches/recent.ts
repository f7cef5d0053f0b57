// recent (xt_recent.c, recent_mt). Lists are keyed by name and (masked) source or destination
// address; each entry keeps the times of its last RECENT_STAMPS hits. --rcheck/--update match
// when the address is listed and, with --seconds, has a hit no older than that (stamps older
// than now - seconds are skipped), with --hitcount at least that many; --update and --set add a
// hit; --remove drops the entry. kube-proxy's ClientIP affinity is `--rcheck --seconds T --reap`
// in KUBE-SVC-* and `--set` in KUBE-SEP-*.
import type { Family, OptionArg } from '../../iptables/ir.js';
import type { Ip } from '../../net/index.js';
import type { CMatch, Walk } from '../types.js';
import { readRecent, RECENT_STAMPS, type RecentEntry } from '../world.js';
import { intOf, negated, ValueError, wordOf } from './values.js';

type Cmd = 'set' | 'rcheck' | 'update' | 'remove';

export function compileRecent(opts: readonly OptionArg[], family: Family): CMatch[] {
  let name = 'DEFAULT';
  let cmd: Cmd | null = null;
  let invert = false;
  let seconds = 0;
  let hitcount = 0;
  let rdest = false;
  let mask: Ip | null = null;
  for (const opt of opts) {
    const n = opt.name;
    switch (n) {
      case 'name':
        name = wordOf(opt);
        break;
      case 'set':
      case 'rcheck':
      case 'update':
      case 'remove':
        if (cmd) throw new ValueError(`--${cmd} and --${n} cannot be combined`, opt);
        cmd = n;
        invert = negated(opt);
        break;
      case 'seconds':
        seconds = intOf(opt);
        break;
      case 'hitcount':
        hitcount = intOf(opt);
        break;
      case 'rdest':
        rdest = true;
        break;
      case 'rsource':
        rdest = false;
        break;
      case 'mask': {
        // The kernel ANDs the address with the mask (recent_mt, nf_inet_addr_mask).
        const v = opt.values[0];
        if (v?.type !== 'address' || v.family !== family) throw new ValueError(`--mask needs an ${family} netmask`, opt);
        mask = v.network;
        break;
      }
      case 'reap':
      case 'rttl':
        // --reap only frees memory of stale entries; --rttl checks TTL, which is not modelled
        // (every simulated packet of a flow has the same TTL).
        break;
      default:
        throw new ValueError(`unknown recent option ${opt.spelling}`, opt);
    }
  }
  if (!cmd) cmd = 'set';
  const command = cmd;
  const key = (w: Walk) => {
    const a = rdest ? w.pkt.dst : w.pkt.src;
    const m = mask === null ? a : family === 'ipv4' ? ((a as number) & (mask as number)) >>> 0 : (a as bigint) & (mask as bigint);
    return `${family === 'ipv4' ? '4' : '6'}|${name}|${m}`;
  };
  const hit = (w: Walk, k: string, prev: RecentEntry | null) => {
    const stamps = prev ? [...prev.stamps, w.ctx.world.now] : [w.ctx.world.now];
    if (stamps.length > RECENT_STAMPS) stamps.shift();
    w.delta = { kind: 'recent', key: k, entry: { stamps, ttl: 64 }, prev: w.delta };
  };
  const test = (w: Walk): boolean => {
    const k = key(w);
    const e = readRecent(w.ctx.world, w.delta, k);
    if (command === 'set') {
      hit(w, k, e);
      return !invert;
    }
    if (!e) return invert;
    let found = false;
    if (command === 'remove') found = true;
    else if (!seconds && !hitcount) found = true;
    else {
      const since = w.ctx.world.now - seconds;
      let hits = 0;
      for (const s of e.stamps) {
        if (seconds && s < since) continue;
        if (!hitcount || ++hits >= hitcount) {
          found = true;
          break;
        }
      }
    }
    if (found && command === 'remove') w.delta = { kind: 'recent', key: k, entry: null, prev: w.delta };
    if (found && command === 'update') hit(w, k, e);
    return found !== invert;
  };
  // Every command but --rcheck writes the list, which other rules read.
  return [{ kind: 'test', pure: command === 'rcheck', shared: command !== 'rcheck', test }];
}
