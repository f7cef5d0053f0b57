// How iptables-save prints each match module and target after the kernel stored it: its own
// option order, defaults made explicit, aliases folded into the stored form. Each printer mirrors
// the extension's `save` function in iptables 1.8 (libxt_<name>.c); checked against the kernel by
// test/iptables-save/kernel-save.test.ts.
import type { Family, OptionArg, Value } from '../iptables/ir.js';
import { formatPortRange, v4Mask, v6Mask } from '../net/index.js';
import { ADDR_TYPES, CT_STATES, CT_STATUSES, ICMP_TYPES, ICMPV6_TYPES, LOG_LEVELS, REJECT_WITH_V4, REJECT_WITH_V6, TCP_FLAGS, WEEKDAYS } from './names.js';
import { address, cidr, hex, hostOrCidr, limitRate, printRate, saveString, statisticProbability } from './save-format.js';
import { MATCH_MODULES, TARGET_MODULES, printRank, type ModuleSpec } from './spec.js';

const neg = (o: OptionArg) => (o.negation === 'none' ? '' : ' !');
/** `0x%02x`. */
const hex2 = (n: number) => '0x' + n.toString(16).padStart(2, '0');

/** A value printed the way most extensions print it. */
export function plainValue(v: Value): string {
  switch (v.type) {
    case 'address':
      return hostOrCidr(v);
    case 'addressRange':
      return v.from === v.to ? address(v.from, v.family) : `${address(v.from, v.family)}-${address(v.to, v.family)}`;
    case 'ports':
      return v.ranges.map((r) => formatPortRange(r, ':')).join(',');
    case 'integer':
      return String(v.value);
    case 'intRange':
      return v.from === v.to ? String(v.from) : `${v.from}:${v.to}`;
    case 'mark':
      return v.mask === null || v.mask === 0xffffffff ? hex(v.value) : `${hex(v.value)}/${hex(v.mask)}`;
    case 'list':
      return v.items.join(',');
    case 'string':
      return saveString(v.value);
    case 'interface':
      return v.text;
    case 'probability':
      return statisticProbability(v.value);
    case 'natRange':
      return natRange(v);
    case 'protocol':
      return v.number === null ? 'all' : String(v.number);
    case 'icmpType':
      return v.icmpType === null ? 'any' : v.code === null ? String(v.icmpType) : `${v.icmpType}/${v.code}`;
    case 'word':
    case 'rate':
      return v.text;
    default: {
      const never: never = v;
      return (never as Value).text;
    }
  }
}

function natRange(v: Extract<Value, { type: 'natRange' }>): string {
  let s = '';
  if (v.fromAddress !== null) s = address(v.fromAddress, v.family) + (v.fromAddress === v.toAddress || v.toAddress === null ? '' : `-${address(v.toAddress, v.family)}`);
  if (v.fromPort !== null) {
    if (v.family === 'ipv6' && s !== '') s = `[${s}]`;
    s += `:${v.fromPort === v.toPort ? v.fromPort : `${v.fromPort}-${v.toPort}`}`;
  }
  return s;
}

/** Options sorted into the module's print order, the later of two same-named ones winning. */
function ordered(spec: ModuleSpec, options: readonly OptionArg[]): OptionArg[] {
  const byName = new Map<string, OptionArg>();
  for (const o of options) byName.set(o.name, o);
  return [...byName.values()].sort((a, b) => printRank(spec, a.name) - printRank(spec, b.name));
}

function generic(spec: ModuleSpec, options: readonly OptionArg[]): string {
  let s = '';
  for (const o of ordered(spec, options)) {
    const opt = spec.options.find((x) => x.name === o.name);
    s += `${neg(o)} ${opt?.spellings[0] ?? '--' + o.name}`;
    for (const v of o.values) s += ' ' + plainValue(v);
  }
  return s;
}

function sortedItems(v: Value | undefined, order: readonly string[]): string {
  if (!v || v.type !== 'list') return v ? v.text : '';
  const set = new Set(v.items);
  const items = order.filter((x) => set.has(x));
  return items.join(',');
}

function tcpFlags(v: Value | undefined): string {
  if (!v || v.type !== 'list') return v?.text ?? '';
  const set = new Set(v.items.includes('ALL') ? TCP_FLAGS : v.items);
  const items = TCP_FLAGS.filter((f) => set.has(f));
  return items.length ? items.join(',') : 'NONE';
}

const fullRange = (v: Value | undefined) => v?.type === 'ports' && v.ranges.length === 1 && v.ranges[0][0] === 0 && v.ranges[0][1] === 65535;

type Printer = (options: readonly OptionArg[], family: Family) => string;

/** libxt_tcp / libxt_udp / libxt_sctp: ports (omitted when they cover everything), then flags. */
function portsPrinter(mod: string): Printer {
  const spec = MATCH_MODULES.get(mod)!;
  return (options) => {
    let s = '';
    const list = ordered(spec, options.map((o) => (o.name === 'syn' ? { ...o, name: 'tcp-flags' } : o)));
    for (const o of list) {
      if ((o.name === 'sport' || o.name === 'dport') && fullRange(o.values[0]) && o.negation === 'none') continue;
      if (o.name === 'tcp-flags') {
        const syn = o.values.length === 0;
        s += `${neg(o)} --tcp-flags ${syn ? 'FIN,SYN,RST,ACK SYN' : `${tcpFlags(o.values[0])} ${tcpFlags(o.values[1])}`}`;
      } else s += generic(spec, [o]);
    }
    return s;
  };
}

function icmpPrinter(names: Readonly<Record<string, readonly [number, number, number]>>, option: string): Printer {
  return (options) => {
    let s = '';
    for (const o of options) {
      const v = o.values[0];
      let text = v ? plainValue(v) : '';
      const named = v ? names[v.text] : undefined;
      if (named) text = v!.text === 'any' ? 'any' : named[1] === 0 && named[2] === 0xff ? String(named[0]) : `${named[0]}/${named[1]}`;
      s += `${neg(o)} --${option} ${text}`;
    }
    return s;
  };
}

function statisticPrinter(options: readonly OptionArg[]): string {
  const get = (n: string) => options.find((o) => o.name === n);
  const mode = get('mode')?.values[0]?.text ?? 'random';
  if (mode === 'nth') {
    const every = get('every');
    const inv = every && every.negation !== 'none' ? ' !' : '';
    const packet = get('packet')?.values[0];
    return ` --mode nth${inv} --every ${every ? plainValue(every.values[0]) : '1'} --packet ${packet ? plainValue(packet) : '0'}`;
  }
  const p = get('probability');
  const inv = p && p.negation !== 'none' ? ' !' : '';
  const value = p?.values[0];
  return ` --mode random${inv} --probability ${value?.type === 'probability' ? statisticProbability(value.value) : (value?.text ?? '')}`;
}

/** libxt_recent: the name, mask and side are always printed, with their defaults. */
function recentPrinter(options: readonly OptionArg[], family: Family): string {
  const spec = MATCH_MODULES.get('recent')!;
  const names = new Set(options.map((o) => o.name));
  const extra: OptionArg[] = [];
  const add = (name: string, values: Value[] = []) =>
    extra.push({ kind: 'option', module: 'recent', name, spelling: `--${name}`, negation: 'none', values, span: null });
  if (!names.has('name')) add('name', [{ type: 'word', text: 'DEFAULT', value: 'DEFAULT' }]);
  if (!names.has('mask')) {
    add('mask', [
      family === 'ipv4'
        ? { type: 'address', text: '255.255.255.255', family, address: v4Mask(32), network: v4Mask(32), prefix: 32 }
        : { type: 'address', text: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family, address: v6Mask(128), network: v6Mask(128), prefix: 128 },
    ]);
  }
  if (!names.has('rsource') && !names.has('rdest')) add('rsource');
  return generic(spec, [...options, ...extra]);
}

function setPrinter(options: readonly OptionArg[]): string {
  const spec = MATCH_MODULES.get('set')!;
  // --update-counters and --update-subcounters are on by default; only their negation is stored.
  return generic(spec, options.filter((o) => !((o.name === 'update-counters' || o.name === 'update-subcounters') && o.negation === 'none')));
}

function withValues(spec: ModuleSpec, options: readonly OptionArg[], fix: (o: OptionArg) => string | null): string {
  let s = '';
  for (const o of ordered(spec, options)) {
    const text = fix(o);
    s += text === null ? generic(spec, [o]) : `${neg(o)} --${o.name}${text === '' ? '' : ' ' + text}`;
  }
  return s;
}

/**
 * libxt_ipvs (ipvs_mt_dump): `--ipvs` only when it is the sole option (the others imply it), the
 * protocol as a number, the address masked without a /32 or /128, the words in capitals.
 */
function ipvsPrinter(options: readonly OptionArg[]): string {
  const spec = MATCH_MODULES.get('ipvs')!;
  const others = options.filter((o) => o.name !== 'ipvs');
  return withValues(spec, others.length ? others : options, (o) => {
    const v = o.values[0];
    if (o.name === 'vaddr' && v?.type === 'address') return hostOrCidr({ ...v, address: v.network });
    if (o.name === 'vdir' || o.name === 'vmethod') return v?.text.toUpperCase() ?? '';
    return null;
  });
}

const MATCH_PRINTERS: Readonly<Record<string, Printer>> = {
  ipvs: ipvsPrinter,
  tcp: portsPrinter('tcp'),
  udp: portsPrinter('udp'),
  sctp: portsPrinter('sctp'),
  icmp: icmpPrinter(ICMP_TYPES, 'icmp-type'),
  icmp6: icmpPrinter(ICMPV6_TYPES, 'icmpv6-type'),
  statistic: statisticPrinter,
  recent: recentPrinter,
  set: setPrinter,
  conntrack: (options) =>
    withValues(MATCH_MODULES.get('conntrack')!, options, (o) =>
      o.name === 'ctstate' ? sortedItems(o.values[0], CT_STATES) : o.name === 'ctstatus' ? ctStatus(o.values[0]) : null,
    ),
  state: (options) => withValues(MATCH_MODULES.get('state')!, options, (o) => sortedItems(o.values[0], CT_STATES)),
  addrtype: (options) =>
    withValues(MATCH_MODULES.get('addrtype')!, options, (o) => (o.name === 'src-type' || o.name === 'dst-type' ? sortedItems(o.values[0], ADDR_TYPES) : null)),
  mac: (options) => options.map((o) => `${neg(o)} --mac-source ${o.values[0]?.type === 'word' ? o.values[0].value : ''}`).join(''),
  limit: (options) =>
    withValues(MATCH_MODULES.get('limit')!, options.filter((o) => !(o.name === 'limit-burst' && o.values[0]?.type === 'integer' && o.values[0].value === 5)), (o) =>
      o.name === 'limit' ? limitRate(o.values[0]?.text ?? '') : null,
    ),
  owner: (options) =>
    withValues(MATCH_MODULES.get('owner')!, options, (o) => {
      const v = o.values[0];
      return v?.type === 'intRange' ? (v.from === v.to ? String(v.from) : `${v.from}-${v.to}`) : null;
    }),
  // libxt_tos: value/mask in hex, the mask always (0x3f for a name, 0xff when not given).
  tos: (options) => options.map((o) => `${neg(o)} --tos ${hex2(markValue(o).value)}/${hex2(markValue(o).mask ?? 0xff)}`).join(''),
  // libxt_dscp: a class is stored as its value; printed `--dscp 0x%02x`.
  dscp: (options) => options.map((o) => `${neg(o)} --dscp ${hex2(o.values[0]?.type === 'integer' ? o.values[0].value : 0)}`).join(''),
  hashlimit: hashlimitPrinter,
  time: timePrinter,
  // libxt_connbytes: the range (FROM alone when unbounded), then mode and direction.
  connbytes: (options) =>
    withValues(MATCH_MODULES.get('connbytes')!, options, (o) => {
      const v = o.values[0];
      return o.name === 'connbytes' && v?.type === 'intRange' ? (v.to === Infinity ? String(v.from) : `${v.from}:${v.to}`) : null;
    }),
  // libxt_connlimit: the count, then the mask and the side, always (a host's mask and saddr by default).
  connlimit: (options, family) => {
    const get = (n: string) => options.find((o) => o.name === n);
    const above = get('connlimit-above');
    const upto = get('connlimit-upto');
    const count = (above ?? upto)?.values[0]?.text ?? '0';
    const isAbove = above ? above.negation === 'none' : upto ? upto.negation !== 'none' : false;
    const mask = get('connlimit-mask')?.values[0]?.text ?? (family === 'ipv4' ? '32' : '128');
    const side = options.filter((o) => o.name === 'connlimit-saddr' || o.name === 'connlimit-daddr').pop()?.name ?? 'connlimit-saddr';
    return ` --connlimit-${isAbove ? 'above' : 'upto'} ${count} --connlimit-mask ${mask} --${side}`;
  },
  // libxt_nfacct prints the name after two blanks (" --nfacct-name " then " %s").
  nfacct: (options) => options.map((o) => ` --nfacct-name  ${o.values[0]?.text ?? ''}`).join(''),
};

/**
 * libxt_hashlimit hashlimit_mt_save: the rate (as print_rate spells it), the burst (default 5),
 * the mode, the name, the table settings that differ from their defaults (gcinterval 1000, expire:
 * the given rate's unit in ms unless set), and masks other than a host's.
 */
function hashlimitPrinter(options: readonly OptionArg[], family: Family): string {
  const get = (n: string) => options.find((o) => o.name === n);
  const num = (n: string) => {
    const v = get(n)?.values[0];
    return v?.type === 'integer' ? v.value : null;
  };
  const rateOpt = get('hashlimit-above') ?? get('hashlimit-upto');
  const rate = rateOpt?.values[0];
  let s = '';
  let quantumMs = 0;
  let expire: number | null = num('hashlimit-htable-expire');
  if (rateOpt && rate) {
    s += `${neg(rateOpt)} --${rateOpt.name}`;
    if (rate.type === 'rate') {
      const r = printRate(rate.periodUs, 1_000_000);
      s += ` ${r.text}`;
      quantumMs = r.unitMs;
      expire ??= rate.perSeconds * 1000;
    } else s += ` ${rate.text}`;
  }
  if (rate?.type === 'rate') s += ` --hashlimit-burst ${num('hashlimit-burst') ?? 5}`;
  const mode = get('hashlimit-mode')?.values[0];
  if (mode?.type === 'list') s += ` --hashlimit-mode ${['srcip', 'srcport', 'dstip', 'dstport'].filter((m) => mode.items.includes(m)).join(',')}`;
  const name = get('hashlimit-name')?.values[0];
  if (name) s += ` --hashlimit-name ${name.text}`;
  for (const n of ['hashlimit-htable-size', 'hashlimit-htable-max']) if (num(n)) s += ` --${n} ${num(n)}`;
  const gc = num('hashlimit-htable-gcinterval');
  if (gc !== null && gc !== 1000) s += ` --hashlimit-htable-gcinterval ${gc}`;
  if (expire !== null && expire !== quantumMs) s += ` --hashlimit-htable-expire ${expire}`;
  const host = family === 'ipv4' ? 32 : 128;
  for (const n of ['hashlimit-srcmask', 'hashlimit-dstmask']) if (num(n) !== null && num(n) !== host) s += ` --${n} ${num(n)}`;
  if (get('hashlimit-rate-match')) s += ' --hashlimit-rate-match';
  const interval = num('hashlimit-rate-interval');
  if (get('hashlimit-rate-match') && interval !== null && interval !== 1) s += ` --hashlimit-rate-interval ${interval}`;
  return s;
}

/** libxt_time time_save: defaults made explicit where it prints them (--datestop always), names for days. */
function timePrinter(options: readonly OptionArg[]): string {
  const get = (n: string) => options.find((o) => o.name === n);
  const int = (n: string) => {
    const v = get(n)?.values[0];
    return v?.type === 'integer' ? v.value : null;
  };
  const clock = (sec: number) => [Math.floor(sec / 3600), Math.floor(sec / 60) % 60, sec % 60].map((x) => String(x).padStart(2, '0')).join(':');
  const date = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 19);
  let s = '';
  const start = int('timestart') ?? 0;
  const stop = int('timestop') ?? 86399;
  if (start !== 0 || stop !== 86399) s += ` --timestart ${clock(start)} --timestop ${clock(stop)}`;
  const md = get('monthdays');
  if (md?.values[0]?.type === 'list') {
    const days = new Set(md.values[0].items.map(Number));
    const on = Array.from({ length: 31 }, (_, i) => i + 1).filter((d) => days.has(d) !== (md.negation !== 'none'));
    if (on.length < 31) s += ` --monthdays ${on.join(',')}`;
  }
  const wd = get('weekdays');
  if (wd?.values[0]?.type === 'list') {
    const days = new Set(wd.values[0].items);
    const on = WEEKDAYS.filter((d) => days.has(d) !== (wd.negation !== 'none'));
    if (on.length < 7) s += ` --weekdays ${on.join(',')}`;
  }
  const ds = int('datestart');
  if (ds) s += ` --datestart ${date(ds)}`;
  s += ` --datestop ${date(int('datestop') ?? 0x7fffffff)}`;
  if (get('kerneltz')) s += ' --kerneltz';
  if (get('contiguous')) s += ' --contiguous';
  return s;
}

function ctStatus(v: Value | undefined): string {
  const s = sortedItems(v, CT_STATUSES.slice(1));
  return s === '' ? 'NONE' : s;
}

export function renderMatch(name: string, options: readonly OptionArg[], family: Family): string {
  const printer = MATCH_PRINTERS[name];
  if (printer) return printer(options, family);
  const spec = MATCH_MODULES.get(name);
  return spec ? generic(spec, options) : '';
}

// ---------------------------------------------------------------------------------------------
// targets

const u32 = (n: number) => n >>> 0;

function markValue(o: OptionArg | undefined): { value: number; mask: number | null } {
  const v = o?.values[0];
  return v?.type === 'mark' ? { value: v.value, mask: v.mask } : { value: 0, mask: null };
}

/**
 * libxt_MARK (revision 2) and libxt_CONNMARK store every form as (mark, mask) with
 * new = (old & ~mask) ^ mark and print `--set-xmark mark/mask`:
 * --set-mark V[/M] -> V/(M|V) with M defaulting to all ones; --and-mark V -> 0/~V;
 * --or-mark V -> V/V; --xor-mark V -> V/0.
 */
function xmark(options: readonly OptionArg[]): string | null {
  for (const o of options) {
    const { value, mask } = markValue(o);
    switch (o.name) {
      case 'set-xmark':
        return `--set-xmark ${hex(value)}/${hex(mask ?? 0xffffffff)}`;
      case 'set-mark':
        return `--set-xmark ${hex(value)}/${hex(u32((mask ?? 0xffffffff) | value))}`;
      case 'and-mark':
        return `--set-xmark 0x0/${hex(u32(~value))}`;
      case 'or-mark':
        return `--set-xmark ${hex(value)}/${hex(value)}`;
      case 'xor-mark':
        return `--set-xmark ${hex(value)}/0x0`;
    }
  }
  return null;
}

function connmarkTarget(options: readonly OptionArg[]): string {
  const x = xmark(options);
  if (x) return ' ' + x;
  const get = (n: string) => options.find((o) => o.name === n);
  const mask = get('mask') ? markValue(get('mask')).value : null;
  const nfmask = get('nfmask') ? markValue(get('nfmask')).value : (mask ?? 0xffffffff);
  const ctmask = get('ctmask') ? markValue(get('ctmask')).value : (mask ?? 0xffffffff);
  const op = get('restore-mark') ? '--restore-mark' : '--save-mark';
  return ` ${op} --nfmask ${hex(nfmask)} --ctmask ${hex(ctmask)}`;
}

function natTarget(name: 'DNAT' | 'SNAT'): Printer {
  const spec = TARGET_MODULES.get(name)!;
  return (options) =>
    withValues(spec, options, (o) => (o.name === 'to-destination' || o.name === 'to-source' ? (o.values[0] ? plainValue(o.values[0]) : '') : null));
}

function dashPorts(v: Value | undefined): string {
  if (v?.type !== 'ports') return v?.text ?? '';
  const [a, b] = v.ranges[0];
  return a === b ? String(a) : `${a}-${b}`;
}

const TARGET_PRINTERS: Readonly<Record<string, Printer>> = {
  REJECT: (options, family) => {
    const names = family === 'ipv4' ? REJECT_WITH_V4 : REJECT_WITH_V6;
    const given = options.find((o) => o.name === 'reject-with')?.values[0]?.text;
    return ` --reject-with ${given ? (names[given] ?? given) : family === 'ipv4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`;
  },
  DNAT: natTarget('DNAT'),
  SNAT: natTarget('SNAT'),
  MASQUERADE: (options) => withValues(TARGET_MODULES.get('MASQUERADE')!, options, (o) => (o.name === 'to-ports' ? dashPorts(o.values[0]) : null)),
  REDIRECT: (options) => withValues(TARGET_MODULES.get('REDIRECT')!, options, (o) => (o.name === 'to-ports' ? dashPorts(o.values[0]) : null)),
  MARK: (options) => {
    const x = xmark(options);
    return x ? ' ' + x : '';
  },
  CONNMARK: connmarkTarget,
  LOG: (options) =>
    withValues(
      TARGET_MODULES.get('LOG')!,
      options.filter((o) => !(o.name === 'log-level' && logLevel(o) === 4)),
      (o) => (o.name === 'log-level' ? String(logLevel(o)) : null),
    ),
  NFLOG: (options) =>
    generic(
      TARGET_MODULES.get('NFLOG')!,
      // --nflog-range is parsed and ignored ("has never worked"); group 0 and threshold 1 are defaults.
      options.filter((o) => {
        const n = o.values[0]?.type === 'integer' ? o.values[0].value : -1;
        return o.name !== 'nflog-range' && !(o.name === 'nflog-group' && n === 0) && !(o.name === 'nflog-threshold' && n === 1);
      }),
    ),
  TPROXY: (options, family) => {
    const get = (n: string) => options.find((o) => o.name === n);
    const port = get('on-port')?.values[0];
    const ip = get('on-ip')?.values[0]?.text ?? (family === 'ipv4' ? '0.0.0.0' : '::');
    const m = get('tproxy-mark') ? markValue(get('tproxy-mark')) : { value: 0, mask: 0 };
    return ` --on-port ${port ? plainValue(port) : '0'} --on-ip ${ip} --tproxy-mark ${hex(m.value)}/${hex(m.mask ?? 0xffffffff)}`;
  },
  NETMAP: (options) => {
    const v = options.find((o) => o.name === 'to')?.values[0];
    return ` --to ${v?.type === 'address' ? cidr(v) : (v?.text ?? '')}`;
  },
};

function logLevel(o: OptionArg): number {
  const t = o.values[0]?.text ?? '4';
  return t in LOG_LEVELS ? LOG_LEVELS[t] : Number(t);
}

export function renderTargetOptions(name: string, options: readonly OptionArg[], family: Family): string {
  const printer = TARGET_PRINTERS[name];
  if (printer) return printer(options, family);
  const spec = TARGET_MODULES.get(name);
  return spec ? generic(spec, options) : '';
}

