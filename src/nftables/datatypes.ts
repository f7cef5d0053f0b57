// nft's datatypes as far as kpsim reads them: which type each expression has (so `tcp` after
// `meta l4proto` is protocol 6 and `new` after `ct state` is bit 8), the symbol tables of those
// types, chain hooks and the named priorities. Values from nftables' datatype.c, proto.c, meta.c,
// ct.c, fib.c and rule.c, and the kernel's uapi headers (nf_conntrack_common.h, netfilter.h).
import { protocolNames, SERVICE_PORTS } from '../net/index.js';

/**
 * Protocol names as nft resolves them (getprotobyname: /etc/protocols, src/net's table), without
 * iptables' own `all`, which nft does not read.
 */
const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map([...protocolNames()].filter(([name]) => name !== 'all'));

/** The types kpsim distinguishes; `integer` and `string` stand for every type it does not read further. */
export type DataType =
  | 'ipv4_addr'
  | 'ipv6_addr'
  | 'ether_addr'
  | 'inet_proto'
  | 'inet_service'
  | 'mark'
  | 'integer'
  | 'ifname'
  | 'iface_index'
  | 'ct_state'
  | 'ct_status'
  | 'ct_dir'
  | 'nf_proto'
  | 'pkt_type'
  | 'fib_addrtype'
  | 'ether_type'
  | 'icmp_type'
  | 'icmpv6_type'
  | 'tcp_flag'
  | 'verdict'
  | 'time'
  | 'string';

/** The header fields nft knows (proto.c), with their types. A field not listed is not nft's. */
export const PAYLOAD_FIELDS: Readonly<Record<string, Readonly<Record<string, DataType>>>> = {
  ip: { version: 'integer', hdrlength: 'integer', dscp: 'integer', ecn: 'integer', length: 'integer', id: 'integer', 'frag-off': 'integer', ttl: 'integer', protocol: 'inet_proto', checksum: 'integer', saddr: 'ipv4_addr', daddr: 'ipv4_addr' },
  ip6: { version: 'integer', dscp: 'integer', ecn: 'integer', flowlabel: 'integer', length: 'integer', nexthdr: 'inet_proto', hoplimit: 'integer', saddr: 'ipv6_addr', daddr: 'ipv6_addr' },
  tcp: { sport: 'inet_service', dport: 'inet_service', sequence: 'integer', ackseq: 'integer', doff: 'integer', reserved: 'integer', flags: 'tcp_flag', window: 'integer', checksum: 'integer', urgptr: 'integer' },
  udp: { sport: 'inet_service', dport: 'inet_service', length: 'integer', checksum: 'integer' },
  udplite: { sport: 'inet_service', dport: 'inet_service', csumcov: 'integer', checksum: 'integer' },
  sctp: { sport: 'inet_service', dport: 'inet_service', vtag: 'integer', checksum: 'integer' },
  dccp: { sport: 'inet_service', dport: 'inet_service', type: 'integer' },
  th: { sport: 'inet_service', dport: 'inet_service' },
  icmp: { type: 'icmp_type', code: 'integer', checksum: 'integer', id: 'integer', sequence: 'integer', gateway: 'ipv4_addr', mtu: 'integer' },
  icmpv6: { type: 'icmpv6_type', code: 'integer', checksum: 'integer', mtu: 'integer', id: 'integer', sequence: 'integer', 'max-delay': 'integer', taddr: 'ipv6_addr', daddr: 'ipv6_addr' },
  igmp: { type: 'integer', mrt: 'integer', checksum: 'integer', group: 'ipv4_addr' },
  ether: { saddr: 'ether_addr', daddr: 'ether_addr', type: 'ether_type' },
  vlan: { id: 'integer', cfi: 'integer', dei: 'integer', pcp: 'integer', type: 'ether_type' },
  arp: { htype: 'integer', ptype: 'ether_type', hlen: 'integer', plen: 'integer', operation: 'integer' },
  ah: { nexthdr: 'inet_proto', hdrlength: 'integer', reserved: 'integer', spi: 'integer', sequence: 'integer' },
  esp: { spi: 'integer', sequence: 'integer' },
  comp: { nexthdr: 'inet_proto', flags: 'integer', cpi: 'integer' },
};

/** Every field word of PAYLOAD_FIELDS, for the lexer's keywords and the grammar. */
export const PAYLOAD_FIELD_WORDS: readonly string[] = [...new Set(Object.values(PAYLOAD_FIELDS).flatMap((f) => Object.keys(f)))];

/** meta keys (meta.c), with their types. */
export const META_KEYS: Readonly<Record<string, DataType>> = {
  length: 'integer',
  protocol: 'ether_type',
  nfproto: 'nf_proto',
  l4proto: 'inet_proto',
  priority: 'integer',
  mark: 'mark',
  iif: 'iface_index',
  iifname: 'ifname',
  iiftype: 'integer',
  oif: 'iface_index',
  oifname: 'ifname',
  oiftype: 'integer',
  skuid: 'integer',
  skgid: 'integer',
  nftrace: 'integer',
  rtclassid: 'integer',
  ibrname: 'ifname',
  obrname: 'ifname',
  pkttype: 'pkt_type',
  cpu: 'integer',
  iifgroup: 'integer',
  oifgroup: 'integer',
  cgroup: 'integer',
  random: 'integer',
  ipsec: 'integer',
  iifkind: 'string',
  oifkind: 'string',
  time: 'integer',
  day: 'integer',
  hour: 'integer',
  secmark: 'integer',
  sdif: 'iface_index',
  sdifname: 'ifname',
  broute: 'integer',
};

/** ct keys (ct.c) without a direction, and with one (`ct original saddr`). */
export const CT_KEYS: Readonly<Record<string, DataType>> = {
  state: 'ct_state',
  direction: 'ct_dir',
  status: 'ct_status',
  mark: 'mark',
  expiration: 'time',
  helper: 'string',
  l3proto: 'nf_proto',
  protocol: 'inet_proto',
  label: 'string',
  bytes: 'integer',
  packets: 'integer',
  avgpkt: 'integer',
  zone: 'integer',
  event: 'integer',
  secmark: 'integer',
  id: 'integer',
  count: 'integer',
};
export const CT_DIRECTION_KEYS: Readonly<Record<string, DataType>> = {
  saddr: 'ipv4_addr',
  daddr: 'ipv4_addr',
  protocol: 'inet_proto',
  'proto-src': 'inet_service',
  'proto-dst': 'inet_service',
  bytes: 'integer',
  packets: 'integer',
  avgpkt: 'integer',
  zone: 'integer',
  l3proto: 'nf_proto',
};

/** Symbol tables: names a type reads, and the number each stands for. */
const SYMBOLS: Partial<Record<DataType, ReadonlyMap<string, number>>> = {
  // include/uapi/linux/netfilter/nf_conntrack_common.h: NF_CT_STATE_BIT(ctinfo) and UNTRACKED.
  ct_state: new Map([
    ['invalid', 1],
    ['established', 2],
    ['related', 4],
    ['new', 8],
    ['untracked', 64],
  ]),
  ct_status: new Map([
    ['expected', 1],
    ['seen-reply', 2],
    ['assured', 4],
    ['confirmed', 8],
    ['snat', 16],
    ['dnat', 32],
    ['dying', 512],
  ]),
  ct_dir: new Map([
    ['original', 0],
    ['reply', 1],
  ]),
  nf_proto: new Map([
    ['ipv4', 2],
    ['ipv6', 10],
  ]),
  // include/uapi/linux/if_packet.h
  pkt_type: new Map([
    ['host', 0],
    ['unicast', 0],
    ['broadcast', 1],
    ['multicast', 2],
    ['other', 3],
  ]),
  // include/uapi/linux/rtnetlink.h RTN_*
  fib_addrtype: new Map([
    ['unspec', 0],
    ['unicast', 1],
    ['local', 2],
    ['broadcast', 3],
    ['anycast', 4],
    ['multicast', 5],
    ['blackhole', 6],
    ['unreachable', 7],
    ['prohibit', 8],
    ['throw', 9],
    ['nat', 10],
    ['xresolve', 11],
  ]),
  ether_type: new Map([
    ['ip', 0x0800],
    ['arp', 0x0806],
    ['ip6', 0x86dd],
    ['vlan', 0x8100],
    ['8021q', 0x8100],
    ['8021ad', 0x88a8],
  ]),
  icmp_type: new Map([
    ['echo-reply', 0],
    ['destination-unreachable', 3],
    ['source-quench', 4],
    ['redirect', 5],
    ['echo-request', 8],
    ['router-advertisement', 9],
    ['router-solicitation', 10],
    ['time-exceeded', 11],
    ['parameter-problem', 12],
    ['timestamp-request', 13],
    ['timestamp-reply', 14],
    ['info-request', 15],
    ['info-reply', 16],
    ['address-mask-request', 17],
    ['address-mask-reply', 18],
  ]),
  icmpv6_type: new Map([
    ['destination-unreachable', 1],
    ['packet-too-big', 2],
    ['time-exceeded', 3],
    ['parameter-problem', 4],
    ['echo-request', 128],
    ['echo-reply', 129],
    ['mld-listener-query', 130],
    ['mld-listener-report', 131],
    ['mld-listener-done', 132],
    ['mld-listener-reduction', 132],
    ['nd-router-solicit', 133],
    ['nd-router-advert', 134],
    ['nd-neighbor-solicit', 135],
    ['nd-neighbor-advert', 136],
    ['nd-redirect', 137],
    ['router-renumbering', 138],
    ['ind-neighbor-solicit', 141],
    ['ind-neighbor-advert', 142],
    ['mld2-listener-report', 143],
  ]),
  tcp_flag: new Map([
    ['fin', 0x01],
    ['syn', 0x02],
    ['rst', 0x04],
    ['psh', 0x08],
    ['ack', 0x10],
    ['urg', 0x20],
    ['ecn', 0x40],
    ['cwr', 0x80],
  ]),
  inet_proto: PROTOCOL_NUMBERS,
  inet_service: new Map(Object.entries(SERVICE_PORTS)),
};

/** The number a name stands for in a type, or undefined when the type has no such name. */
export function symbolValue(type: DataType, name: string): number | undefined {
  return SYMBOLS[type]?.get(name);
}

/** Whether the type reads names at all (so an unknown one is an error, not a value kpsim cannot type). */
export function hasSymbols(type: DataType): boolean {
  return SYMBOLS[type] !== undefined;
}

/** Flag types whose comma lists or together (`ct state established,related`, `tcp flags syn,ack`). */
export const BITMASK_TYPES: ReadonlySet<DataType> = new Set(['ct_state', 'ct_status', 'tcp_flag']);

/** nft's own message when a name is not in a type's table (datatype.c, ct.c). */
export function unknownSymbolMessage(type: DataType, name: string): string {
  switch (type) {
    case 'inet_proto':
      return 'Could not resolve protocol name';
    case 'inet_service':
      return `Could not resolve service: Servname not supported for ai_socktype`;
    case 'ct_state':
      return 'Could not parse conntrack state';
    case 'ct_status':
      return 'Could not parse conntrack status';
    case 'ct_dir':
      return 'Could not parse conntrack direction';
    default:
      return `Could not parse ${DATATYPE_DESCRIPTIONS[type]} '${name}'`;
  }
}

/** nft's descriptions of types, for "datatype mismatch, expected X". */
export const DATATYPE_DESCRIPTIONS: Readonly<Record<DataType, string>> = {
  ipv4_addr: 'IPv4 address',
  ipv6_addr: 'IPv6 address',
  ether_addr: 'Ethernet address',
  inet_proto: 'Internet protocol',
  inet_service: 'internet network service',
  mark: 'packet mark',
  integer: 'integer',
  ifname: 'network interface name',
  iface_index: 'network interface index',
  ct_state: 'conntrack state',
  ct_status: 'conntrack status',
  ct_dir: 'conntrack direction',
  nf_proto: 'netfilter protocol',
  pkt_type: 'packet type',
  fib_addrtype: 'fib address type',
  ether_type: 'Ethernet protocol',
  icmp_type: 'ICMP type',
  icmpv6_type: 'ICMPv6 type',
  tcp_flag: 'TCP flag',
  verdict: 'verdict',
  time: 'relative time',
  string: 'string',
};

/** Set `type` names (`nft describe` lists them) and the kpsim type each reads as. */
export const SET_TYPE_NAMES: ReadonlyMap<string, DataType> = new Map<string, DataType>([
  ['ipv4_addr', 'ipv4_addr'],
  ['ipv6_addr', 'ipv6_addr'],
  ['ether_addr', 'ether_addr'],
  ['inet_proto', 'inet_proto'],
  ['inet_service', 'inet_service'],
  ['mark', 'mark'],
  ['ifname', 'ifname'],
  ['iface_index', 'iface_index'],
  ['ct_state', 'ct_state'],
  ['ct_status', 'ct_status'],
  ['ct_dir', 'ct_dir'],
  ['nf_proto', 'nf_proto'],
  ['pkt_type', 'pkt_type'],
  ['fib_addrtype', 'fib_addrtype'],
  ['ether_type', 'ether_type'],
  ['icmp_type', 'icmp_type'],
  ['icmpv6_type', 'icmpv6_type'],
  ['tcp_flag', 'tcp_flag'],
  ['verdict', 'verdict'],
  ['integer', 'integer'],
  ['string', 'string'],
  ['time', 'time'],
  ['uid', 'integer'],
  ['gid', 'integer'],
  ['classid', 'integer'],
  ['realm', 'integer'],
  ['devgroup', 'integer'],
  ['dscp', 'integer'],
  ['ecn', 'integer'],
  ['icmp_code', 'integer'],
  ['icmpv6_code', 'integer'],
  ['icmpx_code', 'integer'],
  ['ct_label', 'string'],
  ['ct_event', 'integer'],
  ['ifkind', 'string'],
  ['boolean', 'integer'],
  ['arp_op', 'integer'],
  ['day', 'integer'],
  ['hour', 'integer'],
  ['cgroupsv2', 'integer'],
  ['dccp_pkttype', 'integer'],
  ['sctp_chunk', 'integer'],
  ['igmp_type', 'integer'],
  ['mh_type', 'integer'],
  ['tchandle', 'integer'],
  ['bitmask', 'integer'],
  ['queue', 'integer'],
]);

/** Chain hooks by family (nft(8), CHAINS). */
export const HOOKS: Readonly<Record<string, readonly string[]>> = {
  ip: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  ip6: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  inet: ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'],
  arp: ['input', 'output'],
  bridge: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  netdev: ['ingress', 'egress'],
};

/**
 * Named priorities (nft(8), table 6 and 7; rule.c std_prios / bridge_std_prios). dstnat and srcnat
 * are only for some hooks; nft rejects them elsewhere ("invalid priority expression value in this
 * context."), which kpsim reports the same way.
 */
export function namedPriority(family: string, hook: string, name: string): number | null {
  if (family === 'bridge') {
    const bridge: Record<string, [number, readonly string[] | null]> = {
      dstnat: [-300, ['prerouting']],
      filter: [-200, null],
      out: [100, ['output']],
      srcnat: [300, ['postrouting']],
    };
    const b = bridge[name];
    return b && (!b[1] || b[1].includes(hook)) ? b[0] : null;
  }
  const std: Record<string, [number, readonly string[] | null]> = {
    raw: [-300, null],
    mangle: [-150, null],
    dstnat: [-100, ['prerouting', 'output']],
    filter: [0, null],
    security: [50, null],
    srcnat: [100, ['postrouting', 'input']],
  };
  const s = std[name];
  if (!s) return null;
  if (family === 'netdev' || family === 'arp') return name === 'filter' ? 0 : null;
  return !s[1] || s[1].includes(hook) ? s[0] : null;
}

export const CHAIN_TYPES: ReadonlySet<string> = new Set(['filter', 'nat', 'route']);
