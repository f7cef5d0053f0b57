// The end-to-end benchmark: what a user waits for. Every row is the `kpsim` executable started
// fresh on generated files a user has (kubectl's output with all its metadata, the node's rules, a
// flows file), next to the kernel's own check of the same rules in the same run.
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { kpsimInvocation, ROOT } from './kpsim.js';
import { measuringMethod } from './measure.js';
import { kernelAvailable } from './netns.js';
import { runSize, type E2eOptions, type Group } from './rows.js';
import { printSize, sizeLabel } from './table.js';

type Figures = Record<string, number | string>;

/** `/proc/loadavg` as it reads (1, 5, 15 minute load, running/total tasks). */
export function machineLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  }
}

export function benchEndToEnd(opts: E2eOptions, last: Figures): Figures {
  const iptables = kernelAvailable('iptables-restore');
  const nft = opts.only.has('nftables') ? kernelAvailable('nft') : ({ ok: false, reason: 'not selected' } as const);
  process.stdout.write(
    [
      `\n#### end to end (what a user waits for): ${opts.sizes.map(sizeLabel).join(', ')} services x 10 endpoints, median of ${opts.runs} run(s)`,
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; load at start: ${machineLoad()}`,
      `kpsim: ${kpsimInvocation()}`,
      `measured: ${measuringMethod()}; peak RSS is the highest of the runs`,
      `kernel baseline: ${iptables.ok ? `${iptables.what}, iptables-restore -w --test in a throwaway network namespace, same run` : `not run (${iptables.reason}): no kernel ratios`}`,
      ...(opts.only.has('nftables') ? [`nftables baseline: ${nft.ok ? `${nft.what}, nft -c -f of kpsim's nftables output in a throwaway network namespace, same run` : `not run (${nft.reason})`}`] : []),
      'vs kernel: the kernel\'s wall time on the same rules over kpsim\'s (above 1: kpsim is faster); RSS/in: peak RSS over the input files\' size',
      `files: ${relative(ROOT, opts.cacheDir)}/ (generated once per size and seed ${opts.seed}, reused); each process is killed after ${opts.timeoutS} s`,
      '',
    ].join('\n'),
  );
  const figures: Figures = { 'e2e load at start': machineLoad() };
  // The per-packet cost at 100 services, of iptables rules and (with the nftables rows) of nft text.
  const refOnly = new Set<Group>(['flows', ...(opts.only.has('nftables') ? (['nftables'] as const) : [])]);
  const reference = opts.only.has('flows') ? runSize(100, { ...opts, only: refOnly }, iptables, nft) : null;
  if (reference) Object.assign(figures, printSize(reference, last));
  for (const services of opts.sizes) {
    process.stdout.write(`\nload before ${sizeLabel(services)}: ${machineLoad()}`);
    Object.assign(figures, printSize(runSize(services, opts, iptables, nft), last, reference?.rows));
  }
  figures['e2e load at end'] = machineLoad();
  process.stdout.write(`\nload at end: ${machineLoad()}\n`);
  return figures;
}
