// kube-proxy's chain names are pure functions of the service port name (and endpoint):
// prefix + the first 16 characters of base32(SHA-256(servicePortName + protocol [+ endpoint]))
// (pkg/proxy/iptables/proxier.go portProtoHash, servicePortEndpointChainName).
import { hash } from 'node:crypto';
import { sha256Ascii } from './sha256.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 10 bytes of SHA-256(UTF-8 of text), in `out`. */
function digest10(text: string, out: Uint8Array): void {
  const words = sha256Ascii(text);
  if (words) {
    for (let i = 0; i < 10; i++) out[i] = words[i >> 2] >>> (24 - 8 * (i & 3));
  } else {
    out.set(hash('sha256', text, 'buffer').subarray(0, 10));
  }
}

const d = new Uint8Array(10);
const codes = new Array<number>(16);

/** The first 16 base32 characters of a digest: exactly its first 10 bytes (80 bits). */
export function hash16(text: string): string {
  digest10(text, d);
  let n = 0;
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | d[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      codes[n++] = BASE32.charCodeAt((acc >> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  return String.fromCharCode(...codes);
}

export type ServiceChainKind = 'SVC' | 'SVL' | 'EXT' | 'FW';

/** portProtoHash in proxier.go: the hash every per-service chain name of a service port shares. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol);
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
  const name = `KUBE-SEP-${hash16(servicePortName + protocol + endpoint)}`;
  name.charCodeAt(0);
  return name;
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'];

export function isServiceChainName(name: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => name.startsWith(p));
}
