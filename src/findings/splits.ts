// KUBE-SVC / KUBE-SVL splits checked against what kube-proxy writes for that many endpoints
// (writeServiceToEndpointRules: rule i of n has `--probability` 1/(n-i) printed %0.10f, or %0.5f
// before Kubernetes 1.17, the last none), with the exact shares each endpoint gets instead (explain/shares.ts).
import { ruleAt, ruleTargets, type KernelState } from '../iptables/state.js';
import { recentCheckAt, serviceChainOf, statisticStoredAt } from '../explain/rule-facts.js';
import { kubeProxyStored, splitShares } from '../explain/shares.js';
import { fractionText } from '../packetsim/fraction.js';
import { report, type LintContext } from './finding.js';

export function lintSplits(state: KernelState, ctx: LintContext): void {
  const nat = state.tables.get('nat');
  for (const [name, ch] of nat ?? []) {
    const kind = serviceChainOf(name)?.kind;
    if (kind !== 'SVC' && kind !== 'SVL' && kind !== 'XLB') continue;
    // The endpoint jumps, read without building the chain's rules: a rule is built only to place a finding.
    const targets = ruleTargets(ch);
    const at: number[] = [];
    targets.forEach((t, j) => {
      if (t?.kind === 'chain' && serviceChainOf(t.name)?.kind === 'SEP' && !recentCheckAt(ch, j)) at.push(j);
    });
    if (at.length === 0) continue;
    const sep = (k: number) => targets[at[k]]!.name;
    const span = (k: number) => ruleAt(ch, at[k]).span;
    const stored = at.map((j) => statisticStoredAt(ch, j));
    const { shares, fallThrough } = splitShares(stored);
    const sharesText = shares.map((s, k) => `${sep(k)} ${fractionText(s)}`).join(', ');
    let found = false;
    shares.forEach((s, k) => {
      if (s.num !== 0n) return;
      found = true;
      report(ctx, 'warning', 'LINT_UNREACHABLE_ENDPOINT', `nat ${name}: endpoint rule ${at[k] + 1} (${sep(k)}) gets no connections: the rules before it take them all`, span(k), [`shares: ${sharesText}`]);
    });
    if (fallThrough.num !== 0n) {
      found = true;
      report(ctx, 'warning', 'LINT_SPLIT_FALLS_THROUGH', `nat ${name}: ${fractionText(fallThrough)} of new connections match no endpoint rule and leave the chain un-DNATed (the last endpoint rule has a statistic match)`, span(at.length - 1), [`shares: ${sharesText}`]);
    }
    if (found) continue;
    const differs = (want: readonly (number | null)[]) => stored.findIndex((s, i) => s !== want[i]);
    const expected = kubeProxyStored(at.length);
    const k = differs(expected);
    // kube-proxy before 1.17 printed %0.5f: its splits are as kube-proxy wrote them too.
    if (k < 0 || differs(kubeProxyStored(at.length, 5)) < 0) continue;
    const want = splitShares(expected).shares;
    report(ctx, 'warning', 'LINT_UNEVEN_SPLIT', `nat ${name}: endpoint rule ${at[k] + 1} has ${stored[k] === null ? 'no statistic match' : `probability ${(stored[k]! / 0x80000000).toFixed(10)}`}; kube-proxy writes ${expected[k] === null ? 'none' : (expected[k]! / 0x80000000).toFixed(10)} for endpoint ${k + 1} of ${at.length}`, span(k), [
      `shares: ${sharesText}`,
      `kube-proxy's: ${want.map((s) => fractionText(s)).join(', ')}`,
    ]);
  }
}
