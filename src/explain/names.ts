// Names from the objects, for dumps without kube-proxy's comments (it leaves out the per-endpoint
// ones above 1000 endpoints: largeClusterEndpointsThreshold) and for modes without chains (IPVS).
// kube-proxy's chain names are hashes (pkg/proxy/iptables/proxier.go portProtoHash: base32 of
// SHA-256 of the service port name and the lower-case protocol; servicePortEndpointChainName adds
// the endpoint's `ip:port`), so recomputing them for every service port and endpoint of the objects
// names every chain that belongs to one. Addresses name what IPVS shows: a virtual server's
// address, port and protocol are a service port's cluster IP, external or load-balancer IP, or
// NodePort. kube-proxy's nftables chain names are readable (`service-HASH-ns/svc/tcp/p80`), but
// cut to 240 characters with `...` when longer (hashAndTruncate): the objects name those.
import { endpointChainName, portProtoHash } from '../compiler/hash.js';
import { servicePortChainNameBase, servicePortEndpointChainNameBase } from '../compiler/nftables/names.js';
import type { ServicePortPlan } from '../compiler/plan.js';
import type { EntryKind, Protocol } from './view.js';

export interface NamedPort {
  readonly name: string;
  readonly protocol: Protocol;
}

export interface NameBook {
  /** portProtoHash -> the service port. */
  readonly byHash: ReadonlyMap<string, NamedPort>;
  /** KUBE-SEP-... -> the service port and the endpoint (`ip:port`). */
  readonly byEndpointChain: ReadonlyMap<string, NamedPort & { readonly endpoint: string }>;
  /** `TCP 10.96.0.10:53` -> the service port and which of its addresses this is. */
  readonly byAddress: ReadonlyMap<string, NamedPort & { readonly kind: EntryKind }>;
  /** `TCP 30080` -> the service port with that NodePort. */
  readonly byNodePort: ReadonlyMap<string, NamedPort>;
  /** A healthCheckNodePort -> the service port it answers for. */
  readonly byHealthCheckNodePort: ReadonlyMap<number, NamedPort>;
  /** `ns/name:port` -> the service port, for every port of the objects. */
  readonly ports: ReadonlyMap<string, ServicePortPlan>;
  /**
   * nftables mode: a chain name's base (`HASH-ns/svc/tcp/p80`, an endpoint's `HASH-ns/svc/tcp/p80__10.0.0.1/80`) ->
   * the service port (and endpoint), computed on first use.
   */
  nftBases(): ReadonlyMap<string, NamedPort & { readonly endpoint: string | null }>;
}

export function addressKey(protocol: string, address: string, port: number | null): string {
  return `${protocol.toUpperCase()} ${address.includes(':') ? `[${address}]` : address}:${port ?? '*'}`;
}

/** Every chain name kube-proxy could give the objects' service ports and endpoints, and their addresses. */
export function nameBook(plans: readonly ServicePortPlan[]): NameBook {
  const byHash = new Map<string, NamedPort>();
  const byEndpointChain = new Map<string, NamedPort & { endpoint: string }>();
  const byAddress = new Map<string, NamedPort & { kind: EntryKind }>();
  const byNodePort = new Map<string, NamedPort>();
  const byHealthCheckNodePort = new Map<number, NamedPort>();
  const ports = new Map<string, ServicePortPlan>();
  for (const p of plans) {
    const named: NamedPort = { name: p.name, protocol: p.protocol };
    const proto = p.protocol.toLowerCase();
    ports.set(p.name, p);
    byHash.set(portProtoHash(p.name, proto), named);
    // Every endpoint of the objects, not only those this node would use: a chain for an endpoint
    // kube-proxy no longer writes is stale, not unknown.
    for (const ep of p.allEndpoints) byEndpointChain.set(endpointChainName(p.name, proto, ep.key), { ...named, endpoint: ep.key });
    byAddress.set(addressKey(proto, p.clusterIP, p.port.port), { ...named, kind: 'clusterIP' });
    for (const ip of p.externalIPs) byAddress.set(addressKey(proto, ip, p.port.port), { ...named, kind: 'externalIP' });
    for (const ip of p.loadBalancerVIPs) byAddress.set(addressKey(proto, ip, p.port.port), { ...named, kind: 'loadBalancerIP' });
    if (p.nodePort) byNodePort.set(`${p.protocol} ${p.nodePort}`, named);
    if (p.healthCheckNodePort && !byHealthCheckNodePort.has(p.healthCheckNodePort)) byHealthCheckNodePort.set(p.healthCheckNodePort, named);
  }
  let bases: Map<string, NamedPort & { endpoint: string | null }> | null = null;
  const nftBases = () => (bases ??= nftChainBases(plans));
  return { byHash, byEndpointChain, byAddress, byNodePort, byHealthCheckNodePort, ports, nftBases };
}

/** Every nftables chain base kube-proxy could give the objects' service ports and endpoints (servicePortChainNameBase, servicePortEndpointChainNameBase). */
function nftChainBases(plans: readonly ServicePortPlan[]): Map<string, NamedPort & { endpoint: string | null }> {
  const out = new Map<string, NamedPort & { endpoint: string | null }>();
  for (const p of plans) {
    const named: NamedPort = { name: p.name, protocol: p.protocol };
    const proto = p.protocol.toLowerCase();
    const { namespace, name } = p.service;
    out.set(servicePortChainNameBase(namespace, name, proto, p.port.name), { ...named, endpoint: null });
    for (const ep of p.allEndpoints) out.set(servicePortEndpointChainNameBase(namespace, name, proto, p.port.name, ep.ip, ep.port), { ...named, endpoint: ep.key });
  }
  return out;
}
