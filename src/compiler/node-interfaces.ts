// The node's interfaces as the compiler knew them: the Node's kpsim.io/interfaces annotation when
// present, else lo plus the node's addresses on eth0 (a /24 or /64 unless given).
import type { ProxierSettings } from './settings.js';

export interface InterfaceFacts {
  readonly name: string;
  /** `ADDR/LEN`, either family. */
  readonly addresses: readonly string[];
}

export function nodeInterfaces(settings: ProxierSettings): InterfaceFacts[] {
  const node = settings.node;
  if (node?.interfaces) {
    return node.interfaces.map((i) => ({ name: i.name, addresses: i.ips.map((ip, k) => `${ip.text}/${i.addresses[k]?.prefix ?? (ip.family === 'ipv4' ? 32 : 128)}`) }));
  }
  const ips = settings.localAddresses.filter((a) => !a.text.startsWith('127.') && a.text !== '::1').map((a) => a.text);
  return [
    { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', addresses: ips.map((ip) => (ip.includes(':') ? `${ip}/64` : `${ip}/24`)) },
  ];
}

/**
 * The sysctls kube-proxy's iptables mode sets that decide where packets go: route_localnet=1 when
 * NodePorts listen on 127.0.0.0/8 (localhostNodePorts; NewProxier, issue 90259).
 */
export function nodeSysctls(settings: ProxierSettings): ReadonlyMap<string, string> {
  return new Map(settings.localhostNodePorts ? [['net.ipv4.conf.all.route_localnet', '1']] : []);
}
