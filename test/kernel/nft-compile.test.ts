// kpsim's nftables compile against the kernel: for every sync of every nftables golden case (the
// kube-proxy corpus and kpsim's own) and both families, kpsim's restore output (the knftables
// transaction, `kpsim compile --mode nftables --format restore`) is loaded with `nft -f` into a
// throwaway namespace, and `nft list table ip|ip6 kube-proxy` there must equal kpsim's save output
// (`kpsim compile --mode nftables`) byte for byte: the kernel's spelling of every rule, priority,
// set property and element order is kpsim's.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileNftablesCluster } from '../../src/compiler/nftables/index.js';
import { kubeProxyTable } from '../../src/compiler/nftables/node-artefacts.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { renderNftablesSave } from '../../src/golden/verify-nftables.js';
import { loadCluster } from '../../src/model/load.js';
import type { Family } from '../../src/net/index.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { withNamespace } from '../host/netns.js';
import { ROOT } from '../nftables/corpus.js';

const kernel = kernelAvailable();
const nftOk = spawnSync('nft', ['--version'], { encoding: 'utf8' }).status === 0;
if (!kernel.ok) console.warn(`nft compile kernel tests not run: ${kernel.reason}`);
else if (!nftOk) console.warn('nft compile kernel tests not run: the nft program is missing (apt-get install -y nftables)');

/** Every folder below `dir` holding a cluster.yaml whose configuration is nftables mode. */
function nftClusters(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const f = join(d, 'cluster.yaml');
    if (existsSync(f) && /^\s*mode:\s*nftables\s*$/m.test(readFileSync(f, 'utf8'))) out.push(d);
    for (const n of readdirSync(d).sort()) if (statSync(join(d, n)).isDirectory()) walk(join(d, n));
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const CASES = [...nftClusters(join(ROOT, 'golden/kube-proxy-nftables')), ...nftClusters(join(ROOT, 'golden/kpsim-nftables'))].flatMap((dir) =>
  (['ipv4', 'ipv6'] as const).map((family) => [`${dir.slice(ROOT.length + 1)} ${family}`, dir, family] as const),
);

function compile(dir: string, family: Family) {
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: join(dir, 'cluster.yaml'), text: readFileSync(join(dir, 'cluster.yaml'), 'utf8') }], sink);
  const c = compileNftablesCluster(cluster, { family }, sink);
  expect(sink.errors).toEqual([]);
  return c;
}

describe.runIf(kernel.ok && nftOk)('nft list table after kpsim\'s transaction is kpsim\'s save output', () => {
  it('covers the corpus', () => {
    // 57 syncs of the kube-proxy corpus, each family.
    expect(CASES.length).toBeGreaterThanOrEqual(114);
  });

  it.each(CASES)('%s', async (_name, dir, family) => {
    const c = compile(dir, family);
    const t = kubeProxyTable(family);
    await withNamespace(async (ns) => {
      const load = await ns.run('nft', ['-f', '-'], { stdin: c.restore });
      expect(load.stderr).toBe('');
      expect(load.code).toBe(0);
      const listed = await ns.exec('nft', ['list', 'table', t.family, t.name]);
      expect(renderNftablesSave(c)).toBe(listed);
    });
  });
});
