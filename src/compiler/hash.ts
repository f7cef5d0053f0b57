// kube-proxy's chain names are pure functions of the service port name (and endpoint):
// prefix + the first 16 characters of base32(SHA-256(servicePortName + protocol [+ endpoint]))
// (pkg/proxy/iptables/proxier.go portProtoHash, servicePortEndpointChainName).
import { hash } from 'node:crypto';
import { sha256Ascii } from './sha256.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 10 bytes of SHA-256(UTF-8 of a + b + c), in `out`. */
function digest10(out: Uint8Array, a: string, b: string, c: string): void {
  const words = sha256Ascii(a, b, c);
  if (words) {
    for (let i = 0; i < 10; i++) out[i] = words[i >> 2] >>> (24 - 8 * (i & 3));
  } else {
    out.set(hash('sha256', a + b + c, 'buffer').subarray(0, 10));
  }
}

const d = new Uint8Array(10);
/** The base32 digits as character codes. */
const DIGITS = Uint8Array.from(BASE32, (ch) => ch.charCodeAt(0));

/**
 * `prefix` + the first 16 base32 characters of SHA-256(a + b + c), exactly its first 10 bytes
 * (80 bits), built as one flat string: chain names live until the output is written, and are
 * map keys and sort keys.
 */
function hashedName(prefix: string, a: string, b = '', c = ''): string {
  digest10(d, a, b, c);
  // The 80 bits as four groups of 20, each four base32 digits.
  const g0 = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
  const g1 = ((d[2] & 15) << 16) | (d[3] << 8) | d[4];
  const g2 = (d[5] << 12) | (d[6] << 4) | (d[7] >> 4);
  const g3 = ((d[7] & 15) << 16) | (d[8] << 8) | d[9];
  const name =
    prefix +
    String.fromCharCode(
      DIGITS[g0 >> 15], DIGITS[(g0 >> 10) & 31], DIGITS[(g0 >> 5) & 31], DIGITS[g0 & 31],
      DIGITS[g1 >> 15], DIGITS[(g1 >> 10) & 31], DIGITS[(g1 >> 5) & 31], DIGITS[g1 & 31],
      DIGITS[g2 >> 15], DIGITS[(g2 >> 10) & 31], DIGITS[(g2 >> 5) & 31], DIGITS[g2 & 31],
      DIGITS[g3 >> 15], DIGITS[(g3 >> 10) & 31], DIGITS[(g3 >> 5) & 31], DIGITS[g3 & 31],
    );
  name.charCodeAt(0); // flatten
  return name;
}

/** The first 16 base32 characters of SHA-256(text). */
export function hash16(text: string): string {
  return hashedName('', text);
}

export type ServiceChainKind = 'SVC' | 'SVL' | 'EXT' | 'FW';

/** portProtoHash in proxier.go: the hash every per-service chain name of a service port shares. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hashedName('', servicePortName, protocol);
}

/** The name of a per-service chain whose portProtoHash is known. */
export function chainNameOf(kind: ServiceChainKind, hash: string): string {
  const name = `KUBE-${kind}-${hash}`;
  // Flatten: chain names live until the output is written, and are map keys and sort keys.
  name.charCodeAt(0);
  return name;
}

export function serviceChainName(kind: ServiceChainKind, servicePortName: string, protocol: string): string {
  return chainNameOf(kind, portProtoHash(servicePortName, protocol));
}

export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return hashedName('KUBE-SEP-', servicePortName, protocol, endpoint);
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'];

export function isServiceChainName(name: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => name.startsWith(p));
}
