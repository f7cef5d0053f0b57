// discovery.k8s.io/v1 EndpointSlice and legacy v1 Endpoints -> EndpointSlice.
// Legacy Endpoints are converted the way the EndpointSlice mirroring controller does
// (pkg/controller/endpointslicemirroring): one slice per subset and address family, ready
// addresses ready+serving, notReadyAddresses neither, never terminating.
import { parseIP } from '../net/index.js';
import type { ObjectReader } from './reader.js';
import type { Endpoint, EndpointPort, EndpointSlice, Origin, ServiceProtocol } from './types.js';

const PROTOCOLS: readonly ServiceProtocol[] = ['TCP', 'UDP', 'SCTP'];
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

function readPorts(r: ObjectReader, path: (string | number)[]): EndpointPort[] {
  const ports: EndpointPort[] = [];
  r.list(path).forEach((_, i) => {
    const p = [...path, i];
    const port = r.intIn([...p, 'port'], 0, 65535, 'OBJ_BAD_VALUE') ?? null;
    ports.push({ name: r.str([...p, 'name']) ?? '', port, protocol: r.oneOf([...p, 'protocol'], PROTOCOLS, 'TCP') });
  });
  return ports;
}

export function readEndpointSlice(r: ObjectReader, origin: Origin): EndpointSlice | null {
  const name = r.requiredStr(['metadata', 'name']);
  const namespace = r.str(['metadata', 'namespace']) ?? 'default';
  const serviceName = r.str(['metadata', 'labels', SERVICE_NAME_LABEL]);
  if (name === undefined) return null;
  if (!serviceName) {
    r.error('EPS_NO_SERVICE_LABEL', ['metadata', 'labels'], `EndpointSlice ${namespace}/${name} has no '${SERVICE_NAME_LABEL}' label, so no Service owns it`);
    return null;
  }
  // kube-proxy takes slices of addressType IPv4 and IPv6 only (EndpointSliceUpdate,
  // supportedEndpointSliceAddressTypes); an API server refuses a slice without one, kube-proxy
  // ignores it.
  const addressType = r.has(['addressType']) ? r.oneOf(['addressType'], ['IPv4', 'IPv6', 'FQDN'] as const, 'IPv4') : null;
  if (addressType === null) r.warning('EPS_NO_ADDRESS_TYPE', [], `EndpointSlice ${namespace}/${name} has no addressType: kube-proxy ignores it, so it gives Service ${namespace}/${serviceName} no endpoints`);
  const endpoints: Endpoint[] = [];
  r.list(['endpoints']).forEach((_, i) => {
    const p = ['endpoints', i];
    const addresses = r.strList([...p, 'addresses']);
    if (addressType !== 'FQDN' && addressType !== null) {
      addresses.forEach((a, j) => {
        const ip = parseIP(a);
        const ap = [...p, 'addresses', j];
        if (!ip) r.error('EPS_BAD_IP', ap, `'${a}' is not an IP address`);
        // An API server refuses it; kube-proxy's endpoint cache skips an endpoint whose address is
        // not of the proxier's family (addEndpoints: "Filter out the incorrect IP version case").
        else if (addressType !== null && (ip.family === 'ipv4') !== (addressType === 'IPv4')) r.warning('EPS_WRONG_FAMILY', ap, `'${a}' is not an ${addressType} address (addressType is ${addressType}): kube-proxy ignores this endpoint`);
        else if (ip.sloppy) r.warning('IP_NONCANONICAL', ap, `'${a}' has leading zeros; an API server would refuse it, kube-proxy reads it as ${ip.text}`);
      });
    }
    endpoints.push({
      addresses,
      ready: r.bool([...p, 'conditions', 'ready']) ?? null,
      serving: r.bool([...p, 'conditions', 'serving']) ?? null,
      terminating: r.bool([...p, 'conditions', 'terminating']) ?? null,
      nodeName: r.str([...p, 'nodeName']) ?? null,
      zone: r.str([...p, 'zone']) ?? null,
      hintZones: r.has([...p, 'hints', 'forZones']) ? r.list([...p, 'hints', 'forZones']).map((_, k) => r.str([...p, 'hints', 'forZones', k, 'name']) ?? '') : null,
      hintNodes: r.has([...p, 'hints', 'forNodes']) ? r.list([...p, 'hints', 'forNodes']).map((_, k) => r.str([...p, 'hints', 'forNodes', k, 'name']) ?? '') : null,
    });
  });
  return { namespace, name, serviceName, addressType, endpoints, ports: readPorts(r, ['ports']), mirrored: false, origin };
}

export function readLegacyEndpoints(r: ObjectReader, origin: Origin): EndpointSlice[] {
  const name = r.requiredStr(['metadata', 'name']);
  const namespace = r.str(['metadata', 'namespace']) ?? 'default';
  if (name === undefined) return [];
  if (r.get(['metadata', 'labels', 'endpointslice.kubernetes.io/skip-mirror']) === 'true') return [];
  const out: EndpointSlice[] = [];
  r.list(['subsets']).forEach((_, s) => {
    const ports = readPorts(r, ['subsets', s, 'ports']);
    const byFamily: Record<'IPv4' | 'IPv6', Endpoint[]> = { IPv4: [], IPv6: [] };
    for (const [field, ready] of [['addresses', true], ['notReadyAddresses', false]] as const) {
      r.list(['subsets', s, field]).forEach((_, i) => {
        const p = ['subsets', s, field, i];
        const ipText = r.requiredStr([...p, 'ip']);
        if (ipText === undefined) return;
        const ip = parseIP(ipText);
        if (!ip) {
          r.error('EPS_BAD_IP', [...p, 'ip'], `'${ipText}' is not an IP address`);
          return;
        }
        byFamily[ip.family === 'ipv4' ? 'IPv4' : 'IPv6'].push({
          addresses: [ipText],
          ready,
          serving: ready,
          terminating: false,
          nodeName: r.str([...p, 'nodeName']) ?? null,
          zone: null,
          hintZones: null,
          hintNodes: null,
        });
      });
    }
    for (const addressType of ['IPv4', 'IPv6'] as const) {
      if (byFamily[addressType].length === 0) continue;
      out.push({ namespace, name: `${name}-mirror-${s}-${addressType.toLowerCase()}`, serviceName: name, addressType, endpoints: byFamily[addressType], ports, mirrored: true, origin });
    }
  });
  return out;
}
