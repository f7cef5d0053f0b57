// The first thing the kernel judges, before any packet: kpsim's output for the generated cluster
// loads (kube-proxy's host setup, then the restore input, both with --noflush as kube-proxy
// restores), and the kernel's iptables-save then equals `kpsim compile` (renderNodeSave), except
// the dated comment lines and counters. A load failure is a kpsim failure (issue 5). One throwaway
// namespace per cluster (src/host/netns.ts: own prefix, deleted in finally).
import type { Compiled } from '../../src/compiler/index.js';
import { hostSetup, renderHostSetup } from '../../src/compiler/iptables/host.js';
import { createNfacct, nfacctNamesIn, restoreRules, saveRules, stripSaveComments, zeroCounters, type IptablesTool } from '../../src/host/iptables.js';
import { withNamespace } from '../../src/host/netns.js';
import { renderNodeSave } from '../../src/modes.js';

export interface LoadVerdict {
  /** Empty when the kernel took the rules and prints them as kpsim does. */
  readonly problems: readonly { readonly kind: string; readonly text: string }[];
}

const normalise = (text: string) => zeroCounters(stripSaveComments(text));

/** The first differing line of two texts, with its number, for a one-line report. */
function firstDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: kpsim ${JSON.stringify(a[i] ?? '(end)')}, kernel ${JSON.stringify(b[i] ?? '(end)')}`;
  }
  return 'texts differ';
}

export async function kernelLoad(compiled: Compiled): Promise<LoadVerdict> {
  const tool: IptablesTool = compiled.settings.family === 'ipv6' ? 'ip6tables' : 'iptables';
  return withNamespace(async (ns) => {
    // kube-proxy creates its nfacct counters at start-up when the host has nfacct.
    await createNfacct(ns, nfacctNamesIn(compiled.restore));
    for (const [what, text] of [
      ['host setup', renderHostSetup(hostSetup())],
      ['restore input', compiled.restore],
    ] as const) {
      const r = await restoreRules(ns, tool, text, { noflush: true });
      if (r.code !== 0) return { problems: [{ kind: `kernel: ${tool}-restore refuses kpsim's ${what}`, text: `${tool}-restore --noflush < ${what}: ${r.stderr.trim()}` }] };
    }
    const kernel = normalise(await saveRules(ns, tool));
    const kpsim = normalise(renderNodeSave(compiled));
    if (kernel === kpsim) return { problems: [] };
    return { problems: [{ kind: `kernel: ${tool}-save differs from kpsim compile`, text: `${tool}-save after loading differs from kpsim compile: ${firstDifference(kpsim, kernel)}` }] };
  });
}
