// The compiler's front door: a loaded cluster + options -> what kube-proxy installs on one node.
import type { DiagnosticSink } from '../diag/diagnostic.js';
import type { Cluster } from '../model/types.js';
import { compileIptables, type IptablesResult, type SyncHistory } from './iptables/index.js';
import { renderSyncTransaction } from './iptables/restore.js';
import { planServices, type ServicePortPlan } from './plan.js';
import { proxierSettings, type CompileOptions, type ProxierSettings } from './settings.js';

export interface Compiled {
  readonly settings: ProxierSettings;
  readonly plans: readonly ServicePortPlan[];
  readonly iptables: IptablesResult;
  /** kube-proxy's iptables-restore input. */
  readonly restore: string;
}

export function compileCluster(cluster: Cluster, opts: CompileOptions, sink: DiagnosticSink, history?: SyncHistory): Compiled {
  const settings = proxierSettings(cluster, opts, sink);
  const plans = planServices(cluster, settings);
  const iptables = compileIptables(plans, settings, history);
  // Rendered when first asked for: `--format save` respells the rules from iptables.data without it.
  let restore: string | undefined;
  return {
    settings,
    plans,
    iptables,
    get restore() {
      return (restore ??= renderSyncTransaction(iptables.data));
    },
  };
}

export type { CompileOptions, ProxierSettings, ServicePortPlan };
