// What an iptables-mode node holds after kube-proxy's first sync, as the texts the kernel was
// given: kube-proxy's host setup (canary chains, jump rules from the built-in chains: its
// iptables monitor and EnsureChain/EnsureRule calls), then the sync's restore input applied with
// --noflush. src/node assembles the node from them (src/modes.ts wires the two).
import type { Compiled } from '../index.js';
import { nodeInterfaces, nodeSysctls, type InterfaceFacts } from '../node-interfaces.js';
import { hostSetup, renderHostSetup } from './host.js';
import { chainedTable } from './restore.js';

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

/**
 * The sync's restore input chain by chain, as the compiler keeps it: the node reads the chains a
 * packet reaches from their bytes (src/node/chained-restore.ts) without rendering the text, which
 * `text` gives (the lines' positions are where it has them).
 */
export interface ChainedRestoreInput {
  readonly family: RestoreText['family'];
  readonly file: string;
  readonly noflush: true;
  readonly tables: readonly ReturnType<typeof chainedTable>[];
  readonly ascii: boolean;
  text(): string;
}

export function restoreInput(c: Compiled): ChainedRestoreInput {
  const { filter, nat } = c.iptables.data;
  return { family: c.settings.family, file: 'restore input', noflush: true, tables: [chainedTable(filter), chainedTable(nat)], ascii: filter.text.isAscii && nat.text.isAscii, text: () => c.restore };
}

export function iptablesNodeArtefacts(c: Compiled): { iptables: (RestoreText | ChainedRestoreInput)[]; interfaces: InterfaceFacts[]; sysctls: ReadonlyMap<string, string> } {
  return { iptables: [hostSetupText(c.settings.family), restoreInput(c)], interfaces: nodeInterfaces(c.settings), sysctls: nodeSysctls(c.settings) };
}
