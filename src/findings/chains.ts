// Findings about chains as a whole: jumps to chains the table lacks, chains nothing jumps to (a
// KUBE-SVC/SEP chain left behind when kube-proxy's cleanup did not run, or another component's),
// KUBE-SEP chains that never DNAT, and, with the objects, per-service chains whose hash matches no
// service port or endpoint (kube-proxy's chain names are hashes of them: compiler/hash.ts).
import type { KernelState } from '../iptables/state.js';
import { isBuiltinChain, ruleAt, ruleTargets } from '../iptables/state.js';
import type { NameBook } from '../explain/names.js';
import { firstDnat, serviceChainOf } from '../explain/rule-facts.js';
import { STATIC_CHAINS } from '../explain/static-chains.js';
import { report, type LintContext } from './finding.js';

/** Chains kube-proxy and kubelet create for watching, never jump to (iptables monitor canaries); the static chains kube-proxy keeps even when unused are not reported either. */
const CANARY = /-CANARY$/;

export function lintChains(state: KernelState, ctx: LintContext): void {
  for (const [table, chains] of state.tables) {
    const referenced = new Set<string>();
    for (const [name, ch] of chains) {
      // Jumps read without building the rules (ruleTargets); a rule is built only to place a finding.
      ruleTargets(ch).forEach((t, i) => {
        if (t?.kind !== 'chain') return;
        const target = t.name;
        referenced.add(target);
        if (!chains.has(target)) {
          const r = ruleAt(ch, i);
          report(ctx, 'error', 'LINT_JUMP_TO_MISSING_CHAIN', `${table} ${name} rule ${i + 1} ${t.goto ? 'goes' : 'jumps'} to ${target}, which table ${table} does not have (iptables-restore refuses such a ruleset; a packet taking it would be an error)`, r.target?.span ?? r.span);
        }
      });
    }
    for (const [name, ch] of chains) {
      if (isBuiltinChain(table, name) || referenced.has(name) || CANARY.test(name) || `${table} ${name}` in STATIC_CHAINS) continue;
      const sc = serviceChainOf(name);
      if (sc) report(ctx, 'warning', 'LINT_STALE_SERVICE_CHAIN', `${table} ${name} is a kube-proxy ${sc.kind} chain nothing jumps to: stale (left from a service port or endpoint that is gone?)`, ch.span);
      else report(ctx, 'note', 'LINT_UNREFERENCED_CHAIN', `${table} ${name}: nothing jumps to this chain`, ch.span);
    }
    for (const [name, ch] of chains) {
      if (serviceChainOf(name)?.kind !== 'SEP') continue;
      if (firstDnat(ch) === null) report(ctx, 'warning', 'LINT_SEP_WITHOUT_DNAT', `${table} ${name} is an endpoint chain without a DNAT rule: packets sent to this endpoint come back out unchanged`, ch.span);
    }
  }
}

export function lintObjects(state: KernelState, names: NameBook, ctx: LintContext): void {
  for (const [table, chains] of state.tables) {
    for (const [name, ch] of chains) {
      const sc = serviceChainOf(name);
      if (!sc) continue;
      const known = sc.kind === 'SEP' ? names.byEndpointChain.has(name) : names.byHash.has(sc.hash);
      if (!known) report(ctx, 'warning', 'LINT_CHAIN_NO_OBJECT', `${table} ${name}: no ${sc.kind === 'SEP' ? 'endpoint of any service port' : 'service port'} of the objects hashes to this name (a Service or endpoint that is gone, or objects of another cluster)`, ch.span);
    }
  }
}
