// The report (model.ts) as text: the packet, the outcome table first, then one tree of the path.
// The part every outcome shares is printed once; a fork lists its branches with their exact shares
// (`715827883/2^31 (0.3333333335)`), and the steps every branch goes on with after it are printed
// once more below the branches. Rules are printed as the ruleset the user has writes them, with
// their line numbers there; by default only the rules that matched, with --verbose every rule
// tried and, for each that did not match, why.
import { decimalText, fullExact, shortExact } from './exact.js';
import { FIELD_NAMES, type Branch, type Change, type Fork, type OutcomeView, type PacketView, type Segment, type Step, type TraceReport } from './model.js';
import { hostPortText, sharedTail, tailSteps } from './tree.js';
import type { Prob } from '../packetsim/fraction.js';

export interface Style {
  readonly matched: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly bad: (s: string) => string;
}

export const PLAIN: Style = { matched: (s) => s, dim: (s) => s, bold: (s) => s, bad: (s) => s };
export const ANSI: Style = {
  matched: (s) => `\x1b[32m${s}\x1b[0m`,
  dim: (s) => `\x1b[2m${s}\x1b[0m`,
  bold: (s) => `\x1b[1m${s}\x1b[0m`,
  bad: (s) => `\x1b[31m${s}\x1b[0m`,
};

export interface TextOptions {
  readonly style: Style;
  /** Whole fractions instead of the short forms. */
  readonly exact: boolean;
  /** Print the path tree (off: --no-paths, the outcome table alone). */
  readonly paths: boolean;
}

function flow(r: TraceReport, v: PacketView): string {
  return `${hostPortText(r.family, v.source, v.sourcePort)} -> ${hostPortText(r.family, v.destination, v.destinationPort)}`;
}

/** The exact column: the short form, the whole fraction with --exact, `-` when no short form is exact. */
function exactText(p: Prob, opts: TextOptions): string {
  return opts.exact ? fullExact(p) : (shortExact(p) ?? '-');
}

function shareText(p: Prob | null, opts: TextOptions): string {
  if (p === null) return 'if';
  const s = opts.exact ? fullExact(p) : shortExact(p);
  const d = decimalText(p);
  return s === null ? d : s === d || opts.exact ? s : `${s} (${d})`;
}

function outcomeList(ns: readonly number[]): string {
  if (ns.length === 0) return '';
  if (ns.length === 1) return `outcome ${ns[0]}`;
  const contiguous = ns.every((n, i) => i === 0 || n === ns[i - 1] + 1);
  return `outcomes ${contiguous && ns.length > 2 ? `${ns[0]}-${ns.at(-1)}` : ns.join(', ')}`;
}

function header(r: TraceReport): string[] {
  const p = r.packet;
  const where = r.origin === 'local' ? 'from this node: starts in OUTPUT' : `arrives on ${p.inInterface ?? '?'}: starts in PREROUTING`;
  const lines = [`${r.name ? `${r.name}: ` : ''}${p.protocol} ${flow(r, p)} (${where})`];
  const c = r.connection;
  if (c && (c.reply || c.state !== 'new')) {
    const accepted = shortExact(c.accepted) ?? decimalText(c.accepted);
    const given = c.accepted.num === c.accepted.den << BigInt(c.accepted.exp) ? '' : ` (its first packet is accepted with probability ${accepted}; the odds below assume it was)`;
    if (c.reply) lines.push(`traced: the reply to this connection${c.state === 'established' ? ', established' : ''}, from its other end back through reverse NAT${given}`);
    else if (c.state === 'established') lines.push(`traced: a later packet of this connection, ESTABLISHED${given}`);
    else lines.push(`traced: a packet conntrack sees as ${c.state.toUpperCase()}`);
  }
  return lines;
}

function table(r: TraceReport, opts: TextOptions): string[] {
  const st = opts.style;
  const rows = r.outcomes.map((o) => {
    const flags = [o.dnat ? 'DNAT' : '', o.masquerade ? 'MASQUERADE' : o.snat ? 'SNAT' : ''].filter(Boolean).join(',');
    // An UNKNOWN outcome's probability is a range over the ways the unmodelled matches may go.
    const range = (f: (p: Prob) => string) => (o.min ? `${f(o.min)}..${f(o.prob)}` : f(o.prob));
    return [String(o.number), range(decimalText), range((p) => exactText(p, opts)), o.verdict, o.delivery ?? '-', flow(r, o.packet), flags || '-'];
  });
  const head = ['#', 'PROBABILITY', 'EXACT', 'VERDICT', 'DELIVERY', 'PACKET AFTER NAT', 'NAT'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const fmt = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const out = [st.bold(fmt(head))];
  r.outcomes.forEach((o, i) => out.push(o.verdict === 'ACCEPT' ? fmt(rows[i]) : st.bad(fmt(rows[i]))));
  if (!opts.exact && rows.some((row) => row[2] === '-')) out.push(st.dim('(-: the exact fraction has no short form; --exact prints it)'));
  return out;
}

function notes(r: TraceReport, opts: TextOptions): string[] {
  const out: string[] = [];
  const where = (u: OutcomeView['unknown'][number]) => `${u.rule.table} ${u.rule.chain}${u.rule.num !== null ? ` rule ${u.rule.num}` : ''}${u.rule.line !== null ? ` (line ${u.rule.line})` : ''}`;
  for (const o of r.outcomes) {
    for (const u of o.unknown) out.push(opts.style.bad(`outcome ${o.number}: UNKNOWN at ${where(u)}: ${u.reason}; assumed ${u.assumed}`));
    if (o.note) out.push(opts.style.bad(`outcome ${o.number}: ${o.note}`));
    if (o.min) out.push(opts.style.bad(`outcome ${o.number}: between ${decimalText(o.min)} and ${decimalText(o.prob)}, depending on the rules above`));
    // A drawn source port (MASQUERADE --random-fully, as kube-proxy writes it) is in --json only:
    // a destination port decides where the packet goes.
    if (o.portDraw?.side === 'destination') out.push(`outcome ${o.number}: the destination port is drawn at random from ${o.portDraw.from}-${o.portDraw.to}; the one shown stands for any of them`);
  }
  if (r.approximate) out.push('note: too many possible states; the least likely were dropped');
  return out;
}

/** Fields a change line shows: addresses and marks always; interfaces and conntrack state with --verbose. */
function shownChanges(changes: readonly Change[], verbose: boolean): Change[] {
  return changes.filter((c) => verbose || c.field === 'destination' || c.field === 'source' || c.field === 'mark' || c.field === 'ctMark');
}

function changeText(cs: readonly Change[]): string {
  return `=> ${cs.map((c) => `${FIELD_NAMES[c.field]} ${c.from} -> ${c.to}`).join(', ')}`;
}

/** A step is printed: every one with --verbose; otherwise the rules that matched, extensions and DROP policies. */
function visible(s: Step, verbose: boolean): boolean {
  if (verbose) return true;
  return s.kind === 'rule' || s.kind === 'extension' || s.kind === 'conntrack' || s.kind === 'route' || (s.kind === 'policy' && s.action === 'policy DROP');
}

class Printer {
  readonly out: string[] = [];
  /** The hook and table the last printed step was in. */
  private place = '';
  private readonly width: number;

  constructor(
    private readonly r: TraceReport,
    private readonly opts: TextOptions,
  ) {
    let max = 0;
    const visit = (seg: Segment) => {
      for (const s of seg.steps) if (s.rule.line !== null && this.inListing(s)) max = Math.max(max, s.rule.line);
      seg.fork?.branches.forEach((b) => visit(b.segment));
    };
    visit(r.tree);
    this.width = String(max || '').length;
  }

  /** The line printed for a step: a return has none of its own; a hook extension's step (IPVS, nftables) is in a file of its own, not the listed one. */
  private lineOf(s: Step): number | null {
    return s.kind === 'return' || !this.inListing(s) ? null : s.rule.line;
  }

  private inListing(s: Step): boolean {
    return s.rule.file === (this.r.listing?.file ?? null);
  }

  private line(prefix: string, text: string): void {
    this.out.push(`${prefix}${text}`.trimEnd());
  }

  /** One step; `changes`: what to show as its effect (null: its own). */
  private step(s: Step, prefix: string, changes: readonly Change[] | null = null): void {
    const st = this.opts.style;
    const verbose = this.r.verbose;
    const cs = shownChanges(changes ?? s.changes, verbose);
    if (!visible(s, verbose)) {
      if (cs.length) this.line(prefix, st.bold(changeText(cs)));
      return;
    }
    const place = `${s.hook} ${s.fn}`;
    // Conntrack's rewrites and the route happen between the tables: no heading of their own.
    const between = s.kind === 'conntrack' || s.kind === 'route';
    if (!between && place !== this.place) {
      this.line(prefix, st.bold(place));
      this.place = place;
    }
    const mark = verbose ? (s.kind === 'nomatch' ? '- ' : s.kind === 'rule' || s.kind === 'extension' ? '+ ' : '  ') : '';
    if (between) {
      if (!cs.length) return;
      const pad = ' '.repeat(mark.length + this.width + (this.width ? 2 : 0));
      this.line(prefix, `  ${pad}${st.dim(s.rule.text)}`);
      this.line(`${prefix}  ${pad}`, st.bold(changeText(cs)));
      return;
    }
    const line = this.lineOf(s);
    const num = (line === null ? '' : String(line)).padStart(this.width);
    let text: string;
    switch (s.kind) {
      case 'policy':
        text = `${s.rule.text}  (end of ${s.rule.chain}: its policy)`;
        break;
      case 'return':
        text = `(end of ${s.rule.chain}: back to the chain that jumped here)`;
        break;
      default:
        text = s.rule.text;
    }
    const body = `${mark}${num}${this.width ? '  ' : ''}${text}`;
    this.line(prefix, `  ${s.kind === 'nomatch' || s.kind === 'return' ? st.dim(body) : s.kind === 'rule' || s.kind === 'extension' ? st.matched(body) : body}`);
    const under = `${prefix}  ${' '.repeat(mark.length + this.width + (this.width ? 2 : 0))}`;
    if (s.why) this.line(under, st.dim(s.why));
    if (s.words) this.line(under, s.words);
    if (cs.length) this.line(under, st.bold(changeText(cs)));
  }

  private end(prefix: string, ns: readonly number[]): void {
    if (ns.length === 0) return;
    const os = ns.map((n) => this.r.outcomes[n - 1]);
    const how = (o: OutcomeView) =>
      `${o.verdict === 'UNKNOWN' && o.assumedVerdict !== 'UNKNOWN' ? `UNKNOWN: ${o.assumedVerdict} under its assumption` : o.verdict}${o.delivery ? `, ${o.delivery === 'local' ? 'delivered here' : 'forwarded'}` : ''}`;
    const what = os.every((o) => how(o) === how(os[0])) ? ` (${how(os[0])}${os.length > 1 ? ', each' : ''})` : '';
    const text = `=> ${outcomeList(ns)}${what}`;
    this.line(prefix, os.every((o) => o.verdict === 'ACCEPT') ? this.opts.style.bold(text) : this.opts.style.bad(text));
  }

  segment(seg: Segment, prefix: string, trim: number): void {
    const steps = seg.fork ? seg.steps : seg.steps.slice(0, seg.steps.length - trim);
    for (const s of steps) this.step(s, prefix);
    if (seg.fork) this.fork(seg.fork, prefix, trim);
    if (!seg.fork && trim === 0) this.end(prefix, seg.ends);
  }

  private fork(f: Fork, prefix: string, trim: number): void {
    const st = this.opts.style;
    const tail = sharedTail(f, trim);
    const n = f.branches.length;
    const where = f.chain ? ` in ${f.table} ${f.chain}` : '';
    const ways = f.kind === 'unknown' ? 'traced both ways' : `${n} way${n === 1 ? '' : 's'}`;
    this.line(prefix, `  ${st.bold(`fork${where}: ${f.what}, ${ways}`)}`);
    const place = this.place;
    f.branches.forEach((b: Branch, i) => {
      const last = i === n - 1;
      const share = shareText(b.share, this.opts);
      const to = trim === 0 && tail.length === 0 ? '' : b.outcomes.length ? `, ${outcomeList(b.outcomes)}` : '';
      this.line(prefix, `  ${last ? '└─ ' : '├─ '}${st.bold(share)} ${b.label}${to}`);
      const inner = prefix + (last ? '     ' : '  │  ');
      if (b.packet) this.line(inner, `packet: ${b.packet.protocol} ${flow(this.r, b.packet)}`);
      this.place = place;
      this.segment(b.segment, inner, trim + tail.length);
    });
    if (tail.length === 0) return;
    this.line(prefix, `  ${st.bold('then, on every branch:')}`);
    for (const s of tailSteps(tail, trim)) this.step(s, prefix);
    if (trim === 0) this.end(prefix, [...new Set(f.branches.flatMap((b) => b.outcomes))].sort((a, b) => a - b));
  }
}

/** The report as text. */
export function renderText(r: TraceReport, opts: TextOptions): string {
  const lines = [...header(r).map((l, i) => (i === 0 ? opts.style.bold(l) : l)), ''];
  if (r.outcomes.length === 0) lines.push('no outcome');
  else lines.push(...table(r, opts));
  const ns = notes(r, opts);
  if (ns.length) lines.push('', ...ns);
  if (!opts.paths) return lines.join('\n') + '\n';
  lines.push('');
  const which = r.verbose ? 'every rule tried: + matched, - did not, and why' : 'the rules that matched';
  const where = r.listing ? `; line numbers in ${r.listing.file === r.listing.what ? r.listing.file : `${r.listing.file}, ${r.listing.what}`}` : '';
  lines.push(opts.style.bold(`path (${which}${where}):`));
  const p = new Printer(r, opts);
  p.segment(r.tree, '', 0);
  lines.push(...p.out);
  return lines.join('\n') + '\n';
}
