// kube-proxy's nftables names: readable, with a hash in front (pkg/proxy/nftables/proxier.go
// hashAndTruncate, servicePortChainNameBase, servicePortEndpointChainNameBase). A service port's
// chains share one base, `HASH-ns/svc/proto/port` (`ULMVA6XW-ns1/svc1/tcp/p80`); an endpoint's
// chain and affinity set add `__ip/port`, colons of an IPv6 address made dots (chain names may
// hold only [A-Za-z0-9_./-]). HASH is the first 8 characters of the standard base32 encoding of
// SHA-256 of the name without it; a base longer than 240 characters (nft's 256 minus 16 for the
// longest prefix) is cut to 237 and `...` appended, the hash keeping it unique.
import { hash } from 'node:crypto';
import { sha256Ascii } from '../sha256.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** knftables.NameLengthMax (256) minus chainNamePrefixLengthMax (16). */
export const CHAIN_NAME_BASE_LENGTH_MAX = 240;

/** The chain and set name prefixes (servicePortPolicyClusterChainNamePrefix and the rest). */
export const PREFIXES = {
  cluster: 'service-',
  local: 'local-',
  external: 'external-',
  firewall: 'firewall-',
  endpoint: 'endpoint-',
  affinity: 'affinity-',
} as const;

/** The first 40 bits of SHA-256(text) as 8 base32 characters. */
function hash8(text: string): string {
  const words = sha256Ascii(text);
  let hi: number;
  let lo: number;
  if (words) {
    hi = words[0] >>> 0;
    lo = words[1] >>> 24;
  } else {
    const d = hash('sha256', text, 'buffer');
    hi = d.readUInt32BE(0);
    lo = d[4];
  }
  // 40 bits: the 32 of `hi`, then the top 8 of the next word.
  let s = '';
  for (let i = 0; i < 8; i++) {
    const shift = 35 - 5 * i;
    const v = shift >= 8 ? (hi >>> (shift - 8)) & 31 : ((hi << (8 - shift)) | (lo >>> shift)) & 31;
    s += BASE32[v];
  }
  return s;
}

/** hashAndTruncate. */
export function hashAndTruncate(name: string): string {
  const full = `${hash8(name)}-${name}`;
  return full.length > CHAIN_NAME_BASE_LENGTH_MAX ? full.slice(0, CHAIN_NAME_BASE_LENGTH_MAX - 3) + '...' : full;
}

/** servicePortChainNameBase: `HASH-ns/svc/proto/port` (the port's name, empty when unnamed). */
export function servicePortChainNameBase(namespace: string, service: string, protocol: string, portName: string): string {
  return hashAndTruncate(`${namespace}/${service}/${protocol}/${portName}`);
}

/** servicePortEndpointChainNameBase: `HASH-ns/svc/proto/port__ip/port`, an IPv6 address's colons made dots. */
export function servicePortEndpointChainNameBase(namespace: string, service: string, protocol: string, portName: string, ip: string, port: number): string {
  return hashAndTruncate(`${namespace}/${service}/${protocol}/${portName}__${ip.replaceAll(':', '.')}/${port}`);
}
