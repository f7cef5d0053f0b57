// What an iptables-mode node holds after kube-proxy's first sync, as the texts the kernel was
// given: kube-proxy's host setup (canary chains, jump rules from the built-in chains: its
// iptables monitor and EnsureChain/EnsureRule calls), then the sync's restore input applied with
// --noflush. src/node assembles the node from them (src/modes.ts wires the two).
import type { Compiled } from '../index.js';
import { nodeInterfaces, nodeSysctls, type InterfaceFacts } from '../node-interfaces.js';
import { hostSetup, renderHostSetup } from './host.js';

export interface RestoreText {
  readonly family: Compiled['settings']['family'];
  readonly file: string;
  readonly text: string;
  readonly noflush?: boolean;
}

/** kube-proxy's host setup as restore text, applied to a fresh kernel before the first sync. */
export function hostSetupText(family: RestoreText['family']): RestoreText {
  return { family, file: 'host setup', text: renderHostSetup(hostSetup()) };
}

export function iptablesNodeArtefacts(c: Compiled): { iptables: RestoreText[]; interfaces: InterfaceFacts[]; sysctls: ReadonlyMap<string, string> } {
  const family = c.settings.family;
  return { iptables: [hostSetupText(family), { family, file: 'restore input', text: c.restore, noflush: true }], interfaces: nodeInterfaces(c.settings), sysctls: nodeSysctls(c.settings) };
}
