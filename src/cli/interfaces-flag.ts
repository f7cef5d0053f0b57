// `--interfaces 'lo=127.0.0.1/8,::1/128 eth0=192.168.0.2/24'`: the node's interfaces in the
// syntax of the Node's kpsim.io/interfaces annotation.
import { parseInterfaceList } from '../net/index.js';
import type { NodeInterface } from '../node/node.js';
import { UsageError } from './common.js';

export function parseInterfacesFlag(text: string): NodeInterface[] {
  const { interfaces, problems } = parseInterfaceList(text);
  if (problems.length > 0) throw new UsageError(`--interfaces: '${problems[0].text}': expected ${problems[0].expected}`);
  return interfaces.map((i) => ({ name: i.name, addresses: i.texts }));
}
