// The kube-proxy conformance corpus (golden/kube-proxy-iptables, copied from the shared corpus) is
// kube-proxy's iptables-restore input; here the real kernel checks that it loads. As in that
// corpus' README (sections 4 and 7): the nfacct objects kube-proxy creates at start-up exist first;
// an iptables-partial.txt is wrapped as `*table` / `:CHAIN - [0:0]` / rules / `COMMIT`; the
// sync-proxy-rules-repeated steps replay in one namespace with --noflush, as kube-proxy restores;
// trace-packet's hand-written ruleset is expected to fail (unquoted multi-word comments).
// After each load the kernel must hold exactly the rules restore semantics predict, chain by chain.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { kernelAvailable } from '../host/kernel-available.js';
import { withNamespace, type Namespace } from '../host/netns.js';
import { createNfacct, restoreRules, saveRules, type IptablesTool } from '../host/iptables.js';

const GOLDEN = join(import.meta.dirname, '../../golden/kube-proxy-iptables');
const NFACCT = ['ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts'];
const EXPECTED_TO_FAIL = new Set(['trace-packet']);

interface LoadCase {
  readonly name: string;
  readonly tool: IptablesTool;
  readonly text: string;
}

const caseDirs = existsSync(GOLDEN)
  ? readdirSync(GOLDEN, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  : [];

// The IPv6 cases run kube-proxy's IPv6 fake; their configuration binds to "::".
function toolFor(dir: string): IptablesTool {
  const cluster = join(GOLDEN, dir, 'cluster.yaml');
  return existsSync(cluster) && /^bindAddress: ['"]?::['"]?$/m.test(readFileSync(cluster, 'utf8')) ? 'ip6tables' : 'iptables';
}

const loadCases: LoadCase[] = caseDirs.flatMap((dir): LoadCase[] => {
  const full = join(GOLDEN, dir, 'iptables-save.txt');
  const partial = join(GOLDEN, dir, 'iptables-partial.txt');
  const out: LoadCase[] = [];
  if (existsSync(full)) out.push({ name: `${dir}/iptables-save.txt`, tool: toolFor(dir), text: readFileSync(full, 'utf8') });
  if (existsSync(partial)) {
    const { table, chain } = parseYaml(readFileSync(join(GOLDEN, dir, 'partial.yaml'), 'utf8')) as { table: string; chain: string };
    const text = `*${table}\n:${chain} - [0:0]\n${readFileSync(partial, 'utf8')}COMMIT\n`;
    out.push({ name: `${dir}/iptables-partial.txt`, tool: toolFor(dir), text });
  }
  return out;
});

const REPEATED = join(GOLDEN, 'sync-proxy-rules-repeated');
const replaySteps = existsSync(REPEATED)
  ? [
      { name: '01', text: readFileSync(join(REPEATED, 'iptables-save.txt'), 'utf8') },
      ...readdirSync(join(REPEATED, 'steps'))
        .sort()
        .filter((step) => existsSync(join(REPEATED, 'steps', step, 'partial-sync-restore.txt')))
        .map((step) => ({ name: step, text: readFileSync(join(REPEATED, 'steps', step, 'partial-sync-restore.txt'), 'utf8') })),
    ]
  : [];

const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`kernel tests not run: ${kernel.reason}`);
if (caseDirs.length === 0) console.warn(`conformance load tests not run: ${GOLDEN} does not exist yet`);

// Rule counts per table and chain: what iptables-save shows, or what restore semantics predict.
type Counts = Map<string, Map<string, number>>;

const BUILTIN: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

/**
 * Applies restore input to predicted counts the way iptables-restore does: without --noflush a
 * table named in the input starts empty; `:CHAIN` creates or flushes a chain; `-A` appends; `-X`
 * deletes. (Only what kube-proxy writes; `-I`, `-D`, `-F` do not occur in the corpus.)
 */
function applyRestore(counts: Counts, text: string, noflush: boolean): void {
  let table: Map<string, number> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (!noflush || !counts.has(name)) counts.set(name, new Map((BUILTIN[name] ?? []).map((c) => [c, 0])));
      table = counts.get(name);
    } else if (line.startsWith(':')) {
      table!.set(line.slice(1).split(' ')[0]!, 0);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1]!;
      table!.set(chain, (table!.get(chain) ?? 0) + 1);
    } else if (line.startsWith('-X ')) {
      table!.delete(line.split(' ')[1]!);
    }
  }
}

async function kernelCounts(ns: Namespace, tool: IptablesTool): Promise<Counts> {
  const counts: Counts = new Map();
  applyRestore(counts, await saveRules(ns, tool), false);
  return counts;
}

function sorted(counts: Counts): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [table, chains] of [...counts].sort()) out[table] = Object.fromEntries([...chains].sort());
  return out;
}

describe.runIf(kernel.ok && loadCases.length > 0)('kube-proxy conformance corpus in the kernel', () => {
  it.each(loadCases)('$name loads', async ({ name, tool, text }) => {
    await withNamespace(async (ns) => {
      await createNfacct(ns, NFACCT);
      const result = await restoreRules(ns, tool, text);
      if (EXPECTED_TO_FAIL.has(name.split('/')[0]!)) {
        // TestTracePacket's ruleset: `--comment kubernetes service portals` without quotes.
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(/Bad argument/);
        return;
      }
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const predicted: Counts = new Map();
      applyRestore(predicted, text, false);
      expect(sorted(await kernelCounts(ns, tool))).toEqual(sorted(predicted));
    });
  });

  it.runIf(replaySteps.length > 1)('sync-proxy-rules-repeated replays step by step with --noflush', async () => {
    await withNamespace(async (ns) => {
      await createNfacct(ns, NFACCT);
      const predicted: Counts = new Map();
      for (const step of replaySteps) {
        const result = await restoreRules(ns, 'iptables', step.text, { noflush: true });
        expect(result.stderr, `step ${step.name}`).toBe('');
        applyRestore(predicted, step.text, true);
        expect(sorted(await kernelCounts(ns, 'iptables')), `step ${step.name}`).toEqual(sorted(predicted));
      }
    });
  });
});
