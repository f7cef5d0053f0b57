// What a ruleset holds, counted once for `kpsim parse --stats` (a node's dump) and `kpsim compile
// --stats` (the node kpsim's compile leaves): per table its chains and rules, kube-proxy's
// per-service chains grouped by kind (KUBE-SVC-*, KUBE-SEP-*, ...), the match modules and targets
// used, and what is kept as written without being modelled. The same rules give the same counts,
// whichever command read them.
import type { Ruleset } from '../iptables/ir.js';
import { MATCH_MODULES } from './spec.js';

/** kube-proxy's per-service chain kinds (iptables mode), counted as groups. */
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-/;

export function formatStats(rs: Ruleset): string {
  const lines: string[] = [`family ${rs.family}`];
  const matches = new Map<string, number>();
  const targets = new Map<string, number>();
  const unknown = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
  for (const t of rs.tables) {
    const perChain = new Map<string, number>(t.chains.map((c) => [c.name, 0]));
    let rules = 0;
    for (const c of t.commands) {
      if (c.kind !== 'rule') continue;
      rules++;
      bump(perChain, c.chain);
      for (const a of c.args) {
        if (a.kind !== 'module') continue;
        bump(matches, a.name);
        if (!MATCH_MODULES.has(a.name)) bump(unknown, `-m ${a.name}`);
      }
      const tg = c.target;
      if (tg) bump(targets, tg.kind === 'chain' ? (tg.goto ? '(goto chain)' : '(jump chain)') : tg.name);
      if (tg?.kind === 'opaque') bump(unknown, `-j ${tg.name}`);
    }
    lines.push(`table ${t.name}: ${t.chains.length} chains, ${rules} rules${t.committed ? '' : ' (no COMMIT)'}`);
    const groups = new Map<string, { chains: number; rules: number }>();
    for (const [chain, n] of perChain) {
      if (!SERVICE_CHAIN.test(chain)) continue;
      const g = chain.slice(0, chain.indexOf('-', 5) + 1) + '*';
      const e = groups.get(g) ?? { chains: 0, rules: 0 };
      e.chains++;
      e.rules += n;
      groups.set(g, e);
    }
    for (const [g, e] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) lines.push(`  ${g.padEnd(12)} ${e.chains} chains, ${e.rules} rules`);
  }
  const list = (title: string, m: Map<string, number>) => {
    lines.push(`${title}: ${m.size === 0 ? 'none' : ''}`);
    for (const [k, n] of [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) lines.push(`  ${k} ${n}`);
  };
  list('match modules', matches);
  list('targets', targets);
  list('not modelled (kept as written)', unknown);
  return lines.join('\n') + '\n';
}
