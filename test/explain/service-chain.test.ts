// serviceChainOf reads kube-proxy's per-service chain names by hand (the analyses ask every chain
// name of a 10k-service node several times); it must agree with the pattern it replaces on every
// chain name of the golden corpora and on names that miss it by one character.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceChainByPattern, serviceChainOf } from '../../src/explain/rule-facts.js';

function corpusNames(): string[] {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        for (const m of readFileSync(p, 'utf8').matchAll(/KUBE-[A-Z0-9-]+/g)) names.add(m[0]);
      }
    }
  };
  walk('golden');
  return [...names];
}

describe('serviceChainOf', () => {
  const names = corpusNames();

  it('agrees with the pattern on every KUBE- name of the golden corpora', () => {
    expect(names.filter((n) => serviceChainOf(n) !== null).length).toBeGreaterThan(50);
    for (const n of names) expect(serviceChainOf(n), n).toEqual(serviceChainByPattern(n));
  });

  it('agrees with the pattern on names one character off', () => {
    const alphabet = ['A', 'Z', '2', '7', '1', '8', '0', '9', 'a', 'z', '-', '@', '[', '_', 'é', ''];
    const base = names.filter((n) => serviceChainOf(n) !== null).slice(0, 12);
    base.push('KUBE-FW-ABCDEFGHIJKLMNOP', 'KUBE-XLB-ABCDEFGHIJKLMNOP', 'KUBE-SVL-ZZZZZZZZ22227777');
    let checked = 0;
    for (const n of base) {
      for (let i = 0; i <= n.length; i++) {
        for (const c of alphabet) {
          for (const m of [n.slice(0, i) + c + n.slice(i + 1), n.slice(0, i) + c + n.slice(i)]) {
            expect(serviceChainOf(m), m).toEqual(serviceChainByPattern(m));
            checked++;
          }
        }
      }
    }
    for (const m of ['KUBE-', 'KUBE-SVC-', 'KUBE-SVC', 'KUBE-ABC-ABCDEFGHIJKLMNOP', 'KUBE-SE-ABCDEFGHIJKLMNOPQ', 'XUBE-SVC-ABCDEFGHIJKLMNOP', 'KUBE-SVCX-ABCDEFGHIJKLMNOP', 'KUBE-SVC-ABCDEFGHIJKLMNOPQ', 'KUBE-SVC-ABCDEFGHIJKLMNO']) {
      expect(serviceChainOf(m), m).toEqual(serviceChainByPattern(m));
    }
    expect(checked).toBeGreaterThan(5000);
  });
});
