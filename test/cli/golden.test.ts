// `kpsim golden` end to end, as a CI job runs it: exit codes, the closing line, --update round
// trips, init, the JSON and JUnit reports, and a malformed case reported with its position.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = join(import.meta.dirname, '../..');
const KPSIM = join(ROOT, 'bin/kpsim.ts');
const TMP = mkdtempSync(join(tmpdir(), 'kpsim-golden-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function kpsim(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', KPSIM, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const lastLine = (s: string) => s.trimEnd().split('\n').pop();

/** A copy of golden/kpsim/NAME under a fresh folder, and its files as they were. */
function copyCase(name: string, into = mkdtempSync(join(TMP, 'c-'))): { dir: string; original: Map<string, string> } {
  const dir = join(into, name);
  cpSync(join(ROOT, 'golden/kpsim', name), dir, { recursive: true });
  return { dir, original: new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')])) };
}

describe('kpsim golden', () => {
  it('passes on the project corpus', () => {
    const r = kpsim('golden', 'golden/kpsim');
    expect(r.code).toBe(0);
    const n = readdirSync(join(ROOT, 'golden/kpsim'), { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    expect(lastLine(r.stdout)).toBe(`${n} passed, 0 failed`);
  });

  it('runs the kube-proxy conformance folders unchanged: 0 failed, the tracer-only case skipped with the reason', () => {
    const r = kpsim('golden', 'golden/kube-proxy-iptables');
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toMatch(/^\d+ passed, 0 failed, 1 skipped$/);
    expect(r.stdout).toMatch(/SKIP golden\/kube-proxy-iptables\/trace-packet\n.*iptables-save\.txt:11:\d+: IPT_UNEXPECTED_ARGUMENT/);
  });

  it('runs the kube-proxy nftables corpus: every asserted ruleset compiled byte for byte, every flow traced as kube-proxy expects', () => {
    const r = kpsim('golden', 'golden/kube-proxy-nftables', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { summary: Record<string, number>; cases: { dir: string; status: string; checks: { name: string; status: string; message?: string }[] }[] };
    const index = parseYaml(readFileSync(join(ROOT, 'golden/kube-proxy-nftables/index.yaml'), 'utf8')) as { cases: { name: string }[] };
    expect(report.summary.failed).toBe(0);
    expect(report.cases.map((c) => c.dir.split('/').pop()).sort()).toEqual(index.cases.map((c) => c.name).sort());
    const compared = report.cases.flatMap((c) => c.checks).filter((k) => /: nft\.txt( \(|$)/.test(k.name));
    // 12 rulesets one compile writes, 3 with the stale chains of an earlier sync; the 2 tracer inputs are read, not compared.
    expect(compared.filter((k) => k.status === 'pass')).toHaveLength(15);
    expect(compared.filter((k) => k.status === 'skip')).toHaveLength(2);
    const flows = report.cases.flatMap((c) => c.checks).filter((k) => (k as { kind?: string }).kind === 'flow');
    expect(flows).toHaveLength(218);
    expect(flows.filter((k) => k.status !== 'pass')).toEqual([]);
  });

  it('traces a tracer-only case whose rules load (trace-packet with its comments quoted)', () => {
    const dir = join(TMP, 'tracer-only', 'trace-packet');
    mkdirSync(dir, { recursive: true });
    const src = join(ROOT, 'golden/kube-proxy-iptables/trace-packet');
    // The same quoting iptables would need: multi-word comments in double quotes.
    const rules = readFileSync(join(src, 'iptables-save.txt'), 'utf8').replace(/--comment ((?:[^"\s-]\S*)(?: (?!-)\S+)+)/g, '--comment "$1"');
    writeFileSync(join(dir, 'iptables-save.txt'), rules);
    cpSync(join(src, 'flows.yaml'), join(dir, 'flows.yaml'));
    const r = kpsim('golden', dir, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.summary).toEqual({ passed: 1, failed: 0, skipped: 0 });
    const flows = (parseYaml(readFileSync(join(src, 'flows.yaml'), 'utf8')) as unknown[]).length;
    expect(report.cases[0].checks.filter((k: { kind: string }) => k.kind === 'flow')).toHaveLength(flows);
  });

  it('--update restores broken expected files byte for byte, keeps flows.yaml comments, and reports only what it rewrote', () => {
    const { dir, original } = copyCase('session-affinity-within-timeout');
    const flows = original.get('flows.yaml')!;
    expect(flows).toMatch(/^# /);
    writeFileSync(join(dir, 'flows.yaml'), flows.replace('"1/1"', '"0/1"').replace('masq: true', 'masq: false').replace(/output: "10\.244\.1\.9:9000, 10\.244\.2\.9:9000"/, 'output: "10.244.1.9:9000"'));
    writeFileSync(join(dir, 'node.rules'), original.get('node.rules')!.replace(/^-A KUBE-SERVICES .*\n/m, ''));
    const broken = kpsim('golden', dir);
    expect(broken.code).toBe(1);
    expect(lastLine(broken.stdout)).toBe('0 passed, 1 failed');
    expect(broken.stdout).toContain(`--- ${dir}/node.rules (expected)`);
    expect(broken.stdout).toMatch(/^\+-A KUBE-SERVICES /m);
    expect(broken.stdout).toMatch(/failed: .*: affinity differs/);

    const upd = kpsim('golden', dir, '--update');
    expect(upd.code).toBe(0);
    expect(upd.stdout.split('\n').filter((l) => l.startsWith('updated ')).sort()).toEqual([`updated ${dir}/flows.yaml`, `updated ${dir}/node.rules`]);
    expect(lastLine(upd.stdout)).toBe('1 passed, 0 failed');
    for (const [f, text] of original) expect(readFileSync(join(dir, f), 'utf8'), f).toBe(text);

    const again = kpsim('golden', dir, '--update');
    expect(again.stdout).not.toContain('updated ');
  });

  it('--update fills in answers for new flows, keeping the comments and key order written by hand', () => {
    const { dir } = copyCase('hairpin-pod-to-own-service');
    writeFileSync(join(dir, 'flows.yaml'), '# my flows\n- name: mine # the pod itself\n  destIP: 10.96.0.15\n  sourceIP: 10.244.1.5\n  destPort: 80\n  probabilities: {}\n');
    expect(kpsim('golden', dir).code).toBe(1);
    expect(kpsim('golden', dir, '--update').code).toBe(0);
    const text = readFileSync(join(dir, 'flows.yaml'), 'utf8');
    expect(text).toMatch(/^# my flows\n- name: mine # the pod itself\n  destIP: 10.96.0.15\n  sourceIP: 10.244.1.5\n/);
    const [flow] = parseYaml(text) as { output: string; masq: boolean; probabilities: Record<string, string> }[];
    expect(Object.keys(flow)).toEqual(['name', 'destIP', 'sourceIP', 'destPort', 'probabilities', 'output', 'masq']);
    // The answer is the tracer's (hairpin: DNAT to itself, masqueraded); checked again by verify.
    expect(Object.keys(flow.probabilities)).toEqual([flow.output]);
    expect(kpsim('golden', dir).code).toBe(0);
  });

  it('init writes a case with a starting flow set that then verifies, and refuses to overwrite one', () => {
    const dir = join(TMP, 'init', 'lb');
    const cluster = join(ROOT, 'golden/kpsim/lb-source-ranges-from-node/cluster.yaml');
    const r = kpsim('golden', 'init', dir, cluster);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['cluster.yaml', 'flows.yaml', 'iptables-save.txt', 'node.rules']);
    expect(readFileSync(join(dir, 'cluster.yaml'), 'utf8')).toBe(readFileSync(cluster, 'utf8'));
    const flows = parseYaml(readFileSync(join(dir, 'flows.yaml'), 'utf8')) as { name: string; output: string; masq: boolean }[];
    // One LoadBalancer port with source ranges: pod and node to the cluster IP, a pod to a port
    // nothing serves, clients inside and outside the ranges to the LB IP, outside to the NodePort.
    expect(flows.map((f) => f.name.split(' of ')[0])).toEqual([
      'pod to cluster IP',
      'node to cluster IP',
      expect.stringMatching(/^pod to unserved port \d+$/),
      'client inside loadBalancerSourceRanges to load-balancer IP',
      'client outside loadBalancerSourceRanges to load-balancer IP',
      'outside to NodePort',
    ]);
    expect(flows.every((f) => typeof f.output === 'string' && typeof f.masq === 'boolean')).toBe(true);
    // The same answers as the reviewed case for the packets both have.
    const reviewed = parseYaml(readFileSync(join(ROOT, 'golden/kpsim/lb-source-ranges-from-node/flows.yaml'), 'utf8')) as { name: string }[];
    const shared = flows.filter((f) => reviewed.some((r) => r.name === f.name));
    expect(shared.length).toBeGreaterThanOrEqual(3);
    for (const f of shared) expect(f).toEqual(reviewed.find((r) => r.name === f.name));
    expect(kpsim('golden', dir).code).toBe(0);
    const again = kpsim('golden', 'init', dir, cluster);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds a case');
  });

  it('init reports a bad cluster like compile does, writing nothing', () => {
    const bad = join(TMP, 'bad-init.yaml');
    writeFileSync(bad, readFileSync(join(ROOT, 'golden/kpsim/multi-port/cluster.yaml'), 'utf8').replace('port: 9090', 'port: 99090'));
    const r = kpsim('golden', 'init', join(TMP, 'init', 'bad'), bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-init\.yaml:\d+:\d+: error\[SVC_BAD_PORT\]/);
    expect(existsSync(join(TMP, 'init', 'bad'))).toBe(false);
  });

  it('reports a malformed cluster.yaml at file:line:col and still verifies the other cases', () => {
    const tree = mkdtempSync(join(TMP, 'tree-'));
    copyCase('multi-port', tree);
    const { dir } = copyCase('sctp-service', tree);
    const text = readFileSync(join(dir, 'cluster.yaml'), 'utf8').split('\n');
    const line = text.findIndex((l) => l.includes('port: 3868')) + 1;
    writeFileSync(join(dir, 'cluster.yaml'), text.map((l, i) => (i === line - 1 ? l.replace('3868', '70000') : l)).join('\n'));
    const r = kpsim('golden', tree);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`${dir}/cluster\\.yaml:${line}:\\d+: error\\[SVC_BAD_PORT\\]`));
    expect(lastLine(r.stdout)).toBe('1 passed, 1 failed');
    const json = JSON.parse(kpsim('golden', tree, '--json').stdout);
    const bad = json.cases.find((c: { dir: string }) => c.dir === dir);
    expect(bad.diagnostics[0]).toMatchObject({ file: `${dir}/cluster.yaml`, line, code: 'SVC_BAD_PORT' });
  });

  it('says plainly what it skips: files of modes not built yet', () => {
    const { dir } = copyCase('multi-port');
    writeFileSync(join(dir, 'ipvsadm.txt'), '-A -t 10.96.0.130:80 -s rr\n');
    const r = kpsim('golden', dir);
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toBe('0 passed, 0 failed, 1 skipped');
    expect(r.stdout).toContain('ipvsadm.txt: not checked: kpsim does not build IPVS mode');
  });

  it('exit 2 on usage errors', () => {
    expect(kpsim('golden', join(TMP, 'no-such-dir')).code).toBe(2);
    const empty = mkdtempSync(join(TMP, 'empty-'));
    expect(kpsim('golden', empty).code).toBe(2);
    expect(kpsim('golden').code).toBe(2);
    expect(kpsim('golden', 'init', join(TMP, 'x')).code).toBe(2);
  });

  it('--json and --junit describe every check; failures carry a diff or both flow answers', () => {
    const { dir, original } = copyCase('three-endpoint-split');
    writeFileSync(join(dir, 'iptables-save.txt'), original.get('iptables-save.txt')!.replace('0.3333333333', '0.3333333334'));
    writeFileSync(join(dir, 'flows.yaml'), original.get('flows.yaml')!.replace('715827883/2147483648', '1/3'));
    const junit = join(TMP, 'report.xml');
    const r = kpsim('golden', dir, '--json', '--junit', junit);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.summary).toEqual({ passed: 0, failed: 1, skipped: 0 });
    const checks = report.cases[0].checks as { kind: string; status: string; diff?: string; flow?: { expected: { probabilities: Record<string, string> }; actual: { probabilities: Record<string, string>; paths: string[] } } }[];
    const file = checks.find((k) => k.kind === 'file' && k.status === 'fail')!;
    expect(file.diff).toMatch(/^--- .*iptables-save\.txt \(expected\)\n\+\+\+ /);
    expect(file.diff).toMatch(/^-.*0\.3333333334/m);
    const flow = checks.find((k) => k.kind === 'flow' && k.status === 'fail')!;
    expect(Object.values(flow.flow!.expected.probabilities)).toContain('1/3');
    expect(Object.keys(flow.flow!.actual.probabilities)).toEqual(Object.keys(flow.flow!.expected.probabilities));
    expect(flow.flow!.actual.paths).toHaveLength(3);
    expect(flow.flow!.actual.paths[0]).toMatch(/^\d+\/\d+ \S+: nat:PREROUTING:1 > nat:KUBE-SERVICES:\d+ > /);

    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="kpsim golden" tests="(\d+)" failures="2" skipped="0">/);
    const tests = Number(/tests="(\d+)"/.exec(xml)![1]);
    expect(tests).toBe(checks.length);
    expect(xml.match(/<testcase /g)).toHaveLength(tests);
    expect(xml.match(/<failure /g)).toHaveLength(2);
  });
});
