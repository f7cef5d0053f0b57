// The IPVS artefacts against the real kernel (which here has ipset and iptables but no IPVS):
// for every state of the IPVS conformance corpus, in a throwaway namespace, `ipset restore` of
// kpsim's ipset.save, then `iptables-restore` of its iptables.save, and `ipset save` /
// `iptables-save` must give both back unchanged. ipset 7.x adds `bucketsize 12 initval 0x...`
// (random) to hash sets and lists their members in hash order: those are normalised away, nothing
// else. A kernel without xt_ipvs (this one) cannot load `-m ipvs` rules (KUBE-IPVS-OUT-FILTER);
// they are then left out of the load and the comparison, and the test name says so.
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../host/kernel-available.js';
import { withNamespace } from '../host/netns.js';
import { restoreIpsets, restoreRules, saveIpsets, saveRules, stripSaveComments, zeroCounters, type IptablesTool } from '../host/iptables.js';
import { normalizeIpsetDump, parseIpsetSave, renderIpsetSave } from '../../src/ipset/index.js';
import { allStates } from '../ipvs/corpus.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`IPVS kernel round trip not run: ${kernel.reason}`);
const states = kernel.ok ? allStates() : [];

const normalise = (text: string) => zeroCounters(stripSaveComments(text));

function ipsetCanonical(text: string, file: string): string {
  const { dump, diagnostics } = parseIpsetSave(text, { file });
  expect(diagnostics.filter((d) => d.severity === 'error'), `${file} reads back`).toEqual([]);
  return renderIpsetSave(normalizeIpsetDump(dump));
}

/** Whether this kernel loads `-m ipvs` (xt_ipvs, which needs IPVS). */
async function hasIpvsMatch(): Promise<boolean> {
  return withNamespace(async (ns) => {
    const r = await restoreRules(ns, 'iptables', '*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -m ipvs --vaddr 192.0.2.1/32 -j DROP\nCOMMIT\n');
    return r.code === 0;
  });
}

describe.runIf(kernel.ok)('IPVS artefacts load into the kernel and read back unchanged', async () => {
  const ipvsMatch = kernel.ok ? await hasIpvsMatch() : false;
  if (!ipvsMatch) console.warn('IPVS kernel round trip: this kernel has no xt_ipvs; `-m ipvs` rules are left out of the iptables load');
  const title = (id: string, rules: string) => (!ipvsMatch && / -m ipvs /.test(rules) ? `${id} (its -m ipvs rule left out: no xt_ipvs)` : id);
  it.each(states.map(({ state }) => [title(state.id, state.artefacts['iptables.save']), state] as const))('%s', async (_id, st) => {
    const tool: IptablesTool = st.family === 'ipv6' ? 'ip6tables' : 'iptables';
    let rules = st.artefacts['iptables.save'];
    if (!ipvsMatch) rules = rules.replace(/^-A [^\n]* -m ipvs [^\n]*\n/gm, '');
    await withNamespace(async (ns) => {
      await restoreIpsets(ns, st.artefacts['ipset.save']);
      const restored = await restoreRules(ns, tool, rules);
      expect(restored.stderr, `${tool}-restore < iptables.save`).toBe('');
      expect(restored.code).toBe(0);
      expect(ipsetCanonical(await saveIpsets(ns), 'ipset save')).toBe(ipsetCanonical(st.artefacts['ipset.save'], 'ipset.save'));
      expect(normalise(await saveRules(ns, tool))).toBe(normalise(rules));
    });
  });
});
