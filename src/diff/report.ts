// The diff as text for people and JSON for CI: structural differences per service port, then each
// packet class whose outcomes differ, with the example packet and both distributions (exact
// fractions), and for a mode migration which documented difference each one is.
import { fractionText, toDecimal } from '../packetsim/fraction.js';
import { formatIp } from '../net/index.js';
import type { Family } from '../iptables/ir.js';
import { whereJson } from '../explain/json.js';
import { exactText, shareText, whereText, type SourceNames } from '../explain/story.js';
import type { BehaviourReport, ClassDifference, OutcomeShare } from './behaviour.js';
import type { KnownDifference } from './known.js';
import type { StructuralDifference } from './structural.js';

export interface SideInfo {
  readonly label: string;
  readonly mode: string;
  /** `dump` or `compiled for worker-1`. */
  readonly origin: string;
  readonly files: SourceNames;
}

export interface DiffResult {
  readonly family: Family;
  readonly left: SideInfo;
  readonly right: SideInfo;
  readonly structural: readonly StructuralDifference[] | null;
  /** Per structural difference, the documented mode differences it is (mode migrations). */
  readonly structuralKnown?: readonly (readonly KnownDifference[])[] | null;
  readonly behaviour: BehaviourReport | null;
}

export function isEqual(r: DiffResult): boolean {
  return (r.structural?.length ?? 0) === 0 && (r.behaviour?.differences.length ?? 0) === 0;
}

const STRUCTURAL_VERB: Readonly<Record<StructuralDifference['kind'], string>> = {
  'port-missing': 'missing',
  'port-extra': 'extra',
  'entry-missing': 'missing',
  'entry-extra': 'extra',
  'entry-changed': 'changed',
  'endpoint-missing': 'missing',
  'endpoint-extra': 'extra',
  'share-changed': 'changed share of',
  'policy-changed': 'changed',
  'piece-missing': 'missing',
  'piece-extra': 'extra (stale?)',
  'piece-changed': 'changed',
  'piece-stale': 'stale',
};

function structuralText(list: readonly StructuralDifference[], r: DiffResult): string[] {
  const out = [`structural: ${list.length} difference${list.length === 1 ? '' : 's'}`];
  const byPort = new Map<string, StructuralDifference[]>();
  for (const d of list) {
    const k = d.port ?? '(the node)';
    byPort.set(k, [...(byPort.get(k) ?? []), d]);
  }
  for (const [port, ds] of byPort) {
    out.push(`  ${port}`);
    for (const d of ds) {
      const at = [d.leftAt ? whereText(d.leftAt, r.left.files) : '', d.rightAt ? whereText(d.rightAt, r.right.files) : ''].filter(Boolean).join(' / ');
      const values = d.shares ? `: ${shareText(d.shares[0])} -> ${shareText(d.shares[1])}` : d.left !== null && d.right !== null ? `: ${oneLine(d.left)} -> ${oneLine(d.right)}` : d.left !== null ? ` (only in ${r.left.label})` : ` (only in ${r.right.label})`;
      const ks = r.structuralKnown?.[list.indexOf(d)];
      const tag = ks ? (ks.length ? `  [${ks.map((k) => k.id).join(', ')}]` : '  [NOT documented]') : '';
      out.push(`    ${STRUCTURAL_VERB[d.kind]} ${d.what}${values}${at ? `  ${at}` : ''}${tag}`);
    }
  }
  return out;
}

function oneLine(s: string): string {
  const first = s.split('\n')[0];
  return s.includes('\n') ? `${first} ...` : first;
}

export function outcomeText(o: OutcomeShare): string {
  return `${toDecimal(o.probability).toFixed(10)}  ${exactText(o.probability).padEnd(23)}  ${o.verdict} ${o.delivery ?? ''} ${o.source} -> ${o.destination}${o.masquerade ? ' (masqueraded)' : ''}`;
}

function classText(c: ClassDifference, r: DiffResult): string[] {
  const p = c.packet;
  const how = c.source.local ? 'sent by the node' : `arriving${c.source.inInterface ? ` on ${c.source.inInterface}` : ''}`;
  const mark = c.source.mark ? `, mark 0x${c.source.mark.toString(16)}` : '';
  const from = c.source.address === null ? (c.rightPacket.sourceIP !== p.sourceIP ? `${p.sourceIP} (${r.left.label}) / ${c.rightPacket.sourceIP} (${r.right.label})` : p.sourceIP) : p.sourceIP;
  const out = [`    from ${c.source.address === null ? 'the node itself' : `${p.sourceIP} (${c.source.description})`}, ${how}${mark}: ${p.protocol} ${from}:${p.sourcePort} -> ${p.destIP}:${p.destPort}`];
  const width = Math.max(r.left.label.length, r.right.label.length);
  const side = (label: string, list: readonly OutcomeShare[]) => list.forEach((o, i) => out.push(`      ${(i === 0 ? label : '').padEnd(width)}  ${outcomeText(o)}`));
  side(r.left.label, c.left);
  side(r.right.label, c.right);
  if (c.known.length) out.push(`      documented ${r.left.mode}/${r.right.mode} difference: ${c.known.map((k) => `[${k.id}] ${k.title}`).join('; ')}`);
  else if (r.left.mode !== r.right.mode) out.push('      NOT a documented mode difference');
  return out;
}

function behaviourText(b: BehaviourReport, r: DiffResult): string[] {
  const n = b.differences.length;
  const out = [`behaviour: ${n} packet class${n === 1 ? '' : 'es'} differ${n === 1 ? 's' : ''} (${b.destinations} destinations, ${b.differingParts} with differing rules, ${b.classes} classes, ${b.traced} packets traced)`];
  const byDst = new Map<string, ClassDifference[]>();
  for (const c of b.differences) byDst.set(c.destinationText, [...(byDst.get(c.destinationText) ?? []), c]);
  for (const [dst, cs] of byDst) {
    out.push(`  ${dst}  (${cs[0].destinationLabel})`);
    for (const c of cs) out.push(...classText(c, r));
  }
  if (b.undecided.length) {
    out.push(`  ${b.undecided.length} class${b.undecided.length === 1 ? '' : 'es'} undecided: the outcome rests on a match or target kpsim does not model (UNKNOWN)`);
    for (const c of b.undecided) out.push(`    ${c.destinationText} from ${c.source.address === null ? 'the node itself' : c.packet.sourceIP}`);
  }
  for (const p of b.problems) out.push(`  not compared: ${p}`);
  return out;
}

export function diffText(r: DiffResult): string {
  const out = [`${r.left.label}: ${r.left.mode} mode, ${r.left.origin}`, `${r.right.label}: ${r.right.mode} mode, ${r.right.origin}`, ''];
  if (r.structural) out.push(...structuralText(r.structural, r), '');
  if (r.behaviour) out.push(...behaviourText(r.behaviour, r), '');
  if (r.left.mode !== r.right.mode && (r.behaviour || r.structural)) {
    const known = new Map<string, { title: string; why: string; n: number }>();
    const count = (ks: readonly KnownDifference[]) => {
      for (const k of ks) known.set(k.id, { title: k.title, why: k.why, n: (known.get(k.id)?.n ?? 0) + 1 });
    };
    for (const c of r.behaviour?.differences ?? []) count(c.known);
    for (const ks of r.structuralKnown ?? []) count(ks);
    const unknown = (r.behaviour?.differences.filter((c) => c.known.length === 0).length ?? 0) + (r.structuralKnown?.filter((k) => k.length === 0).length ?? 0);
    out.push(`mode differences: ${[...known].map(([id, k]) => `${id} (${k.n})`).join(', ') || 'none'}${unknown ? `; ${unknown} NOT documented` : ''}`);
    for (const [id, k] of known) out.push(`  ${id}: ${k.title}. ${k.why}`);
    out.push('');
  }
  out.push(isEqual(r) ? 'equal' : 'different');
  return out.join('\n') + '\n';
}

function sharesJson(list: readonly OutcomeShare[]): object[] {
  return list.map((o) => ({ probability: toDecimal(o.probability), fraction: fractionText(o.probability), verdict: o.verdict, delivery: o.delivery, source: o.source, destination: o.destination, masquerade: o.masquerade }));
}

export function diffJson(r: DiffResult): object {
  return {
    equal: isEqual(r),
    family: r.family,
    left: { label: r.left.label, mode: r.left.mode, origin: r.left.origin },
    right: { label: r.right.label, mode: r.right.mode, origin: r.right.origin },
    structural:
      r.structural?.map(({ shares, ...d }, i) => ({
        ...d,
        leftAt: whereJson(d.leftAt, r.left.files),
        rightAt: whereJson(d.rightAt, r.right.files),
        ...(shares ? { probabilities: shares.map(toDecimal) } : {}),
        ...(r.structuralKnown ? { known: r.structuralKnown[i].map((k) => k.id) } : {}),
      })) ?? null,
    behaviour: r.behaviour && {
      destinations: r.behaviour.destinations,
      differingParts: r.behaviour.differingParts,
      classes: r.behaviour.classes,
      traced: r.behaviour.traced,
      problems: r.behaviour.problems,
      undecided: r.behaviour.undecided.map((c) => ({ destination: c.destinationText, packet: c.packet, left: sharesJson(c.left), right: sharesJson(c.right) })),
      differences: r.behaviour.differences.map((c) => ({
        destination: c.destinationText,
        what: c.destinationLabel,
        source: { address: c.source.address === null ? null : formatIp(c.source.address, r.family), local: c.source.local, inInterface: c.source.inInterface, mark: c.source.mark, description: c.source.description },
        packet: c.packet,
        rightPacket: c.rightPacket,
        left: sharesJson(c.left),
        right: sharesJson(c.right),
        known: c.known.map((k) => k.id),
      })),
    },
  };
}
