// toDecimal of shares whose numerator and denominator are beyond a double's range: a split over
// hundreds of endpoints multiplies hundreds of 31-bit probabilities (kube-proxy's large-cluster
// case has 500 endpoints behind one service), and the trace table printed NaN into a BigInt.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { splitShares } from '../../src/explain/shares.js';
import { toDecimal, type Prob } from '../../src/packetsim/fraction.js';

/** num / (den * 2^exp) to 10 significant digits, by BigInt arithmetic alone. */
function reference(p: Prob): number {
  const den = p.den << BigInt(p.exp);
  if (p.num === 0n) return 0;
  // Scale to 30 digits of quotient, then read its leading digits.
  let e = 0;
  while ((p.num * 10n ** BigInt(Math.max(0, e))) / (den * 10n ** BigInt(Math.max(0, -e))) < 10n ** 29n) e++;
  const q = (p.num * 10n ** BigInt(e)) / den;
  return Number(`${q}e-${e}`);
}

describe('toDecimal beyond a double', () => {
  it('reads huge numerators and denominators as their ratio', () => {
    const cases: Prob[] = [
      { num: (1n << 1500n) - 1n, den: 3n ** 1000n, exp: 0 },
      { num: 3n ** 700n, den: 1n, exp: 1200 },
      { num: 1n, den: 3n ** 400n, exp: 5 },
    ];
    for (const p of cases) {
      const want = Number(reference(p).toPrecision(10));
      expect(Number.isFinite(want) && want > 0).toBe(true);
      expect(toDecimal(p)).toBe(want);
    }
  });

  it("gives every share of kube-proxy's 500-endpoint split, and they add up to 1", () => {
    const n = 500;
    // kube-proxy's probabilities 1/(n-i), stored as 31-bit values (lround(2^31 p)), the last rule without one.
    const stored = Array.from({ length: n }, (_, i) => (i === n - 1 ? null : Math.round(2 ** 31 / (n - i))));
    const { shares } = splitShares(stored);
    let sum = 0;
    for (const s of shares) {
      const d = toDecimal(s);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeGreaterThan(0.0019);
      expect(d).toBeLessThan(0.0021);
      sum += d;
    }
    expect(sum).toBeCloseTo(1, 6);
  });

  it('lets kpsim trace the large-cluster conformance case', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bin/kpsim.ts', 'trace', 'golden/kube-proxy-iptables/sync-proxy-rules-large-cluster-mode/cluster.yaml', '--src', '10.244.7.7', '--dst', '172.30.0.41:80'], { encoding: 'utf8' });
    expect(out).toMatch(/^ +1 +0\.00200400\d+ /m);
    expect(out).not.toMatch(/NaN|internal error/);
  });
});
