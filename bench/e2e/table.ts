// The end-to-end table: one block per cluster size, a row per command, the target next to
// each with a met / NOT met mark, and the commands exactly as they ran underneath.
import { relative } from 'node:path';
import { ROOT } from './kpsim.js';
import type { Row, SizeResult } from './rows.js';
import { TARGETS_FROM, verdict } from './targets.js';

type Figures = Record<string, number | string>;

export const sizeLabel = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

const COLUMNS: [string, number][] = [
  ['command', 46],
  ['input MB', 9],
  ['wall s', 9],
  ['CPU s', 9],
  ['peak MB', 9],
  ['RSS/in', 8],
  ['vs kernel', 13],
  ['target', 37],
  ['speed', 8],
  ['memory', 8],
  ['last wall', 10],
];

const cell = (text: string, i: number) => (i === 0 || i === 7 ? text.padEnd(COLUMNS[i][1]) : text.padStart(COLUMNS[i][1]));
const line = (cells: string[]) => cells.map(cell).join(' ').trimEnd();
const num = (v: number | null | undefined, digits = 2) => (v == null ? '-' : v.toFixed(digits));

/** Prints one size's block; returns its figures for bench/.last.json. */
/** `reference`: the 100-service run's rows (a flows row's per-packet cost is set against its own kind's there). */
export function printSize(result: SizeResult, last: Figures, reference: readonly Row[] = []): Figures {
  const refOf = (row: Row) => reference.find((r) => r.id === row.id);
  const { files, rows } = result;
  const size = sizeLabel(files.services);
  const figures: Figures = {};
  const rules = result.rulesLines === null ? '' : `; node.rules ${result.rulesLines.toLocaleString('en')} lines`;
  process.stdout.write(`\n== ${size} services x 10 endpoints (${relative(ROOT, files.dir)}${rules})\n${line(COLUMNS.map(([h]) => h))}\n`);
  const notes: string[] = [];
  for (const row of rows) {
    const key = `e2e ${size} ${row.id}`;
    const lastWall = last[`${key}: wall s`];
    if (row.outcome.kind !== 'measured') {
      process.stdout.write(`${cell(row.label, 0)} ${row.outcome.kind}: ${row.outcome.why}\n`);
      figures[`${key}: ${row.outcome.kind}`] = row.outcome.why;
      continue;
    }
    const m = row.outcome.m;
    const v = verdict(row, refOf(row));
    const ratio = row.flows ? `${Math.round(row.flows.pps).toLocaleString('en')} pkt/s` : row.id === 'kernel' || row.id === 'nft kernel' ? 'baseline' : row.kernelS === null ? '-' : `${(row.kernelS / m.wallS).toFixed(2)}x`;
    const rss = m.peakMB === null ? '-' : `${(m.peakMB / row.inputMB).toFixed(1)}x`;
    process.stdout.write(`${line([row.label, num(row.inputMB, 1), num(m.wallS), num(m.cpuS), num(m.peakMB, 0), rss, ratio, v?.target ?? '', v?.speed ?? '', v?.memory ?? '', typeof lastWall === 'number' ? lastWall.toFixed(2) : ''])}\n`);
    for (const n of row.notes) notes.push(`  ${row.label}: ${n}`);
    if (v?.costRatio !== undefined) notes.push(`  ${row.label}: per packet ${row.flows!.perPacketUs.toFixed(2)} us, ${v.costRatio.toFixed(2)}x the cost at 100 services (target <=1.5x)`);
    Object.assign(figures, { [`${key}: wall s`]: m.wallS, [`${key}: input MB`]: row.inputMB });
    if (m.cpuS !== null) figures[`${key}: cpu s`] = m.cpuS;
    if (m.peakMB !== null) figures[`${key}: peak MB`] = m.peakMB;
    if (row.kernelS !== null && row.id !== 'kernel') figures[`${key}: kernel/kpsim`] = row.kernelS / m.wallS;
    if (row.flows) Object.assign(figures, { [`${key}: packets/s`]: row.flows.pps, [`${key}: us per packet`]: row.flows.perPacketUs });
  }
  if (files.services < TARGETS_FROM && rows.some((r) => verdict(r, refOf(r)))) notes.push(`  (targets are set for ${sizeLabel(TARGETS_FROM)} services and up: no marks at ${size})`);
  if (notes.length) process.stdout.write(`notes:\n${notes.join('\n')}\n`);
  process.stdout.write(`commands (run in ${relative(ROOT, files.dir)}; kpsim = node with its #! flags, dist/bin/kpsim.js):\n`);
  for (const row of rows) process.stdout.write(`  ${row.command}\n`);
  return figures;
}
