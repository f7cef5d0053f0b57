// The diff's results as lines the diff tests compare: structural differences and differing classes.
import { behaviouralDiff, type BehaviourReport, type DiffSide } from '../../src/diff/behaviour.js';
import { structuralDiff, type StructuralDifference } from '../../src/diff/structural.js';
import { fractionText } from '../../src/packetsim/fraction.js';

/** Both diffs of two sides of one mode, and the behavioural one tracing every destination (a check of the slicing). */
export function diffOf(l: DiffSide, r: DiffSide): { structural: StructuralDifference[]; behaviour: BehaviourReport; all: BehaviourReport } {
  return { structural: structuralDiff(l.view, r.view, { pieces: true }), behaviour: behaviouralDiff(l, r, 'ipv4'), all: behaviouralDiff(l, r, 'ipv4', { traceAll: true }) };
}

export function kinds(list: readonly StructuralDifference[]): string[] {
  return list.map((d) => `${d.kind} ${d.port ?? '-'} ${d.what}`);
}

/** Each differing class as `destination from source: left outcomes | right outcomes`. */
export function classes(b: BehaviourReport): string[] {
  const o = (l: readonly { probability: Parameters<typeof fractionText>[0]; verdict: string; destination: string; source: string }[]) => l.map((x) => `${fractionText(x.probability)} ${x.verdict} ${x.source}->${x.destination}`).join(', ');
  return b.differences.map((c) => `${c.destinationText} from ${c.source.address === null ? 'node' : c.packet.sourceIP}: ${o(c.left)} | ${o(c.right)}`);
}
