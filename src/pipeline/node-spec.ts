// The node the simulator traces on, from what the compiler knew about it: the Node's
// kpsim.io/interfaces annotation when present, else lo plus the node's addresses on eth0.
import type { ProxierSettings } from '../compiler/settings.js';
import { simpleNode, type NodeSpec } from '../packetsim/env.js';

export function nodeSpec(settings: ProxierSettings): NodeSpec {
  const node = settings.node;
  if (node?.interfaces) {
    return { interfaces: node.interfaces.map((i) => ({ name: i.name, addresses: i.ips.map((ip, k) => `${ip.text}/${i.addresses[k]?.prefix ?? (ip.family === 'ipv4' ? 32 : 128)}`) })) };
  }
  return simpleNode(settings.localAddresses.filter((a) => !a.text.startsWith('127.') && a.text !== '::1').map((a) => a.text));
}
