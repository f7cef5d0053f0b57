// The ipset reader's dump (src/ipset) as the simulator's `-m set` contents (ipset.ts).
// Sets of types kpsim does not model are left out, so a rule naming one is UNKNOWN, not wrong.
import type { Family } from '../iptables/ir.js';
import { isKnownSetType, SET_TYPES, type IpsetDump } from '../ipset/ir.js';
import { parseCidr } from './addr.js';
import type { IpSet, IpsetDb } from './ipset.js';
import { PROTOCOL_NUMBERS, type Protocol } from './packet.js';

type Element = IpSet['elements'][number];
type Part = Element['parts'][number];

export function ipsetDb(dump: IpsetDump, family: Family): IpsetDb {
  const db = new Map<string, IpSet>();
  for (const set of dump.sets) {
    if (!isKnownSetType(set.type)) continue;
    const fam = set.family ?? family;
    const elements: Element[] = [];
    for (const e of set.entries) {
      // `nomatch` entries are holes in a hash:net set; kube-proxy writes none.
      if (e.options.some((o) => o.name === 'nomatch')) continue;
      const parts: Part[] = [];
      for (const p of e.parts) {
        if (p.dim === 'port') {
          const proto = set.type === 'bitmap:port' ? null : (PROTOCOL_NUMBERS[(p.protocol ?? 'tcp') as Protocol] ?? Number(p.protocol));
          parts.push({ dim: 'port', proto, from: p.from, to: p.to });
        } else {
          const cidr = parseCidr(`${p.address}/${p.prefix}`, fam);
          if (cidr) parts.push({ dim: 'ip', cidr });
        }
      }
      if (parts.length === e.parts.length && parts.length > 0) elements.push({ parts });
    }
    db.set(set.name, { name: set.name, type: set.type, family: fam, dims: SET_TYPES[set.type], elements });
  }
  return db;
}
