// The packet classes behavioural diff compares. Destinations: every entry point either node's
// Services have (a NodePort on each local address both nodes share, and on localhost), every
// destination host and port a rule names, another port of each address and another protocol of
// each address:port, and an address nothing names. Sources, for a destination whose parts differ:
// one representative of each region the networks either part names cut the address space into
// (elementary intervals: every address of a region meets the same rules), one outside them all,
// and the node itself, from the source address each node's kernel picks; each arriving on the default interface and on every interface a rule names,
// with no mark and with each mark a rule tests that neither node sets itself.
import type { Family } from '../iptables/ir.js';
import { cidrContains, formatCidr, isLoopback, parseAddress, parseCidr, type Cidr, type Ip } from '../net/index.js';
import type { Node } from '../node/node.js';
import type { NodeServices } from '../explain/view.js';
import { PROTO_NUMBERS, type Destination, type SourceConstants } from './slice.js';

export interface SourceClass {
  /** null: sent by the node, from the address each node's kernel picks (pickSource). */
  readonly address: Ip | null;
  /** The packet starts on the node (OUTPUT) rather than arriving. */
  readonly local: boolean;
  readonly inInterface: string | null;
  readonly mark: number;
  /** Which named networks hold the address: `in 10.244.0.0/16, not in 10.244.1.5/32`. */
  readonly description: string;
}

function bits(family: Family): bigint {
  return family === 'ipv4' ? 32n : 128n;
}

function toBig(a: Ip): bigint {
  return typeof a === 'bigint' ? a : BigInt(a);
}

function fromBig(a: bigint, family: Family): Ip {
  return family === 'ipv4' ? Number(a) : a;
}

function range(c: Cidr): [bigint, bigint] {
  const lo = toBig(c.network);
  const size = 1n << (bits(c.family) - BigInt(c.prefix));
  return [lo, lo + size - 1n];
}

/** The node's addresses of a family, as `ADDR/LEN` on each interface. */
function interfaceAddresses(node: Node, family: Family): { iface: string; addr: Ip; net: Cidr }[] {
  const out: { iface: string; addr: Ip; net: Cidr }[] = [];
  for (const i of node.interfaces) {
    for (const text of i.addresses) {
      const slash = text.indexOf('/');
      const addr = parseAddress(slash < 0 ? text : text.slice(0, slash), family);
      const net = parseCidr(text, family);
      if (addr !== null && net) out.push({ iface: i.name, addr, net });
    }
  }
  return out;
}

/** Addresses both nodes have, not loopback: where NodePorts are probed, and the node's own source. */
export function sharedLocalAddresses(left: Node, right: Node, family: Family): Ip[] {
  const r = new Set(interfaceAddresses(right, family).map((a) => String(a.addr)));
  const out: Ip[] = [];
  for (const a of interfaceAddresses(left, family)) if (r.has(String(a.addr)) && !isLoopback(a.addr, family) && !out.some((x) => x === a.addr)) out.push(a.addr);
  return out;
}

/** Networks of the interfaces both nodes have (they decide where a source arrives from). */
function sharedNetworks(left: Node, right: Node, family: Family): Cidr[] {
  const r = new Set(interfaceAddresses(right, family).map((a) => formatCidr(a.net)));
  return interfaceAddresses(left, family)
    .filter((a) => r.has(formatCidr(a.net)) && !isLoopback(a.addr, family))
    .map((a) => a.net);
}

const OUTSIDE: Readonly<Record<Family, readonly string[]>> = {
  ipv4: ['203.0.113.99', '198.51.100.99', '192.0.2.99', '100.64.99.99', '172.31.99.99', '8.8.8.8', '1.1.1.1'],
  ipv6: ['2001:db8:ffff::99', '2001:db8:fffe::99', 'fd99::99', '2606:4700::1111'],
};

/** An address in none of the networks and not local, or null. */
function outsideAddress(cidrs: readonly Cidr[], family: Family, isLocal: (a: Ip) => boolean): Ip | null {
  for (const t of OUTSIDE[family]) {
    const a = parseAddress(t, family)!;
    if (!cidrs.some((c) => cidrContains(c, a)) && !isLocal(a)) return a;
  }
  return null;
}

/**
 * One address per region of the address space the networks cut it into: regions between
 * consecutive network boundaries, merged when the same networks hold them. The address outside
 * every network is left to outsideAddress.
 */
export function representatives(cidrs: readonly Cidr[], family: Family): { address: Ip; inside: Cidr[] }[] {
  const uniq = new Map<string, Cidr>();
  for (const c of cidrs) uniq.set(formatCidr(c), c);
  const list = [...uniq.values()];
  const points = new Set<bigint>();
  for (const c of list) {
    const [lo, hi] = range(c);
    points.add(lo);
    points.add(hi + 1n);
  }
  const sorted = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const seen = new Set<string>();
  const out: { address: Ip; inside: Cidr[] }[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const lo = sorted[i];
    const next = sorted[i + 1] ?? (1n << bits(family));
    if (lo >= 1n << bits(family)) continue;
    const inside = list.filter((c) => {
      const [a, b] = range(c);
      return a <= lo && lo <= b;
    });
    if (inside.length === 0) continue;
    const sig = inside.map(formatCidr).sort().join(' ');
    if (seen.has(sig)) continue;
    seen.add(sig);
    // Not the network address itself when the region has room: a host, as a real client would be.
    const pick = next - lo > 2n ? lo + 1n : lo;
    out.push({ address: fromBig(pick, family), inside });
  }
  return out;
}

export interface ClassInputs {
  readonly left: Node;
  readonly right: Node;
  readonly family: Family;
  /** Local on both nodes. */
  readonly isLocal: (a: Ip) => boolean;
  /** Local on either node: such a source arriving from outside is a martian the kernel drops. */
  readonly isLocalEither: (a: Ip) => boolean;
  /** Mark bits either node sets itself. */
  readonly markBitsSet: number;
}

/** The source classes of packets to `d`, from both nodes' constants for it. */
export function sourceClasses(d: Destination, constants: readonly SourceConstants[], inp: ClassInputs): SourceClass[] {
  const { family } = inp;
  const cidrs: Cidr[] = [...sharedNetworks(inp.left, inp.right, family)];
  const ifaces = new Set<string>();
  const marks = new Map<number, string>();
  for (const c of constants) {
    cidrs.push(...c.cidrs);
    for (const i of c.interfaces) ifaces.add(i);
    for (const [text, m] of c.marks) if ((m.mask & inp.markBitsSet) === 0 && m.value !== 0) marks.set(m.value & m.mask, text);
  }
  const named = [...new Map(cidrs.map((c) => [formatCidr(c), c])).values()];
  const describe = (a: Ip) => {
    const ins = named.filter((c) => cidrContains(c, a)).map(formatCidr);
    return ins.length ? `in ${ins.join(', ')}` : 'outside every network the rules name';
  };
  const remote: { address: Ip; description: string }[] = representatives(named, family).map((r) => ({ address: r.address, description: describe(r.address) }));
  const outside = outsideAddress(named, family, inp.isLocalEither);
  if (outside !== null) remote.push({ address: outside, description: describe(outside) });
  const markList = [0, ...marks.keys()];
  const out: SourceClass[] = [];
  const key = new Set<string>();
  const add = (c: SourceClass) => {
    const k = `${String(c.address)} ${c.local} ${c.inInterface} ${c.mark}`;
    if (!key.has(k)) {
      key.add(k);
      out.push(c);
    }
  };
  // A packet arriving with a local source address is a martian (fib_validate_source drops it);
  // the node's own packets are the class below. So is one arriving for 127.0.0.0/8 unless
  // route_localnet is on, which the simulator does not model: loopback is probed from the node only.
  for (const r of isLoopback(d.address, family) ? [] : remote) {
    if (inp.isLocalEither(r.address)) continue;
    for (const iface of [null, ...ifaces]) {
      for (const mark of markList) add({ address: r.address, local: false, inInterface: iface, mark, description: r.description });
    }
  }
  for (const mark of markList) add({ address: null, local: true, inInterface: null, mark, description: 'the node itself' });
  return out;
}

/** The port for "another port" of an address: one no rule or entry uses there. */
export function otherPort(used: ReadonlySet<number>): number {
  for (const p of [81, 8081, 9, 7, 1]) if (!used.has(p)) return p;
  for (let p = 2; p < 65536; p++) if (!used.has(p)) return p;
  return 0;
}

/**
 * Every destination to compare: both nodes' entry points, another port and protocol of each, one
 * address nothing names, and in each network a rule names as a destination (nftables mode's
 * service CIDRs), an address no entry point is at.
 */
export function destinations(views: readonly NodeServices[], extra: readonly Destination[], inp: ClassInputs, networks: readonly Cidr[] = []): Destination[] {
  const { family } = inp;
  const out = new Map<string, Destination>();
  const add = (protocol: Destination['protocol'], address: Ip, port: number) => {
    const k = `${protocol} ${String(address)} ${port}`;
    if (!out.has(k)) out.set(k, { protocol, proto: PROTO_NUMBERS[protocol], address, port });
  };
  const locals = sharedLocalAddresses(inp.left, inp.right, family);
  const loopback = parseAddress(family === 'ipv4' ? '127.0.0.1' : '::1', family)!;
  for (const v of views) {
    for (const p of v.ports) {
      for (const e of p.entries) {
        if (e.port === null || !e.protocol) continue;
        const proto = e.protocol.toLowerCase() as Destination['protocol'];
        if (e.kind === 'nodePort' || e.kind === 'healthCheckNodePort') {
          for (const a of [...locals, loopback]) add(proto, a, e.port);
          continue;
        }
        const a = e.address === null ? null : parseAddress(e.address, family);
        if (a !== null) add(proto, a, e.port);
      }
    }
  }
  for (const d of extra) add(d.protocol, d.address, d.port);
  // Another port of each address, another protocol of each address and port.
  const byAddress = new Map<string, { address: Ip; ports: Set<number>; protos: Map<number, Set<string>> }>();
  for (const d of out.values()) {
    const k = String(d.address);
    let a = byAddress.get(k);
    if (!a) byAddress.set(k, (a = { address: d.address, ports: new Set(), protos: new Map() }));
    a.ports.add(d.port);
    let ps = a.protos.get(d.port);
    if (!ps) a.protos.set(d.port, (ps = new Set()));
    ps.add(d.protocol);
  }
  for (const a of byAddress.values()) {
    const port = otherPort(a.ports);
    for (const proto of new Set([...a.protos.values()].flatMap((s) => [...s]))) add(proto as Destination['protocol'], a.address, port);
    for (const [port2, protos] of a.protos) {
      const other = (['tcp', 'udp', 'sctp'] as const).find((p) => !protos.has(p));
      if (other) add(other, a.address, port2);
    }
  }
  const named = new Set([...out.values()].map((d) => String(d.address)));
  for (const n of networks) {
    const a = unnamedAddressIn(n, named, inp.isLocalEither);
    if (a !== null) add('tcp', a, 80);
  }
  const nowhere = outsideAddress([], family, inp.isLocalEither);
  if (nowhere !== null) add('tcp', nowhere, 80);
  return [...out.values()];
}

/** A host address of the network that no destination has and that is not local (the first of the first 256), or null. */
function unnamedAddressIn(c: Cidr, named: ReadonlySet<string>, isLocal: (a: Ip) => boolean): Ip | null {
  const [lo, hi] = range(c);
  for (let a = lo + 1n; a < hi && a <= lo + 256n; a++) {
    const ip = fromBig(a, c.family);
    if (!named.has(String(ip)) && !isLocal(ip)) return ip;
  }
  return null;
}

/**
 * The source the node's kernel picks for its own packet to `dst` (ip_route_output's saddr): the
 * destination itself when it is a local address (127.0.0.1 for loopback), else the address of the
 * interface the route leaves by. IPVS mode's service addresses are local (kube-ipvs0), so there
 * the node reaches a cluster IP from the cluster IP itself.
 */
export function pickSource(env: { isLocal(a: Ip): boolean; routeDev(a: Ip): string | null; sourceAddress(dev: string, dst: Ip): Ip | null }, dst: Ip, family: Family): Ip | null {
  if (env.isLocal(dst)) return isLoopback(dst, family) ? parseAddress(family === 'ipv4' ? '127.0.0.1' : '::1', family) : dst;
  const dev = env.routeDev(dst);
  return dev === null ? null : env.sourceAddress(dev, dst);
}
