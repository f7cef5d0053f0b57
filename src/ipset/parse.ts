// parseIpsetSave: `ipset save` / `ipset restore` text -> IpsetDump, reporting every problem with
// its position (line, column, offset, length of the offending word) and carrying on, like the
// iptables-save reader. Lines: `create NAME TYPE [OPTION [VALUE]]...`, `add NAME ENTRY
// [OPTION [VALUE]]...`, blank lines and `#` comments; `-exist` (restore's ignore-existing flag)
// is accepted anywhere after the command.
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Span } from '../iptables/ir.js';
import { familyBits, IPPROTO, parseCIDR, parseIP, type Family } from '../net/index.js';
import type { IpsetCode } from './codes.js';
import { isKnownSetType, MAX_SET_NAME, SET_TYPES, type EntryPart, type IpSet, type IpsetDump, type SetEntry, type SetOption } from './ir.js';

export interface IpsetParseOptions {
  readonly file: string;
}

export interface IpsetParseResult {
  readonly dump: IpsetDump;
  readonly diagnostics: Diagnostic[];
}

interface Word {
  readonly text: string;
  readonly span: Span;
}

/** Create options: name -> takes a value. Unknown ones are errors, as `ipset restore` rejects them. */
const CREATE_OPTIONS: Readonly<Record<string, boolean>> = {
  family: true,
  hashsize: true,
  maxelem: true,
  range: true,
  timeout: true,
  netmask: true,
  markmask: true,
  bucketsize: true,
  initval: true,
  size: true,
  counters: false,
  comment: false,
  skbinfo: false,
  forceadd: false,
};

const ENTRY_OPTIONS: Readonly<Record<string, boolean>> = {
  timeout: true,
  packets: true,
  bytes: true,
  comment: true,
  skbmark: true,
  skbprio: true,
  skbqueue: true,
  nomatch: false,
};

/** Protocol names an entry's port may carry, with their numbers. */
const PROTOCOLS: Readonly<Record<string, number>> = {
  tcp: IPPROTO.TCP,
  udp: IPPROTO.UDP,
  sctp: IPPROTO.SCTP,
  udplite: IPPROTO.UDPLITE,
  icmp: IPPROTO.ICMP,
  icmpv6: IPPROTO.ICMPV6,
  tcp6: IPPROTO.TCP,
  udp6: IPPROTO.UDP,
};

/** Splits a line into words; a `"..."` word (comments) is one word, quotes included. */
function splitWords(line: string, lineNo: number, lineOffset: number, report: (code: IpsetCode, msg: string, span: Span) => void): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') {
      i++;
      continue;
    }
    const start = i;
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) {
        report('IPSET_UNTERMINATED_QUOTE', 'quote opened here is never closed', { line: lineNo, col: start + 1, offset: lineOffset + start, length: line.length - start });
        i = line.length;
      } else i = end + 1;
    } else {
      while (i < line.length && line[i] !== ' ' && line[i] !== '\t') i++;
    }
    words.push({ text: line.slice(start, i), span: { line: lineNo, col: start + 1, offset: lineOffset + start, length: i - start } });
  }
  return words;
}

export function parseIpsetSave(text: string, opts: IpsetParseOptions): IpsetParseResult {
  const diagnostics: Diagnostic[] = [];
  const report = (code: IpsetCode, message: string, span: Span | null, severity: 'error' | 'warning' = 'error') =>
    diagnostics.push({ severity, code, message, file: opts.file, span });
  const sets: { set: IpSet; entries: SetEntry[]; seen: Set<string> }[] = [];
  const byName = new Map<string, (typeof sets)[number]>();
  let offset = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].endsWith('\r') ? lines[n].slice(0, -1) : lines[n];
    const lineOffset = offset;
    offset += lines[n].length + 1;
    const all = splitWords(raw, n + 1, lineOffset, report);
    if (all.length === 0 || all[0].text.startsWith('#')) continue;
    const words = all.filter((w, i) => i === 0 || (w.text !== '-exist' && w.text !== '-!'));
    const cmd = words[0];
    if (cmd.text === 'COMMIT' || cmd.text === 'quit') continue;
    if (cmd.text !== 'create' && cmd.text !== 'add' && cmd.text !== '-N' && cmd.text !== '-A') {
      report('IPSET_UNKNOWN_COMMAND', `'${cmd.text}' is not a save-file command (create, add)`, cmd.span);
      continue;
    }
    const name = words[1];
    if (!name) {
      report('IPSET_SYNTAX', `${cmd.text} needs a set name`, endOf(cmd));
      continue;
    }
    if (name.text.length > MAX_SET_NAME) report('IPSET_NAME_TOO_LONG', `set name ${name.text} is ${name.text.length} characters; at most ${MAX_SET_NAME}`, name.span);
    if (cmd.text === 'create' || cmd.text === '-N') {
      const type = words[2];
      if (!type) {
        report('IPSET_SYNTAX', `create ${name.text} needs a set type`, endOf(name));
        continue;
      }
      if (byName.has(name.text)) {
        report('IPSET_DUPLICATE_SET', `set ${name.text} is created twice`, name.span);
        continue;
      }
      if (!isKnownSetType(type.text)) report('IPSET_UNKNOWN_TYPE', `set type ${type.text} is not modelled; its entries are kept as text`, type.span, 'warning');
      const options = readOptions(words.slice(3), CREATE_OPTIONS, report);
      const fam = options.find((o) => o.name === 'family')?.value ?? null;
      const famWord = words.find((w, i) => i > 2 && words[i - 1]?.text === 'family');
      if (fam !== null && fam !== 'inet' && fam !== 'inet6') report('IPSET_BAD_VALUE', `family must be inet or inet6, not ${fam}`, famWord?.span ?? type.span);
      const family: Family | null = fam === 'inet6' ? 'ipv6' : fam === 'inet' || type.text.startsWith('hash:') ? 'ipv4' : null;
      const rec = { set: { name: name.text, type: type.text, family, options, entries: [] as SetEntry[], span: cmd.span }, entries: [] as SetEntry[], seen: new Set<string>() };
      sets.push(rec);
      byName.set(name.text, rec);
      continue;
    }
    const rec = byName.get(name.text);
    if (!rec) {
      report('IPSET_UNKNOWN_SET', `add to set ${name.text}, which no create line made`, name.span);
      continue;
    }
    const entryWord = words[2];
    if (!entryWord) {
      report('IPSET_SYNTAX', `add ${name.text} needs an entry`, endOf(name));
      continue;
    }
    const parts = parseEntry(entryWord, rec.set.type, rec.set.family, report);
    const options = readOptions(words.slice(3), ENTRY_OPTIONS, report);
    if (rec.seen.has(entryWord.text)) report('IPSET_DUPLICATE_ENTRY', `${entryWord.text} is already in ${name.text}`, entryWord.span);
    rec.seen.add(entryWord.text);
    rec.entries.push({ text: entryWord.text, parts: parts ?? [], options, span: entryWord.span });
  }
  return { dump: { sets: sets.map((r) => ({ ...r.set, entries: r.entries })) }, diagnostics };
}

function endOf(w: Word): Span {
  return { line: w.span.line, col: w.span.col + w.span.length, offset: w.span.offset + w.span.length, length: 0 };
}

function readOptions(words: readonly Word[], known: Readonly<Record<string, boolean>>, report: (code: IpsetCode, msg: string, span: Span) => void): SetOption[] {
  const out: SetOption[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!Object.hasOwn(known, w.text)) {
      report('IPSET_UNKNOWN_OPTION', `unknown option ${w.text}`, w.span);
      continue;
    }
    if (!known[w.text]) {
      out.push({ name: w.text, value: null });
      continue;
    }
    const v = words[i + 1];
    if (!v) {
      report('IPSET_MISSING_VALUE', `${w.text} needs a value`, endOf(w));
      continue;
    }
    if (/^(hashsize|maxelem|timeout|bucketsize|packets|bytes|size)$/.test(w.text) && !/^\d+$/.test(v.text)) report('IPSET_BAD_VALUE', `${w.text} takes a number, not ${v.text}`, v.span);
    out.push({ name: w.text, value: v.text });
    i++;
  }
  return out;
}

/** The dimensions of one entry (hash:ip,port -> `IP,[PROTO:]PORT`), or null when the type is not modelled or a part is bad. */
function parseEntry(w: Word, type: string, family: Family | null, report: (code: IpsetCode, msg: string, span: Span) => void): EntryPart[] | null {
  if (!isKnownSetType(type)) return null;
  const dims = SET_TYPES[type];
  const pieces = w.text.split(',');
  if (pieces.length !== dims.length) {
    report('IPSET_BAD_ENTRY', `${w.text} does not fit ${type} (${dims.join(',')})`, w.span);
    return null;
  }
  const parts: EntryPart[] = [];
  let at = 0;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    const span: Span = { line: w.span.line, col: w.span.col + at, offset: w.span.offset + at, length: p.length };
    at += p.length + 1;
    const dim = dims[i];
    if (dim === 'port') {
      const part = parsePort(p, type === 'bitmap:port');
      if (typeof part === 'string') {
        report('IPSET_BAD_PORT', part, span);
        return null;
      }
      parts.push(part);
      continue;
    }
    const slash = p.indexOf('/');
    const ip = slash < 0 ? parseIP(p) : null;
    const cidr = slash >= 0 ? parseCIDR(p) : null;
    const fam = ip?.family ?? cidr?.family ?? null;
    if (fam === null || (dim === 'ip' && cidr && cidr.prefix !== (cidr.family === 'ipv4' ? 32 : 128) && type !== 'hash:ip')) {
      report('IPSET_BAD_ADDRESS', `${p} is not ${dim === 'net' ? 'an address or CIDR' : 'an address'}`, span);
      return null;
    }
    if (family !== null && fam !== family) {
      report('IPSET_WRONG_FAMILY', `${p} is ${fam} in a ${family === 'ipv4' ? 'family inet' : 'family inet6'} set`, span);
      return null;
    }
    if (ip) parts.push({ dim, family: ip.family, network: ip.value, prefix: familyBits(ip.family) });
    else parts.push({ dim, family: cidr!.family, network: cidr!.network, prefix: cidr!.prefix });
  }
  return parts;
}

function parsePort(p: string, bitmap: boolean): EntryPart | string {
  const colon = p.indexOf(':');
  let protocol: number | null = null;
  let ports = p;
  if (colon >= 0) {
    if (bitmap) return `bitmap:port entries have no protocol: ${p}`;
    const name = p.slice(0, colon).toLowerCase();
    ports = p.slice(colon + 1);
    protocol = Object.hasOwn(PROTOCOLS, name) ? PROTOCOLS[name] : /^\d+$/.test(name) ? Number(name) : null;
    if (protocol === null) return `unknown protocol ${name} in ${p}`;
  } else if (!bitmap) protocol = IPPROTO.TCP;
  const m = /^(\d+)(?:-(\d+))?$/.exec(ports);
  if (!m) return `${ports} is not a port or port range`;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from > 65535 || to > 65535) return `port ${from > 65535 ? from : to} is out of range 0-65535`;
  return { dim: 'port', protocol, from: Math.min(from, to), to: Math.max(from, to) };
}
