// A rule as the trace prints it: its arguments and target as written (spellings and value texts
// from the IR), without the `-A CHAIN` in front.
import type { Rule } from '../iptables/ir.js';

/** The rule's arguments and target as written (spellings and value texts from the IR). */
export function ruleText(rule: Rule): string {
  const parts: string[] = [];
  for (const a of rule.args) {
    if (a.kind === 'module') parts.push(`${a.spelling} ${a.name}`);
    else if (a.kind === 'opaque') parts.push(a.text);
    else parts.push(`${a.negation !== 'none' ? '! ' : ''}${a.spelling}${a.values.length ? ' ' : ''}${a.values.map((v) => v.text).join(' ')}`);
  }
  const t = rule.target;
  if (t) {
    switch (t.kind) {
      case 'verdict':
      case 'chain':
        parts.push(`${t.spelling} ${t.name}`);
        break;
      case 'extension':
        parts.push(`${t.spelling} ${t.name}`, ...t.options.map((o) => `${o.negation !== 'none' ? '! ' : ''}${o.spelling}${o.values.length ? ' ' : ''}${o.values.map((v) => v.text).join(' ')}`));
        break;
      case 'opaque':
        parts.push(`${t.spelling} ${t.name}${t.text ? ' ' + t.text : ''}`);
        break;
      default: {
        const never: never = t;
        void never;
      }
    }
  }
  return parts.join(' ');
}
