// `--interfaces 'lo=127.0.0.1/8,::1/128 eth0=192.168.0.2/24'`: the node's interfaces in the
// syntax of the Node's kpsim.io/interfaces annotation.
import type { NodeInterface } from '../node/node.js';
import { UsageError } from './common.js';

export function parseInterfacesFlag(text: string): NodeInterface[] {
  const out: NodeInterface[] = [];
  for (const item of text.trim().split(/\s+/)) {
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--interfaces: '${item}' is not NAME=ADDRESS/LENGTH[,...]`);
    out.push({ name: item.slice(0, eq), addresses: item.slice(eq + 1).split(',').filter(Boolean) });
  }
  return out;
}
