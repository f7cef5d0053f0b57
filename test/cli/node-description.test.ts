// `kpsim trace` with a node's description files: --node-dir, the single-file flags, and bad files
// reported at file:line:col with exit 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../dist/bin/kpsim.js');
const NODE = 'test/fixtures/dumps/nodes/bridge-node';

function kpsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('trace with a node description', () => {
  it('--node-dir: rules, addresses, routes, bridges and sysctls from one folder', () => {
    const r = kpsim(['trace', '--node-dir', NODE, '--src', '10.244.0.13', '--dst', '10.96.0.10:80', '--in-iface', 'vpod3', '--out-port', 'vpod2', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.packet.inInterface).toBe('cni0');
    expect(out.outcomes.map((o: { verdict: string }) => o.verdict)).toEqual(['DROP']);
  });

  it('the same files one by one', () => {
    const r = kpsim(['trace', '--rules', join(NODE, 'iptables.save'), '--ip-addr', join(NODE, 'ip-addr.json'), '--ip-route', join(NODE, 'ip-route.json'), '--sysctls', join(NODE, 'sysctl.txt'), '--bridge-links', join(NODE, 'bridge-link.json'), '--src', '10.8.3.4', '--dst', '192.168.5.2:30080', '--in-iface', 'eth1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rp_filter=1 (strict)');
  });

  it('a bad file: its line and column, exit 1, nothing on stdout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpsim-node-'));
    for (const f of ['iptables.save', 'ip-route.json', 'sysctl.txt']) copyFileSync(join(NODE, f), join(dir, f));
    writeFileSync(join(dir, 'ip-addr.json'), '[\n  {"ifindex": 1, "ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.300", "prefixlen": 8}]}\n]\n');
    const r = kpsim(['trace', '--node-dir', dir, '--src', '10.0.0.1', '--dst', '10.0.0.2:80']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${join(dir, 'ip-addr.json')}:2:76: error[IPROUTE_BAD_VALUE]`);
  });

  it('usage errors: a missing folder, --ip-addr with --interfaces', () => {
    expect(kpsim(['trace', '--node-dir', '/nonexistent/kpsim', '--src', '10.0.0.1', '--dst', '10.0.0.2:80']).code).toBe(2);
    expect(kpsim(['trace', '--rules', join(NODE, 'iptables.save'), '--ip-addr', join(NODE, 'ip-addr.json'), '--interfaces', 'eth0=10.0.0.1/24', '--src', '10.0.0.1', '--dst', '10.0.0.2:80']).code).toBe(2);
  });
});
