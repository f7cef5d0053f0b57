// Reads golden cases from disk: any folder holding a cluster.yaml (or, for tracer-only cases, an
// iptables-save.txt; or only nftables chain-name checks, names.yaml) is a case; its steps/NN-name/
// subfolders, and step-*/ subfolders with a cluster.yaml, are later syncs, in name order.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CASE_FILES, type CaseFiles } from '../golden/case.js';
import { readTextFile } from './common.js';

function readFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of CASE_FILES) {
    const p = join(dir, f);
    if (existsSync(p)) files.set(f, readTextFile(p));
  }
  return files;
}

function isCase(dir: string): boolean {
  return ['cluster.yaml', 'iptables-save.txt', 'names.yaml'].some((f) => existsSync(join(dir, f)));
}

function stepsIn(parent: string, names: readonly string[]): CaseFiles[] {
  return [...names]
    .sort()
    .filter((n) => statSync(join(parent, n)).isDirectory())
    .map((n) => ({ dir: join(parent, n), files: readFiles(join(parent, n)), steps: [] }));
}

export function readCase(dir: string): CaseFiles {
  const stepsDir = join(dir, 'steps');
  const steps = existsSync(stepsDir) ? stepsIn(stepsDir, readdirSync(stepsDir)) : [];
  // kube-proxy's IPVS and nftables corpora keep later syncs beside the case: step-NN/, step-2-.../,
  // each with its complete objects.
  const beside = readdirSync(dir).filter((n) => n.startsWith('step-') && existsSync(join(dir, n, 'cluster.yaml')));
  return { dir, files: readFiles(dir), steps: [...steps, ...stepsIn(dir, beside)] };
}

/** Every case at or below `root`, in path order. */
export function findCases(root: string): CaseFiles[] {
  if (isCase(root)) return [readCase(root)];
  const out: CaseFiles[] = [];
  for (const name of readdirSync(root).sort()) {
    const p = join(root, name);
    if (name.startsWith('.') || name === 'node_modules' || !statSync(p).isDirectory()) continue;
    out.push(...findCases(p));
  }
  return out;
}
