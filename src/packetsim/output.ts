// Results as the `--json` contract and as human text. The JSON shape is read by other tools:
// fields may be added, never renamed.
import type { Family } from '../iptables/ir.js';
import { formatIp } from '../net/index.js';
import { fractionText, toDecimal } from './fraction.js';
import { hasPorts, type Packet } from './packet.js';
import type { Outcome, PathEntry, TraceResult } from './trace.js';

export interface PacketJson {
  protocol: string;
  sourceIP: string;
  sourcePort: number | null;
  destIP: string;
  destPort: number | null;
  origin: 'local' | 'remote';
  inInterface: string | null;
}

export interface PathJson {
  table: string;
  chain: string;
  /** 1-based rule number in the chain; null for a policy or an implicit return. */
  rule: number | null;
  line: number | null;
  action: string;
  /** Present (false) only for rules that were tried and did not match, in explain mode. */
  matched?: boolean;
}

export interface OutcomeJson {
  probability: number;
  fraction: string;
  verdict: Outcome['verdict'];
  delivery: Outcome['delivery'];
  destIP: string;
  destPort: number | null;
  sourceIP: string;
  sourcePort: number | null;
  dnat: boolean;
  masquerade: boolean;
  path: PathJson[];
  // Additions to the contract:
  snat: boolean;
  outInterface: string | null;
  mark: number;
  assumedVerdict: Outcome['assumedVerdict'];
  paths: number;
  unknown: { table: string; chain: string; rule: number; line: number | null; text: string; reason: string; assumed: string }[];
  note: string | null;
  /**
   * An UNKNOWN outcome's probability depends on the unmodelled matches listed in `unknown`: it is
   * at least this and at most `probability` (absent when exact).
   */
  minProbability?: number;
  minFraction?: string;
  /** NAT drew this side's port at random from `from`-`to`; the port shown stands for any of them. */
  randomPort?: { side: 'source' | 'destination'; from: number; to: number };
}

export interface TraceJson {
  name?: string;
  packet: PacketJson;
  outcomes: OutcomeJson[];
  approximate?: boolean;
}

function port(p: Packet, n: number): number | null {
  return hasPorts(p.protocol) ? n : null;
}

export function packetJson(r: TraceResult): PacketJson {
  const p = r.input;
  return {
    protocol: p.protocol,
    sourceIP: formatIp(p.src, p.family),
    sourcePort: port(p, p.sport),
    destIP: formatIp(p.dst, p.family),
    destPort: port(p, p.dport),
    origin: r.origin,
    inInterface: p.inIface,
  };
}

function stepJson(s: PathEntry): PathJson {
  const base = { table: s.chain.table, chain: s.chain.name };
  switch (s.kind) {
    case 'rule':
      return { ...base, rule: s.rule!.num, line: s.rule!.span?.line ?? null, action: s.rule!.action };
    case 'nomatch':
      return { ...base, rule: s.rule!.num, line: s.rule!.span?.line ?? null, action: s.rule!.action, matched: false };
    case 'policy':
      return { ...base, rule: null, line: s.chain.span?.line ?? null, action: `policy ${s.chain.policy}` };
    case 'return':
      return { ...base, rule: null, line: null, action: 'return' };
    default: {
      const never: never = s.kind;
      return never;
    }
  }
}

export function outcomeJson(o: Outcome): OutcomeJson {
  const p = o.packet;
  return {
    probability: toDecimal(o.prob),
    fraction: fractionText(o.prob),
    verdict: o.verdict,
    delivery: o.delivery,
    destIP: formatIp(p.dst, p.family),
    destPort: port(p, p.dport),
    sourceIP: formatIp(p.src, p.family),
    sourcePort: port(p, p.sport),
    dnat: o.dnat,
    masquerade: o.masquerade,
    path: o.path.map(stepJson),
    snat: o.snat,
    outInterface: p.outIface,
    mark: p.mark,
    assumedVerdict: o.assumedVerdict,
    paths: o.paths,
    unknown: o.unknown.map((u) => ({
      table: u.rule.table,
      chain: u.rule.chain,
      rule: u.rule.num,
      line: u.rule.span?.line ?? null,
      text: u.text,
      reason: u.reason,
      assumed: u.assumed,
    })),
    note: o.note,
    ...(o.min ? { minProbability: toDecimal(o.min), minFraction: fractionText(o.min) } : {}),
    ...(o.portDraw ? { randomPort: { side: o.portDraw.side, from: o.portDraw.from, to: o.portDraw.to } } : {}),
  };
}

export function traceJson(r: TraceResult, outcomes: readonly Outcome[] = r.outcomes, name?: string, approximate?: boolean): TraceJson {
  const out: TraceJson = name === undefined ? { packet: packetJson(r), outcomes: [] } : { name, packet: packetJson(r), outcomes: [] };
  out.outcomes = outcomes.map(outcomeJson);
  if (approximate) out.approximate = true;
  return out;
}


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

function hostPort(family: Family, ip: string, port: number | null): string {
  if (port === null) return ip;
  return family === 'ipv6' ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Kernel TRACE-style lines (`nat:KUBE-SERVICES:rule:7 ...`), then a table of outcomes. */
export function formatHuman(r: TraceResult, outcomes: readonly Outcome[], style: Style, name?: string): string {
  const pj = packetJson(r);
  const lines: string[] = [];
  const fam = r.family;
  lines.push(
    style.bold(
      `${name ? `${name}: ` : ''}${pj.protocol} ${hostPort(fam, pj.sourceIP, pj.sourcePort)} -> ${hostPort(fam, pj.destIP, pj.destPort)}` +
        ` (${pj.origin === 'local' ? 'from this node: starts in OUTPUT' : `arrives on ${pj.inInterface ?? '?'}: starts in PREROUTING`})`,
    ),
  );
  outcomes.forEach((o, i) => {
    const oj = outcomeJson(o);
    lines.push('');
    const odds = oj.minFraction !== undefined ? `between ${oj.minProbability} (${oj.minFraction}) and ${oj.probability} (${oj.fraction}), depending on what kpsim does not model` : `${oj.probability} (${oj.fraction})`;
    lines.push(style.bold(`outcome ${i + 1} of ${outcomes.length}: ${odds}`));
    for (const s of o.path) {
      const where = `${s.chain.table}:${s.chain.name}`;
      // A hook extension's step (IPVS): its action is the whole line.
      if (s.chain.extension) {
        lines.push(style.matched(`+ ${s.rule!.action}`));
        continue;
      }
      if (s.kind === 'policy') lines.push(`  ${where}:policy:${s.chain.rules.length + 1} ${s.chain.policy}`);
      else if (s.kind === 'return') lines.push(style.dim(`  ${where}:return`));
      else {
        const rule = s.rule!;
        const text = `${where}:rule:${rule.num} ${rule.text}`;
        lines.push(s.kind === 'rule' ? style.matched(`+ ${text}`) : style.dim(`  ${text}`));
      }
    }
    for (const u of o.unknown) lines.push(style.bad(`  UNKNOWN at ${u.rule.table}:${u.rule.chain}:rule:${u.rule.num}: ${u.reason}; assumed ${u.assumed}`));
    if (o.note) lines.push(style.bad(`  ${o.note}`));
    if (o.portDraw) lines.push(`  the ${o.portDraw.side} port is drawn at random from ${o.portDraw.from}-${o.portDraw.to} (about equally likely each); the one shown stands for any of them`);
  });
  lines.push('');
  const rows = outcomes.map((o) => {
    const oj = outcomeJson(o);
    const after = `${hostPort(fam, oj.sourceIP, oj.sourcePort)} -> ${hostPort(fam, oj.destIP, oj.destPort)}`;
    const flags = [oj.dnat ? 'DNAT' : '', oj.masquerade ? 'MASQUERADE' : oj.snat ? 'SNAT' : ''].filter(Boolean).join(',');
    return [oj.minProbability !== undefined ? `${oj.minProbability}..${oj.probability}` : String(oj.probability), oj.minFraction !== undefined ? `${oj.minFraction}..${oj.fraction}` : oj.fraction, oj.verdict, oj.delivery ?? '-', after, flags || '-'];
  });
  const head = ['PROBABILITY', 'FRACTION', 'VERDICT', 'DELIVERY', 'PACKET AFTER NAT', 'NAT'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const fmt = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  lines.push(style.bold(fmt(head)));
  for (const row of rows) lines.push(fmt(row));
  return lines.join('\n') + '\n';
}
