// kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration -> ProxyConfig, with kube-proxy's
// defaults (pkg/proxy/apis/config/v1alpha1/defaults.go).
import type { ObjectReader } from './reader.js';
import type { DetectLocalMode, Origin, ProxyConfig } from './types.js';

export const DEFAULT_CONFIG: ProxyConfig = {
  mode: '',
  hostnameOverride: '',
  bindAddress: '0.0.0.0',
  clusterCIDR: '',
  detectLocalMode: 'ClusterCIDR',
  bridgeInterface: '',
  interfaceNamePrefix: '',
  masqueradeAll: false,
  masqueradeBit: 14,
  localhostNodePorts: true,
  syncPeriodSeconds: 30,
  nodePortAddresses: [],
  tcpBeLiberal: false,
  featureGates: {},
  nftables: { masqueradeAll: false, masqueradeBit: 14 },
  ipvs: { scheduler: '', excludeCIDRs: [], strictARP: false, tcpTimeoutSeconds: 0, tcpFinTimeoutSeconds: 0, udpTimeoutSeconds: 0 },
  origin: null,
};

/** Go duration text (`30s`, `1m0s`, `1h`, `500ms`) to seconds; null when malformed. */
export function parseDuration(text: string): number | null {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(text))) {
    const n = Number(m[1]);
    total += n * { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 }[m[2] as 'h'];
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : null;
}

export function readConfig(r: ObjectReader, origin: Origin): ProxyConfig {
  const d = DEFAULT_CONFIG;
  const duration = (path: string[], fallback: number) => {
    const v = r.str(path);
    if (v === undefined) return fallback;
    const s = parseDuration(v);
    if (s === null) r.error('CFG_BAD_VALUE', path, `${path.join('.')} '${v}' is not a duration like 30s or 1m0s`);
    return s ?? fallback;
  };
  const gates: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(r.map(['featureGates']) ?? {})) {
    if (typeof v === 'boolean') gates[k] = v;
    else r.error('OBJ_BAD_TYPE', ['featureGates', k], `featureGates.${k} must be a boolean`);
  }
  return {
    mode: r.oneOf(['mode'], ['iptables', 'ipvs', 'nftables', ''] as const, d.mode),
    hostnameOverride: r.str(['hostnameOverride']) ?? d.hostnameOverride,
    bindAddress: r.str(['bindAddress']) ?? d.bindAddress,
    clusterCIDR: r.str(['clusterCIDR']) ?? d.clusterCIDR,
    detectLocalMode: r.oneOf<DetectLocalMode>(['detectLocalMode'], ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix', ''], d.detectLocalMode) || 'ClusterCIDR',
    bridgeInterface: r.str(['detectLocal', 'bridgeInterface']) ?? d.bridgeInterface,
    interfaceNamePrefix: r.str(['detectLocal', 'interfaceNamePrefix']) ?? d.interfaceNamePrefix,
    masqueradeAll: r.bool(['iptables', 'masqueradeAll']) ?? d.masqueradeAll,
    masqueradeBit: r.intIn(['iptables', 'masqueradeBit'], 0, 31, 'CFG_BAD_VALUE') ?? d.masqueradeBit,
    localhostNodePorts: r.bool(['iptables', 'localhostNodePorts']) ?? d.localhostNodePorts,
    syncPeriodSeconds: duration(['iptables', 'syncPeriod'], d.syncPeriodSeconds),
    nodePortAddresses: r.strList(['nodePortAddresses']),
    tcpBeLiberal: r.bool(['conntrack', 'tcpBeLiberal']) ?? d.tcpBeLiberal,
    featureGates: gates,
    nftables: {
      masqueradeAll: r.bool(['nftables', 'masqueradeAll']) ?? d.nftables.masqueradeAll,
      masqueradeBit: r.intIn(['nftables', 'masqueradeBit'], 0, 31, 'CFG_BAD_VALUE') ?? d.nftables.masqueradeBit,
    },
    ipvs: {
      scheduler: r.str(['ipvs', 'scheduler']) ?? d.ipvs.scheduler,
      excludeCIDRs: r.strList(['ipvs', 'excludeCIDRs']),
      strictARP: r.bool(['ipvs', 'strictARP']) ?? d.ipvs.strictARP,
      tcpTimeoutSeconds: duration(['ipvs', 'tcpTimeout'], 0),
      tcpFinTimeoutSeconds: duration(['ipvs', 'tcpFinTimeout'], 0),
      udpTimeoutSeconds: duration(['ipvs', 'udpTimeout'], 0),
    },
    origin,
  };
}
