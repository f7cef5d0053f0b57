// Symbolic names iptables accepts and the numbers the kernel stores. iptables-save prints the
// number (or its own canonical name) back, so the kernel-spelling renderer needs both directions.
// Protocol names and /etc/services ports are network values, in src/net.

/** `--icmp-type` names (libxt_icmp icmp_codes): [type, min code, max code]. */
export const ICMP_TYPES: Readonly<Record<string, readonly [number, number, number]>> = {
  any: [0xff, 0, 0xff],
  'echo-reply': [0, 0, 0xff],
  pong: [0, 0, 0xff],
  'destination-unreachable': [3, 0, 0xff],
  'network-unreachable': [3, 0, 0],
  'host-unreachable': [3, 1, 1],
  'protocol-unreachable': [3, 2, 2],
  'port-unreachable': [3, 3, 3],
  'fragmentation-needed': [3, 4, 4],
  'source-route-failed': [3, 5, 5],
  'network-unknown': [3, 6, 6],
  'host-unknown': [3, 7, 7],
  'network-prohibited': [3, 9, 9],
  'host-prohibited': [3, 10, 10],
  'TOS-network-unreachable': [3, 11, 11],
  'TOS-host-unreachable': [3, 12, 12],
  'communication-prohibited': [3, 13, 13],
  'host-precedence-violation': [3, 14, 14],
  'precedence-cutoff': [3, 15, 15],
  'source-quench': [4, 0, 0xff],
  redirect: [5, 0, 0xff],
  'network-redirect': [5, 0, 0],
  'host-redirect': [5, 1, 1],
  'TOS-network-redirect': [5, 2, 2],
  'TOS-host-redirect': [5, 3, 3],
  'echo-request': [8, 0, 0xff],
  ping: [8, 0, 0xff],
  'router-advertisement': [9, 0, 0xff],
  'router-solicitation': [10, 0, 0xff],
  'time-exceeded': [11, 0, 0xff],
  'ttl-exceeded': [11, 0, 0xff],
  'ttl-zero-during-transit': [11, 0, 0],
  'ttl-zero-during-reassembly': [11, 1, 1],
  'parameter-problem': [12, 0, 0xff],
  'ip-header-bad': [12, 0, 0],
  'required-option-missing': [12, 1, 1],
  'timestamp-request': [13, 0, 0xff],
  'timestamp-reply': [14, 0, 0xff],
  'address-mask-request': [17, 0, 0xff],
  'address-mask-reply': [18, 0, 0xff],
};

/** `--icmpv6-type` names (libip6t_icmp6 icmpv6_codes). */
export const ICMPV6_TYPES: Readonly<Record<string, readonly [number, number, number]>> = {
  'destination-unreachable': [1, 0, 0xff],
  'no-route': [1, 0, 0],
  'communication-prohibited': [1, 1, 1],
  'beyond-scope': [1, 2, 2],
  'address-unreachable': [1, 3, 3],
  'port-unreachable': [1, 4, 4],
  'failed-policy': [1, 5, 5],
  'reject-route': [1, 6, 6],
  'packet-too-big': [2, 0, 0xff],
  'time-exceeded': [3, 0, 0xff],
  'ttl-exceeded': [3, 0, 0xff],
  'ttl-zero-during-transit': [3, 0, 0],
  'ttl-zero-during-reassembly': [3, 1, 1],
  'parameter-problem': [4, 0, 0xff],
  'bad-header': [4, 0, 0],
  'unknown-header-type': [4, 1, 1],
  'unknown-option': [4, 2, 2],
  'echo-request': [128, 0, 0xff],
  ping: [128, 0, 0xff],
  'echo-reply': [129, 0, 0xff],
  pong: [129, 0, 0xff],
  'router-solicitation': [133, 0, 0xff],
  'router-advertisement': [134, 0, 0xff],
  'neighbour-solicitation': [135, 0, 0xff],
  'neighbor-solicitation': [135, 0, 0xff],
  'neighbour-advertisement': [136, 0, 0xff],
  'neighbor-advertisement': [136, 0, 0xff],
  'redirect': [137, 0, 0xff],
};

/** REJECT `--reject-with` spellings (libipt_REJECT / libip6t_REJECT) -> the name iptables-save prints. */
export const REJECT_WITH_V4: Readonly<Record<string, string>> = {
  'icmp-net-unreachable': 'icmp-net-unreachable',
  'net-unreach': 'icmp-net-unreachable',
  'icmp-host-unreachable': 'icmp-host-unreachable',
  'host-unreach': 'icmp-host-unreachable',
  'icmp-proto-unreachable': 'icmp-proto-unreachable',
  'proto-unreach': 'icmp-proto-unreachable',
  'icmp-port-unreachable': 'icmp-port-unreachable',
  'port-unreach': 'icmp-port-unreachable',
  'icmp-net-prohibited': 'icmp-net-prohibited',
  'net-prohib': 'icmp-net-prohibited',
  'icmp-host-prohibited': 'icmp-host-prohibited',
  'host-prohib': 'icmp-host-prohibited',
  'tcp-reset': 'tcp-reset',
  'tcp-rst': 'tcp-reset',
  'icmp-admin-prohibited': 'icmp-admin-prohibited',
  'admin-prohib': 'icmp-admin-prohibited',
};

export const REJECT_WITH_V6: Readonly<Record<string, string>> = {
  'icmp6-no-route': 'icmp6-no-route',
  'no-route': 'icmp6-no-route',
  'icmp6-adm-prohibited': 'icmp6-adm-prohibited',
  'adm-prohibited': 'icmp6-adm-prohibited',
  'icmp6-addr-unreachable': 'icmp6-addr-unreachable',
  'addr-unreach': 'icmp6-addr-unreachable',
  'icmp6-port-unreachable': 'icmp6-port-unreachable',
  'port-unreach': 'icmp6-port-unreachable',
  'icmp6-policy-fail': 'icmp6-policy-fail',
  'policy-fail': 'icmp6-policy-fail',
  'icmp6-reject-route': 'icmp6-reject-route',
  'reject-route': 'icmp6-reject-route',
  'tcp-reset': 'tcp-reset',
  'tcp-rst': 'tcp-reset',
};

/** LOG `--log-level` names (syslog priorities); iptables-save prints the number. */
export const LOG_LEVELS: Readonly<Record<string, number>> = {
  emerg: 0,
  panic: 0,
  alert: 1,
  crit: 2,
  err: 3,
  error: 3,
  warn: 4,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** conntrack `--ctstate` / state `--state` names in the order iptables-save prints them (bit order). */
export const CT_STATES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'] as const;
/** conntrack `--ctstatus` names in print order; NONE is printed only when nothing else is set. */
export const CT_STATUSES = ['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'] as const;
/** addrtype types in bit order (libxt_addrtype rtn_names). */
export const ADDR_TYPES = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'] as const;
/** TCP flag names in bit order (libxt_tcp tcp_flag_names); ALL is every one of them. */
export const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'] as const;

/** libxt_tos's symbolic `--tos` values (tos_values.c), stored with the mask 0x3f. */
export const TOS_NAMES: Readonly<Record<string, number>> = {
  'Minimize-Delay': 0x10,
  'Maximize-Throughput': 0x08,
  'Maximize-Reliability': 0x04,
  'Minimize-Cost': 0x02,
  'Normal-Service': 0x00,
};

/** libxt_dscp's `--dscp-class` names (dscp_helper.c), printed back as `--dscp 0xNN`. */
export const DSCP_CLASSES: Readonly<Record<string, number>> = {
  CS0: 0x00, CS1: 0x08, CS2: 0x10, CS3: 0x18, CS4: 0x20, CS5: 0x28, CS6: 0x30, CS7: 0x38, BE: 0x00,
  AF11: 0x0a, AF12: 0x0c, AF13: 0x0e, AF21: 0x12, AF22: 0x14, AF23: 0x16,
  AF31: 0x1a, AF32: 0x1c, AF33: 0x1e, AF41: 0x22, AF42: 0x24, AF43: 0x26, EF: 0x2e,
};

/** libxt_time's weekday names, Monday first (bit 1 is Monday, bit 7 Sunday). */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
