// kpsim's IPVS-mode golden cases (golden/kpsim-ipvs): every case verifies through `kpsim golden`'s
// runner in IPVS mode (the four node artefacts, the restore input, flows traced with IPVS state).
import { describe, expect, it } from 'vitest';
import { findCases } from '../../src/cli/golden-read.js';
import { verifyCase } from '../../src/golden/verify.js';

const cases = findCases('golden/kpsim-ipvs');
const FILES = ['cluster.yaml', 'iptables-save.txt', 'ipvsadm.save', 'ipset.save', 'iptables.save', 'kube-ipvs0.addrs', 'flows.yaml'];

describe('golden/kpsim-ipvs', () => {
  it('holds the IPVS cases', () => {
    expect(cases.map((c) => c.dir.split('/').pop())).toEqual(['clusterip-rr', 'hairpin-and-host-network', 'no-endpoints', 'nodeport', 'session-affinity', 'weighted-wrr']);
  });

  it.each(cases.map((c) => [c.dir.split('/').pop()!, c] as const))('%s', (_name, c) => {
    for (const f of FILES) expect(c.files.has(f), f).toBe(true);
    const r = verifyCase(c);
    expect(r.diagnostics.flatMap((d) => d.diagnostics.filter((x) => x.severity === 'error'))).toEqual([]);
    for (const k of r.checks) expect({ name: k.name, status: k.status, message: k.message }).toEqual({ name: k.name, status: 'pass', message: undefined });
    expect(r.checks.filter((k) => k.kind === 'file').length).toBe(5);
    expect(r.checks.filter((k) => k.kind === 'flow').length).toBeGreaterThan(0);
    expect(r.rewrites).toEqual([]);
  });

  it('a changed expectation fails and --update would rewrite it', () => {
    const c = cases[0];
    const files = new Map(c.files);
    files.set('ipvsadm.save', files.get('ipvsadm.save')!.replace('-s rr', '-s wrr'));
    files.set('flows.yaml', files.get('flows.yaml')!.replace('output: "10.244.2.7:8080"', 'output: "10.244.2.8:8080"'));
    const r = verifyCase({ ...c, files });
    expect(r.rewrites.map((w) => w.file.split('/').pop()).sort()).toEqual(['flows.yaml', 'ipvsadm.save']);
  });
});
