// What an nftables-mode node holds after kube-proxy's first sync, as the texts the kernel was
// given: the sync's transaction, applied to a fresh kernel as `nft -f` applies it (kube-proxy keeps
// no rules outside its own table). src/node assembles the node from them (src/modes.ts wires the two).
import { nodeInterfaces, type InterfaceFacts } from '../node-interfaces.js';
import type { NftCompiled } from './index.js';

export function nftablesNodeArtefacts(c: NftCompiled): { iptables: []; nft: { file: string; text: string }[]; interfaces: InterfaceFacts[] } {
  return { iptables: [], nft: [{ file: 'restore input', text: c.restore }], interfaces: nodeInterfaces(c.settings) };
}

/** The table kube-proxy's nftables proxier owns for a family. */
export function kubeProxyTable(family: 'ipv4' | 'ipv6'): { family: 'ip' | 'ip6'; name: string } {
  return { family: family === 'ipv6' ? 'ip6' : 'ip', name: 'kube-proxy' };
}
