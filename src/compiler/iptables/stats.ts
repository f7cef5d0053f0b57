// Rule counts per table and chain, for `kpsim compile --stats`.
import { ruleCount, type RestoreData } from './restore.js';

export function ruleStats(data: RestoreData): string {
  let out = '';
  for (const t of [data.filter, data.nat]) {
    const counts = new Map<string, number>(t.chains.map((c) => [c, 0]));
    for (const [chain, list] of t.rules) counts.set(chain, list.length);
    out += `${t.name}: ${t.chains.length} chains, ${ruleCount(t)} rules\n`;
    const byPrefix = new Map<string, { chains: number; rules: number }>();
    for (const [chain, n] of counts) {
      const prefix = /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(chain) ? chain.slice(0, chain.indexOf('-', 5) + 1) + '*' : chain;
      const e = byPrefix.get(prefix) ?? { chains: 0, rules: 0 };
      e.chains++;
      e.rules += n;
      byPrefix.set(prefix, e);
    }
    for (const [name, e] of [...byPrefix].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      out += `  ${name.padEnd(28)} ${String(e.rules).padStart(8)} rules${e.chains > 1 ? ` in ${e.chains} chains` : ''}\n`;
    }
  }
  return out;
}
