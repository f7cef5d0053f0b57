// `kpsim trace --rules node.rules --dst shop/web:http`: a Service port named as `NS/NAME[:PORT]`
// resolved to the address and port the node captures it at, from the node itself (its service
// ports as explain reads them: names from kube-proxy's comments, or from the objects' recomputed
// hashes for dumps without comments), not from cluster objects. PORT is the port's name or its
// number; `via` picks which of the port's addresses (cluster IP, NodePort, load-balancer IP,
// external IP).
import type { EntryKind, NodeServices, Protocol, ServicePortView } from './view.js';

export const VIAS = ['clusterip', 'nodeport', 'loadbalancer', 'externalip'] as const;
export type Via = (typeof VIAS)[number];

const KIND: Readonly<Record<Via, EntryKind>> = { clusterip: 'clusterIP', nodeport: 'nodePort', loadbalancer: 'loadBalancerIP', externalip: 'externalIP' };

export type Resolved =
  | { readonly ok: true; readonly port: ServicePortView; readonly address: string | null; readonly portNumber: number; readonly protocol: Protocol }
  | { readonly ok: false; readonly why: string };

/** `ns/name:port` -> its namespace/name and its port selector (null: the only port). */
function splitSpec(spec: string): { readonly service: string; readonly port: string | null } {
  const colon = spec.indexOf(':');
  return colon < 0 ? { service: spec, port: null } : { service: spec.slice(0, colon), port: spec.slice(colon + 1) };
}

/** The port's own name (`http`), '' for an unnamed port. */
function portPart(p: ServicePortView, service: string): string | null {
  if (p.name === service) return '';
  return p.name?.startsWith(`${service}:`) ? p.name.slice(service.length + 1) : null;
}

/** The service port's number (its cluster IP entry's port, else any non-NodePort entry's). */
function servicePortNumber(p: ServicePortView): number | null {
  return (p.entries.find((e) => e.kind === 'clusterIP') ?? p.entries.find((e) => e.kind !== 'nodePort' && e.kind !== 'healthCheckNodePort'))?.port ?? null;
}

/**
 * The entry point of the service port `spec` names, reached `via` one of its kinds. A NodePort's
 * address is null: every local address of the node (the caller picks the node's).
 */
export function resolveServiceDestination(view: NodeServices, spec: string, via: Via): Resolved {
  const { service, port } = splitSpec(spec);
  const ports = view.ports.filter((p) => portPart(p, service) !== null);
  if (ports.length === 0) {
    const unnamed = view.ports.filter((p) => p.name === null).length;
    return { ok: false, why: `no service port of ${service} on this node${unnamed ? ` (${unnamed} service port${unnamed === 1 ? ' has' : 's have'} no name: the dump has no kube-proxy comments for ${unnamed === 1 ? 'it' : 'them'}; give --objects to name them)` : ''}` };
  }
  const chosen = port === null ? ports : ports.filter((p) => portPart(p, service) === port || String(servicePortNumber(p)) === port);
  if (chosen.length !== 1) {
    const names = ports.map((p) => portPart(p, service) || String(servicePortNumber(p) ?? '?')).join(', ');
    return { ok: false, why: `${service}: ${chosen.length ? 'several ports' : 'no port'}${port !== null ? ` ${port}` : ''} on this node; name one of ${names}` };
  }
  const p = chosen[0];
  const entry = p.entries.find((e) => e.kind === KIND[via] && !e.localhost);
  if (!entry || entry.port === null) {
    const has = [...new Set(p.entries.map((e) => (Object.keys(KIND) as Via[]).find((v) => KIND[v] === e.kind)).filter((v) => v !== undefined))];
    return { ok: false, why: `${p.name} has no ${via} entry on this node${has.length ? ` (it has: ${has.join(', ')})` : ''}` };
  }
  const protocol = entry.protocol ?? p.protocol;
  if (!protocol) return { ok: false, why: `${p.name}: the node does not say which protocol its ${via} entry is for` };
  return { ok: true, port: p, address: entry.address, portNumber: entry.port, protocol };
}
