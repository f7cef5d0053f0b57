// What `iptables-save` prints on the node after kube-proxy ran: the host setup (canary chains,
// jump rules from the built-in chains) and kube-proxy's restore input applied to an empty
// kernel state, printed in the kernel's own spelling.
import type { Compiled } from '../compiler/index.js';
import { hostSetup, renderHostSetup } from '../compiler/iptables/host.js';
import { applyRestore, emptyState, stateToRuleset, type KernelState } from '../iptables/state.js';
import { parseIptablesSave, renderKernelRuleset } from '../iptables-save/index.js';

function parseOwn(text: string, file: string, family: Compiled['settings']['family'], noflush = false) {
  const { ruleset, diagnostics } = parseIptablesSave(text, { file, family, noflush });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  // Our own output failing to parse is a bug in kpsim, not bad input.
  if (!ruleset || errors.length > 0) throw new Error(`kpsim produced ${file} text its reader rejects: ${errors.map((e) => `${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
  return ruleset;
}

/** A fresh node's kernel after kube-proxy's host setup, before its first restore. */
export function hostState(family: Compiled['settings']['family']): KernelState {
  const state = emptyState(family);
  applyRestore(state, parseOwn(renderHostSetup(hostSetup()), 'host setup', family));
  return state;
}

/** One sync: kube-proxy's restore input applied with --noflush, as it restores (a partial sync jumps to chains of earlier ones). */
export function applySync(state: KernelState, compiled: Compiled): void {
  applyRestore(state, parseOwn(compiled.restore, 'restore input', compiled.settings.family, true));
}

export function nodeRuleset(compiled: Compiled) {
  const state = hostState(compiled.settings.family);
  applySync(state, compiled);
  return stateToRuleset(state);
}

export function renderNodeSave(compiled: Compiled): string {
  return renderKernelRuleset(nodeRuleset(compiled));
}
