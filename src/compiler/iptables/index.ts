// The iptables-mode pipeline: plan -> per-service rules + static rules -> canonical restore data.
// Partial syncs (kube-proxy's later syncs, which rewrite only changed services' chains and delete
// stale ones) take the previous sync's state.
import { isServiceChainName } from '../hash.js';
import type { ServicePortPlan } from '../plan.js';
import type { ProxierSettings } from '../settings.js';
import { emitHead, emitTail } from './emit-static.js';
import { emitService, type SyncContext } from './emit-service.js';
import { canonicalize, emptyTable, type RestoreData } from './restore.js';
import { spellSettings } from './spell-settings.js';

/** Above this many endpoints kube-proxy drops per-endpoint comments (largeClusterEndpointsThreshold). */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

export interface SyncState {
  /** nat chains that exist in the kernel after the sync. */
  readonly natChains: ReadonlySet<string>;
}

/** What a later sync knows of the earlier ones (kube-proxy keeps it between syncs). */
export interface SyncHistory {
  readonly previous: SyncState;
  /**
   * Services (`ns/name`) whose Service or EndpointSlices changed since the last successful sync,
   * for a partial sync; null for a full sync, which rewrites every service's chains.
   */
  readonly changedServices: ReadonlySet<string> | null;
  /** Whether the stale-chain scan runs in this sync (large-cluster mode: once per syncPeriod). */
  readonly cleanupDue: boolean;
}

export interface IptablesResult {
  readonly data: RestoreData;
  readonly largeClusterMode: boolean;
  readonly state: SyncState;
}

export function compileIptables(plans: readonly ServicePortPlan[], s: ProxierSettings, history?: SyncHistory): IptablesResult {
  const out: RestoreData = { filter: emptyTable('filter'), nat: emptyTable('nat') };
  const words = spellSettings(s);
  emitHead(out, s, words);
  const totalEndpoints = plans.reduce((n, p) => n + p.allEndpoints.length, 0);
  const largeCluster = totalEndpoints > LARGE_CLUSTER_ENDPOINTS;
  const sync: SyncContext = { settings: s, words, largeCluster };
  const used: string[] = [];
  const discard = emptyTable('nat');
  for (const p of plans) {
    const skip = !!history?.changedServices && !history.changedServices.has(`${p.service.namespace}/${p.service.name}`);
    const target = skip ? discard : out.nat;
    if (skip) discard.text.clear();
    const chains = emitService(p, sync, { filter: out.filter, natEntry: out.nat, natChains: target });
    for (let i = 0; i < chains.length; i++) used.push(chains[i]);
    if (!skip) for (let i = 0; i < chains.length; i++) out.nat.chains.push(chains[i]);
  }
  // Chains that exist in the kernel but are no longer used are flushed (declared) and deleted;
  // in large-cluster mode only when the scan is due, else they stay.
  const kept: string[] = [];
  if (history) {
    const active = new Set(used);
    const cleanup = !largeCluster || history.cleanupDue;
    for (const c of history.previous.natChains) {
      if (active.has(c) || !isServiceChainName(c)) continue;
      if (cleanup) {
        out.nat.chains.push(c);
        out.nat.deleted.push(c);
      } else {
        kept.push(c);
      }
    }
  }
  emitTail(out, s, words);
  // The kernel's nat chains after this sync, for the next one: computed only when asked for.
  let natChains: Set<string> | undefined;
  const state: SyncState = {
    get natChains() {
      if (!natChains) {
        const deleted = new Set(out.nat.deleted);
        natChains = new Set([...used, ...kept, ...out.nat.chains.filter((c) => !deleted.has(c))]);
      }
      return natChains;
    },
  };
  return { data: { filter: canonicalize(out.filter), nat: canonicalize(out.nat) }, largeClusterMode: largeCluster, state };
}
