// The node's routing tables for one family, as the kernel's FIB holds them: the local table
// (fib_add_ifaddr / addrconf: a host route of type local for every address, the whole prefix of
// an address on a loopback device such as 127.0.0.0/8, broadcast routes) and the main table (the
// routes `ip route` shows, or, for a family none was given for, the connected route of every
// address and a default route through the first non-loopback interface). fib_lookup looks in
// local first, then main (the default policy rules); within a table the longest prefix wins, then
// the lowest metric. Other tables are reached only through policy rules, which kpsim does not read.
import type { Family } from '../iptables/ir.js';
import { cidrTest, isLoopback, parseAddress, parseCidr, type Cidr, type Ip } from '../net/index.js';
import { addressesOf, type AddressScope, type NodeInterface, type NodeRoute, type RouteType } from '../node/node.js';

export interface IfAddr {
  readonly iface: string;
  readonly addr: Ip;
  readonly net: Cidr;
  readonly scope: AddressScope;
  readonly secondary: boolean;
  readonly deprecated: boolean;
}

export interface FibRoute {
  readonly net: Cidr;
  readonly contains: (a: Ip) => boolean;
  readonly type: RouteType;
  readonly dev: string | null;
  readonly gateway: Ip | null;
  readonly metric: number;
  readonly table: 'local' | 'main';
}

export interface Fib {
  readonly addresses: readonly IfAddr[];
  /** Interfaces in the kernel's order (by index): lo first on every real node. */
  readonly interfaces: readonly NodeInterface[];
  /** fib_lookup: the route a packet to `dst` takes, or null (ENETUNREACH). `oif`: only routes through it. */
  lookup(dst: Ip, oif?: string | null): FibRoute | null;
  /** Whether a custom local route exists (fib_has_custom_local_routes): one not made for an address. */
  readonly customLocal: boolean;
}

export interface FibProblem {
  readonly message: string;
}

const bitsOf = (family: Family) => (family === 'ipv4' ? 32 : 128);

function hostCidr(addr: Ip, family: Family): Cidr {
  return { family, network: addr, prefix: bitsOf(family) } as Cidr;
}

function route(net: Cidr, type: RouteType, dev: string | null, gateway: Ip | null, metric: number, table: 'local' | 'main'): FibRoute {
  return { net, contains: cidrTest(net), type, dev, gateway, metric, table };
}

/** The FIB of one family: addresses, the local table, the main table. */
export function buildFib(interfaces: readonly NodeInterface[], routes: readonly NodeRoute[], family: Family, problems: FibProblem[]): Fib {
  const ordered = interfaces.map((itf, i) => ({ itf, i })).sort((a, b) => (a.itf.index ?? a.i) - (b.itf.index ?? b.i) || a.i - b.i).map((x) => x.itf);
  const addresses: IfAddr[] = [];
  const local: FibRoute[] = [];
  const main: FibRoute[] = [];
  const loopbackDev = (itf: NodeInterface) => (itf.flags ? itf.flags.includes('LOOPBACK') : itf.name === 'lo');
  for (const itf of ordered) {
    for (const a of addressesOf(itf)) {
      if (a.cidr.includes(':') !== (family === 'ipv6')) continue;
      const slash = a.cidr.indexOf('/');
      const addr = parseAddress(slash < 0 ? a.cidr : a.cidr.slice(0, slash), family, true);
      const net = parseCidr(slash < 0 ? `${a.cidr}/${bitsOf(family)}` : a.cidr, family, true);
      if (addr === null || net === null) {
        problems.push({ message: `interface ${itf.name}: bad address ${a.cidr}` });
        continue;
      }
      addresses.push({ iface: itf.name, addr, net, scope: a.scope, secondary: a.secondary, deprecated: a.deprecated });
      local.push(route(hostCidr(addr, family), 'local', itf.name, null, 0, 'local'));
      if (net.prefix < bitsOf(family) && !a.secondary) {
        // fib_add_ifaddr: the prefix of an address on a loopback device is local as a whole.
        if (loopbackDev(itf)) local.push(route(net, 'local', itf.name, null, 0, 'local'));
        else main.push(route(net, 'unicast', itf.name, null, family === 'ipv4' ? 0 : 256, 'main'));
        // The subnet's broadcast address (IPv4, prefixes up to /30).
        if (family === 'ipv4' && net.prefix < 31) {
          const bcast = ((net.network as number) | (~0 >>> net.prefix)) >>> 0;
          local.push(route(hostCidr(bcast, family), 'broadcast', itf.name, null, 0, 'local'));
        }
      }
    }
  }
  // Local routes the addresses make (fib_add_ifaddr); any other in the dump was added by hand.
  const derived = new Set(local.map((r) => `${r.net.network}/${r.net.prefix}`));
  let given = 0;
  let customLocal = false;
  for (const r of routes) {
    const table = r.table ?? 'main';
    if (table !== 'main' && table !== 'local') continue;
    const to = r.to === 'default' ? (family === 'ipv4' ? '0.0.0.0/0' : '::/0') : r.to;
    // `default` says its family by its gateway or source; through a device alone it is both's.
    const hint = r.to === 'default' ? (r.gateway ?? r.src) : to;
    if (hint && hint.includes(':') !== (family === 'ipv6')) continue;
    const net = parseCidr(to, family, true);
    if (!net) {
      if (r.to !== 'default') problems.push({ message: `route ${r.to}: bad destination` });
      continue;
    }
    const gateway = r.gateway ? parseAddress(r.gateway, family, true) : null;
    const type = r.type ?? 'unicast';
    const fr = route(net, type, r.dev, gateway, r.metric ?? 0, table);
    if (table === 'local') {
      local.push(fr);
      if (type === 'local' && !derived.has(`${net.network}/${net.prefix}`)) customLocal = true;
    } else {
      main.push(fr);
      given++;
    }
  }
  if (given === 0) {
    const first = ordered.find((i) => !loopbackDev(i));
    if (first) main.push(route({ family, network: family === 'ipv4' ? 0 : 0n, prefix: 0 } as Cidr, 'unicast', first.name, null, 0, 'main'));
  }
  if (!ordered.some(loopbackDev)) {
    // No loopback device described (the --interfaces shortcut without lo): every node has one.
    local.push(route(family === 'ipv4' ? parseCidr('127.0.0.0/8', family)! : hostCidr(1n, family), 'local', 'lo', null, 0, 'local'));
  }
  const order = (a: FibRoute, b: FibRoute) => b.net.prefix - a.net.prefix || a.metric - b.metric;
  local.sort(order);
  main.sort(order);
  const cache = new Map<Ip, FibRoute | null>();
  const find = (table: readonly FibRoute[], dst: Ip, oif: string | null): FibRoute | null | 'throw' => {
    for (const r of table) {
      if (!r.contains(dst)) continue;
      if (oif !== null && r.dev !== oif && r.type !== 'blackhole' && r.type !== 'unreachable' && r.type !== 'prohibit' && r.type !== 'throw') continue;
      return r.type === 'throw' ? 'throw' : r;
    }
    return null;
  };
  const lookup = (dst: Ip, oif: string | null): FibRoute | null => {
    const l = find(local, dst, oif);
    if (l !== null && l !== 'throw') return l;
    const m = find(main, dst, oif);
    return m === 'throw' ? null : m;
  };
  return {
    addresses,
    interfaces: ordered,
    customLocal,
    lookup(dst, oif = null) {
      if (oif !== null) return lookup(dst, oif);
      let r = cache.get(dst);
      if (r === undefined) {
        r = lookup(dst, null);
        if (cache.size > 4096) cache.clear();
        cache.set(dst, r);
      }
      return r;
    },
  };
}

/** 127.0.0.0/8 or ::1. */
export const loopbackAddress = (a: Ip, family: Family) => isLoopback(a, family);
