// kpsim's nftables-mode golden cases (golden/kpsim-nftables): every case verifies through
// `kpsim golden`'s runner in nftables mode (kube-proxy's transaction, the node's `nft list table`,
// flows traced through the nftables simulator with state carried), and where nftables mode
// answers otherwise than iptables mode for the same objects (golden/kpsim), the case says why.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findCases } from '../../src/cli/golden-read.js';
import { verifyCase } from '../../src/golden/verify.js';

const cases = findCases('golden/kpsim-nftables');
const FILES = ['cluster.yaml', 'nft.txt', 'nftables.txt', 'flows.yaml'];

interface Flow {
  name: string;
  output: string;
  masq: boolean;
}

describe('golden/kpsim-nftables', () => {
  it('holds the nftables cases', () => {
    expect(cases.length).toBe(38);
  });

  it.each(cases.map((c) => [c.dir.split('/').pop()!, c] as const))('%s', (_name, c) => {
    for (const f of FILES) expect(c.files.has(f), f).toBe(true);
    expect(c.files.get('cluster.yaml')).toMatch(/^mode: nftables$/m);
    const r = verifyCase(c);
    expect(r.diagnostics.flatMap((d) => d.diagnostics.filter((x) => x.severity === 'error'))).toEqual([]);
    for (const k of r.checks) expect({ name: k.name, status: k.status, message: k.message }).toEqual({ name: k.name, status: 'pass', message: undefined });
    expect(r.checks.filter((k) => k.kind === 'flow').length).toBeGreaterThan(0);
    expect(r.rewrites).toEqual([]);
  });

  it('answers as iptables mode does for the same objects, but for the documented differences', () => {
    const differs: string[] = [];
    for (const c of cases) {
      const name = c.dir.split('/').pop()!;
      if (!existsSync(`golden/kpsim/${name}`)) continue;
      const ipt = findCases(`golden/kpsim/${name}`)[0];
      // The same flows in the same order (names repeat, one per family in dual-stack).
      const mine = parse(c.files.get('flows.yaml')!) as Flow[];
      const theirs = parse(ipt.files.get('flows.yaml')!) as Flow[];
      theirs.forEach((t, i) => {
        const f = mine[i];
        expect(f.name).toBe(t.name);
        if (t.output !== f.output || t.masq !== f.masq) differs.push(`${name} | ${f.name}: ${JSON.stringify(t.output)} -> ${JSON.stringify(f.output)}`);
      });
    }
    expect(differs.sort()).toEqual([
      // healthCheckNodePort: iptables mode's explicit ACCEPT (a tracer token); nftables mode has no rule.
      'etp-local-health-check-nodeport | load balancer probes the health check port: "ACCEPT" -> ""',
      // No localhost NodePorts in nftables mode.
      'etp-local-node-to-nodeport | localhost to the NodePort: "10.244.2.21:8080" -> ""',
      'localhost-nodeport | localhost to the NodePort: "10.244.1.200:8080" -> ""',
      // cluster-ips-check rejects a port a cluster IP does not serve.
      'multi-port | pod to a port the Service does not have: "" -> "REJECT"',
      'sctp-service | TCP to the SCTP port: "" -> "REJECT"',
      'udp-dns | SCTP to 53 (no such service port): "" -> "REJECT"',
    ]);
  });

  it('a changed expectation fails and --update would rewrite it', () => {
    const c = cases.find((x) => x.dir.endsWith('three-endpoint-split'))!;
    const files = new Map(c.files);
    files.set('nftables.txt', files.get('nftables.txt')!.replace('numgen random mod 3', 'numgen random mod 2'));
    files.set('flows.yaml', files.get('flows.yaml')!.replace('"1431655765/4294967296"', '"1/3"'));
    const r = verifyCase({ ...c, files });
    expect(r.rewrites.map((w) => w.file.split('/').pop()).sort()).toEqual(['flows.yaml', 'nftables.txt']);
  });
});
