// The words of one nftables proxier: the table's family and the address words of its rules
// (syncProxyRules' ipX / ipvX_addr / noLocalhost), the masquerade mark, and the local-traffic
// detector's nft matches (pkg/proxy/util/localdetector.go IfLocalNFT / IfNotLocalNFT).
import type { LocalDetector, ProxierSettings } from '../settings.js';
import type { NftFamilyWord } from './transaction.js';

export interface NftWords {
  /** The table's family and the address payload's protocol: `ip` or `ip6`. */
  readonly ipX: NftFamilyWord;
  /** The address set type: `ipv4_addr` or `ipv6_addr`. */
  readonly addrType: 'ipv4_addr' | 'ipv6_addr';
  /** The match that keeps NodePorts off loopback when every local address takes them. */
  readonly noLocalhost: string;
  /** The masquerade mark as kube-proxy writes it in its rules (`0x4000`). */
  readonly mark: string;
  /** The detector's match for local pods' traffic, null when there is no detector. */
  readonly ifLocal: string | null;
  /** ...and for everything else. */
  readonly ifNotLocal: string | null;
}

/**
 * The detector's matches. The CIDR form is asserted by kube-proxy's tests (`ip saddr != 10.0.0.0/8`);
 * the interface forms follow localdetector.go after kubernetes#134024 (`iifname`, unquoted, `*` for
 * a prefix), which no corpus case asserts.
 */
function detectorMatches(d: LocalDetector | null, ipX: NftFamilyWord): { ifLocal: string | null; ifNotLocal: string | null } {
  if (!d) return { ifLocal: null, ifNotLocal: null };
  switch (d.kind) {
    case 'cidr':
      return { ifLocal: `${ipX} saddr ${d.cidr.text}`, ifNotLocal: `${ipX} saddr != ${d.cidr.text}` };
    case 'interface':
      return { ifLocal: `iifname ${d.name}`, ifNotLocal: `iifname != ${d.name}` };
    case 'interfacePrefix':
      return { ifLocal: `iifname ${d.prefix}*`, ifNotLocal: `iifname != ${d.prefix}*` };
  }
}

export function nftWords(s: ProxierSettings): NftWords {
  const v6 = s.family === 'ipv6';
  const ipX: NftFamilyWord = v6 ? 'ip6' : 'ip';
  return {
    ipX,
    addrType: v6 ? 'ipv6_addr' : 'ipv4_addr',
    noLocalhost: v6 ? 'ip6 daddr != ::1' : 'ip daddr != 127.0.0.0/8',
    // kube-proxy's tests write the mark as `0x4000` (golden/kube-proxy-nftables); Go's %#x.
    mark: `0x${s.masqueradeMark.toString(16)}`,
    ...detectorMatches(s.localDetector, ipX),
  };
}
