// parseIpvsadmSave: `ipvsadm-save -n` / `ipvsadm-restore` text -> IpvsTable, reporting every
// problem with its position and carrying on, like the iptables-save reader. Options follow
// ipvsadm(8): long and short spellings, `-p` with an optional timeout (300 s by default).
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Family, Span } from '../iptables/ir.js';
import { parseIP, parseIPv4, prefixOfMask } from '../net/index.js';
import type { IpvsCode } from './codes.js';
import { SERVICE_FLAGS, schedulerFlagNames, serviceKey, type ForwardMethod, type IpvsProtocol, type IpvsTable, type RealServer, type VirtualServer } from './ir.js';

export interface IpvsParseOptions {
  readonly file: string;
}

export interface IpvsParseResult {
  readonly table: IpvsTable;
  readonly diagnostics: Diagnostic[];
}

interface Word {
  readonly text: string;
  readonly span: Span;
}

const SERVICE_SWITCHES: Readonly<Record<string, IpvsProtocol | 'fwmark'>> = {
  '-t': 'TCP',
  '--tcp-service': 'TCP',
  '-u': 'UDP',
  '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
  '-f': 'fwmark',
  '--fwmark-service': 'fwmark',
};

/** Canonical option names; `true` = takes a value. */
const OPTIONS: Readonly<Record<string, readonly [string, boolean]>> = {
  '-s': ['scheduler', true],
  '--scheduler': ['scheduler', true],
  '-p': ['persistent', false],
  '--persistent': ['persistent', false],
  '-M': ['netmask', true],
  '--netmask': ['netmask', true],
  '-o': ['ops', false],
  '--ops': ['ops', false],
  '-b': ['sched-flags', true],
  '--sched-flags': ['sched-flags', true],
  '--pe': ['pe', true],
  '-r': ['real-server', true],
  '--real-server': ['real-server', true],
  '-g': ['gatewaying', false],
  '--gatewaying': ['gatewaying', false],
  '-i': ['ipip', false],
  '--ipip': ['ipip', false],
  '-m': ['masquerading', false],
  '--masquerading': ['masquerading', false],
  '-w': ['weight', true],
  '--weight': ['weight', true],
  '-x': ['u-threshold', true],
  '--u-threshold': ['u-threshold', true],
  '-y': ['l-threshold', true],
  '--l-threshold': ['l-threshold', true],
};

interface Mutable {
  vs: VirtualServer;
  servers: RealServer[];
  seen: Set<string>;
}

export function parseIpvsadmSave(text: string, opts: IpvsParseOptions): IpvsParseResult {
  const diagnostics: Diagnostic[] = [];
  const report = (code: IpvsCode, message: string, span: Span | null, severity: 'error' | 'warning' = 'error', notes?: string[]) =>
    diagnostics.push({ severity, code, message, file: opts.file, span, notes });
  const services: Mutable[] = [];
  const byKey = new Map<string, Mutable>();
  let offset = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].endsWith('\r') ? lines[n].slice(0, -1) : lines[n];
    const words = splitWords(raw, n + 1, offset);
    offset += lines[n].length + 1;
    if (words.length === 0 || words[0].text.startsWith('#')) continue;
    const cmd = words[0];
    const isService = cmd.text === '-A' || cmd.text === '--add-service';
    const isServer = cmd.text === '-a' || cmd.text === '--add-server';
    if (!isService && !isServer) {
      report('IPVS_SYNTAX', `a save line starts with -A (add service) or -a (add server), not '${cmd.text}'`, cmd.span);
      continue;
    }
    const sw = words[1];
    const kind = sw ? SERVICE_SWITCHES[sw.text] : undefined;
    if (!sw || kind === undefined) {
      report('IPVS_SYNTAX', `${cmd.text} needs a service (-t, -u, --sctp-service or -f)`, sw?.span ?? endOf(cmd));
      continue;
    }
    if (kind === 'fwmark') {
      report('IPVS_UNSUPPORTED', 'firewall-mark services are not modelled; line skipped', sw.span, 'warning');
      continue;
    }
    const addrWord = words[2];
    if (!addrWord) {
      report('IPVS_MISSING_VALUE', `${sw.text} needs ADDRESS:PORT`, endOf(sw));
      continue;
    }
    const vip = parseHostPort(addrWord, report);
    if (!vip) continue;
    const options = readOptions(words.slice(3), report);
    const key = serviceKey({ address: vip.address, port: vip.port, protocol: kind });
    if (isService) {
      if (byKey.has(key)) {
        report('IPVS_DUPLICATE_SERVICE', `service ${key} is added twice`, addrWord.span);
        continue;
      }
      const vs = buildService(vip, kind, options, report, cmd.span);
      const rec = { vs, servers: [], seen: new Set<string>() };
      services.push(rec);
      byKey.set(key, rec);
      continue;
    }
    const rec = byKey.get(key);
    if (!rec) {
      report('IPVS_UNKNOWN_SERVICE', `real server for service ${key}, which no -A line added`, addrWord.span);
      continue;
    }
    const rs = buildServer(options, rec.vs.family, report, cmd);
    if (!rs) continue;
    const rsKey = `${rs.address}|${rs.port}`;
    if (rec.seen.has(rsKey)) {
      report('IPVS_DUPLICATE_SERVER', `real server ${rs.address}:${rs.port} is added to ${key} twice`, rs.span);
      continue;
    }
    rec.seen.add(rsKey);
    rec.servers.push(rs);
  }
  return { table: { services: services.map((r) => ({ ...r.vs, realServers: r.servers })) }, diagnostics };
}

type Report = (code: IpvsCode, message: string, span: Span | null, severity?: 'error' | 'warning', notes?: string[]) => void;

interface Option {
  readonly name: string;
  readonly word: Word;
  readonly value: Word | null;
}

function splitWords(line: string, lineNo: number, lineOffset: number): Word[] {
  const out: Word[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], span: { line: lineNo, col: m.index + 1, offset: lineOffset + m.index, length: m[0].length } });
  return out;
}

function endOf(w: Word): Span {
  return { line: w.span.line, col: w.span.col + w.span.length, offset: w.span.offset + w.span.length, length: 0 };
}

function readOptions(words: readonly Word[], report: Report): Map<string, Option> {
  const out = new Map<string, Option>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const spec = OPTIONS[w.text];
    if (!spec) {
      report('IPVS_UNKNOWN_OPTION', `unknown option ${w.text}`, w.span);
      continue;
    }
    const [name, takesValue] = spec;
    let value: Word | null = null;
    // `-p` takes an optional timeout: the next word when it is a number.
    if (takesValue || (name === 'persistent' && words[i + 1] && /^\d+$/.test(words[i + 1].text))) {
      value = words[i + 1] ?? null;
      if (!value || (takesValue && value.text.startsWith('-') && OPTIONS[value.text])) {
        report('IPVS_MISSING_VALUE', `${w.text} needs a value`, endOf(w));
        continue;
      }
      i++;
    }
    if (out.has(name)) report('IPVS_DUPLICATE_OPTION', `${w.text} given twice`, w.span);
    out.set(name, { name, word: w, value });
  }
  return out;
}

function number(o: Option | undefined, max: number, report: Report): number | null {
  if (!o?.value) return null;
  const t = o.value.text;
  if (!/^\d+$/.test(t) || Number(t) > max) {
    report('IPVS_BAD_NUMBER', `${o.word.text} takes a number 0-${max}, not ${t}`, o.value.span);
    return null;
  }
  return Number(t);
}

interface HostPort {
  readonly family: Family;
  readonly address: string;
  readonly port: number;
  readonly span: Span;
}

function parseHostPort(w: Word, report: Report): HostPort | null {
  const m = /^\[([^\]]+)\]:(.*)$/.exec(w.text) ?? /^([^:]+):(.*)$/.exec(w.text);
  if (!m) {
    report('IPVS_BAD_ADDRESS', `${w.text} is not ADDRESS:PORT ([ADDRESS]:PORT for IPv6)`, w.span);
    return null;
  }
  const ip = parseIP(m[1]);
  if (!ip) {
    report('IPVS_BAD_ADDRESS', `${m[1]} is not an IP address`, w.span, 'error', ['names appear when the dump was made without -n: use ipvsadm-save -n']);
    return null;
  }
  if (!/^\d+$/.test(m[2]) || Number(m[2]) > 65535) {
    const at = w.text.lastIndexOf(m[2]);
    report('IPVS_BAD_PORT', `${m[2]} is not a port 0-65535`, { ...w.span, col: w.span.col + at, offset: w.span.offset + at, length: m[2].length });
    return null;
  }
  return { family: ip.family, address: ip.text, port: Number(m[2]), span: w.span };
}

function buildService(vip: HostPort, protocol: IpvsProtocol, options: Map<string, Option>, report: Report, span: Span): VirtualServer {
  let flags = 0;
  let timeout = 0;
  const full = vip.family === 'ipv4' ? 32 : 128;
  let netmaskPrefix = full;
  const scheduler = options.get('scheduler')?.value?.text ?? 'wlc';
  const p = options.get('persistent');
  if (p) {
    flags |= SERVICE_FLAGS.persistent;
    timeout = p.value ? (number(p, 0xffffffff, report) ?? 300) : 300;
  }
  const nm = options.get('netmask');
  if (nm?.value) {
    const prefix = vip.family === 'ipv6' ? number(nm, 128, report) : maskToPrefix(nm.value.text);
    if (prefix === null) report('IPVS_BAD_NUMBER', `${nm.value.text} is not a netmask`, nm.value.span);
    else netmaskPrefix = prefix;
  }
  if (options.has('ops')) flags |= SERVICE_FLAGS.onePacket;
  const b = options.get('sched-flags');
  if (b?.value) {
    const names = schedulerFlagNames(scheduler);
    const bits = [SERVICE_FLAGS.sched1, SERVICE_FLAGS.sched2, SERVICE_FLAGS.sched3];
    for (const f of b.value.text.split(',')) {
      const i = names.indexOf(f as never);
      const generic = /^flag-([123])$/.exec(f);
      if (i >= 0) flags |= bits[i];
      else if (generic) flags |= bits[Number(generic[1]) - 1];
      else report('IPVS_BAD_NUMBER', `unknown scheduler flag ${f} for ${scheduler}`, b.value.span);
    }
  }
  const pe = options.get('pe');
  if (pe) report('IPVS_UNSUPPORTED', 'persistence engines (--pe) are not modelled; ignored', pe.word.span, 'warning');
  for (const n of ['real-server', 'weight', 'masquerading', 'gatewaying', 'ipip', 'u-threshold', 'l-threshold']) {
    const o = options.get(n);
    if (o) report('IPVS_UNKNOWN_OPTION', `${o.word.text} belongs on a real-server (-a) line`, o.word.span);
  }
  return { family: vip.family, address: vip.address, port: vip.port, protocol, scheduler, flags, timeout, netmaskPrefix, realServers: [], span };
}

/** `--netmask 255.255.255.0` (a contiguous IPv4 mask, read as kube-proxy reads addresses) or a prefix length. */
function maskToPrefix(text: string): number | null {
  const v = parseIPv4(text, true);
  if (v === null) return /^\d+$/.test(text) && Number(text) <= 32 ? Number(text) : null;
  return prefixOfMask(v, 'ipv4');
}

function buildServer(options: Map<string, Option>, family: Family, report: Report, cmd: Word): RealServer | null {
  const r = options.get('real-server');
  if (!r?.value) {
    report('IPVS_SYNTAX', '-a needs a real server (-r ADDRESS:PORT)', endOf(cmd));
    return null;
  }
  const hp = parseHostPort(r.value, report);
  if (!hp) return null;
  const methods = (['masquerading', 'gatewaying', 'ipip'] as const).filter((m) => options.has(m));
  if (methods.length > 1) report('IPVS_DUPLICATE_OPTION', 'more than one forwarding method (-m, -g, -i)', options.get(methods[1])!.word.span);
  const forward: ForwardMethod = methods[0] === 'masquerading' ? 'masq' : methods[0] === 'ipip' ? 'tunnel' : 'route';
  if (hp.family !== family && forward !== 'tunnel') report('IPVS_WRONG_FAMILY', `${hp.family} real server behind an ${family} service`, hp.span);
  for (const n of ['scheduler', 'persistent', 'netmask', 'sched-flags', 'ops']) {
    const o = options.get(n);
    if (o) report('IPVS_UNKNOWN_OPTION', `${o.word.text} belongs on a service (-A) line`, o.word.span);
  }
  return {
    address: hp.address,
    port: hp.port,
    weight: number(options.get('weight'), 65535, report) ?? 1,
    forward,
    upperThreshold: number(options.get('u-threshold'), 0xffffffff, report) ?? 0,
    lowerThreshold: number(options.get('l-threshold'), 0xffffffff, report) ?? 0,
    span: r.value.span,
  };
}
