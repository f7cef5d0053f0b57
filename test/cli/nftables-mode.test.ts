// nftables mode from the command line: compile in both formats and both families, the mode
// chosen by flag or configuration, its warnings, and trace through a cluster in nftables mode.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeNftTransaction } from '../../src/golden/check-nft.js';

const BIN = 'dist/bin/kpsim.js';
const OVERALL = 'golden/kube-proxy-nftables/overall-nftables-rules';
const OWN = 'golden/kpsim-nftables/three-endpoint-split';

function kpsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

describe('kpsim compile --mode nftables', () => {
  it('--format restore is kube-proxy\'s transaction (compared as its tests compare)', () => {
    const r = kpsim(['compile', '--format', 'restore', `${OVERALL}/cluster.yaml`]);
    expect(r.code).toBe(0);
    expect(normalizeNftTransaction(r.stdout)).toBe(normalizeNftTransaction(readFileSync(`${OVERALL}/nft.txt`, 'utf8')));
    expect(r.stdout).toMatch(/^add table ip kube-proxy \{ comment "rules for kube-proxy" ; \}\n/);
  });

  it('the default is what nft list table shows; the configuration or --mode chooses the mode', () => {
    const r = kpsim(['compile', `${OWN}/cluster.yaml`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(`${OWN}/nftables.txt`, 'utf8'));
    // The same objects with an iptables configuration, compiled in nftables mode by the flag.
    const text = readFileSync(`${OWN}/cluster.yaml`, 'utf8').replace('mode: nftables', 'mode: iptables');
    expect(kpsim(['compile', '-'], text).stdout).toMatch(/^\*mangle\n|^# /);
    expect(kpsim(['compile', '--mode', 'nftables', '-'], text).stdout).toBe(r.stdout);
  });

  it('--family ipv6 is the ip6 table; --stats counts it', () => {
    const r = kpsim(['compile', '--family', 'ipv6', '--stats', 'golden/kpsim-nftables/dual-stack/cluster.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^table ip6 kube-proxy \{\n/);
    expect(r.stdout).toContain('dnat to [fd00:244:0:1::160]:8080');
    expect(r.stderr).toMatch(/^ip6 kube-proxy: \d+ chains \(\d base\), \d+ rules, \d+ sets, \d+ maps, \d+ elements$/m);
  });

  it('says what it cannot know: no ServiceCIDR objects, localhost in nodePortAddresses', () => {
    // The node's interfaces include lo (kpsim.io/interfaces): 127.0.0.1 matches nodePortAddresses.
    const text = readFileSync('golden/kpsim-nftables/nodeport-addresses/cluster.yaml', 'utf8')
      .replace(/---\n(#[^\n]*\n)*apiVersion: networking\.k8s\.io\/v1\nkind: ServiceCIDR[\s\S]*$/, '')
      .replace('nodePortAddresses: [192.168.10.0/24]', 'nodePortAddresses: [127.0.0.0/8, 192.168.10.0/24]');
    const r = kpsim(['compile', '-'], text);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning[NFT_NO_SERVICE_CIDRS]');
    expect(r.stderr).toContain('warning[NFT_LOCALHOST_NODEPORT]');
    expect(r.stdout).not.toContain('drop comment "Drop traffic to unallocated ClusterIPs"');
    expect(r.stdout).not.toContain('127.0.0.1');
  });
});

describe('kpsim trace --mode nftables', () => {
  it('traces a Service through the nftables rules with numgen\'s exact shares', () => {
    const r = kpsim(['trace', '--json', `${OWN}/cluster.yaml`, '--src', '10.244.1.6', '--dst', 'shop/web:http']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { outcomes: { fraction: string; destIP: string; path: { table: string; chain: string; action: string }[] }[] };
    expect(out.outcomes.map((o) => `${o.destIP} ${o.fraction}`).sort()).toEqual(['10.244.1.190 715827883/2147483648', '10.244.2.191 1431655765/4294967296', '10.244.2.192 1431655765/4294967296']);
    for (const o of out.outcomes) {
      expect(o.path[0]).toMatchObject({ table: 'ip kube-proxy', chain: 'filter-prerouting-pre-dnat' });
      expect(o.path.some((p) => p.chain === 'services' && p.action.startsWith('goto service-'))).toBe(true);
    }
  });

  it('the NodePort via --via nodeport on the primary IP', () => {
    const r = kpsim(['trace', '--json', 'golden/kpsim-nftables/nodeport-primary-ip-only/cluster.yaml', '--src', '203.0.113.2', '--dst', 'shop/web:http', '--via', 'nodeport']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { outcomes: { destIP: string; destPort: number; masquerade: boolean }[] };
    expect(out.outcomes).toEqual([expect.objectContaining({ destIP: '10.244.1.80', destPort: 8080, masquerade: true })]);
  });
});
