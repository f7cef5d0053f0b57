// Typed Kubernetes objects as kube-proxy sees them, after loading and validation.
// Only the fields kube-proxy reads are kept; `origin` says where each object came from so later
// stages can point at it in a diagnostic.
import type { SourceSpan } from '../diag/diagnostic.js';
import type { Family } from '../iptables/ir.js';
import type { ParsedCIDR, ParsedIP } from '../net/index.js';

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type TrafficPolicy = 'Cluster' | 'Local';
export type DetectLocalMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix' | '';

export interface Origin {
  readonly file: string;
  readonly span: SourceSpan | null;
  /** `Service ns1/svc1`, for messages. */
  readonly what: string;
}

export interface ServicePort {
  readonly name: string;
  readonly protocol: ServiceProtocol;
  readonly port: number;
  readonly nodePort: number;
}

export interface LoadBalancerIngress {
  readonly ip: ParsedIP | null;
  readonly hostname: string | null;
  readonly ipMode: 'VIP' | 'Proxy' | null;
}

export interface Service {
  readonly namespace: string;
  readonly name: string;
  readonly type: ServiceType;
  /** `spec.clusterIP`; null when unset, `'None'` for headless. */
  readonly clusterIP: string | null;
  readonly clusterIPs: readonly string[];
  readonly ports: readonly ServicePort[];
  /** Raw strings: kube-proxy parses them per family, sloppily, and skips what does not parse. */
  readonly externalIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly healthCheckNodePort: number;
  readonly sessionAffinity: 'None' | 'ClientIP';
  readonly affinityTimeoutSeconds: number;
  readonly ingress: readonly LoadBalancerIngress[];
  readonly origin: Origin;
}

export interface Endpoint {
  readonly addresses: readonly string[];
  /** Conditions as written; nil ready/serving read as true and nil terminating as false. */
  readonly ready: boolean | null;
  readonly serving: boolean | null;
  readonly terminating: boolean | null;
  readonly nodeName: string | null;
  readonly zone: string | null;
  readonly hintZones: readonly string[] | null;
  readonly hintNodes: readonly string[] | null;
}

export interface EndpointPort {
  readonly name: string;
  readonly port: number | null;
  readonly protocol: ServiceProtocol;
}

export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  readonly serviceName: string;
  /** null: not given (kube-proxy ignores the slice). */
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN' | null;
  readonly endpoints: readonly Endpoint[];
  readonly ports: readonly EndpointPort[];
  /** Converted from a legacy v1 Endpoints object. */
  readonly mirrored: boolean;
  readonly origin: Origin;
}

export interface AnnotatedInterface {
  readonly name: string;
  readonly addresses: readonly ParsedCIDR[];
  /** The address as written (with its prefix length), for printing. */
  readonly ips: readonly ParsedIP[];
}

export interface HostFeatures {
  readonly randomFully: boolean | null;
  readonly nfacct: boolean | null;
}

export interface KubeNode {
  readonly name: string;
  readonly internalIPs: readonly ParsedIP[];
  readonly externalIPs: readonly ParsedIP[];
  readonly podCIDRs: readonly ParsedCIDR[];
  readonly labels: Readonly<Record<string, string>>;
  /** From the `kpsim.io/interfaces` annotation; null when absent. */
  readonly interfaces: readonly AnnotatedInterface[] | null;
  readonly hostFeatures: HostFeatures;
  readonly origin: Origin;
}

export interface ProxyConfig {
  readonly mode: 'iptables' | 'ipvs' | 'nftables' | '';
  readonly hostnameOverride: string;
  readonly bindAddress: string;
  readonly clusterCIDR: string;
  readonly detectLocalMode: DetectLocalMode;
  readonly bridgeInterface: string;
  readonly interfaceNamePrefix: string;
  readonly masqueradeAll: boolean;
  readonly masqueradeBit: number;
  readonly localhostNodePorts: boolean;
  readonly syncPeriodSeconds: number;
  readonly nodePortAddresses: readonly string[];
  readonly tcpBeLiberal: boolean;
  readonly featureGates: Readonly<Record<string, boolean>>;
  /** `nftables:` (KubeProxyNFTablesConfiguration): what the nftables proxier reads instead of `iptables.*`. */
  readonly nftables: {
    readonly masqueradeAll: boolean;
    readonly masqueradeBit: number;
  };
  readonly ipvs: {
    readonly scheduler: string;
    readonly excludeCIDRs: readonly string[];
    readonly strictARP: boolean;
    readonly tcpTimeoutSeconds: number;
    readonly tcpFinTimeoutSeconds: number;
    readonly udpTimeoutSeconds: number;
  };
  readonly origin: Origin | null;
}

/** networking.k8s.io ServiceCIDR: a range the API server allocates ClusterIPs from. */
export interface ServiceCIDR {
  readonly name: string;
  /** `spec.cidrs`, one per family at most. */
  readonly cidrs: readonly ParsedCIDR[];
  readonly origin: Origin;
}

export interface Cluster {
  readonly config: ProxyConfig;
  readonly nodes: readonly KubeNode[];
  readonly services: readonly Service[];
  readonly slices: readonly EndpointSlice[];
  /**
   * The ServiceCIDR objects of the input (kube-proxy watches them; the nftables proxier drops
   * traffic to their unallocated addresses). Absent: the input has none.
   */
  readonly serviceCIDRs?: readonly ServiceCIDR[];
}

export type { Family };
