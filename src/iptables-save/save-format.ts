// How iptables-save prints values after the kernel stored them: numbers in hex or decimal,
// addresses masked to their network, quoting of free text. Shared by the match and target printers.
import type { Value } from '../iptables/ir.js';
import { familyBits, formatIpKernel, type Family, type Ip } from '../net/index.js';

export const hex = (n: number) => '0x' + (n >>> 0).toString(16);

/**
 * xtables_save_string: a word of only letters, digits, `_` and `-` is printed bare; anything else
 * (including the empty string) in double quotes, with `"`, `\` and `'` escaped by a backslash.
 */
export function saveString(value: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
  return '"' + value.replace(/["\\']/g, (c) => '\\' + c) + '"';
}

/** An address as iptables-save prints it (inet_ntop: `::ffff:1.2.3.4` ends in a dotted quad). */
export function address(a: Ip, family: Family): string {
  return formatIpKernel(a, family);
}

/** `-s`/`-d`: the network, always with the prefix length (`/32`, `/128`). */
export function cidr(v: Extract<Value, { type: 'address' }>): string {
  return `${address(v.network, v.family)}/${v.prefix}`;
}

/** conntrack and recent: the address as stored (libxt_conntrack keeps host bits), the prefix only when it is not a single host. */
export function hostOrCidr(v: Extract<Value, { type: 'address' }>): string {
  const a = address(v.address, v.family);
  return v.prefix === familyBits(v.family) ? a : `${a}/${v.prefix}`;
}

/**
 * libxt_statistic stores round(p * 2^31) as u32 and prints it back with `%.11f` of
 * stored / 2^31. printf rounds the exact binary value half to even; so do we, in integers.
 */
export function statisticProbability(p: number): string {
  const stored = BigInt(Math.min(0xffffffff, Math.round(p * 0x80000000)));
  const scale = 10n ** 11n;
  const num = stored * scale;
  const den = 0x80000000n;
  let q = num / den;
  const r = num % den;
  if (r * 2n > den || (r * 2n === den && q % 2n === 1n)) q += 1n;
  const s = q.toString().padStart(12, '0');
  return `${s.slice(0, -11)}.${s.slice(-11)}`;
}

/**
 * libxt_limit / libxt_hashlimit print_rate: the rate is stored as an interval `period` in units
 * of 1/`scale` s; walk day, hour, min, sec and stop before the first unit that no longer divides
 * the interval well, printing the count per the unit before it. Also that unit in ms (hashlimit
 * prints --hashlimit-htable-expire only when it differs).
 */
export function printRate(period: number, scale: number): { text: string; unitMs: number } {
  const rates: [string, number][] = [
    ['day', 86400],
    ['hour', 3600],
    ['min', 60],
    ['sec', 1],
  ];
  let i = 1;
  for (; i < rates.length; i++) {
    const mult = rates[i][1] * scale;
    if (period > mult || Math.floor(mult / period) < mult % period) break;
  }
  const [name, seconds] = rates[i - 1];
  return { text: `${Math.floor((seconds * scale) / period)}/${name}`, unitMs: seconds * 1000 };
}

/** xt_limit keeps the rate as an interval in units of 1/10000 s (XT_LIMIT_SCALE). */
export function limitRate(text: string): string {
  const m = /^([0-9]+)(?:\/([A-Za-z]+))?$/.exec(text);
  if (!m || Number(m[1]) === 0) return text;
  const unit = (m[2] ?? 's').toLowerCase();
  const seconds = 'second'.startsWith(unit) || unit === 'sec' ? 1 : 'minute'.startsWith(unit) ? 60 : 'hour'.startsWith(unit) ? 3600 : 'day'.startsWith(unit) ? 86400 : 0;
  if (seconds === 0) return text;
  return printRate(Math.floor((10000 * seconds) / Number(m[1])), 10000).text;
}
