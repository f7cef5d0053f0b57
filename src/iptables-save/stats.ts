// What a ruleset holds, counted once for `kpsim parse --stats` (a node's dump) and `kpsim compile
// --stats` (the node kpsim's compile leaves): per table its chains and rules, kube-proxy's
// per-service chains grouped by kind (KUBE-SVC-*, KUBE-SEP-*, ...), the match modules and targets
// used, and what the simulator does not model (told by the caller: the simulator's own table,
// src/packetsim/coverage.ts, which a reader may not import, so that what `kpsim trace` meets as
// UNKNOWN is exactly what is listed). The same rules give the same counts, whichever command read
// them.
import type { Rule, Ruleset } from '../iptables/ir.js';

/** kube-proxy's per-service chain kinds (iptables mode), counted as groups. */
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-/;

export function formatStats(rs: Ruleset, unmodelled: (rule: Rule) => readonly string[]): string {
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
      for (const a of c.args) if (a.kind === 'module') bump(matches, a.name);
      const tg = c.target;
      if (tg) bump(targets, tg.kind === 'chain' ? (tg.goto ? '(goto chain)' : '(jump chain)') : tg.name);
      for (const item of unmodelled(c)) bump(unknown, item);
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
  list('not modelled by the simulator (trace: UNKNOWN)', unknown);
  return lines.join('\n') + '\n';
}
