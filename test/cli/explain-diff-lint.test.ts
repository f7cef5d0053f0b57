// kpsim explain, diff and lint end to end: outputs, JSON, exit codes (diff: 0 equal, 1 different,
// 2 trouble; lint: 1 on errors, and on warnings with --strict).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const CASE = 'golden/kpsim/three-endpoint-split';

function kpsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = '';
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  dir = mkdtempSync(join(tmpdir(), 'kpsim-explain-'));
});

const RULES = readFileSync(`${CASE}/node.rules`, 'utf8');

describe('kpsim explain', () => {
  it('tells every service port, or one item, and exits 0', () => {
    const r = kpsim(['explain', `${CASE}/node.rules`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 service port (iptables mode)');
    expect(r.stdout).toMatch(/10\.244\.1\.190:8080 +0\.3333333335 +715827883\/2147483648/);
    const item = kpsim(['explain', `${CASE}/node.rules`, 'KUBE-SEP-GMCUMTIJ55LBH63B']);
    expect(item.code).toBe(0);
    expect(item.stdout.split('\n')[1]).toContain('an endpoint chain');
  });

  it('recovers names from the objects for a dump without comments', () => {
    const bare = file('bare.rules', RULES.replace(/ -m comment --comment (?:"[^"]*"|\S+)/g, ''));
    expect(kpsim(['explain', bare]).stdout).toContain('unknown name');
    const r = kpsim(['explain', bare, '--objects', `${CASE}/cluster.yaml`]);
    expect(r.stdout).toContain('shop/web:http  TCP  ClusterIP  (named from the objects)');
  });

  it('--json, and exit 1 for an item the node does not have', () => {
    const j = JSON.parse(kpsim(['explain', `${CASE}/node.rules`, '--json']).stdout);
    expect(j.ports[0].splits[0].endpoints.map((e: { share: { fraction: string } }) => e.share.fraction)).toEqual(['715827883/2147483648', '1431655765/4294967296', '1431655765/4294967296']);
    const r = kpsim(['explain', `${CASE}/node.rules`, 'KUBE-NOPE']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KUBE-NOPE: no chain');
  });
});

describe('kpsim explain on dumps of other nodes', () => {
  it("warns when the tables are another mode's and that mode's dump is not given", () => {
    const r = kpsim(['explain', 'test/fixtures/dumps/kube-proxy-ipvs-v1.28.iptables']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning[DUMP_OTHER_MODE]');
    expect(r.stderr).toContain('give --ipvs FILE');
    expect(kpsim(['explain', `${CASE}/node.rules`]).stderr).toBe('');
  });
});

describe('kpsim trace --rules --dst NS/NAME', () => {
  it("finds the Service's address in the dump itself; without comments, with --objects", () => {
    const r = kpsim(['trace', '--rules', `${CASE}/node.rules`, '--node-ip', '192.168.10.11', '--src', '10.244.1.5', '--dst', 'shop/web:http']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tcp 10.244.1.5:40000 -> 10.96.0.190:80');
    const bare = file('bare-trace.rules', RULES.replace(/ -m comment --comment (?:"[^"]*"|\S+)/g, ''));
    const unnamed = kpsim(['trace', '--rules', bare, '--node-ip', '192.168.10.11', '--src', '10.244.1.5', '--dst', 'shop/web:http']);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('give --objects');
    const named = kpsim(['trace', '--rules', bare, '--objects', `${CASE}/cluster.yaml`, '--node-ip', '192.168.10.11', '--src', '10.244.1.5', '--dst', 'shop/web:http']);
    expect(named.code).toBe(0);
    expect(named.stdout).toContain('-> 10.96.0.190:80');
  });

  it('reaches a NodePort at the node address, and refuses --objects without --rules', () => {
    const np = 'golden/kpsim/etp-local-with-local-endpoint/node.rules';
    const r = kpsim(['trace', '--rules', np, '--node-ip', '192.168.10.11', '--src', '203.0.113.7', '--dst', 'edge/ingress:http', '--via', 'nodeport']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tcp 203.0.113.7:40000 -> 192.168.10.11:30080');
    expect(kpsim(['trace', '--rules', np, '--src', '203.0.113.7', '--dst', 'edge/ingress:http', '--via', 'nodeport']).stderr).toContain('give --node-ip');
    expect(kpsim(['trace', `${CASE}/cluster.yaml`, '--objects', `${CASE}/cluster.yaml`, '--src', '10.244.1.5', '--dst', 'shop/web:http']).code).toBe(2);
  });
});

describe('kpsim lint', () => {
  it('prints findings like the parser\'s diagnostics; errors fail, warnings only with --strict', () => {
    expect(kpsim(['lint', `${CASE}/node.rules`]).code).toBe(0);
    const missing = file('missing.rules', RULES.replace('-j KUBE-SEP-GMCUMTIJ55LBH63B', '-j KUBE-SEP-MISSINGMISSING00'));
    const r = kpsim(['lint', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.rules:68:\d+: error\[LINT_JUMP_TO_MISSING_CHAIN\]/);
    const stale = file('stale.rules', RULES.replace(':KUBE-SVC-67NZLRHBNDSAWJRO - [0:0]', ':KUBE-SVC-67NZLRHBNDSAWJRO - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]'));
    const w = kpsim(['lint', stale]);
    expect(w.code).toBe(0);
    expect(w.stderr).toContain('warning[LINT_STALE_SERVICE_CHAIN]');
    expect(kpsim(['lint', stale, '--strict']).code).toBe(1);
    const j = JSON.parse(kpsim(['lint', stale, '--json']).stdout);
    expect(j.findings.map((f: { code: string; line: number }) => [f.code, f.line])).toEqual([['LINT_STALE_SERVICE_CHAIN', 50]]);
  });
});

describe('kpsim diff', () => {
  it('exit 0 when equal: the objects against the node kube-proxy left, and a file against itself', () => {
    const r = kpsim(['diff', `${CASE}/cluster.yaml`, `${CASE}/node.rules`]);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('equal');
    expect(r.code).toBe(0);
    expect(kpsim(['diff', `${CASE}/node.rules`, `${CASE}/node.rules`, '--node-ip', '192.168.10.11']).code).toBe(0);
  });

  it('exit 1 when different, with both outcomes\' exact probabilities; --json', () => {
    const changed = file('changed.rules', RULES.replace('--to-destination 10.244.2.192:8080', '--to-destination 10.244.2.192:8081'));
    const r = kpsim(['diff', `${CASE}/cluster.yaml`, changed]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('changed chain nat KUBE-SEP-GMCUMTIJ55LBH63B');
    expect(r.stdout).toMatch(/1431655765\/4294967296 +ACCEPT forward 192\.168\.10\.11:40000 -> 10\.244\.2\.192:8081/);
    const j = JSON.parse(kpsim(['diff', `${CASE}/cluster.yaml`, changed, '--json']).stdout);
    expect(j.equal).toBe(false);
    expect(j.structural.map((d: { kind: string }) => d.kind)).toEqual(['endpoint-missing', 'endpoint-extra', 'piece-changed']);
  });

  it('a mode migration lists only documented differences', () => {
    const r = kpsim(['diff', `${CASE}/cluster.yaml`, `${CASE}/cluster.yaml`, '--left-mode', 'iptables', '--right-mode', 'ipvs']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^mode differences: ipvs-exact-shares \(\d+\), ipvs-hairpin-local-endpoints-only \(\d+\), ipvs-unserved-ports-rejected \(\d+\)$/m);
    expect(r.stdout).not.toContain('NOT documented');
    expect(r.stdout).not.toContain('NOT a documented');
  });

  it('exit 2 for trouble: a missing file, an unreadable dump, a bad mode', () => {
    expect(kpsim(['diff', `${CASE}/node.rules`, join(dir, 'nope.rules')]).code).toBe(2);
    const bad = file('bad.rules', '*nat\n-A NOWHERE -j ACCEPT\n');
    const r = kpsim(['diff', `${CASE}/node.rules`, bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.rules:2:');
    expect(kpsim(['diff', `${CASE}/cluster.yaml`, `${CASE}/cluster.yaml`, '--right-mode', 'userspace']).code).toBe(2);
  });

  it('explain and lint of a missing path or of cluster objects: exit 2 with what to give instead, no stack trace', () => {
    for (const cmd of ['explain', 'lint']) {
      const missing = kpsim([cmd, join(dir, 'nope')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe(`kpsim: ${join(dir, 'nope')}: no such file or directory\n`);
      const objects = kpsim([cmd, `${CASE}/cluster.yaml`]);
      expect(objects.code).toBe(2);
      expect(objects.stderr).toContain(`${CASE}/cluster.yaml holds Kubernetes objects, not a node's dump`);
      expect(objects.stderr).toContain(`kpsim compile ${CASE}/cluster.yaml -o node.rules`);
      expect(objects.stderr).not.toContain('IPT_SYNTAX');
    }
  });
});

describe('kpsim explain, lint and diff on nftables nodes (`nft list ruleset`, told apart by content)', () => {
  const NFT = 'golden/kpsim-nftables/three-endpoint-split';
  const LISTING = readFileSync(`${NFT}/nftables.txt`, 'utf8');

  it("explain: the service port from kube-proxy's table, numgen's exact shares, one chain, --json", () => {
    const r = kpsim(['explain', `${NFT}/nftables.txt`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 service port (nftables mode)');
    expect(r.stdout).toMatch(/10\.244\.1\.190:8080 +0\.3333333335 +715827883\/2147483648 +endpoint-OFLYLSRH-shop\/web\/tcp\/http__10\.244\.1\.190\/8080 +golden\/kpsim-nftables\/three-endpoint-split\/nftables\.txt:138:30/);
    const item = kpsim(['explain', `${NFT}/nftables.txt`, 'service-KHN6ECMT-shop/web/tcp/http']);
    expect(item.stdout.split('\n')[1]).toContain('the Cluster-policy endpoint split (all ready endpoints) of shop/web:http');
    const j = JSON.parse(kpsim(['explain', `${NFT}/nftables.txt`, '--json']).stdout);
    expect(j.mode).toBe('nftables');
    expect(j.ports[0].entries[0].at).toEqual({ file: `${NFT}/nftables.txt`, line: 33, col: 16, what: '@service-ips 10.96.0.190 . tcp . 80' });
  });

  it('lint: a changed DNAT port is a warning at its rule (exit 1 with --strict only); nft text read in another mode is a usage error', () => {
    const changed = file('changed.nft', LISTING.replace('dnat to 10.244.2.192:8080', 'dnat to 10.244.2.192:9090'));
    const r = kpsim(['lint', changed]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${changed}:133:3: warning[LINT_DNAT_NOT_ENDPOINT]`);
    expect(kpsim(['lint', changed, '--strict']).code).toBe(1);
    expect(kpsim(['lint', `${NFT}/nftables.txt`, '--strict']).code).toBe(0);
    const wrong = kpsim(['explain', `${NFT}/nftables.txt`, '--mode', 'iptables']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('is nft text');
    expect(kpsim(['explain', `${CASE}/node.rules`, '--mode', 'nftables']).code).toBe(2);
  });

  it('diff: the objects against the listing are equal; a changed listing differs; an iptables -> nftables migration lists only documented differences', () => {
    const same = kpsim(['diff', `${NFT}/cluster.yaml`, `${NFT}/nftables.txt`]);
    expect([same.code, same.stdout.trim().split('\n').at(-1)]).toEqual([0, 'equal']);
    const changed = file('changed2.nft', LISTING.replace('dnat to 10.244.2.192:8080', 'dnat to 10.244.2.192:9090'));
    const d = kpsim(['diff', `${NFT}/nftables.txt`, changed, '--node-ip', '192.168.10.11', '--json']);
    expect(d.code).toBe(1);
    expect(JSON.parse(d.stdout).structural.map((x: { kind: string }) => x.kind)).toEqual(['endpoint-missing', 'endpoint-extra', 'piece-changed']);
    const m = kpsim(['diff', `${NFT}/cluster.yaml`, `${NFT}/cluster.yaml`, '--left-mode', 'iptables', '--right-mode', 'nftables']);
    expect(m.code).toBe(1);
    expect(m.stdout).toMatch(/^mode differences: nftables-clusterip-wrong-port-rejected \(\d+\), nftables-unallocated-clusterip-dropped \(\d+\)$/m);
    expect(m.stdout).not.toContain('NOT documented');
    expect(m.stdout).not.toContain('NOT a documented');
  });

  it("an nft listing without kube-proxy's table, with iptables-nft's KUBE-SERVICES: another mode's node, said", () => {
    const compat = file('compat.nft', 'table ip nat {\n\tchain PREROUTING {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tcounter packets 0 bytes 0 jump KUBE-SERVICES\n\t}\n\n\tchain KUBE-SERVICES {\n\t}\n}\n');
    const r = kpsim(['explain', compat]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 service ports (nftables mode)');
    expect(r.stderr).toContain('warning[DUMP_OTHER_MODE]');
    expect(r.stderr).toContain("its table ip nat has KUBE-SERVICES: kube-proxy in iptables or IPVS mode through iptables-nft, so give the node's iptables-save output instead");
  });

  it('trace --rules node.nft --dst NS/NAME: the address from the nftables view', () => {
    const r = kpsim(['trace', '--rules', `${NFT}/nftables.txt`, '--node-ip', '192.168.10.11', '--src', '203.0.113.9', '--dst', 'shop/web:http']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('tcp 203.0.113.9:40000 -> 10.96.0.190:80 (arrives on eth0: starts in PREROUTING)');
  });
});
