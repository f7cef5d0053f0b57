// kube-proxy's ClientIP session-affinity chains (writeServiceToEndpointRules), shared by the tests
// that trace or judge affinity: the service chain's `recent --rcheck` rules first, then the
// statistic split with kube-proxy's odds (1/n, 1/(n-1), ..., the last endpoint unconditioned),
// and each endpoint chain setting its list before its DNAT. Rules only: each test writes its own
// tables and chain declarations around them.

export interface AffinityShape {
  /** The service chain (KUBE-SVC-...). */
  readonly svc: string;
  /** Endpoint e's chain (KUBE-SEP-...), e from 1; also the name of its recent list. */
  readonly sep: (e: number) => string;
  readonly endpoints: number;
  /** timeoutSeconds; null: no --rcheck rules (the endpoint chains still --set their lists). */
  readonly seconds: number | null;
  /** Endpoint e's `--to-destination`. */
  readonly dnat: (e: number) => string;
}

export function affinityRules(o: AffinityShape): string[] {
  const eps = Array.from({ length: o.endpoints }, (_, i) => i + 1);
  return [
    ...(o.seconds === null ? [] : eps.map((e) => `-A ${o.svc} -m recent --name ${o.sep(e)} --rcheck --seconds ${o.seconds} --reap -j ${o.sep(e)}`)),
    ...eps.slice(0, -1).map((e) => `-A ${o.svc} -m statistic --mode random --probability ${(1 / (o.endpoints - e + 1)).toFixed(10)} -j ${o.sep(e)}`),
    `-A ${o.svc} -j ${o.sep(o.endpoints)}`,
    ...eps.map((e) => `-A ${o.sep(e)} -p tcp -m recent --name ${o.sep(e)} --set -m tcp -j DNAT --to-destination ${o.dnat(e)}`),
  ];
}
