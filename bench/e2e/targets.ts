// Issue 13's targets ("Fast in the user's hands"), set for 10k services x 10 endpoints on this
// 2-core machine and expected to hold linearly beyond: ratios are the kernel's time for
// `iptables-restore --test` of the same rules over kpsim's (above 1: kpsim is faster). Issue 17's
// are wall times: explain and lint of a 10k-service dump under 2 s, a behavioural diff of two such
// dumps under 10 s.
import type { Row, RowId } from './rows.js';

/** Sizes below this show figures without marks: the targets are for 10k services and up. */
export const TARGETS_FROM = 10_000;

const KERNEL_RATIO: Partial<Record<RowId, number>> = {
  'compile json': 3,
  'compile list': 1.5,
  'compile multi': 1.5,
  'compile bare': 5,
  parse: 5,
  'trace rules': 2,
  'trace cluster': 2,
  // Issue 16: nftables mode's compile and the nft reader against `nft -c -f` of the same output.
  nftables: 5,
  'nft parse': 5,
};
/** Issue 17's targets, in seconds of wall time at 10k services x 10 endpoints (no memory target). */
const SECONDS: Partial<Record<RowId, number>> = {
  explain: 2,
  lint: 2,
  diff: 10,
};
const PACKETS_PER_S = 1_000_000;
/** Per-packet cost at the size over that at 100 services. */
const COST_VS_100 = 1.5;
/** Peak RSS over the input files' size. */
const MEMORY_X = 10;

export type Mark = 'met' | 'NOT met' | '-';

export interface Verdict {
  readonly target: string;
  readonly speed: Mark;
  readonly memory: Mark;
  /** The per-packet cost ratio against 100 services (flows rows). */
  readonly costRatio?: number;
}

const mark = (ok: boolean | null, size: number): Mark => (ok === null || size < TARGETS_FROM ? '-' : ok ? 'met' : 'NOT met');

/** `reference` is the 100-service flows row, when it ran. */
export function verdict(row: Row, reference?: Row): Verdict | null {
  const m = row.outcome.kind === 'measured' ? row.outcome.m : null;
  const memoryOk = m?.peakMB == null ? null : m.peakMB / row.inputMB <= MEMORY_X;
  const ratio = KERNEL_RATIO[row.id];
  if (ratio !== undefined) {
    const ok = m && row.kernelS !== null ? row.kernelS / m.wallS >= ratio : null;
    return { target: `>=${ratio}x, mem <=${MEMORY_X}x`, speed: mark(ok, row.services), memory: mark(memoryOk, row.services) };
  }
  const seconds = SECONDS[row.id];
  if (seconds !== undefined) return { target: `<${seconds} s (issue 17)`, speed: mark(m ? m.wallS < seconds : null, row.services), memory: '-' };
  if ((row.id === 'flows' || row.id === 'nft flows') && row.services > 100) {
    const costRatio = row.flows && reference?.flows ? row.flows.perPacketUs / reference.flows.perPacketUs : undefined;
    const ok = row.flows ? row.flows.pps >= PACKETS_PER_S && (costRatio === undefined || costRatio <= COST_VS_100) : null;
    return { target: `>=1M pkt/s, <=${COST_VS_100}x 100 svc, mem <=${MEMORY_X}x`, speed: mark(ok, row.services), memory: mark(memoryOk, row.services), costRatio };
  }
  return null;
}
