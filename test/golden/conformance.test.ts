// kube-proxy's own unit-test expectations (golden/kube-proxy-iptables, copied from the
// conformance corpus with its attribution): restore input byte for byte, partial chains,
// line-level checks, and multi-step partial syncs.
import { describe, expect, it } from 'vitest';
import { findCases } from '../../src/cli/golden-read.js';
import { verifyCase } from '../../src/golden/verify.js';

const cases = findCases('golden/kube-proxy-iptables').filter((c) => c.files.has('cluster.yaml'));

describe('kube-proxy iptables conformance', () => {
  it('finds the corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(44);
  });

  it.each(cases.map((c) => [c.dir.split('/').pop()!, c] as const))('%s', (_name, c) => {
    const r = verifyCase(c);
    const errors = r.diagnostics.flatMap((d) => d.diagnostics.filter((x) => x.severity === 'error').map((x) => `${d.file}: ${x.code} ${x.message}`));
    expect(errors).toEqual([]);
    for (const check of r.checks) {
      if (check.status === 'fail') expect(check.actual, check.name).toBe(check.expected);
    }
    expect(r.checks.every((k) => k.status === 'pass')).toBe(true);
  });

  it('checks every asserted output file', () => {
    const results = cases.map((c) => verifyCase(c));
    const n = results.reduce((k, r) => k + r.checks.filter((x) => x.status === 'pass').length, 0);
    // 3 full restores, 12 partial chains, 9 step restores, 7 large-cluster steps and 6 ipMode checks at least.
    expect(n).toBeGreaterThanOrEqual(3 + 12 + 8);
  });
});
