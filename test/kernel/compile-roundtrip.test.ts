// The proof for `kpsim compile`'s default (save) format: for every golden case (and every later
// sync step, compiled as a fresh full sync), load what a node gets into a throwaway namespace -
// kube-proxy's host setup (canary chains and the jump rules from the built-in chains, which it
// ensures before restoring) and then `kpsim compile --format restore` output, both with --noflush
// as kube-proxy restores - and compare the kernel's iptables-save with `kpsim compile`, ignoring
// only the `# Generated`/`# Completed` lines and counters.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compileCluster } from '../../src/compiler/index.js';
import { hostSetup, renderHostSetup } from '../../src/compiler/iptables/host.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster } from '../../src/model/load.js';
import { renderNodeSave } from '../../src/modes.js';
import { kernelAvailable } from '../../src/host/kernel-available.js';
import { withNamespace } from '../../src/host/netns.js';
import { createNfacct, restoreRules, saveRules, stripSaveComments, zeroCounters, type IptablesTool } from '../../src/host/iptables.js';

const GOLDEN = join(import.meta.dirname, '../../golden');
// kube-proxy creates these at start-up when the kernel has nfacct; their presence never shows in
// iptables-save, so creating them for every case only lets the `-m nfacct` rules load.
const NFACCT = ['ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts'];

/** Every folder under golden/ with a cluster.yaml, with its steps/NN-name/ folders after it. */
function clusterDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const here = existsSync(join(dir, 'cluster.yaml')) ? [dir] : [];
  const subdirs = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  return [...here, ...subdirs.flatMap((name) => clusterDirs(join(dir, name)))];
}

// golden/kube-proxy-ipvs holds IPVS-mode cases (some with objects an API server would reject, as
// kube-proxy's tests build them); test/kernel/ipvs-roundtrip.test.ts loads their artefacts.
const IPVS_CORPUS = join(GOLDEN, 'kube-proxy-ipvs');
const cases = clusterDirs(GOLDEN)
  .filter((dir) => !dir.startsWith(IPVS_CORPUS))
  .map((dir) => ({ name: dir.slice(GOLDEN.length + 1), dir }));

const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`kernel tests not run: ${kernel.reason}`);
if (cases.length === 0) console.warn(`compile round-trip not run: no golden cases under ${GOLDEN}`);

const normalise = (text: string) => zeroCounters(stripSaveComments(text));

describe.runIf(kernel.ok && cases.length > 0)('kpsim compile matches the kernel', () => {
  it.each(cases)('$name', async ({ dir }) => {
    const file = join(dir, 'cluster.yaml');
    const sink = new DiagnosticSink();
    const compiled = compileCluster(loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink), {}, sink);
    expect(sink.errors).toEqual([]);
    const tool: IptablesTool = compiled.settings.family === 'ipv6' ? 'ip6tables' : 'iptables';
    await withNamespace(async (ns) => {
      await createNfacct(ns, NFACCT);
      for (const [what, text] of [
        ['host setup', renderHostSetup(hostSetup())],
        ['kpsim compile --format restore', compiled.restore],
      ] as const) {
        const result = await restoreRules(ns, tool, text, { noflush: true });
        expect(result.stderr, `${tool}-restore --noflush < ${what}`).toBe('');
      }
      expect(normalise(await saveRules(ns, tool))).toBe(normalise(renderNodeSave(compiled)));
    });
  });
});
