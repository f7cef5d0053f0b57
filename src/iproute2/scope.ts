// Scope names as iproute2 prints them (lib/rt_names.c rtnl_rtscope_n2a: 0 "global" in addresses,
// "universe" in routes, 200 site, 253 link, 254 host, 255 nowhere; any other as its number).
import { SCOPE_NUMBERS, type AddressScope } from './ir.js';

const BY_NAME: Readonly<Record<string, AddressScope>> = { global: 'global', universe: 'global', site: 'site', link: 'link', host: 'host', nowhere: 'nowhere' };

export function scopeOf(v: string | number): AddressScope | null {
  if (typeof v === 'string') return BY_NAME[v] ?? (/^\d+$/.test(v) ? scopeOf(Number(v)) : null);
  for (const [name, n] of Object.entries(SCOPE_NUMBERS)) if (n === v) return name as AddressScope;
  return null;
}
