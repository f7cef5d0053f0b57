// networking.k8s.io/v1 (and v1beta1) ServiceCIDR -> ServiceCIDR. kube-proxy watches these objects
// (pkg/proxy/config ServiceCIDRHandler) and hands their ranges to the proxier
// (OnServiceCIDRsChanged); the nftables proxier drops traffic to addresses in them that no
// Service holds.
import { parseCIDR, type ParsedCIDR } from '../net/index.js';
import type { ObjectReader } from './reader.js';
import type { Origin, ServiceCIDR } from './types.js';

export function readServiceCIDR(r: ObjectReader, origin: Origin): ServiceCIDR | null {
  const name = r.requiredStr(['metadata', 'name']);
  if (name === undefined) return null;
  const cidrs: ParsedCIDR[] = [];
  r.strList(['spec', 'cidrs']).forEach((text, i) => {
    const cidr = parseCIDR(text);
    if (!cidr) r.error('OBJ_BAD_VALUE', ['spec', 'cidrs', i], `ServiceCIDR ${name}: spec.cidrs[${i}] '${text}' is not a CIDR`);
    else cidrs.push(cidr);
  });
  return { name, cidrs, origin };
}
