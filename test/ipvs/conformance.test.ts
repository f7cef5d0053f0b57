// kube-proxy's IPVS unit-test expectations (golden/kube-proxy-ipvs): every assertion each case
// marks as asserted holds for kpsim's compile. The derived files (kube-proxy's state read from
// proxier.go, not asserted by the Go tests) are compared too, with the places where proxier.go
// and kpsim's kernel spelling disagree with them listed below.
import { describe, expect, it } from 'vitest';
import { allStates, type CaseState } from './corpus.js';
import { checksOf } from './checks.js';

const states = allStates();

/**
 * States with a Service port 0 (kube-proxy's test builds it; an API server would not): the loader
 * keeps the port with an SVC_PORT_ZERO warning, so their assertions are checked like the others.
 */
const PORT_ZERO = new Set([
  'endpoint-slice-e2e',
  'endpoint-slice-e2e/step-2-after-endpointslice-delete',
  'health-check-node-port-e2e',
  'health-check-node-port-e2e/step-2-health-check-node-port-updated',
  'internal-traffic-policy-e2e-cluster-with-local-endpoints',
  'internal-traffic-policy-e2e-cluster-with-local-endpoints/step-2-after-endpointslice-delete',
  'internal-traffic-policy-e2e-cluster-without-local-endpoints',
  'internal-traffic-policy-e2e-cluster-without-local-endpoints/step-2-after-endpointslice-delete',
  'internal-traffic-policy-e2e-local-with-local-endpoints',
  'internal-traffic-policy-e2e-local-with-local-endpoints/step-2-after-endpointslice-delete',
  'internal-traffic-policy-e2e-local-without-local-endpoints',
  'internal-traffic-policy-e2e-local-without-local-endpoints/step-2-after-endpointslice-delete',
]);

/** Loader errors the corpus keeps on purpose (see each notes.md); the objects are still loaded. */
const TOLERATED = new Set(['OBJ_MISSING_FIELD', 'EPS_BAD_IP']);

const portZero = (st: CaseState) => st.loadWarnings.some((d) => d.code === 'SVC_PORT_ZERO');

describe('kube-proxy IPVS conformance', () => {
  it('finds the corpus: 45 cases, 59 states', () => {
    expect(new Set(states.map((s) => s.c.name)).size).toBe(45);
    expect(states.length).toBe(59);
  });

  it('warns about port 0 in exactly the states that have one', () => {
    expect(states.filter((s) => portZero(s.state)).map((s) => s.state.id).sort()).toEqual([...PORT_ZERO].sort());
  });

  it.each(states.map((s) => [s.state.id, s.state] as const))('%s: loader', (_id, st) => {
    expect(st.loadErrors.filter((d) => !TOLERATED.has(d.code)).map((d) => d.code)).toEqual([]);
  });

  for (const { state: st } of states) {
    it(`${st.id}: asserted checks`, () => {
      const checks = checksOf(st);
      for (const k of checks) expect(k.actual, k.name).toEqual(k.expected);
    });
  }

  it('checks every asserted artefact: 135 checks on 59 states', () => {
    const n = states.reduce((k, s) => k + checksOf(s.state).length, 0);
    expect(n).toBe(135);
  });
});

/**
 * The derived files, for orientation. kpsim follows proxier.go and the kernel where they differ:
 * - load-balancer-source-ranges derived/iptables-save.txt writes `-s 1.2.3.4` in
 *   KUBE-IPVS-OUT-FILTER; iptables-save prints the source with its mask, `-s 1.2.3.4/32`.
 */
const DERIVED_DIFFERS: ReadonlySet<string> = new Set(['load-balancer-source-ranges iptables.save']);

describe('derived files (not asserted by kube-proxy)', () => {
  const pairs = [
    ['derived/ipvsadm-save.txt', 'ipvsadm.save'],
    ['derived/ipset-save.txt', 'ipset.save'],
    ['derived/iptables-save.txt', 'iptables.save'],
    ['derived/ip6tables-save.txt', 'iptables.save'],
  ] as const;
  const byTable = (t: string) => Object.fromEntries(t.split(/^(?=\*)/m).filter(Boolean).map((x) => [x.split('\n')[0], x]));
  for (const { state: st } of states) {
    it(`${st.id}: derived artefacts`, () => {
      for (const [file, artefact] of pairs) {
        const want = st.file(file);
        if (want === null || DERIVED_DIFFERS.has(`${st.id} ${artefact}`)) continue;
        const got = st.artefacts[artefact];
        // iptables-save's table order is the backend's, not significant.
        if (artefact === 'iptables.save') expect(byTable(got), file).toEqual(byTable(want));
        else expect(got.trimEnd(), file).toBe(want.trimEnd());
      }
    });
  }
});
