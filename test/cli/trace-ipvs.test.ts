// kpsim trace --mode ipvs end to end: cluster inputs, a node's dumps (--rules/--ipsets/--ipvs),
// the JSON contract with the IPVS step in `path`, --flows, errors and exit codes; and
// kpsim compile --mode ipvs --format restore.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const EXAMPLE = 'examples/cluster.yaml';

function kpsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TMP = mkdtempSync(join(tmpdir(), 'kpsim-trace-ipvs-'));
const NODE = join(TMP, 'node');

beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  expect(kpsim(['compile', '--mode', 'ipvs', EXAMPLE, '-o', NODE]).code).toBe(0);
});

const json = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l));
const ipvsSteps = (o: { path: { table: string; action: string }[] }) => o.path.filter((p) => p.table === 'ipvs').map((p) => p.action);

describe('kpsim trace --mode ipvs', () => {
  it('traces a cluster: iptables rules and the IPVS step in one path, exact shares', () => {
    const r = kpsim(['trace', '--mode', 'ipvs', EXAMPLE, '--src', '192.168.10.50', '--dst', '10.96.0.10:80']);
    expect(r.code).toBe(0);
    // The text report (src/report): rules as iptables.save of `kpsim compile -o DIR` writes them, with
    // their line there; the IPVS scheduler as a fork with its exact shares; the outcome table first.
    const save = readFileSync(join(NODE, 'iptables.save'), 'utf8').split('\n');
    const line = save.indexOf('-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER') + 1;
    expect(line).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`\\n +${line}  -A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER\\n`));
    expect(r.stdout).toContain('fork in ipvs LOCAL_IN: ipvs:TCP 10.96.0.10:80 rr, 3 ways');
    expect(r.stdout).toMatch(/1\/3 \(0\.3333333333\) -> 10\.244\.2\.8:8080, outcome \d/);
    expect(r.stdout).toMatch(/\d +0\.3333333333 +1\/3 +ACCEPT +forward +192\.168\.10\.11:40000 -> 10\.244\.1\.5:8080 +DNAT,MASQUERADE/);
  });

  it('--json keeps the trace contract, the IPVS step in path', () => {
    const r = kpsim(['trace', '--mode', 'ipvs', EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.10:80', '--json']);
    expect(r.code).toBe(0);
    const [t] = json(r.stdout);
    expect(t.packet).toMatchObject({ protocol: 'tcp', destIP: '10.96.0.10', destPort: 80, origin: 'remote' });
    expect(t.outcomes.map((o: { fraction: string }) => o.fraction)).toEqual(['1/3', '1/3', '1/3']);
    for (const o of t.outcomes) {
      expect(o).toMatchObject({ verdict: 'ACCEPT', delivery: 'forward', dnat: true, masquerade: false });
      const step = o.path.find((p: { table: string }) => p.table === 'ipvs');
      expect(step).toMatchObject({ table: 'ipvs', chain: 'LOCAL_IN', rule: 1, action: `ipvs:TCP 10.96.0.10:80 rr -> ${o.destIP}:${o.destPort}` });
    }
  });

  it('--dst NS/NAME resolves through the IPVS compile', () => {
    const a = kpsim(['trace', '--mode', 'ipvs', EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web', '--json']);
    const b = kpsim(['trace', '--mode', 'ipvs', EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.10:80', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('the node\'s dumps (--rules --ipsets --ipvs --node-ip) answer as the cluster does', () => {
    const dumps = ['--rules', join(NODE, 'iptables.save'), '--ipsets', join(NODE, 'ipset.save'), '--ipvs', join(NODE, 'ipvsadm.save'), '--node-ip', '192.168.10.11'];
    for (const src of ['192.168.10.50', '10.244.1.5', '10.244.1.7']) {
      const a = kpsim(['trace', ...dumps, '--src', src, '--dst', '10.96.0.10:80', '--json']);
      const b = kpsim(['trace', '--mode', 'ipvs', EXAMPLE, '--src', src, '--dst', '10.96.0.10:80', '--json']);
      expect(a.code, a.stderr).toBe(0);
      // The same lines: a cluster's rules are numbered as its iptables.save prints them, which is the
      // dump here. The spelling of a MARK target's action differs (restore input vs iptables-save).
      type Step = { table: string; chain: string; rule: number | null; line: number | null; action: string };
      const strip = (t: { outcomes: { path: Step[] }[] }) => t.outcomes.map((o) => ({ ...o, path: o.path.map((p) => (p.table === 'ipvs' ? p.action : `${p.table}:${p.chain}:${p.rule}:${p.line}`)) }));
      expect(strip(json(a.stdout)[0])).toEqual(strip(json(b.stdout)[0]));
    }
  });

  it('--flows: rr rotation packet by packet, a connection keeps its server', () => {
    const flows = join(TMP, 'flows.yaml');
    writeFileSync(
      flows,
      [1, 2, 3, 4, 1].map((p, i) => `- {name: f${i}, sourceIP: 10.244.1.7, sourcePort: ${p}, protocol: TCP, destIP: 10.96.0.10, destPort: 80}\n`).join(''),
    );
    const r = kpsim(['trace', '--mode', 'ipvs', EXAMPLE, '--flows', flows, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = json(r.stdout).map((t) => t.outcomes.map(ipvsSteps).flat());
    expect(got).toEqual([
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.1.5:8080'],
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.2.7:8080'],
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.2.8:8080'],
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.1.5:8080'],
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.1.5:8080 (connection)'],
    ]);
  });

  it('bad dumps: file:line:col diagnostics, exit 1', () => {
    const ipvs = join(TMP, 'bad.ipvsadm');
    writeFileSync(ipvs, '-A -t 10.96.0.10:80 -s rr\n-a -t 10.96.0.10:80 -r 10.0.0.1:x -m -w 1\n');
    const r = kpsim(['trace', '--rules', join(NODE, 'iptables.save'), '--ipvs', ipvs, '--src', '1.2.3.4', '--dst', '10.96.0.10:80']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${ipvs}:2:33: error[IPVS_BAD_PORT]`);
    const sets = join(TMP, 'bad.ipset');
    writeFileSync(sets, 'create X hash:ip family inet\nadd X 1.2.3.400\n');
    const s = kpsim(['trace', '--rules', join(NODE, 'iptables.save'), '--ipvs', join(NODE, 'ipvsadm.save'), '--ipsets', sets, '--src', '1.2.3.4', '--dst', '10.96.0.10:80']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`${sets}:2:7: error[IPSET_BAD_ADDRESS]`);
    expect(s.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['trace', '--mode', 'ipvs', '--rules', 'RULES', '--src', '1.2.3.4', '--dst', '10.96.0.10:80'], 'give --ipvs FILE'],
    [['trace', '--mode', 'iptables', '--rules', 'RULES', '--ipvs', 'IPVS', '--src', '1.2.3.4', '--dst', '10.96.0.10:80'], '--ipvs is for IPVS mode'],
    [['trace', '--mode', 'bogus', EXAMPLE, '--src', '1.2.3.4', '--dst', '10.96.0.10:80'], '--mode must be one of'],
  ])('bad usage exits 2: %j', (args, message) => {
    const r = kpsim(args.map((a) => (a === 'RULES' ? join(NODE, 'iptables.save') : a === 'IPVS' ? join(NODE, 'ipvsadm.save') : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('iptables mode is unchanged without --mode (the example says mode: iptables)', () => {
    const r = kpsim(['trace', EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.10:80', '--json']);
    expect(r.code).toBe(0);
    for (const o of json(r.stdout)[0].outcomes) expect(ipvsSteps(o)).toEqual([]);
  });
});

describe('kpsim compile --mode ipvs --format restore', () => {
  it("prints kube-proxy's iptables-restore input (nat and filter, --noflush form)", () => {
    const r = kpsim(['compile', '--mode', 'ipvs', '--format', 'restore', EXAMPLE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('*nat\n')).toBe(true);
    expect(r.stdout).toContain(':KUBE-SERVICES - [0:0]\n');
    expect(r.stdout).toContain('-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\n');
    expect(r.stdout).toContain('COMMIT\n');
    // Not the save spelling: no built-in chain policies, no host setup jump rules.
    expect(r.stdout).not.toContain(':PREROUTING ACCEPT');
    expect(readFileSync(join(NODE, 'iptables.save'), 'utf8')).toContain(':PREROUTING ACCEPT');
  });
});

describe('kpsim golden on IPVS-mode cases', () => {
  it('init writes the node artefacts and answered flows; the case verifies', () => {
    const dir = join(TMP, 'init-ipvs');
    const r = kpsim(['golden', 'init', dir, 'golden/kpsim-ipvs/nodeport/cluster.yaml']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['ipvsadm.save', 'ipset.save', 'iptables.save', 'kube-ipvs0.addrs', 'iptables-save.txt']) {
      expect(readFileSync(join(dir, f), 'utf8'), f).toBe(readFileSync(join('golden/kpsim-ipvs/nodeport', f), 'utf8'));
    }
    expect(readFileSync(join(dir, 'flows.yaml'), 'utf8')).toContain('output: "10.244.1.5:8080"');
    const v = kpsim(['golden', dir]);
    expect(v.code).toBe(0);
    expect(v.stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });
});
