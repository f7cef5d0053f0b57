// `kpsim parse` on nft text, end to end: told from iptables-save by its content, printed back
// byte for byte, as the IR (--json) or counted (--stats); exit 1 on bad input, 2 on misuse.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const KPSIM = join(ROOT, 'bin/kpsim.ts');

function kpsim(args: string[], stdin?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', KPSIM, ...args], { cwd: ROOT, encoding: 'utf8', input: stdin, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const NODE = 'test/fixtures/nft/node-mixed.nft';

describe('kpsim parse (nft)', () => {
  it('prints a node listing back byte for byte', async () => {
    const { readFileSync } = await import('node:fs');
    const r = kpsim(['parse', NODE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, NODE), 'utf8'));
  });

  it('--json prints the typed IR', () => {
    const r = kpsim(['parse', '--json', 'golden/kube-proxy-nftables/overall-nftables-rules/nft.txt']);
    expect(r.code).toBe(0);
    const ir = JSON.parse(r.stdout) as { items: { kind: string; verb?: string }[] };
    expect(ir.items[0]).toMatchObject({ kind: 'command', verb: 'add', object: { kind: 'table', ref: { family: 'ip', table: 'kube-proxy' } } });
  });

  it('--stats counts per table and lists what is kept as written', () => {
    const r = kpsim(['parse', '--stats', NODE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^nft listing\n/);
    expect(r.stdout).toMatch(/^table ip kube-proxy: 32 chains \(8 base\), 57 rules, 3 sets, 5 maps, 24 elements$/m);
    expect(r.stdout).toMatch(/^table ip docker-bridges: \d+ chains/m);
    expect(r.stdout).toMatch(/^not modelled \(kept as written\): \n {2}xt match set \d+$/m);
  });

  it('reports bad nft text with file:line:col and exits 1', () => {
    const r = kpsim(['parse', '-'], 'add table ip x\nadd chain ip x y\nadd rule ip x y tcp dport 70000 drop\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('<stdin>:3:27: error[NFT_BAD_PORT]: Service out of range');
  });

  it('options for iptables-save dumps are usage errors with nft text', () => {
    expect(kpsim(['parse', '--format', 'save', NODE]).code).toBe(2);
    expect(kpsim(['parse', '--family', 'ipv4', NODE]).code).toBe(2);
  });

  it('trace --rules tells nft text apart and traces it: kube-proxy, Calico (iptables-nft) and Docker tables as one node', () => {
    const r = kpsim(['trace', '--json', '--rules', NODE, '--node-ip', '192.168.0.2', '--src', '10.0.0.2', '--dst', '172.30.0.41:80']);
    expect(r.code).toBe(0);
    const outcomes = JSON.parse(r.stdout).outcomes as { destIP: string; destPort: number; dnat: boolean; path: { table: string; chain: string }[] }[];
    expect(outcomes.length).toBeGreaterThan(0);
    for (const o of outcomes) {
      expect([o.destIP, o.destPort, o.dnat]).toEqual(['10.180.0.1', 80, true]);
      const tables = new Set(o.path.map((p) => p.table));
      // kube-proxy's nftables table DNATs; Calico's iptables-nft filter table sees the packet in FORWARD.
      expect(tables).toContain('ip kube-proxy');
      expect(tables).toContain('ip filter');
    }
  });

  it('still reads iptables-save dumps as before', () => {
    const r = kpsim(['parse', '--stats', 'test/fixtures/dumps/docker-28.iptables']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^family ipv4\n/);
  });
});
