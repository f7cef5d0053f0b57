// Every iptables text the project holds: the kube-proxy conformance copies under golden/, the
// dump corpus and the kernel-save fixtures.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compileCluster } from '../../src/compiler/index.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { mulberry32 } from '../../src/util/rng.js';
import { generateCluster } from '../differential/generate.js';
import { mutate } from './mutate.js';

const ROOT = join(import.meta.dirname, '../..');

function walk(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p, keep));
    else if (keep(n)) out.push(p);
  }
  return out;
}

export interface CorpusFile {
  readonly name: string;
  readonly text: string;
  readonly family: Family | undefined;
}

export function corpus(): CorpusFile[] {
  const files = [
    ...walk(join(ROOT, 'golden'), (n) => /^(iptables|ip6tables).*\.txt$|restore.*\.txt$/.test(n)),
    ...walk(join(ROOT, 'test/fixtures/dumps'), (n) => /\.(iptables|ip6tables|iptables-legacy)$/.test(n)),
    ...walk(join(ROOT, 'test/fixtures/kernel-save'), (n) => /\.(save|iptables|ip6tables)$/.test(n)),
  ];
  return files.map((p) => ({
    name: relative(ROOT, p),
    text: readFileSync(p, 'utf8'),
    family: /ip6tables|ipv6/.test(p) ? 'ipv6' : p.includes('/dumps/') || p.includes('kernel-save') ? 'ipv4' : undefined,
  }));
}

/** The corpus, then kpsim's compile output for generated clusters of seeds 1..`clusters`. */
export function corpusAndClusters(clusters: number): CorpusFile[] {
  const out = corpus();
  for (let seed = 1; seed <= clusters; seed++) {
    const g = generateCluster(seed);
    const c = compileCluster(g.cluster, {}, new DiagnosticSink());
    out.push({ name: `generated cluster, seed ${seed}`, text: c.restore, family: c.settings.family });
  }
  return out;
}

/** `perText` damaged copies (mutate.ts) of each text under 200k characters, from one seeded sequence. */
export function damagedCopies(all: readonly CorpusFile[], seed: number, perText: number): CorpusFile[] {
  const r = mulberry32(seed);
  const out: CorpusFile[] = [];
  for (const t of all) {
    if (t.text.length > 200_000) continue;
    for (let k = 0; k < perText; k++) out.push({ ...t, name: `${t.name} (mutation ${k})`, text: mutate(t.text, r) });
  }
  return out;
}
