// A node's interfaces in one line, `lo=127.0.0.1/8,::1/128 eth0=192.168.0.2/24,2001:db8::1/64`:
// the syntax of the Node's kpsim.io/interfaces annotation and of trace's --interfaces flag. One
// reader for both; each caller reports a problem in its own terms (an object's field, a flag).
import { parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from './address.js';

export interface ListedInterface {
  readonly name: string;
  /** The networks, as `ADDRESS/LENGTH` reads (the address masked to its network). */
  readonly addresses: readonly ParsedCIDR[];
  /** The addresses as written, in the same order. */
  readonly ips: readonly ParsedIP[];
  /** The `ADDRESS/LENGTH` texts as written. */
  readonly texts: readonly string[];
}

export interface InterfaceListProblem {
  /** The item or address the problem is in, as written. */
  readonly text: string;
  readonly expected: string;
}

/** Reads an interface list; a malformed item or address is a problem and is left out. */
export function parseInterfaceList(text: string): { interfaces: ListedInterface[]; problems: InterfaceListProblem[] } {
  const interfaces: ListedInterface[] = [];
  const problems: InterfaceListProblem[] = [];
  for (const item of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      problems.push({ text: item, expected: 'NAME=ADDRESS/LENGTH[,ADDRESS/LENGTH...]' });
      continue;
    }
    const addresses: ParsedCIDR[] = [];
    const ips: ParsedIP[] = [];
    const texts: string[] = [];
    for (const a of item.slice(eq + 1).split(',').filter(Boolean)) {
      const cidr = parseCIDR(a);
      const ip = parseIP(a.split('/')[0]);
      if (!cidr || !ip) problems.push({ text: a, expected: 'an ADDRESS/LENGTH such as 192.168.0.2/24 or 2001:db8::1/64' });
      else {
        addresses.push(cidr);
        ips.push(ip);
        texts.push(a);
      }
    }
    interfaces.push({ name: item.slice(0, eq), addresses, ips, texts });
  }
  return { interfaces, problems };
}
