// A dummy interface holding service addresses, as IPVS-mode kube-proxy binds every virtual
// service address to kube-ipvs0 so the node accepts packets for it (LOCAL_IN, where IPVS hooks).
// A node's dumps list the virtual servers but not that interface: it is added here, holding each
// address the node does not have already (on any interface, or in the loopback range).
import { Address4, Address6 } from 'ip-address';
import type { Node } from './node.js';

function canonical(text: string): string | null {
  const ip = text.slice(0, text.includes('/') ? text.indexOf('/') : text.length);
  if (Address4.isValid(ip)) return new Address4(ip).correctForm();
  if (Address6.isValid(ip)) return new Address6(ip).correctForm();
  return null;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

export function withDummyAddresses(node: Node, device: string, addresses: readonly string[]): Node {
  const present = new Set(node.interfaces.flatMap((i) => i.addresses.map(canonical)));
  const extra: string[] = [];
  for (const a of addresses) {
    const c = canonical(a);
    if (c === null || present.has(c) || isLoopback(c)) continue;
    present.add(c);
    extra.push(`${c}/${c.includes(':') ? 128 : 32}`);
  }
  if (extra.length === 0) return node;
  const has = node.interfaces.some((i) => i.name === device);
  const interfaces = has
    ? node.interfaces.map((i) => (i.name === device ? { ...i, addresses: [...i.addresses, ...extra] } : i))
    : [...node.interfaces, { name: device, addresses: extra }];
  return { ...node, interfaces };
}
