// A node built in throwaway namespaces from its own description files (the --node-dir layout:
// ip-addr.json, ip-route.json, bridge-link.json, sysctl.txt, iptables.save) and a hosts.yaml
// saying what lies behind each interface and bridge port, which no node file says. Every bridge
// of the node is a real bridge in the node namespace; every other interface, and every bridge
// port, is a veth pair to a peer namespace of its own holding the hosts behind it. Addresses,
// routes and the sysctls kpsim reads are set as the files say, interfaces created in the files'
// index order (MASQUERADE's fallback address depends on it). Nothing touches the root namespace;
// every namespace is deleted afterwards.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { nodeFromDumps, type DumpText } from '../../src/node/assemble.js';
import { addressesOf, type Node } from '../../src/node/node.js';
import { formatCidr, parseCidr } from '../../src/net/index.js';
import { createNamespace, type Namespace } from './netns.js';
import { runChecked } from './run.js';

export interface PeerSpec {
  readonly addresses: readonly string[];
  readonly gateway?: string;
  readonly gateway6?: string;
  /** `tcp/8080`: responders in this namespace. */
  readonly listen?: readonly string[];
}

export interface HostsSpec {
  readonly node?: { readonly listen?: readonly string[] };
  /** By node interface or bridge port name. */
  readonly peers: Readonly<Record<string, PeerSpec>>;
}

export interface NodeFixture {
  readonly dir: string;
  readonly node: Node;
  readonly hosts: HostsSpec;
  readonly rules: ReadonlyMap<Family, string>;
  readonly ipsets: string | null;
}

const file = (dir: string, name: string): DumpText | null => (existsSync(join(dir, name)) ? { file: join(dir, name), text: readFileSync(join(dir, name), 'utf8') } : null);

/** Reads a node folder with kpsim's own readers (a problem in a fixture fails loudly). */
export function readNodeFixture(dir: string): NodeFixture {
  const rules = new Map<Family, string>();
  const v4 = file(dir, 'iptables.save');
  const v6 = file(dir, 'ip6tables.save');
  if (v4) rules.set('ipv4', v4.text);
  if (v6) rules.set('ipv6', v6.text);
  const sink = new DiagnosticSink();
  const description = { ipAddr: file(dir, 'ip-addr.json'), ipRoutes: [file(dir, 'ip-route.json'), file(dir, 'ip6-route.json')].filter((f): f is DumpText => f !== null), bridgeLinks: file(dir, 'bridge-link.json'), sysctls: file(dir, 'sysctl.txt') };
  const iptables = [...(v4 ? [{ family: 'ipv4' as const, ...v4 }] : []), ...(v6 ? [{ family: 'ipv6' as const, ...v6 }] : [])];
  const node = nodeFromDumps({ iptables, ipsets: file(dir, 'ipset.save'), interfaces: [], description }, sink);
  if (!node || sink.hasErrors) throw new Error(`${dir}: ${sink.errors.map((e) => `${e.file}:${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
  const hosts = parseYaml(readFileSync(join(dir, 'hosts.yaml'), 'utf8')) as HostsSpec;
  return { dir, node, hosts, rules, ipsets: file(dir, 'ipset.save')?.text ?? null };
}

/** The sysctls kpsim reads, in the order they must be set (global switches first). */
const KEYS = /^net\.(ipv4\.ip_forward|ipv4\.conf\.[^.]+\.(rp_filter|route_localnet|accept_local|forwarding|send_redirects)|ipv6\.conf\.[^.]+\.forwarding|bridge\.bridge-nf-call-ip6?tables)$/;

export interface RealNode {
  readonly node: Namespace;
  /** The peer namespace behind a node interface or bridge port. */
  peer(name: string): Namespace;
  /** The namespace holding `addr` (the node for its own addresses and loopback), or null. */
  holder(addr: string): Namespace | null;
  readonly peers: ReadonlyMap<string, Namespace>;
}

const PEER_IF = 'p0';

/** Builds the node and its peers, runs fn, deletes every namespace, whatever happens. */
export async function withRealNode<T>(fx: NodeFixture, fn: (n: RealNode) => Promise<T>): Promise<T> {
  const made: Namespace[] = [];
  try {
    const node = await createNamespace();
    made.push(node);
    await node.ip(['link', 'set', 'lo', 'up']);
    const bridges = new Set((fx.node.bridges ?? []).map((b) => b.name));
    const masterOf = new Map((fx.node.bridges ?? []).flatMap((b) => b.ports.map((p) => [p, b.name] as const)));
    const peers = new Map<string, Namespace>();
    const ordered = [...fx.node.interfaces].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    for (const itf of ordered) {
      if (itf.name === 'lo') continue;
      if (bridges.has(itf.name)) {
        await node.ip(['link', 'add', itf.name, 'type', 'bridge']);
      } else {
        const peer = await createNamespace();
        made.push(peer);
        peers.set(itf.name, peer);
        await runChecked('ip', ['-n', node.name, 'link', 'add', itf.name, 'type', 'veth', 'peer', 'name', PEER_IF, 'netns', peer.name]);
        const master = masterOf.get(itf.name);
        if (master) await node.ip(['link', 'set', itf.name, 'master', master]);
      }
    }
    // Sysctls before addresses: `all` and `default` first, then each device.
    const sysctls = [...fx.node.sysctls].filter(([k]) => KEYS.test(k)).sort(([a], [b]) => rank(a) - rank(b));
    for (const [k, v] of sysctls) await node.sysctl(k, v);
    for (const itf of ordered) {
      for (const a of addressesOf(itf)) {
        if (itf.name === 'lo') continue;
        await node.ip(['addr', 'add', a.cidr, 'dev', itf.name, ...(a.cidr.includes(':') ? ['nodad'] : [])]);
      }
      if (itf.name !== 'lo') await node.ip(['link', 'set', itf.name, 'up']);
    }
    for (const [name, peer] of peers) {
      const spec = fx.hosts.peers[name];
      await peer.ip(['link', 'set', 'lo', 'up']);
      for (const a of spec?.addresses ?? []) await peer.ip(['addr', 'add', a, 'dev', PEER_IF, ...(a.includes(':') ? ['nodad'] : [])]);
      await peer.ip(['link', 'set', PEER_IF, 'up']);
      if (spec?.gateway) await peer.ip(['route', 'add', 'default', 'via', spec.gateway]);
      if (spec?.gateway6) await peer.ip(['-6', 'route', 'add', 'default', 'via', spec.gateway6]);
    }
    for (const r of fx.node.routes) {
      if ((r.table ?? 'main') !== 'main') continue;
      const type = r.type ?? 'unicast';
      // Connected routes come with the addresses.
      if (type === 'unicast' && !r.gateway && connected(fx.node, r.to, r.dev)) continue;
      const v6 = r.to.includes(':');
      const args = [...(v6 ? ['-6'] : []), 'route', 'add', ...(type === 'unicast' ? [] : [type]), r.to];
      if (r.gateway) args.push('via', r.gateway);
      if (r.dev && type === 'unicast') args.push('dev', r.dev);
      if (r.metric) args.push('metric', String(r.metric));
      await node.ip(args);
    }
    const holders = new Map<string, Namespace>();
    for (const itf of ordered) for (const a of addressesOf(itf)) holders.set(a.cidr.split('/')[0], node);
    for (const [name, peer] of peers) for (const a of fx.hosts.peers[name]?.addresses ?? []) holders.set(a.split('/')[0], peer);
    return await fn({
      node,
      peers,
      peer: (name) => {
        const p = peers.get(name);
        if (!p) throw new Error(`no peer behind ${name}`);
        return p;
      },
      holder: (addr) => (addr.startsWith('127.') || addr === '::1' ? node : (holders.get(addr) ?? null)),
    });
  } finally {
    await Promise.all(made.map((ns) => ns.delete()));
  }
}

function rank(key: string): number {
  if (key === 'net.ipv4.ip_forward' || key.startsWith('net.bridge.')) return 0;
  if (key.includes('.conf.all.')) return 1;
  if (key.includes('.conf.default.')) return 2;
  return 3;
}

/** Whether `to` on `dev` is the prefix route of one of dev's addresses. */
function connected(node: Node, to: string, dev: string | null): boolean {
  const itf = node.interfaces.find((i) => i.name === dev);
  if (!itf) return false;
  return addressesOf(itf).some((a) => networkOf(a.cidr) === to);
}

function networkOf(cidr: string): string {
  const family = cidr.includes(':') ? 'ipv6' : 'ipv4';
  const c = parseCidr(cidr, family, true);
  return c ? formatCidr(c) : cidr;
}
