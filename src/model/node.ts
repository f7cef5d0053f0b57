// v1 Node -> Node, including the two kpsim annotations that carry host facts objects cannot:
//   kpsim.io/interfaces:    lo=127.0.0.1/8,::1/128 eth0=192.168.0.2/24,2001:db8::1/64
//   kpsim.io/host-features: random-fully=false,nfacct=true
import { parseCIDR, parseInterfaceList, parseIP, type ParsedCIDR, type ParsedIP } from '../net/index.js';
import type { ObjectReader } from './reader.js';
import type { HostFeatures, KubeNode, AnnotatedInterface, Origin } from './types.js';

export const INTERFACES_ANNOTATION = 'kpsim.io/interfaces';
export const HOST_FEATURES_ANNOTATION = 'kpsim.io/host-features';

export function readNode(r: ObjectReader, origin: Origin): KubeNode | null {
  const name = r.requiredStr(['metadata', 'name']);
  if (name === undefined) return null;
  const internalIPs: ParsedIP[] = [];
  const externalIPs: ParsedIP[] = [];
  r.list(['status', 'addresses']).forEach((_, i) => {
    const p = ['status', 'addresses', i];
    const type = r.str([...p, 'type']);
    const address = r.str([...p, 'address']);
    if (address === undefined || (type !== 'InternalIP' && type !== 'ExternalIP')) return;
    const ip = parseIP(address);
    if (!ip) r.error('NODE_BAD_IP', [...p, 'address'], `'${address}' is not an IP address`);
    else (type === 'InternalIP' ? internalIPs : externalIPs).push(ip);
  });
  const podCIDRs: ParsedCIDR[] = [];
  const cidrTexts = r.has(['spec', 'podCIDRs']) ? r.strList(['spec', 'podCIDRs']) : r.str(['spec', 'podCIDR']) ? [r.str(['spec', 'podCIDR'])!] : [];
  for (const c of cidrTexts) {
    const cidr = parseCIDR(c);
    if (!cidr) r.error('NODE_BAD_IP', ['spec', r.has(['spec', 'podCIDRs']) ? 'podCIDRs' : 'podCIDR'], `'${c}' is not a CIDR`);
    else podCIDRs.push(cidr);
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.map(['metadata', 'labels']) ?? {})) labels[k] = String(v);

  const ifText = r.str(['metadata', 'annotations', INTERFACES_ANNOTATION]);
  const interfaces = ifText === undefined ? null : readInterfaces(r, ifText);
  const featText = r.str(['metadata', 'annotations', HOST_FEATURES_ANNOTATION]);
  const hostFeatures = featText === undefined ? { randomFully: null, nfacct: null } : readHostFeatures(r, featText);
  return { name, internalIPs, externalIPs, podCIDRs, labels, interfaces, hostFeatures, origin };
}

function readInterfaces(r: ObjectReader, text: string): AnnotatedInterface[] {
  const path = ['metadata', 'annotations', INTERFACES_ANNOTATION];
  const { interfaces, problems } = parseInterfaceList(text);
  for (const p of problems) r.error('NODE_BAD_ANNOTATION', path, `'${p.text}' in ${INTERFACES_ANNOTATION}: expected ${p.expected}`);
  return interfaces.map((i) => ({ name: i.name, addresses: i.addresses, ips: i.ips }));
}

function readHostFeatures(r: ObjectReader, text: string): HostFeatures {
  const path = ['metadata', 'annotations', HOST_FEATURES_ANNOTATION];
  const f: { randomFully: boolean | null; nfacct: boolean | null } = { randomFully: null, nfacct: null };
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v] = item.split('=');
    if (v !== 'true' && v !== 'false') {
      r.error('NODE_BAD_ANNOTATION', path, `'${item}' in ${HOST_FEATURES_ANNOTATION}: expected FEATURE=true|false`);
      continue;
    }
    if (k === 'random-fully') f.randomFully = v === 'true';
    else if (k === 'nfacct') f.nfacct = v === 'true';
    else r.warning('NODE_BAD_ANNOTATION', path, `unknown host feature '${k}' (known: random-fully, nfacct)`);
  }
  return f;
}
