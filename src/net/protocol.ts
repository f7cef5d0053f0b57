// IP protocol numbers and their names. iptables resolves a name through its own short list first
// (xtables_chain_protos, iptables >= 1.8.8) and then /etc/protocols (getprotobyname); it prints a
// number's name from the same two, in the same order (proto_to_name), so `-p 58` prints
// `ipv6-icmp` and `-p 135` prints `mobility-header`. /etc/protocols is Debian netbase's, as on the
// nodes kpsim's kernel tests run on; a number with no name prints as the number.

/** xtables_chain_protos, in its order: the first name of a number is the one printed. */
const XTABLES_PROTOS: readonly (readonly [string, number])[] = [
  ['tcp', 6],
  ['sctp', 132],
  ['udp', 17],
  ['udplite', 136],
  ['icmp', 1],
  ['ipv6-icmp', 58],
  ['icmpv6', 58],
  ['esp', 50],
  ['ah', 51],
  ['mobility-header', 135],
  ['ipv6-mh', 135],
  ['mh', 135],
  ['all', 0],
];

/** /etc/protocols (netbase 6.4): official names only, as iptables lower-cases what `-p` is given. */
const ETC_PROTOCOLS: readonly (readonly [string, number])[] = [
  ['ip', 0],
  ['hopopt', 0],
  ['icmp', 1],
  ['igmp', 2],
  ['ggp', 3],
  ['ipencap', 4],
  ['st', 5],
  ['tcp', 6],
  ['egp', 8],
  ['igp', 9],
  ['pup', 12],
  ['udp', 17],
  ['hmp', 20],
  ['xns-idp', 22],
  ['rdp', 27],
  ['iso-tp4', 29],
  ['dccp', 33],
  ['xtp', 36],
  ['ddp', 37],
  ['idpr-cmtp', 38],
  ['ipv6', 41],
  ['ipv6-route', 43],
  ['ipv6-frag', 44],
  ['idrp', 45],
  ['rsvp', 46],
  ['gre', 47],
  ['esp', 50],
  ['ah', 51],
  ['skip', 57],
  ['ipv6-icmp', 58],
  ['ipv6-nonxt', 59],
  ['ipv6-opts', 60],
  ['rspf', 73],
  ['vmtp', 81],
  ['eigrp', 88],
  ['ospf', 89],
  ['ax.25', 93],
  ['ipip', 94],
  ['etherip', 97],
  ['encap', 98],
  ['pim', 103],
  ['ipcomp', 108],
  ['vrrp', 112],
  ['l2tp', 115],
  ['isis', 124],
  ['sctp', 132],
  ['fc', 133],
  ['mobility-header', 135],
  ['udplite', 136],
  ['mpls-in-ip', 137],
  ['manet', 138],
  ['hip', 139],
  ['shim6', 140],
  ['wesp', 141],
  ['rohc', 142],
  ['ethernet', 143],
  ['mptcp', 262],
];

/** The protocol numbers kpsim's stages name in code. */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, DCCP: 33, ICMPV6: 58, SCTP: 132, UDPLITE: 136 } as const;

const BY_NAME = new Map<string, number>();
const BY_NUMBER = new Map<number, string>();
for (const [name, n] of [...XTABLES_PROTOS, ...ETC_PROTOCOLS]) {
  if (!BY_NAME.has(name)) BY_NAME.set(name, n);
  if (!BY_NUMBER.has(n)) BY_NUMBER.set(n, name);
}

/** The number of a protocol name (lower case, as iptables folds `-p`), or null when none has it. */
export function protocolNumber(name: string): number | null {
  return BY_NAME.get(name) ?? null;
}

/** The name iptables prints for a protocol number (`all` for 0), or null when it prints the number. */
export function protocolName(n: number): string | null {
  return BY_NUMBER.get(n) ?? null;
}

/** Every name iptables accepts, with its number (the nftables reader's protocol names). */
export function protocolNames(): ReadonlyMap<string, number> {
  return BY_NAME;
}

/** Whether the protocol's header has source and destination ports (the ones iptables' port matches take). */
export function protocolHasPorts(n: number): boolean {
  return n === IPPROTO.TCP || n === IPPROTO.UDP || n === IPPROTO.SCTP || n === IPPROTO.DCCP || n === IPPROTO.UDPLITE;
}
