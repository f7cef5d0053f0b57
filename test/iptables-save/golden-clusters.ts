// The golden cases' cluster files, for tests that compile every case.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const GOLDEN = join(import.meta.dirname, '../../golden');

/** Every cluster.yaml under `dir`, a case's steps included. */
export function clusterFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const here = existsSync(join(dir, 'cluster.yaml')) ? [join(dir, 'cluster.yaml')] : [];
  const subdirs = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
  return [...here, ...subdirs.flatMap((d) => clusterFiles(join(dir, d.name)))];
}
