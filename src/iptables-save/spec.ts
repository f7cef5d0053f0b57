// The vocabulary of the reader: which options each built-in, match module and target takes, how
// they may be spelled, how many values follow and of which kind. The grammar (grammar.ne) defines
// the shape of a line; this table says what the words in it mean. Facts from iptables(8),
// iptables-extensions(8) and the iptables 1.8 extension sources; the data is our own.
//
// Canonical option names (OptionArg.name), for the simulator and every other reader of the IR.
// Built-ins (module null) use iptables' long option name; module and target options use the
// spelling iptables-save prints, without dashes. Other accepted spellings are listed after `=`.
//
// | module          | canonical names (aliases)                                                          |
// |-----------------|------------------------------------------------------------------------------------|
// | (built-in)      | source (-s, --src), destination (-d, --dst), protocol (-p), in-interface (-i),      |
// |                 | out-interface (-o), fragment (-f), set-counters (-c)                               |
// | tcp             | sport (--source-port), dport (--destination-port), tcp-flags, syn, tcp-option      |
// | udp             | sport (--source-port), dport (--destination-port)                                  |
// | sctp            | sport, dport, chunk-types                                                          |
// | icmp            | icmp-type                                                                          |
// | icmp6           | icmpv6-type                                                                        |
// | multiport       | sports (--source-ports), dports (--destination-ports), ports                      |
// | comment         | comment                                                                            |
// | mark, connmark  | mark                                                                               |
// | conntrack       | ctstate, ctproto, ctorigsrc, ctorigdst, ctreplsrc, ctrepldst, ctorigsrcport,       |
// |                 | ctorigdstport, ctreplsrcport, ctrepldstport, ctstatus, ctexpire, ctdir             |
// | state           | state                                                                              |
// | addrtype        | src-type, dst-type, limit-iface-in, limit-iface-out                                |
// | statistic       | mode, probability, every, packet                                                   |
// | recent          | set, rcheck, update, remove, seconds, reap, hitcount, rttl, name, mask, rsource,   |
// |                 | rdest                                                                              |
// | set             | match-set (--set), return-nomatch, update-counters, update-subcounters,            |
// |                 | packets-eq, packets-lt, packets-gt, bytes-eq, bytes-lt, bytes-gt                   |
// | iprange         | src-range, dst-range                                                               |
// | physdev         | physdev-in, physdev-out, physdev-is-in, physdev-is-out, physdev-is-bridged         |
// | mac             | mac-source                                                                         |
// | owner           | uid-owner, gid-owner, socket-exists, suppl-groups                                  |
// | limit           | limit, limit-burst                                                                 |
// | nfacct          | nfacct-name                                                                        |
// | length          | length                                                                             |
// | ttl / hl        | ttl-eq, ttl-lt, ttl-gt / hl-eq, hl-lt, hl-gt                                       |
// | pkttype         | pkt-type                                                                           |
// | rpfilter        | loose, validmark, accept-local, invert                                             |
// | ipvs            | ipvs, vproto, vaddr, vport, vdir, vmethod, vportctl                                |
// | socket          | transparent, nowildcard, restore-skmark                                            |
// | devgroup        | src-group, dst-group                                                               |
// | helper          | helper                                                                             |
// | tos / dscp      | tos / dscp, dscp-class                                                             |
// | hashlimit       | hashlimit-upto (--hashlimit), hashlimit-above, hashlimit-burst, hashlimit-mode,    |
// |                 | hashlimit-name, hashlimit-htable-size, -max, -gcinterval, -expire,                 |
// |                 | hashlimit-srcmask, hashlimit-dstmask, hashlimit-rate-match, hashlimit-rate-interval|
// | cgroup          | path, cgroup                                                                       |
// | connbytes       | connbytes, connbytes-mode, connbytes-dir                                           |
// | connlimit       | connlimit-upto, connlimit-above, connlimit-mask, connlimit-saddr, connlimit-daddr  |
// | time            | timestart, timestop, monthdays, weekdays, datestart, datestop, kerneltz (localtz), |
// |                 | utc, contiguous                                                                    |
// | REJECT          | reject-with                                                                        |
// | DNAT / SNAT     | to-destination (--to) / to-source (--to), random, random-fully, persistent         |
// | MASQUERADE      | to-ports, random, random-fully                                                     |
// | REDIRECT        | to-ports, random                                                                   |
// | MARK            | set-xmark, set-mark, and-mark, or-mark, xor-mark                                   |
// | CONNMARK        | set-xmark, set-mark, save-mark, restore-mark, and-mark, or-mark, xor-mark, nfmask, |
// |                 | ctmask, mask                                                                       |
// | CT              | notrack, helper, timeout, ctevents, expevents, zone, zone-orig, zone-reply         |
// | LOG             | log-prefix, log-level, log-tcp-sequence, log-tcp-options, log-ip-options, log-uid, |
// |                 | log-macdecode                                                                      |
// | NFLOG           | nflog-prefix, nflog-group, nflog-size, nflog-range, nflog-threshold                |
// | CHECKSUM        | checksum-fill                                                                      |
// | TPROXY          | on-port, on-ip, tproxy-mark                                                        |
// | TCPMSS          | set-mss, clamp-mss-to-pmtu                                                         |
// | NETMAP          | to                                                                                 |
// | NOTRACK, TRACE  | (no options)                                                                       |
//
// A value's kind says how its text is read into a typed Value (read-value.ts).

export type ValueKind =
  | 'address' // 10.0.0.0/8, 10.0.0.1, 10.0.0.0/255.0.0.0, ::1/128
  | 'addressRange' // 10.0.0.1-10.0.0.9
  | 'port' // 80, 1:1024, 5:, :100, ssh
  | 'portList' // 80,443,8000:8080 (multiport)
  | 'dashPorts' // 1000-2000 (--to-ports)
  | 'integer'
  | 'intRange' // 0:100 (length, ctexpire)
  | 'idRange' // 0-10 or a name (owner)
  | 'mark' // 0x4000/0x4000
  | 'list' // comma-separated words
  | 'string' // a free text (comment, log prefix)
  | 'interface' // eth0, eth+
  | 'probability'
  | 'natRange' // 10.0.0.1:80, [fd00::1]:80, 10.0.0.1-10.0.0.5:80-90, :8080
  | 'protocol'
  | 'icmpType'
  | 'icmp6Type'
  | 'tos' // 0x10, 0x10/0x3f, Minimize-Delay
  | 'dscp' // 10, 0x0a (0-63)
  | 'dscpClass' // AF41, EF
  | 'limitRate' // 3/min, 5/second (xt_limit: 1/10000 s)
  | 'hashlimitRate' // 50/sec (xt_hashlimit revision 3: microseconds)
  | 'countRange' // 100, 10:1000, 5: (connbytes, unbounded above)
  | 'lengthRange' // 60:, :60, 100:200, 1400 (0-65535)
  | 'daytime' // 08:00, 08:00:30
  | 'date' // 2024-02-03, 2020-01-01T00:00:00
  | 'weekdays' // Mon,Tue or 1,2
  | 'monthdays' // 1,15,31
  | 'mac' // 00:11:22:33:44:55
  | 'word';

export interface OptionSpec {
  /** Canonical long name without dashes. */
  readonly name: string;
  /** Every accepted spelling, with dashes; the first is the one iptables-save prints. */
  readonly spellings: readonly string[];
  readonly args: readonly ValueKind[];
  /** Whether `!` may be written with it (iptables refuses it otherwise). */
  readonly negatable: boolean;
}

export interface ModuleSpec {
  readonly name: string;
  readonly kind: 'match' | 'target' | 'builtin';
  /** Options in the order iptables-save prints them. */
  readonly options: readonly OptionSpec[];
  /** Only valid in this family (icmp: ipv4, icmp6: ipv6). */
  readonly family?: 'ipv4' | 'ipv6';
}

/** `o('dport', '--dport --destination-port', ['port'], true)` */
function o(name: string, spellings: string, args: readonly ValueKind[] = [], negatable = false): OptionSpec {
  return { name, spellings: spellings.split(' '), args, negatable };
}
const flag = (name: string, negatable = false) => o(name, `--${name}`, [], negatable);
const one = (name: string, kind: ValueKind, negatable = false) => o(name, `--${name}`, [kind], negatable);

function match(name: string, options: readonly OptionSpec[], family?: 'ipv4' | 'ipv6'): ModuleSpec {
  return { name, kind: 'match', options, family };
}
function target(name: string, options: readonly OptionSpec[] = [], family?: 'ipv4' | 'ipv6'): ModuleSpec {
  return { name, kind: 'target', options, family };
}

export const BUILTIN: ModuleSpec = {
  name: '',
  kind: 'builtin',
  options: [
    o('source', '-s --source --src', ['address'], true),
    o('destination', '-d --destination --dst', ['address'], true),
    o('in-interface', '-i --in-interface', ['interface'], true),
    o('out-interface', '-o --out-interface', ['interface'], true),
    o('protocol', '-p --protocol', ['protocol'], true),
    o('fragment', '-f --fragment', [], true),
    o('set-counters', '-c --set-counters', ['integer', 'integer']),
  ],
};

const ports = (kind: ValueKind) => [o('sport', '--sport --source-port', [kind], true), o('dport', '--dport --destination-port', [kind], true)];
// `--ttl N` and `--hl N` are the old spellings of -eq.
const ttlLike = (p: string) => [o(`${p}-eq`, `--${p}-eq --${p}`, ['integer'], true), one(`${p}-lt`, 'integer'), one(`${p}-gt`, 'integer')];
const markTargetOptions = [one('set-xmark', 'mark'), one('set-mark', 'mark'), one('and-mark', 'mark'), one('or-mark', 'mark'), one('xor-mark', 'mark')];

const MODULES: readonly ModuleSpec[] = [
  match('tcp', [...ports('port'), one('tcp-option', 'integer', true), o('tcp-flags', '--tcp-flags', ['list', 'list'], true), flag('syn', true)]),
  match('udp', ports('port')),
  match('sctp', [...ports('port'), o('chunk-types', '--chunk-types', ['word', 'list'], true)]),
  match('icmp', [one('icmp-type', 'icmpType', true)], 'ipv4'),
  match('icmp6', [one('icmpv6-type', 'icmp6Type', true)], 'ipv6'),
  match('multiport', [
    o('sports', '--sports --source-ports', ['portList'], true),
    o('dports', '--dports --destination-ports', ['portList'], true),
    o('ports', '--ports', ['portList'], true),
  ]),
  match('comment', [one('comment', 'string')]),
  match('mark', [one('mark', 'mark', true)]),
  match('connmark', [one('mark', 'mark', true)]),
  match('conntrack', [
    one('ctstate', 'list', true),
    one('ctproto', 'protocol', true),
    one('ctorigsrc', 'address', true),
    one('ctorigdst', 'address', true),
    one('ctreplsrc', 'address', true),
    one('ctrepldst', 'address', true),
    one('ctorigsrcport', 'port', true),
    one('ctorigdstport', 'port', true),
    one('ctreplsrcport', 'port', true),
    one('ctrepldstport', 'port', true),
    one('ctstatus', 'list', true),
    one('ctexpire', 'intRange', true),
    one('ctdir', 'word'),
  ]),
  match('state', [one('state', 'list', true)]),
  match('addrtype', [one('src-type', 'list', true), one('dst-type', 'list', true), flag('limit-iface-in'), flag('limit-iface-out')]),
  match('statistic', [one('mode', 'word'), one('probability', 'probability', true), one('every', 'integer', true), one('packet', 'integer')]),
  match('recent', [
    flag('set', true),
    flag('rcheck', true),
    flag('update', true),
    flag('remove', true),
    one('seconds', 'integer'),
    flag('reap'),
    one('hitcount', 'integer'),
    flag('rttl'),
    one('name', 'word'),
    one('mask', 'address'),
    flag('rsource'),
    flag('rdest'),
  ]),
  match('set', [
    o('match-set', '--match-set --set', ['word', 'list'], true),
    flag('return-nomatch'),
    flag('update-counters', true),
    flag('update-subcounters', true),
    one('packets-eq', 'integer', true),
    one('packets-lt', 'integer'),
    one('packets-gt', 'integer'),
    one('bytes-eq', 'integer', true),
    one('bytes-lt', 'integer'),
    one('bytes-gt', 'integer'),
  ]),
  match('iprange', [one('src-range', 'addressRange', true), one('dst-range', 'addressRange', true)]),
  match('physdev', [
    flag('physdev-is-in', true),
    one('physdev-in', 'interface', true),
    flag('physdev-is-out', true),
    one('physdev-out', 'interface', true),
    flag('physdev-is-bridged', true),
  ]),
  match('mac', [one('mac-source', 'mac', true)]),
  match('owner', [flag('socket-exists', true), one('uid-owner', 'idRange', true), one('gid-owner', 'idRange', true), flag('suppl-groups')]),
  match('limit', [one('limit', 'limitRate'), one('limit-burst', 'integer')]),
  match('nfacct', [one('nfacct-name', 'word')]),
  match('length', [one('length', 'lengthRange', true)]),
  match('ttl', ttlLike('ttl'), 'ipv4'),
  match('hl', ttlLike('hl'), 'ipv6'),
  match('pkttype', [one('pkt-type', 'word', true)]),
  match('rpfilter', [flag('loose'), flag('validmark'), flag('accept-local'), flag('invert')]),
  // libxt_ipvs: every option but --ipvs implies --ipvs; --vdir takes no `!`.
  match('ipvs', [
    flag('ipvs', true),
    one('vproto', 'protocol', true),
    one('vaddr', 'address', true),
    one('vport', 'port', true),
    one('vdir', 'word'),
    one('vmethod', 'word', true),
    one('vportctl', 'port', true),
  ]),
  match('socket', [flag('transparent'), flag('nowildcard'), flag('restore-skmark')]),
  match('devgroup', [one('src-group', 'mark', true), one('dst-group', 'mark', true)]),
  match('helper', [one('helper', 'string', true)]),
  match('tos', [one('tos', 'tos', true)]),
  match('dscp', [one('dscp', 'dscp', true), one('dscp-class', 'dscpClass', true)]),
  match('hashlimit', [
    o('hashlimit-upto', '--hashlimit-upto --hashlimit', ['hashlimitRate'], true),
    one('hashlimit-above', 'hashlimitRate', true),
    one('hashlimit-burst', 'integer'),
    one('hashlimit-mode', 'list'),
    one('hashlimit-name', 'word'),
    one('hashlimit-htable-size', 'integer'),
    one('hashlimit-htable-max', 'integer'),
    one('hashlimit-htable-gcinterval', 'integer'),
    one('hashlimit-htable-expire', 'integer'),
    one('hashlimit-srcmask', 'integer'),
    one('hashlimit-dstmask', 'integer'),
    flag('hashlimit-rate-match'),
    one('hashlimit-rate-interval', 'integer'),
  ]),
  match('cgroup', [one('path', 'string', true), one('cgroup', 'integer', true)]),
  match('connbytes', [one('connbytes', 'countRange', true), one('connbytes-mode', 'word'), one('connbytes-dir', 'word')]),
  match('connlimit', [one('connlimit-upto', 'integer', true), one('connlimit-above', 'integer', true), one('connlimit-mask', 'integer'), flag('connlimit-saddr'), flag('connlimit-daddr')]),
  match('time', [
    one('timestart', 'daytime'),
    one('timestop', 'daytime'),
    one('monthdays', 'monthdays', true),
    one('weekdays', 'weekdays', true),
    one('datestart', 'date'),
    one('datestop', 'date'),
    o('kerneltz', '--kerneltz --localtz'),
    flag('utc'),
    flag('contiguous'),
  ]),

  target('REJECT', [one('reject-with', 'word')]),
  target('DNAT', [o('to-destination', '--to-destination --to', ['natRange']), flag('random'), flag('persistent')]),
  target('SNAT', [o('to-source', '--to-source --to', ['natRange']), flag('random'), flag('random-fully'), flag('persistent')]),
  target('MASQUERADE', [one('to-ports', 'dashPorts'), flag('random'), flag('random-fully')]),
  target('REDIRECT', [one('to-ports', 'dashPorts'), flag('random')]),
  target('MARK', markTargetOptions),
  target('CONNMARK', [
    ...markTargetOptions,
    flag('save-mark'),
    flag('restore-mark'),
    one('nfmask', 'mark'),
    one('ctmask', 'mark'),
    one('mask', 'mark'),
  ]),
  target('CT', [
    flag('notrack'),
    one('helper', 'word'),
    one('timeout', 'word'),
    one('ctevents', 'list'),
    one('expevents', 'list'),
    one('zone-orig', 'word'),
    one('zone-reply', 'word'),
    one('zone', 'word'),
  ]),
  target('NOTRACK'),
  target('TRACE'),
  target('LOG', [
    one('log-prefix', 'string'),
    one('log-level', 'word'),
    flag('log-tcp-sequence'),
    flag('log-tcp-options'),
    flag('log-ip-options'),
    flag('log-uid'),
    flag('log-macdecode'),
  ]),
  target('NFLOG', [one('nflog-prefix', 'string'), one('nflog-group', 'integer'), one('nflog-size', 'integer'), one('nflog-range', 'integer'), one('nflog-threshold', 'integer')]),
  target('CHECKSUM', [flag('checksum-fill')]),
  target('TPROXY', [one('on-port', 'integer'), one('on-ip', 'word'), one('tproxy-mark', 'mark')]),
  target('TCPMSS', [one('set-mss', 'integer'), flag('clamp-mss-to-pmtu')]),
  target('NETMAP', [one('to', 'address')]),
];

/** Target extensions kpsim does not model; kept opaque even when no option follows them. */
export const OPAQUE_TARGETS: ReadonlySet<string> = new Set([
  'AUDIT', 'CLASSIFY', 'CLUSTERIP', 'CONNSECMARK', 'DNPT', 'DSCP', 'ECN', 'HL', 'HMARK', 'IDLETIMER', 'LED', 'MIRROR',
  'NFQUEUE', 'RATEEST', 'SAME', 'SECMARK', 'SET', 'SNPT', 'SYNPROXY', 'TEE', 'TOS', 'TTL', 'ULOG',
]);

export const BUILTIN_VERDICTS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

export const MATCH_MODULES: ReadonlyMap<string, ModuleSpec> = new Map(MODULES.filter((m) => m.kind === 'match').map((m) => [m.name, m]));
export const TARGET_MODULES: ReadonlyMap<string, ModuleSpec> = new Map(MODULES.filter((m) => m.kind === 'target').map((m) => [m.name, m]));

/** Modules that `-p NAME` loads implicitly when one of their options follows without `-m`. */
export const PROTOCOL_MATCHES: ReadonlySet<string> = new Set(['tcp', 'udp', 'sctp', 'icmp', 'icmp6']);

/** spelling -> option, per module, built once. */
const bySpelling = new Map<ModuleSpec, ReadonlyMap<string, OptionSpec>>();
export function optionBySpelling(mod: ModuleSpec, spelling: string): OptionSpec | undefined {
  let m = bySpelling.get(mod);
  if (!m) {
    const map = new Map<string, OptionSpec>();
    for (const opt of mod.options) for (const s of opt.spellings) map.set(s, opt);
    bySpelling.set(mod, map);
    m = map;
  }
  return m.get(spelling);
}

/** The position of a canonical option name in its module's print order. */
export function printRank(mod: ModuleSpec, name: string): number {
  const i = mod.options.findIndex((opt) => opt.name === name);
  return i < 0 ? mod.options.length : i;
}

/**
 * Spellings that take a value in every module that defines them. The line splitter reads the word
 * after one of these as its value even when it starts with `-` (as getopt does for a required
 * argument): `--comment -x` is a comment, not an option.
 */
export const VALUE_TAKING_SPELLINGS: ReadonlySet<string> = (() => {
  const takes = new Map<string, boolean>();
  for (const mod of [BUILTIN, ...MODULES]) {
    for (const opt of mod.options) {
      for (const s of opt.spellings) takes.set(s, (takes.get(s) ?? true) && opt.args.length > 0);
    }
  }
  return new Set([...takes].filter(([, v]) => v).map(([k]) => k));
})();
