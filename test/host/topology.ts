// Small topologies of throwaway namespaces: typically a "node" namespace (where the rules under
// test are loaded) and client / pod / remote namespaces, each linked to it by a veth pair.
// Both ends of every veth pair are created directly inside namespaces from netns.ts
// (`ip -n A link add IF type veth peer name PEER netns B`), so no interface ever appears in, or
// is linked to, the root namespace.
import { createNamespace, type Namespace } from './netns.js';
import { runChecked } from './run.js';

export interface Endpoint {
  /** A namespace role declared in TopologySpec.namespaces. */
  readonly ns: string;
  /** Interface name inside that namespace (at most 15 characters). */
  readonly ifname: string;
  /** Addresses with prefix length, IPv4 or IPv6: `192.168.0.2/24`, `2001:db8::1/64`. */
  readonly addrs?: readonly string[];
}

export interface LinkSpec {
  readonly a: Endpoint;
  readonly b: Endpoint;
}

export interface RouteSpec {
  readonly ns: string;
  /** `default`, or a CIDR. IPv6 when `via` or `to` is IPv6. */
  readonly to: string;
  readonly via?: string;
  readonly dev?: string;
}

export interface TopologySpec {
  /** Role names, e.g. ['node', 'client', 'pod1']; each becomes one namespace. */
  readonly namespaces: readonly string[];
  readonly links?: readonly LinkSpec[];
  readonly routes?: readonly RouteSpec[];
  /** Per-namespace net.* sysctls, e.g. {node: {'net.ipv4.ip_forward': 1}}. */
  readonly sysctls?: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
}

export interface Topology {
  /** The namespace playing a role; throws for an undeclared role. */
  ns(role: string): Namespace;
  readonly all: readonly Namespace[];
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** Builds the topology, runs fn, and deletes every namespace afterwards, whatever happens. */
export async function withTopology<T>(spec: TopologySpec, fn: (t: Topology) => Promise<T>): Promise<T> {
  const byRole = new Map<string, Namespace>();
  try {
    for (const role of spec.namespaces) {
      if (byRole.has(role)) throw new Error(`topology: namespace role ${role} declared twice`);
      byRole.set(role, await createNamespace());
    }
    const topology: Topology = {
      ns(role) {
        const ns = byRole.get(role);
        if (!ns) throw new Error(`topology: no namespace role ${role}`);
        return ns;
      },
      all: [...byRole.values()],
    };
    await build(spec, topology);
    return await fn(topology);
  } finally {
    await Promise.all([...byRole.values()].map((ns) => ns.delete()));
  }
}

async function build(spec: TopologySpec, t: Topology): Promise<void> {
  for (const [role, settings] of Object.entries(spec.sysctls ?? {})) {
    for (const [key, value] of Object.entries(settings)) await t.ns(role).sysctl(key, value);
  }
  for (const link of spec.links ?? []) await addVethPair(t.ns(link.a.ns), link.a, t.ns(link.b.ns), link.b);
  for (const route of spec.routes ?? []) {
    const args = [...(isIPv6Route(route) ? ['-6'] : []), 'route', 'add', route.to];
    if (route.via) args.push('via', route.via);
    if (route.dev) args.push('dev', route.dev);
    await t.ns(route.ns).ip(args);
  }
}

/** Links two of our namespaces with a veth pair, addresses both ends and brings them up. */
async function addVethPair(nsA: Namespace, a: Endpoint, nsB: Namespace, b: Endpoint): Promise<void> {
  for (const end of [a, b]) {
    if (!IFNAME.test(end.ifname)) throw new Error(`topology: bad interface name ${JSON.stringify(end.ifname)}`);
  }
  if (nsA === nsB) throw new Error(`topology: a veth pair needs two different namespaces (${a.ns})`);
  // The only `ip` call with a `netns` argument, and both names come from Namespace objects.
  await runChecked('ip', ['-n', nsA.name, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', nsB.name]);
  for (const [ns, end] of [[nsA, a], [nsB, b]] as const) {
    for (const addr of end.addrs ?? []) {
      // nodad: an IPv6 address is usable at once instead of after duplicate address detection.
      await ns.ip(['addr', 'add', addr, 'dev', end.ifname, ...(addr.includes(':') ? ['nodad'] : [])]);
    }
    await ns.ip(['link', 'set', end.ifname, 'up']);
  }
}

function isIPv6Route(route: RouteSpec): boolean {
  return route.to.includes(':') || (route.via?.includes(':') ?? false);
}
