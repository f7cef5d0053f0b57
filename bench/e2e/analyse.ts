// The analyse rows (issue 17): `kpsim explain`, `kpsim lint` and `kpsim diff` as a user runs them
// on a node's iptables-save dump (node.rules, the bare cluster compiled by kpsim, as the node shows
// it), and for diff a second dump of the same node after a few changes (an endpoint's jump gone
// from one service, a DNAT port changed in another, the KUBE-SERVICES rules shuffled), plus the
// drift check of the cluster against its own node (compiled on the fly, equal: exit 0).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/util/rng.js';
import { SHAPES, type ClusterFiles } from '../kubectl/files.js';
import type { Outcome, Row } from './rows.js';

export const AFTER = 'out/node-after.rules';

/**
 * The node's dump after some changes: one endpoint jump deleted, one DNAT port changed, the
 * service rules of KUBE-SERVICES in another order (diff must find the first two and not the third).
 */
export function changedDump(text: string, seed: number): string {
  const rand = mulberry32(seed);
  const lines = text.split('\n');
  const nat = lines.indexOf('*nat');
  const services: string[] = [];
  const out: string[] = [];
  let at = -1;
  let deleted = false;
  let changed = false;
  lines.forEach((l, i) => {
    if (i > nat && l.startsWith('-A KUBE-SERVICES ') && !l.includes('KUBE-NODEPORTS')) {
      if (at < 0) at = out.length;
      services.push(l);
      return;
    }
    if (!deleted && l.startsWith('-A KUBE-SVC-') && l.includes('-m statistic') && l.includes('-j KUBE-SEP-')) {
      deleted = true;
      return;
    }
    const port = / --to-destination [0-9.]+:(\d+)$/.exec(l);
    if (!changed && i > lines.length / 2 && port) {
      changed = true;
      l = l.slice(0, l.length - port[1].length) + String(Number(port[1]) + 1);
    }
    out.push(l);
  });
  for (let i = services.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [services[i], services[j]] = [services[j], services[i]];
  }
  out.splice(at, 0, ...services);
  return out.join('\n');
}

type Timed = (args: string[], name: string, how?: { exit?: number }) => Outcome;

/** explain, lint, diff of two dumps, diff of the cluster against its node: rows in the table's order. */
export function analyseRows(files: ClusterFiles, rules: string, seed: number, timed: Timed, mb: (...p: string[]) => number): Omit<Row, 'kernelS' | 'services'>[] {
  const cwd = files.dir;
  writeFileSync(join(cwd, AFTER), changedDump(readFileSync(join(cwd, rules), 'utf8'), seed));
  const row = (id: Row['id'], label: string, args: string[], name: string, exit: number, inputs: string[], notes: string[] = []) => ({
    id,
    label,
    command: `kpsim ${args.join(' ')} > out/${name}.out`,
    inputMB: mb(...inputs),
    outcome: timed(args, name, { exit }),
    notes,
  });
  const node = ['--node-ip', files.facts.nodeIP];
  return [
    row('explain', 'explain node.rules', ['explain', rules], 'explain', 0, [rules]),
    row('lint', 'lint node.rules', ['lint', rules], 'lint', 0, [rules]),
    row('diff', 'diff node.rules node-after.rules', ['diff', rules, AFTER, ...node], 'diff', 1, [rules, AFTER], ['behavioural and structural; exit 1 (different) expected: one endpoint jump gone, one DNAT port changed, KUBE-SERVICES shuffled']),
    row('diff drift', 'diff bare.yaml node.rules (drift)', ['diff', SHAPES.bare.file, rules], 'diff-drift', 0, [SHAPES.bare.file, rules], ['the cluster compiled on the fly against its own node: exit 0 (equal) expected']),
  ];
}
