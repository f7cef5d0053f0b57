// What a campaign prints: `N passed, M failed`, then what differed, grouped so that one bug
// found by fifty clusters reads as one line with its count and the first seeds that showed it.
import type { DiffFlow } from './flows.js';

export interface CaseOutcome {
  readonly seed: number;
  /** Kernel-free problems and kernel disagreements, one line each. */
  readonly problems: readonly Problem[];
  /** Flows checked against the kernel (0 when the kernel part did not run). */
  readonly kernelFlows: number;
  /** The rules loaded into a real kernel and iptables-save matched kpsim compile. */
  readonly kernelLoaded: boolean;
  /** Flows checked by the simulator alone. */
  readonly selfFlows: number;
  /** Where the golden case was written, for a failure. */
  readonly goldenDir: string | null;
  readonly ms: number;
}

export interface Problem {
  /** A short stable class for grouping: `self: sum != 1`, `kernel: masquerade (node-ip -> cluster-ip)`. */
  readonly kind: string;
  readonly flow: DiffFlow | null;
  /** The full text (both answers). */
  readonly text: string;
}

export function summarize(outcomes: readonly CaseOutcome[]): string {
  const failed = outcomes.filter((o) => o.problems.length > 0);
  const kernelFlows = outcomes.reduce((s, o) => s + o.kernelFlows, 0);
  const selfFlows = outcomes.reduce((s, o) => s + o.selfFlows, 0);
  const loaded = outcomes.filter((o) => o.kernelLoaded).length;
  const lines = [`${outcomes.length - failed.length} passed, ${failed.length} failed (${selfFlows} flows traced by kpsim; ${loaded} rulesets loaded into the kernel with iptables-save equal to kpsim compile; ${kernelFlows} flows checked against the kernel)`];
  const groups = new Map<string, { count: number; seeds: number[] }>();
  for (const o of failed) {
    for (const p of o.problems) {
      const g = groups.get(p.kind) ?? { count: 0, seeds: [] };
      g.count++;
      if (!g.seeds.includes(o.seed)) g.seeds.push(o.seed);
      groups.set(p.kind, g);
    }
  }
  if (groups.size) lines.push('what differed:');
  for (const [kind, g] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
    lines.push(`  ${String(g.count).padStart(5)} x ${kind}  (seeds ${g.seeds.slice(0, 8).join(', ')}${g.seeds.length > 8 ? `, ... ${g.seeds.length} clusters` : ''})`);
  }
  return lines.join('\n');
}
