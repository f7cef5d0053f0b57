// The spelling iptables-save prints for restore lines as kube-proxy writes them, straight from the
// bytes: a compile's half a million rules are respelled without building the rule IR of each.
//
// iptables-save (nf_tables backend) prints a rule as `-A CHAIN`, then -s, -d, -p (addresses with
// their prefix length), then the matches in the order they were loaded, each with its options in
// the extension's own order, then the target (render-save.ts, renderSaveRule, is the general
// printer). kube-proxy's per-service rules use a small vocabulary: comment, tcp/udp/sctp --dport,
// statistic --mode random --probability, addrtype LOCAL, nfacct, -j CHAIN / DNAT / REJECT. A line
// of exactly that vocabulary, with values in the form kube-proxy writes them (IPv4 dotted quads,
// decimal ports), is respelled here; any other line goes to the general reader and printer
// (`general`), so the result is the same either way: test/iptables-save/save-spelling.test.ts
// compares the two on every golden case and on generated clusters.
import type { Family } from '../iptables/ir.js';
import type { ByteSink } from '../util/byte-sink.js';
import { statisticProbability } from './save-format.js';

const SP = 32;
const NL = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const APOSTROPHE = 39;
const DASH = 45;

const MAX_TOKENS = 64;

/** Match modules respelled here, by name. */
type Module = 'comment' | 'tcp' | 'udp' | 'sctp' | 'statistic' | 'addrtype' | 'nfacct' | 'recent';
const MODULES: readonly Module[] = ['comment', 'tcp', 'udp', 'sctp', 'statistic', 'addrtype', 'nfacct', 'recent'];
/** Targets without options whose save spelling is their name alone (verdicts; chains are any KUBE-* name). */
const PLAIN_TARGETS: readonly string[] = ['ACCEPT', 'DROP', 'RETURN'];

const bytes = (s: string) => Buffer.from(s, 'latin1');
const W = {
  s: bytes(' -s '),
  notS: bytes(' ! -s '),
  d: bytes(' -d '),
  notD: bytes(' ! -d '),
  i: bytes(' -i '),
  notI: bytes(' ! -i '),
  o: bytes(' -o '),
  notO: bytes(' ! -o '),
  p: bytes(' -p '),
  m: bytes(' -m '),
  j: bytes(' -j '),
  host: bytes('/32'),
  comment: bytes(' --comment '),
  dport: bytes(' --dport '),
  random: bytes(' --mode random --probability '),
  srcType: bytes(' --src-type '),
  dstType: bytes(' --dst-type '),
  nfacct: bytes(' --nfacct-name  '),
  toDestination: bytes(' --to-destination '),
  rejectV4: bytes(' --reject-with icmp-port-unreachable'),
  rejectV6: bytes(' --reject-with icmp6-port-unreachable'),
  set: bytes(' --set'),
  rcheck: bytes(' --rcheck'),
  seconds: bytes(' --seconds '),
  reap: bytes(' --reap'),
  name: bytes(' --name '),
  // libxt_recent prints the mask and the side with their defaults.
  recentV4: bytes(' --mask 255.255.255.255 --rsource'),
};

/** One `-m` load and its options (token indices; -1 when absent). */
interface Match {
  name: Module;
  /** The name token, copied as written. */
  nameTok: number;
  /** comment / dport / probability / src-type / nfacct-name / recent --name value tokens. */
  a: number;
  /** addrtype --dst-type, recent --seconds value tokens. */
  b: number;
  /** statistic --mode's value; recent: 1 for --set, 2 for --rcheck. */
  mode: number;
  /** recent --reap. */
  flag: boolean;
}

/** Appends bytes [start, end) of `from` (all of it by default); the room was reserved. A loop: Buffer#copy costs more per call than these few bytes. */
function put(out: ByteSink, from: Buffer, start = 0, end = from.length): void {
  const o = out.buf;
  let at = out.len;
  for (let i = start; i < end; i++) o[at++] = from[i];
  out.len = at;
}

/**
 * Respells restore lines. One instance per table and family; it keeps scratch arrays between
 * lines. `general(line)` must return the save spelling of one line (without its newline) the slow
 * way: it is called for every line this fast path does not take.
 */
export class SaveSpeller {
  private readonly starts = new Int32Array(MAX_TOKENS);
  private readonly ends = new Int32Array(MAX_TOKENS);
  private n = 0;
  private buf: Buffer = Buffer.alloc(0);
  private readonly matches: Match[] = [];
  private readonly probabilities = new Map<string, Buffer | null>();
  private readonly seenProbabilities: string[] = [];
  /** Lines respelled here and lines handed to `general` (for tests and measurements). */
  fast = 0;
  slow = 0;

  constructor(
    private readonly family: Family,
    private readonly general: (line: string) => string,
  ) {}

  /** Respells the whole lines in `bytes[start, end)` (each ending in a newline) into `out`. */
  spell(bytes: Buffer, start: number, end: number, out: ByteSink): void {
    this.buf = bytes;
    let ls = start;
    while (ls < end) {
      let le = ls;
      while (le < end && bytes[le] !== NL) le++;
      if (!this.line(ls, le, out)) {
        this.slow++;
        const text = this.general(bytes.toString('utf8', ls, le));
        out.write(text);
        out.write('\n');
      } else this.fast++;
      ls = le + 1;
    }
  }

  /** Splits [ls, le) at single spaces; false for anything else (quotes inside words, escapes, control or non-ASCII bytes, runs of blanks). */
  private split(ls: number, le: number): boolean {
    const b = this.buf;
    const { starts, ends } = this;
    let n = 0;
    let i = ls;
    while (i < le) {
      if (n === MAX_TOKENS) return false;
      starts[n] = i;
      if (b[i] === QUOTE) {
        i++;
        while (i < le && b[i] !== QUOTE) {
          const c = b[i];
          if (c === BACKSLASH || c === APOSTROPHE || c < SP || c > 126) return false;
          i++;
        }
        if (i === le) return false;
        i++;
        if (i < le && b[i] !== SP) return false;
      } else {
        while (i < le && b[i] !== SP) {
          const c = b[i];
          if (c <= SP || c > 126 || c === QUOTE || c === BACKSLASH || c === APOSTROPHE) return false;
          i++;
        }
      }
      ends[n++] = i;
      if (i < le) {
        i++;
        if (i === le || b[i] === SP) return false;
      }
    }
    this.n = n;
    return true;
  }

  private is(t: number, word: string): boolean {
    const s = this.starts[t];
    if (this.ends[t] - s !== word.length) return false;
    for (let k = 0; k < word.length; k++) if (this.buf[s + k] !== word.charCodeAt(k)) return false;
    return true;
  }

  private text(t: number): string {
    return this.buf.toString('latin1', this.starts[t], this.ends[t]);
  }

  /** The module a word names, of those taken here; null for any other. */
  private moduleOf(t: number): Module | null {
    for (let i = 0; i < MODULES.length; i++) if (this.is(t, MODULES[i])) return MODULES[i];
    return null;
  }

  /** A target printed as its name alone: a verdict, REJECT (its default option added), a KUBE-* chain. */
  private plainTarget(t: number): boolean {
    if (this.ends[t] - this.starts[t] > 5 && this.is5(t, 'KUBE-')) return true;
    if (this.is(t, 'REJECT')) return true;
    for (let i = 0; i < PLAIN_TARGETS.length; i++) if (this.is(t, PLAIN_TARGETS[i])) return true;
    return false;
  }

  /** Whether the word starts with a five-character prefix. */
  private is5(t: number, prefix: string): boolean {
    const s = this.starts[t];
    for (let k = 0; k < 5; k++) if (this.buf[s + k] !== prefix.charCodeAt(k)) return false;
    return true;
  }

  /** Respells one line; false (nothing written) when it is not of the vocabulary taken here. */
  private line(ls: number, le: number, out: ByteSink): boolean {
    if (!this.split(ls, le)) return false;
    const n = this.n;
    if (n < 2 || !this.is(0, '-A')) return false;
    let src = -1;
    let srcNeg = false;
    let dst = -1;
    let dstNeg = false;
    let inIf = -1;
    let inNeg = false;
    let outIf = -1;
    let outNeg = false;
    let proto = -1;
    let target = -1;
    let toDestination = -1;
    const matches = this.matches;
    let m = 0;
    let cur: Match | null = null;
    let t = 2;
    while (t < n) {
      let neg = false;
      if (this.is(t, '!')) {
        neg = true;
        t++;
        if (t >= n) return false;
      }
      const b = this.buf;
      const s = this.starts[t];
      const len = this.ends[t] - s;
      if (b[s] !== DASH) return false;
      // The option's value, where it takes one.
      const v = t + 1;
      if (len === 2) {
        if (v >= n) return false;
        switch (b[s + 1]) {
          case 0x73 /* s */:
            if (src >= 0 || !this.address(v)) return false;
            src = v;
            srcNeg = neg;
            break;
          case 0x64 /* d */:
            if (dst >= 0 || !this.address(v)) return false;
            dst = v;
            dstNeg = neg;
            break;
          case 0x69 /* i */:
            if (inIf >= 0 || !this.interfaceName(v)) return false;
            inIf = v;
            inNeg = neg;
            break;
          case 0x6f /* o */:
            if (outIf >= 0 || !this.interfaceName(v)) return false;
            outIf = v;
            outNeg = neg;
            break;
          case 0x70 /* p */:
            if (proto >= 0 || neg || this.moduleOf(v) !== 'tcp' && this.moduleOf(v) !== 'udp' && this.moduleOf(v) !== 'sctp') return false;
            proto = v;
            break;
          case 0x6d /* m */: {
            const name = this.moduleOf(v);
            if (neg || name === null) return false;
            if (m === matches.length) matches.push({ name: 'comment', nameTok: 0, a: -1, b: -1, mode: -1, flag: false });
            cur = matches[m++];
            cur.name = name;
            cur.nameTok = v;
            cur.a = cur.b = cur.mode = -1;
            cur.flag = false;
            break;
          }
          case 0x6a /* j */: {
            if (neg) return false;
            target = v;
            if (this.is(v, 'DNAT')) {
              if (v + 2 >= n || !this.is(v + 1, '--to-destination') || !this.natDestination(v + 2)) return false;
              toDestination = v + 2;
              t = v + 3;
            } else if (this.plainTarget(v)) t = v + 1;
            else return false;
            // The target ends the line.
            if (t !== n) return false;
            continue;
          }
          default:
            return false;
        }
        t = v + 1;
        continue;
      }
      // A module's option: it belongs to the last `-m`.
      if (cur === null || neg || b[s + 1] !== DASH) return false;
      const opt = t;
      // Flags take no value.
      if (cur.name === 'recent' && (this.is(opt, '--set') || this.is(opt, '--rcheck') || this.is(opt, '--reap'))) {
        if (this.is(opt, '--reap')) {
          if (cur.flag) return false;
          cur.flag = true;
        } else {
          if (cur.mode >= 0) return false;
          cur.mode = this.is(opt, '--set') ? 1 : 2;
        }
        t = v;
        continue;
      }
      if (v >= n) return false;
      switch (cur.name) {
        case 'comment':
          if (!this.is(opt, '--comment') || cur.a >= 0) return false;
          cur.a = v;
          break;
        case 'tcp':
        case 'udp':
        case 'sctp':
          if (!this.is(opt, '--dport') || cur.a >= 0 || !this.port(v)) return false;
          cur.a = v;
          break;
        case 'statistic':
          if (this.is(opt, '--mode')) {
            if (cur.mode >= 0 || !this.is(v, 'random')) return false;
            cur.mode = v;
          } else if (this.is(opt, '--probability')) {
            if (cur.a >= 0 || this.probability(v) === null) return false;
            cur.a = v;
          } else return false;
          break;
        case 'addrtype':
          if (this.is(opt, '--src-type') && cur.a < 0 && this.is(v, 'LOCAL')) cur.a = v;
          else if (this.is(opt, '--dst-type') && cur.b < 0 && this.is(v, 'LOCAL')) cur.b = v;
          else return false;
          break;
        case 'nfacct':
          if (!this.is(opt, '--nfacct-name') || cur.a >= 0 || !this.word(v)) return false;
          cur.a = v;
          break;
        case 'recent':
          if (this.is(opt, '--name') && cur.a < 0 && this.word(v)) cur.a = v;
          else if (this.is(opt, '--seconds') && cur.b < 0 && this.decimal(this.starts[v], this.ends[v], 0xffffffff) >= 0) cur.b = v;
          else return false;
          break;
      }
      t = v + 1;
    }
    for (let i = 0; i < m; i++) {
      const x = matches[i];
      let complete: boolean;
      switch (x.name) {
        case 'tcp':
        case 'udp':
        case 'sctp':
          complete = true;
          break;
        case 'statistic':
          complete = x.mode >= 0 && x.a >= 0;
          break;
        case 'addrtype':
          complete = x.a >= 0 || x.b >= 0;
          break;
        case 'recent':
          // IPv6's default mask is another spelling; --set with --seconds is refused by the general reader.
          complete = this.family === 'ipv4' && x.a >= 0 && (x.mode === 2 || (x.mode === 1 && x.b < 0 && !x.flag));
          break;
        default:
          complete = x.a >= 0;
      }
      if (!complete) return false;
    }

    // The line is taken: write it in iptables-save's order.
    out.reserve(3 * (le - ls) + 128);
    this.copy(out, 0, 1);
    if (src >= 0) {
      put(out, (srcNeg ? W.notS : W.s));
      this.addressOut(out, src);
    }
    if (dst >= 0) {
      put(out, dstNeg ? W.notD : W.d);
      this.addressOut(out, dst);
    }
    if (inIf >= 0) {
      put(out, inNeg ? W.notI : W.i);
      this.copy(out, inIf, inIf);
    }
    if (outIf >= 0) {
      put(out, outNeg ? W.notO : W.o);
      this.copy(out, outIf, outIf);
    }
    if (proto >= 0) {
      put(out, W.p);
      this.copy(out, proto, proto);
    }
    for (let i = 0; i < m; i++) {
      const x = matches[i];
      put(out, W.m);
      this.copy(out, x.nameTok, x.nameTok);
      switch (x.name) {
        case 'comment':
          put(out, W.comment);
          this.savedString(out, x.a);
          break;
        case 'tcp':
        case 'udp':
        case 'sctp':
          if (x.a >= 0) {
            put(out, W.dport);
            this.copy(out, x.a, x.a);
          }
          break;
        case 'recent':
          put(out, (x.mode === 1 ? W.set : W.rcheck));
          if (x.b >= 0) {
            put(out, W.seconds);
            this.copy(out, x.b, x.b);
          }
          if (x.flag) put(out, W.reap);
          put(out, W.name);
          this.copy(out, x.a, x.a);
          put(out, W.recentV4);
          break;
        case 'statistic': {
          put(out, W.random);
          put(out, this.probability(x.a)!);
          break;
        }
        case 'addrtype':
          if (x.a >= 0) {
            put(out, W.srcType);
            this.copy(out, x.a, x.a);
          }
          if (x.b >= 0) {
            put(out, W.dstType);
            this.copy(out, x.b, x.b);
          }
          break;
        case 'nfacct':
          put(out, W.nfacct);
          this.copy(out, x.a, x.a);
          break;
      }
    }
    if (target >= 0) {
      put(out, W.j);
      this.copy(out, target, target);
      if (toDestination >= 0) {
        put(out, W.toDestination);
        this.copy(out, toDestination, toDestination);
      } else if (this.is(target, 'REJECT')) put(out, (this.family === 'ipv4' ? W.rejectV4 : W.rejectV6));
    }
    out.buf[out.len++] = NL;
    return true;
  }

  /** Copies tokens from..to with the spaces between them. */
  private copy(out: ByteSink, from: number, to: number): void {
    put(out, this.buf, this.starts[from], this.ends[to]);
  }

  /** A decimal number without leading zeros, at most `max`; -1 if not. */
  private decimal(from: number, to: number, max: number): number {
    const b = this.buf;
    if (to <= from || to - from > 10 || (b[from] === 0x30 && to - from > 1)) return -1;
    let v = 0;
    for (let i = from; i < to; i++) {
      const c = b[i] - 0x30;
      if (c < 0 || c > 9) return -1;
      v = v * 10 + c;
    }
    return v <= max ? v : -1;
  }

  /** Where a byte first is in a word; its end when it is not. */
  private find(t: number, byte: number): number {
    const e = this.ends[t];
    let i = this.starts[t];
    while (i < e && this.buf[i] !== byte) i++;
    return i;
  }

  /** An IPv4 dotted quad in [from, to) as a number, or -1. */
  private quad(from: number, to: number): number {
    const b = this.buf;
    let v = 0;
    let at = from;
    for (let k = 0; k < 4; k++) {
      let e = at;
      while (e < to && b[e] !== 0x2e) e++;
      if ((k < 3) !== (e < to)) return -1;
      const o = this.decimal(at, e, 255);
      if (o < 0) return -1;
      v = v * 256 + o;
      at = e + 1;
    }
    return v;
  }

  /** `-s`/`-d`: an IPv4 address or network (no host bits, prefix 1-32) on an IPv4 table. */
  private address(t: number): boolean {
    if (this.family !== 'ipv4') return false;
    const s = this.starts[t];
    const e = this.ends[t];
    const end = this.find(t, 0x2f);
    const a = this.quad(s, end);
    if (a < 0) return false;
    if (end === e) return true;
    const prefix = this.decimal(end + 1, e, 32);
    if (prefix < 1) return false;
    // Host bits set: the kernel keeps the masked network, which the general printer computes.
    return prefix === 32 || a % 2 ** (32 - prefix) === 0;
  }

  /** An address as iptables-save prints it: always with its prefix length. */
  private addressOut(out: ByteSink, t: number): void {
    this.copy(out, t, t);
    if (this.find(t, 0x2f) === this.ends[t]) put(out, W.host);
  }

  /** DNAT's `IP:PORT`, IPv4. */
  private natDestination(t: number): boolean {
    if (this.family !== 'ipv4') return false;
    const s = this.starts[t];
    const e = this.ends[t];
    const colon = this.find(t, 0x3a);
    if (colon === e) return false;
    return this.quad(s, colon) >= 0 && this.decimal(colon + 1, e, 65535) > 0;
  }

  private port(t: number): boolean {
    return this.decimal(this.starts[t], this.ends[t], 65535) >= 0;
  }

  /** `-i`/`-o`: an interface name (at most 15 characters, `+` a wildcard), printed as written. */
  private interfaceName(t: number): boolean {
    const len = this.ends[t] - this.starts[t];
    return len > 0 && len <= 15 && this.buf[this.starts[t]] !== QUOTE && this.find(t, 0x2f) === this.ends[t];
  }

  /** An option value word: letters, digits, `_` and `-`. */
  private word(t: number): boolean {
    const b = this.buf;
    const e = this.ends[t];
    if (e === this.starts[t]) return false;
    for (let i = this.starts[t]; i < e; i++) {
      const c = b[i];
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === DASH)) return false;
    }
    return true;
  }

  /** The saved spelling of a probability as written, or null when it is not a plain decimal in [0, 1]. */
  private probability(t: number): Buffer | null {
    // kube-proxy writes a few distinct probabilities (1/n for n up to the endpoints): looked up by their bytes.
    const seen = this.seenProbabilities;
    for (let i = 0; i < seen.length; i++) if (this.is(t, seen[i])) return this.probabilities.get(seen[i])!;
    const text = this.text(t);
    let saved = this.probabilities.get(text);
    if (saved === undefined) {
      if (seen.length < 64) seen.push(text);
      const p = /^[0-9]*\.?[0-9]+$/.test(text) ? Number(text) : NaN;
      saved = p >= 0 && p <= 1 ? bytes(statisticProbability(p)) : null;
      this.probabilities.set(text, saved);
    }
    return saved;
  }

  /**
   * xtables_save_string of the comment's value (its quotes removed): bare when only letters,
   * digits, `_` and `-`, else in double quotes (the split refused values with `"`, `\` or `'`).
   */
  private savedString(out: ByteSink, t: number): void {
    const b = this.buf;
    let s = this.starts[t];
    let e = this.ends[t];
    if (b[s] === QUOTE) {
      s++;
      e--;
    }
    let bare = e > s;
    for (let i = s; i < e && bare; i++) {
      const c = b[i];
      bare = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === DASH;
    }
    if (!bare) out.buf[out.len++] = QUOTE;
    put(out, b, s, e);
    if (!bare) out.buf[out.len++] = QUOTE;
  }
}
