// Addresses and networks as kube-proxy reads them from API objects (netutils.ParseIPSloppy and
// ParseCIDRSloppy): the family found from the text, IPv4 octets with leading zeros read as decimal
// ("192.168.099.022" is 192.168.99.22, where an API server would refuse it; `sloppy` says so, for
// the model's warning), and the canonical text kept beside the number, host bits of a CIDR
// cleared ("10.0.0.1/8" is 10.0.0.0/8).
import type { Cidr } from './cidr.js';
import type { Family } from './family.js';
import { formatIPv4, formatIPv6, maskIp, parseIPv6, scanIPv4 } from './ip.js';

export type ParsedIP =
  | { readonly family: 'ipv4'; readonly value: number; readonly text: string; readonly sloppy: boolean }
  | { readonly family: 'ipv6'; readonly value: bigint; readonly text: string; readonly sloppy: boolean };

export type ParsedCIDR = Cidr &
  (
    | { readonly family: 'ipv4'; readonly network: number; readonly text: string; readonly sloppy: boolean }
    | { readonly family: 'ipv6'; readonly network: bigint; readonly text: string; readonly sloppy: boolean }
  );

/** An address in canonical text (dotted quad, RFC 5952), or null. */
export function parseIP(text: string): ParsedIP | null {
  const v4 = scanIPv4(text, 0, text.length, true);
  if (v4 >= 0) {
    // Keep the input string when it is canonical already: it is flat, the template result a rope.
    const built = formatIPv4(v4);
    const canonical = built === text ? text : built;
    return { family: 'ipv4', value: v4, text: canonical, sloppy: canonical !== text };
  }
  const v6 = parseIPv6(text);
  return v6 === null ? null : { family: 'ipv6', value: v6, text: formatIPv6(v6), sloppy: false };
}

const PREFIX_LENGTH = /^\d{1,3}$/;

/** `ADDRESS/LENGTH`, canonical text with host bits cleared; a length with leading zeros is sloppy too. */
export function parseCIDR(text: string): ParsedCIDR | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const lenText = text.slice(slash + 1);
  if (!PREFIX_LENGTH.test(lenText)) return null;
  const prefix = Number.parseInt(lenText, 10);
  const ip = parseIP(text.slice(0, slash));
  if (!ip) return null;
  const sloppy = ip.sloppy || lenText !== String(prefix);
  if (ip.family === 'ipv4') {
    if (prefix > 32) return null;
    const network = maskIp(ip.value, prefix, 'ipv4') as number;
    return { family: 'ipv4', network, prefix, text: `${formatIPv4(network)}/${prefix}`, sloppy };
  }
  if (prefix > 128) return null;
  const network = maskIp(ip.value, prefix, 'ipv6') as bigint;
  return { family: 'ipv6', network, prefix, text: `${formatIPv6(network)}/${prefix}`, sloppy };
}

/** The family of an address or CIDR, or null when the text is neither. */
export function familyOf(text: string): Family | null {
  return parseIP(text)?.family ?? parseCIDR(text)?.family ?? null;
}
