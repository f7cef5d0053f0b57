// kube-proxy marks packets it wants masqueraded with one bit of the packet mark (masqueradeBit,
// 14 by default: 0x4000, written in KUBE-MARK-MASQ) and KUBE-POSTROUTING masquerades what carries
// it. Another component that sets or tests the same bit makes kube-proxy masquerade its packets, or
// is fooled by kube-proxy's marks. Real case: Azure NPM marks with 0x4000 and outside -> ClusterIP
// traffic gets dropped. Chains named KUBE-* are kube-proxy's and kubelet's own.
import type { OptionArg, Rule, Value } from '../iptables/ir.js';
import type { KernelState } from '../iptables/state.js';
import { option } from '../explain/rule-facts.js';
import { report, type LintContext } from './finding.js';

/** The masquerade bit KUBE-MARK-MASQ sets, or null when the node has no such chain. */
export function masqueradeBit(state: KernelState): number | null {
  for (const r of state.tables.get('nat')?.get('KUBE-MARK-MASQ')?.rules ?? []) {
    if (r.target?.kind !== 'extension' || r.target.name !== 'MARK') continue;
    for (const o of r.target.options) {
      const v = o.values[0];
      if (v?.type === 'mark' && (o.name === 'set-xmark' || o.name === 'or-mark' || o.name === 'set-mark')) return v.value;
    }
  }
  return null;
}

function markTouches(v: Value | undefined, bit: number, useMask: boolean): boolean {
  if (v?.type !== 'mark') return false;
  const mask = v.mask ?? 0xffffffff;
  return useMask ? (mask & bit) !== 0 : (v.value & bit) !== 0;
}

/** What the rule does with the bit: tests it, changes it, or nothing. */
function touch(r: Rule, bit: number): string | null {
  const m = option(r, 'mark', 'mark');
  if (m && markTouches(m.values[0], bit, true)) return `tests it (-m mark ${m.negation !== 'none' ? '! ' : ''}--mark ${m.values[0]?.text})`;
  const t = r.target;
  if (t?.kind !== 'extension' || (t.name !== 'MARK' && t.name !== 'CONNMARK')) return null;
  for (const o of t.options as readonly OptionArg[]) {
    const v = o.values[0];
    const changes =
      o.name === 'set-xmark' || o.name === 'set-mark' ? markTouches(v, bit, true) || markTouches(v, bit, false) : o.name === 'or-mark' || o.name === 'xor-mark' ? markTouches(v, bit, false) : o.name === 'and-mark' ? v?.type === 'mark' && (v.value & bit) === 0 : o.name === 'restore-mark' || o.name === 'save-mark';
    if (changes) return `changes it (-j ${t.name} --${o.name}${v ? ` ${v.text}` : ''})`;
  }
  return null;
}

export function lintMarks(state: KernelState, ctx: LintContext): void {
  const bit = masqueradeBit(state);
  if (bit === null) return;
  const hex = `0x${bit.toString(16)}`;
  for (const [table, chains] of state.tables) {
    for (const [name, ch] of chains) {
      if (name.startsWith('KUBE-')) continue;
      ch.rules.forEach((r, i) => {
        const what = touch(r, bit);
        if (what) report(ctx, 'warning', 'LINT_MASQ_MARK_CONFLICT', `${table} ${name} rule ${i + 1} ${what}: mark bit ${hex} is kube-proxy's masquerade mark (KUBE-MARK-MASQ), so packets this component marks get masqueraded by KUBE-POSTROUTING, or kube-proxy's marks change what this rule does`, r.span);
      });
    }
  }
}
