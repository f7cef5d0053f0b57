// An IPVS-mode node's Services, read back from its virtual servers and kube-proxy's ipsets
// (pkg/proxy/ipvs/proxier.go syncService / syncEndpoint, ipset.go): every cluster IP, external
// IP, load-balancer IP and NodePort (one per node address) is a virtual server whose real servers
// are the endpoints, and its address,protocol:port sits in the set that says which kind it is
// (KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP, KUBE-LOAD-BALANCER, KUBE-NODE-PORT-<PROTO>), with the
// Local-policy sets (-LOCAL) and the source-range sets beside them. IPVS keeps no names: they come
// from the objects (names.ts); without them, virtual servers of one service port are grouped by
// their real servers under the cluster IP's.
import type { Family } from '../iptables/ir.js';
import type { VirtualServer } from '../ipvs/ir.js';
import { hostPort as ipvsHostPort, serviceKey } from '../ipvs/ir.js';
import { setName, type SetKey } from '../compiler/ipvs/ipsets.js';
import type { Node } from '../node/node.js';
import { reduce, type Prob } from '../packetsim/fraction.js';
import { addressKey, type NameBook } from './names.js';
import { chainPiece } from './pieces.js';
import { newDraft, portView, type EndpointShare, type EntryKind, type NodeServices, type Piece, type PortDraft, type ServicePortView, type Where } from './view.js';

/** Schedulers whose choice is a share by weight (src/packetsim-ipvs/schedule.ts says why). */
const PROPORTIONAL: ReadonlySet<string> = new Set(['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'ovf']);

interface Group extends PortDraft {
  /** The real servers' `ip:port`s, sorted: how virtual servers of one port are found without names. */
  servers: string;
  key: string;
}

function share(weight: number, total: number): Prob | null {
  if (total === 0) return null;
  // weight / total as num / (den * 2^exp), den odd.
  let den = BigInt(total);
  let exp = 0;
  while ((den & 1n) === 0n) {
    den >>= 1n;
    exp++;
  }
  return reduce({ num: BigInt(weight), exp, den });
}

function vsPiece(vs: VirtualServer, key: string): Piece {
  const lines = [
    `scheduler ${vs.scheduler}${vs.flags & 1 ? ` persistent ${vs.timeout}` : ''}`,
    ...vs.realServers.map((r) => `-> ${ipvsHostPort(r.address, r.port)} ${r.forward} weight ${r.weight}`).sort(),
  ];
  return { id: `ipvs ${key}`, kind: 'virtual server', lines: () => lines, at: { source: 'ipvs', span: vs.span, what: `virtual server ${key}` } };
}

/** The service ports of an IPVS-mode node (one family). */
export function ipvsServices(node: Node, family: Family, names: NameBook | null): NodeServices {
  const sets = new Map<string, Set<string>>();
  const setSpans = new Map<string, Where>();
  for (const s of node.ipsets?.sets ?? []) {
    sets.set(s.name, new Set(s.entries.map((e) => e.text)));
    setSpans.set(s.name, { source: 'ipsets', span: s.span, what: `set ${s.name}` });
  }
  const has = (key: SetKey, entry: string) => sets.get(setName(key, family))?.has(entry) ?? false;
  const claimed = new Map<string, Set<string>>();
  const claim = (key: SetKey, entry: string, g: Group) => {
    const name = setName(key, family);
    if (!sets.get(name)?.has(entry)) return;
    let c = claimed.get(name);
    if (!c) claimed.set(name, (c = new Set()));
    c.add(entry);
    g.pieces.push({ id: `set ${name} ${entry}`, kind: 'set element', lines: () => [entry], at: setSpans.get(name) ?? null });
  };
  const groups = new Map<string, Group>();
  const unnamed: Group[] = [];
  const services = (node.ipvs?.services ?? []).filter((v) => v.family === family);
  // Cluster IPs first, so NodePorts and external addresses without names can join their port.
  const order = (v: VirtualServer) => (has('clusterIP', `${v.address},${v.protocol.toLowerCase()}:${v.port}`) ? 0 : 1);
  for (const vs of [...services].sort((a, b) => order(a) - order(b))) {
    const proto = vs.protocol.toLowerCase();
    const entry = `${vs.address},${proto}:${vs.port}`;
    const nodePortSet: SetKey = vs.protocol === 'TCP' ? 'nodePortTCP' : vs.protocol === 'UDP' ? 'nodePortUDP' : 'nodePortSCTP';
    const nodePortLocalSet: SetKey = vs.protocol === 'TCP' ? 'nodePortLocalTCP' : vs.protocol === 'UDP' ? 'nodePortLocalUDP' : 'nodePortLocalSCTP';
    const npEntry = vs.protocol === 'SCTP' ? entry : String(vs.port);
    const kind: EntryKind = has('clusterIP', entry)
      ? 'clusterIP'
      : has('externalIP', entry)
        ? 'externalIP'
        : has('loadBalancer', entry)
          ? 'loadBalancerIP'
          : has(nodePortSet, npEntry)
            ? 'nodePort'
            : (names?.byAddress.get(addressKey(proto, vs.address, vs.port))?.kind ?? (names?.byNodePort.has(`${vs.protocol} ${vs.port}`) ? 'nodePort' : 'external'));
    const named = kind === 'nodePort' ? names?.byNodePort.get(`${vs.protocol} ${vs.port}`) : names?.byAddress.get(addressKey(proto, vs.address, vs.port));
    // The sets say which external addresses have a Local policy; a cluster IP's (internalTrafficPolicy) only the objects say.
    const local =
      kind === 'nodePort' ? has(nodePortLocalSet, npEntry) : kind === 'externalIP' ? has('externalIPLocal', entry) : kind === 'loadBalancerIP' ? has('loadBalancerLocal', entry) : kind === 'clusterIP' && named ? (names?.ports.get(named.name)?.internalPolicyLocal ?? false) : false;
    const servers = vs.realServers.map((r) => ipvsHostPort(r.address, r.port)).sort().join(' ');
    const key = serviceKey(vs);
    let g = named ? groups.get(named.name) : kind !== 'clusterIP' ? unnamed.find((u) => u.protocol === vs.protocol && u.servers === servers && servers !== '') : undefined;
    if (!g) {
      g = { ...newDraft(named?.name ?? null, named ? 'objects' : null), protocol: vs.protocol, servers, key: named?.name ?? `vs:${key}` };
      if (named) groups.set(named.name, g);
      else unnamed.push(g);
    }
    const policy: 'Cluster' | 'Local' = local ? 'Local' : 'Cluster';
    const where: Where = { source: 'ipvs', span: vs.span, what: `virtual server ${key}` };
    const total = vs.realServers.reduce((n, r) => n + r.weight, 0);
    const proportional = PROPORTIONAL.has(vs.scheduler);
    const endpoints: EndpointShare[] = vs.realServers.map((r) => ({ address: r.address, port: r.port, share: proportional ? share(r.weight, total) : null, via: `${key} -> ${ipvsHostPort(r.address, r.port)}`, at: { source: 'ipvs', span: r.span, what: `real server ${ipvsHostPort(r.address, r.port)} of ${key}` } }));
    g.splits.push({ policy, via: `virtual server ${key} (${vs.scheduler})`, endpoints, fallThrough: null, scheduler: proportional ? null : vs.scheduler, at: where });
    g.entries.push({
      kind,
      protocol: vs.protocol,
      address: vs.address,
      port: vs.port,
      outcome: vs.realServers.length > 0 ? { kind: 'endpoints', policy, via: `virtual server ${key}` } : { kind: 'verdict', verdict: 'REJECT', why: 'no real servers: IPVS refuses the connection (ip_vs_leave)' },
      at: where,
    });
    if (kind === 'clusterIP') g.internalPolicy = policy;
    else g.externalPolicy = policy;
    if (vs.flags & 1) g.affinitySeconds = vs.timeout;
    g.pieces.push(vsPiece(vs, key));
    for (const k of ['clusterIP', 'externalIP', 'externalIPLocal', 'loadBalancer', 'loadBalancerLocal', 'loadBalancerFW'] as const) claim(k, entry, g);
    if (kind === 'nodePort') for (const k of [nodePortSet, nodePortLocalSet]) claim(k, npEntry, g);
    // The allowed sources: KUBE-LOAD-BALANCER-SOURCE-CIDR (the ranges) and -SOURCE-IP (the LB IP itself, when the node is in a range).
    for (const key of ['loadBalancerSourceCIDR', 'loadBalancerSourceIP'] as const) {
      for (const e of sets.get(setName(key, family)) ?? []) {
        if (!e.startsWith(`${entry},`)) continue;
        g.sourceRanges.push(e.slice(entry.length + 1));
        claim(key, e, g);
      }
    }
    for (const r of vs.realServers) claim('loopBack', `${r.address},${proto}:${r.port},${r.address}`, g);
  }
  // KUBE-HEALTH-CHECK-NODE-PORT: the ports kube-proxy's health-check server answers on (a name from the objects ties one to its port).
  for (const entry of sets.get(setName('healthCheckNodePort', family)) ?? []) {
    const named = names?.byHealthCheckNodePort.get(Number(entry));
    const g = named ? groups.get(named.name) : undefined;
    if (!g) continue;
    g.entries.push({ kind: 'healthCheckNodePort', protocol: 'TCP', address: null, port: Number(entry), outcome: { kind: 'accept', why: "kube-proxy's health-check server answers the load balancer" }, at: setSpans.get(setName('healthCheckNodePort', family)) ?? { source: 'ipsets', span: null, what: 'set' } });
    claim('healthCheckNodePort', entry, g);
  }
  const ports: ServicePortView[] = [...groups.values(), ...unnamed].map((g) => {
    if (g.sourceRanges.length) g.notes.push(`load balancer: only sources in ${[...new Set(g.sourceRanges)].join(', ')} are accepted (KUBE-LOAD-BALANCER-SOURCE-CIDR, -SOURCE-IP); others are dropped by KUBE-SOURCE-RANGES-FIREWALL`);
    return portView(g, g.key, null);
  });
  ports.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { mode: 'ipvs', ports, other: otherPieces(node, family, sets, claimed, setSpans), orphans: [] };
}

/** The iptables chains and the sets' unclaimed entries: the node's own pieces. */
function otherPieces(node: Node, family: Family, sets: ReadonlyMap<string, Set<string>>, claimed: ReadonlyMap<string, Set<string>>, spans: ReadonlyMap<string, Where>): Piece[] {
  const out: Piece[] = [];
  for (const [table, chains] of node.netfilter.get(family)?.tables ?? []) {
    for (const [name, ch] of chains) {
      out.push(chainPiece(table, name, ch, ch.rules, family));
    }
  }
  for (const [name, entries] of sets) {
    const mine = claimed.get(name);
    const rest = [...entries].filter((e) => !mine?.has(e)).sort();
    out.push({ id: `set ${name}`, kind: 'set element', lines: () => rest, at: spans.get(name) ?? null });
  }
  return out;
}
