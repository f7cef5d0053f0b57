// The node the packet meets: its interfaces and addresses, its routes. Routing is the kernel's
// longest-prefix match over connected routes (one per interface address) and explicit routes;
// local addresses (every interface address, 127.0.0.0/8 and ::1) deliver locally.
import type { Family } from '../iptables/ir.js';
import type { Node } from '../node/node.js';
import { cidrContains, cidrTest, isLoopback, parseCidr, parseAddress, type Cidr, type Ip } from '../net/index.js';

/** What the environment is built from: the node value's interfaces and routes (src/node). */
export type NodeSpec = Pick<Node, 'interfaces' | 'routes'>;

interface IfAddr {
  readonly iface: string;
  readonly addr: Ip;
  readonly net: Cidr;
}

interface Route {
  readonly net: Cidr;
  readonly dev: string;
}

/** A route compiled for lookups: every walk of every packet asks for one. */
interface RouteTest {
  readonly contains: (addr: Ip) => boolean;
  readonly dev: string;
}

/** One family's view of the node, compiled for lookups. */
export interface NodeEnv {
  readonly family: Family;
  readonly addresses: readonly IfAddr[];
  isLocal(addr: Ip): boolean;
  /** The interface a packet to `addr` leaves by (lo for local addresses). */
  routeDev(addr: Ip): string | null;
  /** The address MASQUERADE picks on `dev` for a packet to `dst` (inet_select_addr). */
  sourceAddress(dev: string, dst: Ip): Ip | null;
  isLocalOn(addr: Ip, dev: string | null): boolean;
  isBroadcast(addr: Ip): boolean;
  interfaceNames(): readonly string[];
}

export interface EnvProblem {
  readonly message: string;
}

export function buildEnv(spec: NodeSpec, family: Family, problems: EnvProblem[] = []): NodeEnv {
  const addresses: IfAddr[] = [];
  const routes: Route[] = [];
  const names: string[] = [];
  let firstNonLo: string | null = null;
  for (const itf of spec.interfaces) {
    names.push(itf.name);
    if (itf.name !== 'lo' && firstNonLo === null) firstNonLo = itf.name;
    for (const text of itf.addresses) {
      if (text.includes(':') !== (family === 'ipv6')) continue;
      const slash = text.indexOf('/');
      const addr = parseAddress(slash < 0 ? text : text.slice(0, slash), family, true);
      const net = parseCidr(text, family, true);
      if (addr === null || net === null) {
        problems.push({ message: `interface ${itf.name}: bad address ${text}` });
        continue;
      }
      addresses.push({ iface: itf.name, addr, net });
      routes.push({ net, dev: itf.name });
    }
  }
  let hasDefault = false;
  for (const r of spec.routes) {
    const to = r.to === 'default' ? (family === 'ipv4' ? '0.0.0.0/0' : '::/0') : r.to;
    if (to.includes(':') !== (family === 'ipv6')) continue;
    const net = parseCidr(to, family, true);
    if (!net) {
      problems.push({ message: `route ${r.to}: bad destination` });
      continue;
    }
    if (net.prefix === 0) hasDefault = true;
    routes.push({ net, dev: r.dev });
  }
  if (!hasDefault && firstNonLo !== null) {
    routes.push({ net: parseCidr(family === 'ipv4' ? '0.0.0.0/0' : '::/0', family, true)!, dev: firstNonLo });
  }
  routes.sort((a, b) => b.net.prefix - a.net.prefix);
  const lookup: RouteTest[] = routes.map((r) => ({ contains: cidrTest(r.net), dev: r.dev }));

  const localV4 = new Set<number>();
  const localV6 = new Set<bigint>();
  for (const a of addresses) {
    if (family === 'ipv4') localV4.add(a.addr as number);
    else localV6.add(a.addr as bigint);
  }
  const isLocal =
    family === 'ipv4'
      ? (a: Ip) => localV4.has(a as number) || (a as number) >>> 24 === 127
      : (a: Ip) => localV6.has(a as bigint) || a === 1n;
  const broadcast = new Set<Ip>();
  if (family === 'ipv4') {
    broadcast.add(0xffffffff);
    for (const a of addresses) {
      if (a.net.prefix < 31) broadcast.add(((a.net.network as number) | (~0 >>> a.net.prefix)) >>> 0);
    }
  }
  return {
    family,
    addresses,
    isLocal,
    routeDev(addr) {
      if (isLocal(addr)) return 'lo';
      for (let i = 0; i < lookup.length; i++) if (lookup[i].contains(addr)) return lookup[i].dev;
      return null;
    },
    sourceAddress(dev, dst) {
      let first: Ip | null = null;
      for (const a of addresses) {
        if (a.iface !== dev) continue;
        if (cidrContains(a.net, dst)) return a.addr;
        if (first === null) first = a.addr;
      }
      if (first === null && dev === 'lo') return family === 'ipv4' ? 0x7f000001 : 1n;
      return first;
    },
    isLocalOn(addr, dev) {
      if (dev === null) return isLocal(addr);
      if (dev === 'lo' && isLoopback(addr, family)) return true;
      return addresses.some((a) => a.iface === dev && a.addr === addr);
    },
    isBroadcast(addr) {
      return broadcast.has(addr);
    },
    interfaceNames() {
      return names;
    },
  };
}
