// The node the packet meets, for one family: its interfaces and addresses, its routing tables
// (fib.ts), its bridges, and the sysctls that decide what routing lets through. Input routing is
// ip_route_input_slow's (net/ipv4/route.c): martian addresses, route_localnet, the FIB lookup
// (local table first), forwarding, and the reverse-path check fib_validate_source
// (rp_filter, accept_local); for IPv6, ipv6_rcv_core's loopback check and the forwarding switch.
// Output routing refuses a loopback source on a non-loopback interface without route_localnet
// (__mkroute_output).
import type { Family } from '../iptables/ir.js';
import { cidrContains, type Ip } from '../net/index.js';
import type { Node } from '../node/node.js';
import { buildFib, loopbackAddress, type Fib, type FibProblem, type IfAddr } from './fib.js';
import { masqueradeSource } from './source-address.js';

/** What the environment is built from: the node value's interfaces, routes, bridges and sysctls (src/node). */
export type NodeSpec = Pick<Node, 'interfaces' | 'routes'> & Partial<Pick<Node, 'bridges' | 'sysctls'>>;

/** Where input routing sends a received packet. */
export type InputRoute =
  | { readonly kind: 'local' }
  | { readonly kind: 'forward'; readonly dev: string }
  | { readonly kind: 'drop'; readonly reason: string };

/** xt_rpfilter's options. */
export interface RpfilterFlags {
  readonly loose: boolean;
  readonly acceptLocal: boolean;
}

/** One family's view of the node, compiled for lookups. */
export interface NodeEnv {
  readonly family: Family;
  readonly addresses: readonly IfAddr[];
  isLocal(addr: Ip): boolean;
  /** The interface a packet to `addr` leaves by (lo for local addresses), or null without a usable route. */
  routeDev(addr: Ip): string | null;
  /** ip_route_input for a packet from `src` to `dst` arriving on `iif` (after PREROUTING). */
  inputRoute(src: Ip, dst: Ip, iif: string | null): InputRoute;
  /** Why the node's own packet from `src` may not leave by `dev` (__mkroute_output), or null. */
  outputRefusal(src: Ip, dev: string): string | null;
  /** Why a received packet is dropped before PREROUTING (ipv6_rcv_core), or null. */
  receiveRefusal(src: Ip, dst: Ip, iif: string | null): string | null;
  /** The address MASQUERADE picks on `dev` for a packet to `dst` (inet_select_addr / ipv6_dev_get_saddr). */
  sourceAddress(dev: string, dst: Ip): Ip | null;
  /** REDIRECT's address on the incoming interface: its first (primary) address. */
  redirectAddress(dev: string): Ip | null;
  /** xt_rpfilter: whether the reverse route of a packet from `src` arriving on `iif` passes. */
  rpfilter(src: Ip, dst: Ip, iif: string | null, flags: RpfilterFlags): boolean;
  isLocalOn(addr: Ip, dev: string | null): boolean;
  isBroadcast(addr: Ip): boolean;
  interfaceNames(): readonly string[];
  /**
   * Everything routing reads of an IPv4 packet's source address, as text: whether it is one of the
   * node's addresses or local by the local table; 0/8, 0.0.0.0 itself, 127/8, multicast, broadcast;
   * the type and device of the route back to it (fib_validate_source, xt_rpfilter, the arriving
   * interface). Sources of one class are routed alike: the flow cache keys traces by it (flow-cache.ts).
   */
  sourceClass(src: number): string;
  /** The bridge a port belongs to, or null. */
  bridgeOf(port: string): string | null;
  /** A bridge's ports. */
  bridgePorts(bridge: string): readonly string[];
  /** Whether `dev` is a bridge. */
  isBridge(dev: string): boolean;
  /** br_netfilter passes bridged frames of this family to netfilter (net.bridge.bridge-nf-call-iptables / -ip6tables). */
  readonly brNetfilter: boolean;
}

export type EnvProblem = FibProblem;

/** Kernel defaults of what kpsim reads, used when the node's sysctls do not say (forwarding: on, as on any Kubernetes node). */
const DEFAULTS: Readonly<Record<string, number>> = { rp_filter: 0, route_localnet: 0, accept_local: 0, send_redirects: 1, forwarding: 1 };

export function buildEnv(spec: NodeSpec, family: Family, problems: EnvProblem[] = []): NodeEnv {
  const fib = buildFib(spec.interfaces, spec.routes, family, problems);
  const addresses = fib.addresses;
  const sysctls = spec.sysctls ?? new Map<string, string>();
  const bridges = spec.bridges ?? [];
  const names = spec.interfaces.map((i) => i.name);
  const loopbackNames = new Set(spec.interfaces.filter((i) => (i.flags ? i.flags.includes('LOOPBACK') : i.name === 'lo')).map((i) => i.name));
  loopbackNames.add('lo');
  const isLoopbackDev = (dev: string | null) => dev !== null && loopbackNames.has(dev);

  // The node's settings never change: each is looked up once (routing asks for them per packet).
  const confs = new Map<string, number>();
  /** net.ipv4.conf.DEV.KEY: the device's value, else default's (a device starts with it), else the kernel's. */
  const conf = (dev: string, key: string): number => {
    const k = `${dev} ${key}`;
    let n = confs.get(k);
    if (n !== undefined) return n;
    const fam = family === 'ipv4' ? 'ipv4' : 'ipv6';
    // sysctl prints a dot in an interface name as a slash (eth0.100 -> eth0/100).
    const v = sysctls.get(`net.${fam}.conf.${dev.replace(/\./g, '/')}.${key}`) ?? sysctls.get(`net.${fam}.conf.default.${key}`);
    n = v === undefined ? NaN : Number(v);
    n = Number.isFinite(n) ? n : (DEFAULTS[key] ?? 0);
    confs.set(k, n);
    return n;
  };
  const alls = new Map<string, number>();
  const all = (key: string): number => {
    let n = alls.get(key);
    if (n !== undefined) return n;
    const v = Number(sysctls.get(`net.${family}.conf.all.${key}`));
    n = Number.isFinite(v) && sysctls.has(`net.${family}.conf.all.${key}`) ? v : (DEFAULTS[key] ?? 0);
    alls.set(key, n);
    return n;
  };
  // IN_DEV_ORCONF / IN_DEV_MAXCONF (include/linux/inetdevice.h).
  const orconf = (dev: string, key: string) => all(key) !== 0 || conf(dev, key) !== 0;
  const maxconf = (dev: string, key: string) => Math.max(all(key), conf(dev, key));
  const forwards = new Map<string, boolean>();
  const forwarding = (dev: string): boolean => {
    let on = forwards.get(dev);
    if (on !== undefined) return on;
    const ipForward = sysctls.get('net.ipv4.ip_forward');
    if (family === 'ipv6') on = all('forwarding') !== 0;
    else if (!sysctls.has(`net.ipv4.conf.${dev.replace(/\./g, '/')}.forwarding`) && ipForward !== undefined) on = ipForward !== '0';
    else on = conf(dev, 'forwarding') !== 0;
    forwards.set(dev, on);
    return on;
  };

  const localSet = new Set<Ip>(addresses.map((a) => a.addr));
  const isLocal = (a: Ip) => {
    if (localSet.has(a)) return true;
    const r = fib.lookup(a);
    return r !== null && r.type === 'local';
  };
  const broadcast = new Set<Ip>();
  if (family === 'ipv4') {
    broadcast.add(0xffffffff);
    for (const a of addresses) if (a.net.prefix < 31) broadcast.add(((a.net.network as number) | (~0 >>> a.net.prefix)) >>> 0);
  }
  const hasAddress = (dev: string) => addresses.some((a) => a.iface === dev);

  /**
   * fib_validate_source (net/ipv4/fib_frontend.c): with rp_filter off, only a source that is one
   * of the node's own addresses fails (unless accept_local); with it on, the route back to the
   * source must be unicast (local only with accept_local) and, strictly (1), through `iif`;
   * loosely (2), any route back will do. An interface without addresses passes unless rp_filter is on.
   */
  const validateSource = (src: Ip, iif: string, oif: string | null): string | null => {
    const rpf = maxconf(iif, 'rp_filter');
    const acceptLocal = orconf(iif, 'accept_local');
    if (rpf === 0 && (iif !== oif || !orconf(iif, 'send_redirects'))) {
      if (acceptLocal) return null;
      if (!fib.customLocal) return localSet.has(src) ? 'martian source: the source is one of the node\'s own addresses (accept_local=0)' : null;
    }
    const back = fib.lookup(src);
    if (back === null) return rpf ? `rp_filter=${rpf}: no route back to the source` : null;
    if (back.type !== 'unicast' && !(back.type === 'local' && acceptLocal)) return back.type === 'local' ? 'martian source: the source is one of the node\'s own addresses (accept_local=0)' : `the route back to the source is ${back.type}`;
    if (back.dev === iif || (back.type === 'local' && isLoopbackDev(iif))) return null;
    if (!hasAddress(iif)) return rpf ? `rp_filter=${rpf}: ${iif} has no address` : null;
    if (rpf === 1) return `rp_filter=1 (strict): the route back to the source leaves by ${back.dev}, not ${iif}`;
    return null;
  };

  const routeDev = (addr: Ip): string | null => {
    if (isLocal(addr)) return 'lo';
    const r = fib.lookup(addr);
    return r !== null && r.type === 'unicast' ? r.dev : null;
  };

  return {
    family,
    addresses,
    isLocal,
    routeDev,
    inputRoute(src, dst, iif) {
      if (iif === null || isLoopbackDev(iif)) return isLocal(dst) ? { kind: 'local' } : routeDev(dst) ? { kind: 'forward', dev: routeDev(dst)! } : { kind: 'drop', reason: 'no route to the destination' };
      if (family === 'ipv4') {
        const s = src as number;
        const d = dst as number;
        if (s >>> 28 === 0xe || s === 0xffffffff) return { kind: 'drop', reason: 'martian source (multicast or broadcast)' };
        if (d === 0xffffffff) return { kind: 'local' };
        if (s >>> 24 === 0) return { kind: 'drop', reason: 'martian source (0.0.0.0/8)' };
        if (d >>> 24 === 0) return { kind: 'drop', reason: 'martian destination (0.0.0.0/8)' };
        // ip_route_input_slow: 127.0.0.0/8 from outside only with route_localnet (all or the interface).
        if (loopbackAddress(dst, family)) {
          if (!orconf(iif, 'route_localnet')) return { kind: 'drop', reason: `martian destination: 127.0.0.0/8 arriving on ${iif} (route_localnet=0)` };
        } else if (loopbackAddress(src, family) && !orconf(iif, 'route_localnet')) return { kind: 'drop', reason: `martian source: 127.0.0.0/8 arriving on ${iif} (route_localnet=0)` };
      }
      const r = fib.lookup(dst);
      if (r === null) return { kind: 'drop', reason: 'no route to the destination' };
      if (r.type === 'broadcast') return { kind: 'local' };
      if (r.type === 'local') {
        const bad = family === 'ipv4' ? validateSource(src, iif, null) : null;
        return bad ? { kind: 'drop', reason: bad } : { kind: 'local' };
      }
      if (r.type !== 'unicast') return { kind: 'drop', reason: `the route to the destination is ${r.type}` };
      if (!forwarding(iif)) return { kind: 'drop', reason: `forwarding is off on ${iif}` };
      const bad = family === 'ipv4' ? validateSource(src, iif, r.dev) : null;
      return bad ? { kind: 'drop', reason: bad } : { kind: 'forward', dev: r.dev! };
    },
    outputRefusal(src, dev) {
      if (family === 'ipv4' && loopbackAddress(src, family) && !isLoopbackDev(dev) && !orconf(dev, 'route_localnet')) {
        return `a 127.0.0.0/8 source may not leave by ${dev} (route_localnet=0)`;
      }
      return null;
    },
    receiveRefusal(src, dst, iif) {
      if (family === 'ipv6' && iif !== null && !isLoopbackDev(iif) && (src === 1n || dst === 1n)) return `::1 arriving on ${iif}`;
      return null;
    },
    sourceAddress(dev, dst) {
      const r = fib.lookup(dst);
      const gateway = r !== null && r.dev === dev ? r.gateway : null;
      return masqueradeSource(fib, family, dev, dst, gateway);
    },
    redirectAddress(dev) {
      if (family === 'ipv6') return masqueradeSource(fib, family, dev, 0n, null);
      return addresses.find((a) => a.iface === dev && !a.secondary)?.addr ?? null;
    },
    rpfilter(src, dst, iif, flags) {
      // rpfilter_mt: looped-back packets pass; so does DHCP's 0.0.0.0 to broadcast or local multicast.
      if (iif === null || isLoopbackDev(iif)) return true;
      if (family === 'ipv4' && (src as number) === 0 && ((dst as number) === 0xffffffff || (dst as number) >>> 8 === 0xe00000)) return true;
      if (family === 'ipv4') {
        const back = fib.lookup(src);
        if (back === null) return false;
        if (back.type !== 'unicast' && !(back.type === 'local' && flags.acceptLocal)) return false;
        return back.dev === iif || flags.loose;
      }
      // rpfilter_lookup_reverse6: a link-local source only through iif; strict mode prefers routes through iif.
      const linkLocal = (src as bigint) >> 118n === 0x3fan;
      const back = linkLocal ? fib.lookup(src, iif) : flags.loose ? fib.lookup(src) : (preferDev(fib, src, iif) ?? fib.lookup(src));
      if (back === null || back.type === 'blackhole' || back.type === 'unreachable' || back.type === 'prohibit' || back.type === 'anycast') return false;
      if (back.type === 'local') return flags.acceptLocal;
      return back.dev === iif || flags.loose;
    },
    isLocalOn(addr, dev) {
      if (dev === null) return isLocal(addr);
      if (isLoopbackDev(dev) && loopbackAddress(addr, family)) return true;
      return addresses.some((a) => a.iface === dev && a.addr === addr);
    },
    isBroadcast(addr) {
      return broadcast.has(addr);
    },
    interfaceNames() {
      return names;
    },
    sourceClass(src) {
      const back = fib.lookup(src);
      // Spelled bit by bit: the flow cache asks this for every packet of a bulk run.
      const bit = (b: boolean) => (b ? '1' : '0');
      const bits = bit(localSet.has(src)) + bit(isLocal(src)) + bit(src >>> 24 === 0) + bit(src === 0) + bit(src >>> 24 === 127) + bit(src >>> 28 === 0xe) + bit(src === 0xffffffff);
      return `${bits}|${back?.type ?? '-'}|${back?.dev ?? '-'}`;
    },
    bridgeOf(port) {
      return bridges.find((b) => b.ports.includes(port))?.name ?? null;
    },
    bridgePorts(bridge) {
      return bridges.find((b) => b.name === bridge)?.ports ?? [];
    },
    isBridge(dev) {
      return bridges.some((b) => b.name === dev);
    },
    // Without a full `sysctl -a` (it always lists kernel.* keys), br_netfilter is taken to be
    // loaded, as Kubernetes requires; a full dump without net.bridge keys says it is not.
    brNetfilter: (() => {
      const v = sysctls.get(`net.bridge.bridge-nf-call-${family === 'ipv4' ? 'iptables' : 'ip6tables'}`);
      if (v !== undefined) return v !== '0';
      for (const k of sysctls.keys()) if (k.startsWith('kernel.')) return false;
      return true;
    })(),
  };
}

/** ip6_route_lookup with flowi6_oif set, without RT6_LOOKUP_F_IFACE: among the best routes, the one through `dev`. */
function preferDev(fib: Fib, dst: Ip, dev: string): ReturnType<Fib['lookup']> {
  const best = fib.lookup(dst);
  if (best === null || best.dev === dev) return best;
  const via = fib.lookup(dst, dev);
  return via !== null && via.net.prefix === best.net.prefix ? via : best;
}

/** Whether `addr` is in the subnet of one of `dev`'s addresses (the sender would reach it on the link). */
export function onLink(env: NodeEnv, dev: string, addr: Ip): boolean {
  return env.addresses.some((a) => a.iface === dev && cidrContains(a.net, addr));
}
