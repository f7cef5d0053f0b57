// What kube-proxy installs outside its iptables-restore input: the canary chains of its
// iptables monitor (mangle, nat, filter), and on a full sync the jump rules from the built-in
// chains into its own (iptablesJumpChains and iptablesKubeletJumpChains in proxier.go, each
// ensured with EnsureRule(Prepend), so the last one ensured ends up first).
import type { TableName } from './restore.js';

export interface HostChain {
  readonly table: 'mangle' | TableName;
  readonly chain: string;
}

export interface HostRule {
  readonly table: TableName;
  /** The built-in chain. */
  readonly chain: string;
  readonly args: readonly string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

interface Jump {
  readonly table: TableName;
  readonly dst: string;
  readonly src: string;
  readonly comment: string;
  readonly extra: readonly string[];
}

const JUMPS: readonly Jump[] = [
  { table: 'filter', dst: 'KUBE-EXTERNAL-SERVICES', src: 'INPUT', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', dst: 'KUBE-EXTERNAL-SERVICES', src: 'FORWARD', comment: 'kubernetes externally-visible service portals', extra: NEW },
  { table: 'filter', dst: 'KUBE-NODEPORTS', src: 'INPUT', comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', dst: 'KUBE-SERVICES', src: 'FORWARD', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', dst: 'KUBE-SERVICES', src: 'OUTPUT', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', dst: 'KUBE-FORWARD', src: 'FORWARD', comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', dst: 'KUBE-PROXY-FIREWALL', src: 'INPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', dst: 'KUBE-PROXY-FIREWALL', src: 'OUTPUT', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'filter', dst: 'KUBE-PROXY-FIREWALL', src: 'FORWARD', comment: 'kubernetes load balancer firewall', extra: NEW },
  { table: 'nat', dst: 'KUBE-SERVICES', src: 'OUTPUT', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', dst: 'KUBE-SERVICES', src: 'PREROUTING', comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', dst: 'KUBE-POSTROUTING', src: 'POSTROUTING', comment: 'kubernetes postrouting rules', extra: [] },
  // kubelet's anti-martian chain, which kube-proxy also ensures (no comment).
  { table: 'filter', dst: 'KUBE-FIREWALL', src: 'INPUT', comment: '', extra: [] },
  { table: 'filter', dst: 'KUBE-FIREWALL', src: 'OUTPUT', comment: '', extra: [] },
];

export const CANARY_CHAIN = 'KUBE-PROXY-CANARY';

export interface HostSetup {
  /** Chains that exist before the restore (canaries, and each jump's destination). */
  readonly chains: readonly HostChain[];
  /** Rules in the built-in chains, in their final order within each chain. */
  readonly rules: readonly HostRule[];
}

export function hostSetup(): HostSetup {
  const chains: HostChain[] = [
    { table: 'mangle', chain: CANARY_CHAIN },
    { table: 'nat', chain: CANARY_CHAIN },
    { table: 'filter', chain: CANARY_CHAIN },
  ];
  const rules: HostRule[] = [];
  for (const j of JUMPS) {
    if (!chains.some((c) => c.table === j.table && c.chain === j.dst)) chains.push({ table: j.table, chain: j.dst });
    const comment = j.comment ? ['-m', 'comment', '--comment', `"${j.comment}"`] : [];
    // Prepend: the rule goes before every rule already in the chain.
    const firstInChain = rules.findIndex((r) => r.table === j.table && r.chain === j.src);
    const rule = { table: j.table, chain: j.src, args: [...j.extra, ...comment, '-j', j.dst] };
    if (firstInChain < 0) rules.push(rule);
    else rules.splice(firstInChain, 0, rule);
  }
  return { chains, rules };
}

/** The host setup as iptables-restore text (`--noflush`), table by table. */
export function renderHostSetup(setup: HostSetup): string {
  let out = '';
  for (const table of ['mangle', 'filter', 'nat'] as const) {
    out += `*${table}\n`;
    for (const c of setup.chains) if (c.table === table) out += `:${c.chain} - [0:0]\n`;
    for (const r of setup.rules) if (r.table === table) out += `-A ${r.chain} ${r.args.join(' ')}\n`;
    out += 'COMMIT\n';
  }
  return out;
}
