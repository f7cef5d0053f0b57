// A golden case as data: the folder's files, read by the CLI, checked by verify.ts.
// Same shape as the kube-proxy conformance corpus: cluster.yaml, iptables-save.txt (restore
// input), iptables-partial.txt + partial.yaml, checks.yaml, flows.yaml, node.rules (save
// spelling), steps/NN-name/ (later syncs, each with the complete object state).

export interface CaseFiles {
  /** Path of the case folder, for messages. */
  readonly dir: string;
  /** File name -> contents, for the files this case has (not steps). */
  readonly files: ReadonlyMap<string, string>;
  readonly steps: readonly CaseFiles[];
}

/** Expected outputs of modes kpsim does not build yet: a case holding one is reported skipped for it. */
export const NOT_BUILT_FILES = {
  'ipvsadm.txt': 'IPVS mode (ipvsadm --save output)',
  'ipset.txt': 'IPVS mode (ipset save output)',
} as const;

export const CASE_FILES = [
  'cluster.yaml',
  'iptables-save.txt',
  'partial-sync-restore.txt',
  'iptables-partial.txt',
  'partial.yaml',
  'checks.yaml',
  'flows.yaml',
  'node.rules',
  'step.yaml',
  // The compile options the case was made with (golden init --node ...).
  'options.yaml',
  // IPVS mode (`kpsim compile --mode ipvs -o DIR`).
  'ipvsadm.save',
  'ipset.save',
  'iptables.save',
  'kube-ipvs0.addrs',
  // nftables mode: kube-proxy's transaction (`--format restore`), what `nft list table` shows
  // (`kpsim compile`), a table loaded before the first sync, kube-proxy's element and chain-name
  // checks, and how kpsim reads nft.txt (verify-nftables.ts).
  'nft.txt',
  'nftables.txt',
  'preexisting-nft.txt',
  'expect.yaml',
  'names.yaml',
  'nft-check.yaml',
  ...Object.keys(NOT_BUILT_FILES),
] as const;

export type CaseFileName = (typeof CASE_FILES)[number] | keyof typeof NOT_BUILT_FILES;

/** How a step's sync runs. Read from step.yaml, else from kube-proxy's test names in the folder name. */
export interface StepSync {
  readonly full: boolean;
  readonly cleanupDue: boolean;
  /** The restore fails (kube-proxy then needs a full sync, and the kernel keeps its state). */
  readonly fails: boolean;
}

export function stepSync(name: string, stepYaml: Record<string, unknown> | null): StepSync {
  const byName: StepSync = {
    full: /full-resync|full-sync/.test(name),
    cleanupDue: !/cleanup-not-due/.test(name),
    fails: /restore-fails/.test(name),
  };
  if (!stepYaml) return byName;
  return {
    full: typeof stepYaml.sync === 'string' ? stepYaml.sync === 'full' : byName.full,
    cleanupDue: typeof stepYaml.cleanupDue === 'boolean' ? stepYaml.cleanupDue : byName.cleanupDue,
    fails: typeof stepYaml.restoreFails === 'boolean' ? stepYaml.restoreFails : byName.fails,
  };
}
