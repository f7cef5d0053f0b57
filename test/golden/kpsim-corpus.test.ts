// kpsim's own golden corpus (golden/kpsim): every case verifies, and each is a complete case
// (rules in both spellings and packet flows with answers).
import { describe, expect, it } from 'vitest';
import { findCases } from '../../src/cli/golden-read.js';
import { verifyCase } from '../../src/golden/verify.js';

const cases = findCases('golden/kpsim');

describe('golden/kpsim', () => {
  it('holds at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.dir.split('/').pop()!, c] as const))('%s', (_name, c) => {
    for (const f of ['cluster.yaml', 'iptables-save.txt', 'node.rules', 'flows.yaml']) expect(c.files.has(f), f).toBe(true);
    const r = verifyCase(c);
    const errors = r.diagnostics.flatMap((d) => d.diagnostics.filter((x) => x.severity === 'error').map((x) => `${d.file}:${x.span?.line}: ${x.code} ${x.message}`));
    expect(errors).toEqual([]);
    for (const k of r.checks) expect({ name: k.name, status: k.status, message: k.message }).toEqual({ name: k.name, status: 'pass', message: undefined });
    expect(r.checks.filter((k) => k.kind === 'flow').length).toBeGreaterThan(0);
    expect(r.rewrites).toEqual([]);
  });
});
