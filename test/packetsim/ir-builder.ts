// Rule IR for the simulator's tests, read from restore-like text by the iptables-save reader, so
// unit tests read like rulesets and hand the simulator exactly what the reader gives it (typed
// values, canonical option names).
import type { Family, Rule, Ruleset } from '../../src/iptables/ir.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';

/** `*table` / `:CHAIN POLICY` / `-A ...` / `COMMIT` text -> a ruleset; any error the reader reports fails the test. */
export function ruleset(text: string, family: Family = 'ipv4', allow: readonly string[] = []): Ruleset {
  const { ruleset: rs, diagnostics } = parseIptablesSave(text, { file: 'test', family });
  const errors = diagnostics.filter((d) => d.severity === 'error' && !allow.includes(d.code));
  if (!rs || errors.length > 0) throw new Error(`test rules do not parse: ${errors.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`).join('; ')}`);
  return rs;
}

/** One `-A CHAIN ...` line as the reader reads it (in a filter table that declares the chain; it may jump to chains declared elsewhere). */
export function rule(line: string, family: Family = 'ipv4'): Rule {
  const chain = line.trim().split(/\s+/)[1];
  const rs = ruleset(`*filter\n:${chain} - [0:0]\n${line}\nCOMMIT\n`, family, ['IPT_UNKNOWN_CHAIN']);
  const r = rs.tables[0].commands[0];
  if (r?.kind !== 'rule') throw new Error(`not a rule: ${line}`);
  return r;
}
