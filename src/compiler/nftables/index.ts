// The nftables-mode pipeline: objects -> nftables' platform defaults -> settings and the
// mode-neutral plan (plan.ts, plan-traffic.ts) -> the base objects and each service port's
// objects -> one knftables transaction (`nft -f` input), as kube-proxy's first sync on a fresh
// node writes it.
//
// The shape is kube-proxy's at kubernetes commit 81810de, the version kube-proxy's unit tests in
// golden/kube-proxy-nftables assert. Later releases changed it (1.36: endpoint chains only with
// session affinity, `dnat ... to numgen random mod N map { ... }`, a `hairpin-connections` set);
// a version is a row of SHAPES, and only 81810de's has ground truth here.
import type { DiagnosticSink } from '../../diag/diagnostic.js';
import { isLoopback } from '../../net/index.js';
import type { Cluster } from '../../model/types.js';
import { planServices, type ServicePortPlan } from '../plan.js';
import { proxierSettings, type CompileOptions, type ProxierSettings } from '../settings.js';
import { emitBase, type BaseFacts } from './emit-base.js';
import { emitServicePort } from './emit-service.js';
import { Transaction } from './transaction.js';
import { nftWords, type NftWords } from './words.js';

/** Warnings of the nftables compiler. */
export type NftCompileCode = 'NFT_NO_SERVICE_CIDRS' | 'NFT_LOCALHOST_NODEPORT';

/** The kube-proxy versions whose nftables ruleset kpsim writes, each its emitters. */
export const SHAPES = {
  '81810de': { base: emitBase, servicePort: emitServicePort },
} as const satisfies Record<string, { base: (tx: Transaction, w: NftWords, f: BaseFacts) => void; servicePort: (tx: Transaction, p: ServicePortPlan, w: NftWords) => void }>;

export type NftShape = keyof typeof SHAPES;
export const DEFAULT_SHAPE: NftShape = '81810de';

export interface NftCompiled {
  readonly settings: ProxierSettings;
  readonly plans: readonly ServicePortPlan[];
  readonly transaction: Transaction;
  /** The transaction as `nft -f` reads it. */
  readonly restore: string;
}

/**
 * nftables mode's platform defaults (cmd/kube-proxy/app/server_linux.go platformApplyDefaults):
 * NodePorts only on the node's primary IPs unless nodePortAddresses says otherwise; the
 * masquerade settings are the `nftables:` section's, not `iptables:`'s.
 */
export function nftablesConfig(cluster: Cluster): Cluster {
  const c = cluster.config;
  return {
    ...cluster,
    config: {
      ...c,
      nodePortAddresses: c.nodePortAddresses.length === 0 ? ['primary'] : c.nodePortAddresses,
      masqueradeAll: c.nftables.masqueradeAll,
      masqueradeBit: c.nftables.masqueradeBit,
    },
  };
}

export function compileNftablesCluster(input: Cluster, opts: CompileOptions, sink: DiagnosticSink, shape: NftShape = DEFAULT_SHAPE): NftCompiled {
  const cluster = nftablesConfig(input);
  const settings = proxierSettings(cluster, opts, sink);
  const plans = planServices(cluster, settings);
  const w = nftWords(settings);
  const emit = SHAPES[shape];
  const tx = new Transaction(w.ipX, 'kube-proxy', 'rules for kube-proxy');
  emit.base(tx, w, baseFacts(cluster, settings, sink));
  for (const p of plans) emit.servicePort(tx, p, w);
  return { settings, plans, transaction: tx, restore: tx.render() };
}

function baseFacts(cluster: Cluster, s: ProxierSettings, sink: DiagnosticSink): BaseFacts {
  let nodePortIPs: string[] | null = null;
  if (s.nodePortIPs) {
    nodePortIPs = [];
    for (const ip of s.nodePortIPs) {
      // setupNFTables skips them: "localhost NodePorts are not supported".
      if (isLoopback(ip)) sink.warning('NFT_LOCALHOST_NODEPORT' satisfies NftCompileCode, `nodePortAddresses includes ${ip.text}, but nftables mode has no localhost NodePorts: kube-proxy leaves it out`, null, null);
      else nodePortIPs.push(ip.text);
    }
  }
  if (cluster.serviceCIDRs === undefined) {
    sink.warning(
      'NFT_NO_SERVICE_CIDRS' satisfies NftCompileCode,
      'no ServiceCIDR objects in the input: no rule drops traffic to unallocated ClusterIPs (kube-proxy learns the ranges from them; add `kubectl get servicecidrs -o yaml`)',
      null,
      null,
    );
  }
  const serviceCIDRs = (cluster.serviceCIDRs ?? []).flatMap((c) => c.cidrs).filter((c) => c.family === s.family).map((c) => c.text);
  return { nodePortIPs, serviceCIDRs };
}
