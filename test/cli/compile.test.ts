// The kpsim compile command end to end: formats, inputs, flags, errors and exit codes.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const CASE = 'golden/kube-proxy-iptables/overall-iptables-rules';

function kpsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

describe('the kpsim executable', () => {
  it('runs through its #! line, with the node flags bin/kpsim.ts gives it', () => {
    // npm makes the bin executable when it links it; do the same, then run it as a program.
    chmodSync(BIN, 0o755);
    expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=32 --expose-gc');
    const r = spawnSync(`./${BIN}`, ['--version'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('kpsim compile', () => {
  it('prints kube-proxy restore input byte for byte', () => {
    const r = kpsim(['compile', '--format', 'restore', `${CASE}/cluster.yaml`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(`${CASE}/iptables-save.txt`, 'utf8'));
  });

  it('reads stdin and directories the same way', () => {
    const text = readFileSync(`${CASE}/cluster.yaml`, 'utf8');
    const a = kpsim(['compile', '-f', 'restore', '-'], text);
    const b = kpsim(['compile', '-f', 'restore', CASE]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('prints the save spelling by default, with the built-in chains and jump rules', () => {
    const r = kpsim(['compile', `${CASE}/cluster.yaml`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(r.stdout).toContain('-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n');
    expect(r.stdout.indexOf('*mangle')).toBeLessThan(r.stdout.indexOf('*filter'));
  });

  it('writes -o atomically and --stats to stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpsim-'));
    const out = join(dir, 'node.rules');
    const r = kpsim(['compile', '-f', 'restore', '-o', out, '--stats', `${CASE}/cluster.yaml`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(`${CASE}/iptables-save.txt`, 'utf8'));
    // The counts of the node the sync leaves, as `kpsim parse --stats` prints them for
    // `kpsim compile`'s default output: the same rules, the same counts.
    const save = kpsim(['compile', '-o', join(dir, 'node.save'), `${CASE}/cluster.yaml`]);
    expect(save.code).toBe(0);
    const parsed = kpsim(['parse', '--stats', join(dir, 'node.save')]);
    expect(parsed.code).toBe(0);
    expect(r.stderr.slice(r.stderr.indexOf("family "))).toBe(parsed.stdout);
    expect(r.stderr).toMatch(/^ {2}KUBE-SEP-\* +\d+ chains, \d+ rules$/m);
  });

  it('applies flag overrides: --masquerade-all and --cluster-cidr', () => {
    const r = kpsim(['compile', '-f', 'restore', '--masquerade-all', '--cluster-cidr', '10.244.0.0/16', `${CASE}/cluster.yaml`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ\n');
    expect(r.stdout).toContain('-s 10.244.0.0/16 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT');
  });

  it('reports bad input with position, exit 1, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpsim-'));
    const bad = join(dir, 'cluster.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  clusterIP: 10.0.0.1\n  ports:\n  - port: 80\n    targetPort: 70000\n');
    const out = join(dir, 'out.rules');
    const r = kpsim(['compile', '-o', out, bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:8:17: error[SVC_BAD_PORT]`);
    expect(r.stderr).toContain('   |                 ^^^^^');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [['compile', '--format', 'nope', CASE], 2],
    [['compile', '--bogus', CASE], 2],
    [['compile', '--family', 'ipx', CASE], 2],
    // A missing input file is bad input (exit 1), not bad usage.
    [['compile', 'no/such/file.yaml'], 1],
    [['compile', '--node', 'nope', CASE], 1],
  ])('%j exits %i', (args, code) => {
    expect(kpsim(args as string[]).code).toBe(code);
  });
});
