// limit (xt_limit.c limit_mt) and hashlimit (xt_hashlimit.c hashlimit_mt_common): token buckets.
// A bucket holds up to `burst` packets' worth of credit and refills one packet's worth per rate
// interval; a packet that finds a packet's worth takes it and matches (hashlimit --hashlimit-above:
// matches when there is none). A bucket starts full: xt_limit fills it when the rule is loaded
// (limit_mt_check), hashlimit when an entry is made for the packet's key (rateinfo_init); with no
// packet before, the first one always finds credit. Credit is kept in microseconds of refill
// (the kernel counts it in jiffies, which only rounds the times). -m limit has one bucket per
// rule; -m hashlimit one per table entry, the table named by --hashlimit-name and shared by every
// rule naming it, the entry keyed by the --hashlimit-mode fields (addresses masked), and dropped
// after --hashlimit-htable-expire ms without a packet.
import type { Family, OptionArg } from '../../iptables/ir.js';
import { protocolHasPorts, type Ip } from '../../net/index.js';
import type { CMatch, Walk } from '../types.js';
import { readBucket } from '../world.js';
import { intOf, listOf, negated, ValueError, wordOf } from './values.js';

/** xt_limit's defaults (libxt_limit): 3/hour, burst 5. */
const LIMIT_DEFAULT_US = 1_200_000_000;
const BURST_DEFAULT = 5;

function rateOf(opt: OptionArg): { periodUs: number; perSeconds: number } {
  const v = opt.values[0];
  if (v?.type !== 'rate') throw new ValueError(`--${opt.name} needs a rate N/second|minute|hour|day${v ? `, not ${v.text}` : ''}`, opt);
  return v;
}

const clockUs = (w: Walk) => Math.round(w.ctx.world.now * 1e6);

/** Takes a packet's worth of credit from the bucket at `key` if there is one; writes the bucket. */
function take(w: Walk, key: string, costUs: number, capUs: number, expireUs: number): boolean {
  const now = clockUs(w);
  const b = readBucket(w.ctx.world, w.delta, key);
  let credit = b === null || now - b.atUs > expireUs ? capUs : Math.min(capUs, b.credit + (now - b.atUs));
  const ok = credit >= costUs;
  if (ok) credit -= costUs;
  w.delta = { kind: 'bucket', key, bucket: { atUs: now, credit }, prev: w.delta };
  return ok;
}

export function compileLimit(opts: readonly OptionArg[], uid: number): CMatch[] {
  let period = LIMIT_DEFAULT_US;
  let burst = BURST_DEFAULT;
  for (const opt of opts) {
    if (opt.name === 'limit') period = rateOf(opt).periodUs;
    else if (opt.name === 'limit-burst') burst = intOf(opt);
    else throw new ValueError(`unknown limit option ${opt.spelling}`, opt);
  }
  const key = `l${uid}`;
  return [{ kind: 'test', pure: false, test: (w) => take(w, key, period, burst * period, Infinity) }];
}

type Field = 'srcip' | 'srcport' | 'dstip' | 'dstport';

function masked(a: Ip, prefix: number, family: Family): string {
  if (family === 'ipv4') return String(prefix === 0 ? 0 : ((a as number) & (-1 << (32 - prefix))) >>> 0);
  return String(prefix === 0 ? 0n : (a as bigint) & (((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n)));
}

export function compileHashlimit(opts: readonly OptionArg[], family: Family): CMatch[] {
  let rate: { periodUs: number; perSeconds: number } | null = null;
  let above = false;
  let burst = BURST_DEFAULT;
  let mode: readonly Field[] = [];
  let name = '';
  let expireMs: number | null = null;
  const host = family === 'ipv4' ? 32 : 128;
  let srcmask = host;
  let dstmask = host;
  for (const opt of opts) {
    switch (opt.name) {
      case 'hashlimit-upto':
      case 'hashlimit-above': {
        const v = opt.values[0];
        if (v?.type !== 'rate') return [{ kind: 'unknown', text: `--${opt.name} ${v?.text ?? ''}`, reason: 'hashlimit byte rates are not modelled' }];
        rate = rateOf(opt);
        above = (opt.name === 'hashlimit-above') !== negated(opt);
        break;
      }
      case 'hashlimit-burst':
        burst = intOf(opt);
        break;
      case 'hashlimit-mode':
        mode = listOf(opt) as readonly Field[];
        break;
      case 'hashlimit-name':
        name = wordOf(opt);
        break;
      case 'hashlimit-htable-expire':
        expireMs = intOf(opt);
        break;
      case 'hashlimit-srcmask':
        srcmask = intOf(opt);
        break;
      case 'hashlimit-dstmask':
        dstmask = intOf(opt);
        break;
      case 'hashlimit-htable-size':
      case 'hashlimit-htable-max':
      case 'hashlimit-htable-gcinterval':
        // Sizes of the table and how often it is swept: no bearing on a bucket's credit.
        break;
      case 'hashlimit-rate-match':
      case 'hashlimit-rate-interval':
        return [{ kind: 'unknown', text: `--${opt.name}`, reason: 'hashlimit --hashlimit-rate-match is not modelled' }];
      default:
        throw new ValueError(`unknown hashlimit option ${opt.spelling}`, opt);
    }
  }
  if (rate === null) throw new ValueError('hashlimit needs --hashlimit-upto or --hashlimit-above', opts[0]);
  const period = rate.periodUs;
  // libxt_hashlimit: without --hashlimit-htable-expire, the unit the rate was given per.
  const expireUs = (expireMs ?? rate.perSeconds * 1000) * 1000;
  const table = `h${family}|${name}|`;
  const key = (w: Walk) => {
    const p = w.pkt;
    const ports = protocolHasPorts(p.proto);
    return table + mode.map((f) => (f === 'srcip' ? masked(p.src, srcmask, family) : f === 'dstip' ? masked(p.dst, dstmask, family) : ports ? String(f === 'srcport' ? p.sport : p.dport) : '0')).join('|');
  };
  // The table is shared by every rule naming it: what one takes, the others miss.
  return [{ kind: 'test', pure: false, shared: true, test: (w) => take(w, key(w), period, burst * period, expireUs) !== above }];
}
