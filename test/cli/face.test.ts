// What a new user trips over (issue "The face"): outputs into folders that do not exist, partial
// output on error, compile options for golden init, and the warnings that say what kpsim assumed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const EXAMPLE = 'examples/cluster.yaml';

function kpsim(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp = '';
beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  tmp = mkdtempSync(join(tmpdir(), 'kpsim-face-'));
});

const noStack = (stderr: string) => expect(stderr).not.toMatch(/internal error|\n\s+at /);

describe('outputs that cannot be written are usage errors, checked before any work', () => {
  it.each([
    ['compile into a missing folder', () => ['compile', EXAMPLE, '-o', join(tmp, 'missing', 'node.rules')], 'does not exist'],
    ['compile onto a directory', () => ['compile', EXAMPLE, '-o', tmp], 'is a directory'],
    ['compile into a missing folder named with a slash', () => ['compile', EXAMPLE, '-o', `${join(tmp, 'newdir')}/`], 'names a folder (it ends with a slash)'],
    ['IPVS artefacts into a file', () => ['compile', '--mode', 'ipvs', EXAMPLE, '-o', EXAMPLE], 'is a file'],
    ['parse into a missing folder', () => ['parse', 'test/fixtures/dumps/docker-28.iptables', '-o', join(tmp, 'no', 'x')], 'does not exist'],
    ['trace into a directory', () => ['trace', EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '-o', tmp], 'is a directory'],
    ['golden --junit into a missing folder', () => ['golden', 'golden/kpsim', '--junit', join(tmp, 'no', 'j.xml')], 'does not exist'],
  ])('%s', (_, args, message) => {
    const r = kpsim(args());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    noStack(r.stderr);
    expect(r.stdout).toBe('');
  });

  it('a write the OS refuses is a clear error, exit 1', () => {
    const ro = join(tmp, 'ro');
    mkdirSync(ro, { recursive: true });
    execFileSync('chmod', ['a-w', ro]);
    // root writes anyway; only a user without the privilege sees the refusal.
    const r = kpsim(['compile', EXAMPLE, '-o', join(ro, 'node.rules')]);
    if (process.getuid?.() === 0) expect(r.code).toBe(0);
    else {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('permission denied');
    }
    noStack(r.stderr);
  });
});

describe('nothing half-written on error', () => {
  const bad = () => {
    const f = join(tmp, 'bad.rules');
    writeFileSync(f, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j BOGUS\nCOMMIT\n');
    return f;
  };
  it('parse -o keeps the old file', () => {
    const keep = join(tmp, 'keep.rules');
    writeFileSync(keep, 'old content\n');
    const r = kpsim(['parse', bad(), '-o', keep]);
    expect(r.code).toBe(1);
    expect(readFileSync(keep, 'utf8')).toBe('old content\n');
  });
  it('parse without -o prints no rules, only the diagnostics', () => {
    const r = kpsim(['parse', bad()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('IPT_UNKNOWN_CHAIN');
  });
  it('parse of a binary file echoes none of it', () => {
    const r = kpsim(['parse', '/usr/bin/true']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});

describe('golden init takes the compile options and keeps them with the case', () => {
  it('a two-node input with --node makes a case that verifies', () => {
    const two = join(tmp, 'two.yaml');
    const text = readFileSync(EXAMPLE, 'utf8').replace(/^hostnameOverride: .*\n/m, '');
    writeFileSync(two, text);
    const dir = join(tmp, 'case-two');
    expect(kpsim(['golden', 'init', dir, two]).stderr).toContain('choose one with --node NAME');
    const r = kpsim(['golden', 'init', dir, two, '--node', 'worker-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'options.yaml'), 'utf8')).toContain('node: "worker-1"');
    const v = kpsim(['golden', dir]);
    expect(v.code).toBe(0);
    expect(v.stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });
  it('a bad options.yaml is reported at its line and column', () => {
    const dir = join(tmp, 'case-opts');
    expect(kpsim(['golden', 'init', dir, EXAMPLE]).code).toBe(0);
    writeFileSync(join(dir, 'options.yaml'), 'node: worker-1\nfamilly: ipv6\n');
    const v = kpsim(['golden', dir]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/options\.yaml:2:1: error\[GOLDEN_BAD_OPTIONS\]/);
  });
});

describe('every silent assumption is a one-line warning', () => {
  it('--rules without a node address', () => {
    const r = kpsim(['trace', '--rules', 'test/fixtures/dumps/docker-28.iptables', '--src', '10.0.0.2', '--dst', '10.96.0.1:80']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning[TRACE_NO_NODE_ADDRESS]');
    expect(kpsim(['trace', '--rules', 'test/fixtures/dumps/docker-28.iptables', '--node-ip', '192.168.0.2', '--src', '10.0.0.2', '--dst', '10.96.0.1:80']).stderr).not.toContain('TRACE_NO_NODE_ADDRESS');
  });
  it('an empty ruleset (iptables-save not run as root)', () => {
    const empty = join(tmp, 'empty.rules');
    writeFileSync(empty, '');
    const r = kpsim(['trace', '--rules', empty, '--node-ip', '192.168.0.2', '--src', '10.0.0.2', '--dst', '10.96.0.1:80']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning[NODE_EMPTY_RULESET]');
  });
  it('--via with an address', () => {
    const r = kpsim(['trace', EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.10:80', '--via', 'nodeport']);
    expect(r.stderr).toContain('warning[TRACE_VIA_IGNORED]');
    expect(kpsim(['trace', EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.10:80']).stderr).toBe('');
  });
  it('-p icmp with a port: the port is not part of the packet', () => {
    const r = kpsim(['trace', EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.10:80', '-p', 'icmp', '--json']);
    expect(r.stderr).toContain('warning[TRACE_ICMP_PORT]');
    expect(JSON.parse(r.stdout).packet.destPort).toBeNull();
  });
});

describe('help', () => {
  it.each([['compile'], ['parse'], ['trace'], ['golden'], ['golden', 'init'], ['explain'], ['diff'], ['lint']])('kpsim %s --help ends with examples that name the command', (...cmd) => {
    const r = kpsim([...cmd, '--help']);
    expect(r.code).toBe(0);
    const tail = r.stdout.slice(r.stdout.lastIndexOf('Examples:'));
    expect(r.stdout.lastIndexOf('Examples:')).toBeGreaterThan(0);
    const lines = tail.trim().split('\n').slice(1);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toContain(`kpsim ${cmd.join(' ')}`);
  });
});

describe('kube-proxy tolerates it: kpsim warns and does what kube-proxy does', () => {
  it('an EndpointSlice port name that matches no Service port: the port has no endpoints, so REJECT', () => {
    const f = join(tmp, 'unknown-port.yaml');
    const src = readFileSync(EXAMPLE, 'utf8');
    const at = src.indexOf('name: web-x7k2p');
    const portAt = src.indexOf('- name: http', at);
    const text = src.slice(0, portAt) + '- name: htttp' + src.slice(portAt + '- name: http'.length);
    expect(text).toContain('htttp');
    writeFileSync(f, text);
    const r = kpsim(['compile', '--format', 'restore', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning[EPS_UNKNOWN_PORT]');
    expect(r.stdout).toMatch(/shop\/web:http has no endpoints.* -j REJECT/);
  });
  it.each([['accept-ipvs-traffic', 'EPS_NO_ADDRESS_TYPE'], ['node-port-ipv6-ipv4-service-ignored', 'EPS_WRONG_FAMILY']])('kube-proxy-ipvs case %s compiles with a warning', (c, code) => {
    const r = kpsim(['compile', '--mode', 'ipvs', `golden/kube-proxy-ipvs/${c}/cluster.yaml`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning[${code}]`);
  });
});

describe('exit codes: 1 for bad input, 2 for bad usage', () => {
  it.each([
    ['a missing input file', ['compile', 'no/such/cluster.yaml'], 1, 'cannot read no/such/cluster.yaml: no such file or directory'],
    ['a missing dump', ['trace', '--rules', 'no-such.rules', '--src', '10.0.0.1', '--dst', '10.0.0.2:80'], 1, 'no such file or directory'],
    ['a folder without inputs', ['compile', 'bin'], 1, 'bin: the folder holds no .yaml, .yml or .json files'],
    ['a folder where a dump is expected', ['parse', 'golden'], 2, 'golden is a directory; give the iptables-save dump'],
    ['--src that is no address', ['trace', EXAMPLE, '--src', 'banana', '--dst', '10.96.0.10:80'], 2, 'banana'],
    ['--node-ip out of range', ['compile', EXAMPLE, '--node-ip', '999.1.1.1'], 2, '--node-ip 999.1.1.1: expected an IPv4 or IPv6 address'],
    ['--node-ip out of range in trace', ['trace', '--rules', 'test/fixtures/dumps/docker-28.iptables', '--node-ip', '999.1.1.1', '--src', '10.0.0.1', '--dst', '10.0.0.2:80'], 2, "'999.1.1.1' is not an IPv4 or IPv6 address"],
    ['--cluster-cidr that is no CIDR', ['compile', EXAMPLE, '--cluster-cidr', '10.0.0.0/40'], 2, 'is not a CIDR'],
    ['an unknown flag', ['compile', EXAMPLE, '--bogus'], 2, "unknown option '--bogus'"],
    ['--interfaces with an address that is none', ['trace', '--rules', 'test/fixtures/dumps/docker-28.iptables', '--interfaces', 'eth0=10.0.0.1/33', '--src', '10.0.0.1', '--dst', '10.0.0.2:80'], 2, "--interfaces: '10.0.0.1/33': expected an ADDRESS/LENGTH"],
  ])('%s', (_, args, code, message) => {
    const r = kpsim(args as string[]);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
    noStack(r.stderr);
  });
});

describe('golden init writes the packets that must not get through', () => {
  it('a client outside loadBalancerSourceRanges (DROP) and a pod to a port nothing serves (no DNAT)', () => {
    const dir = join(tmp, 'case-negative');
    expect(kpsim(['golden', 'init', dir, EXAMPLE]).code).toBe(0);
    const flows = readFileSync(join(dir, 'flows.yaml'), 'utf8');
    expect(flows).toMatch(/- name: client outside loadBalancerSourceRanges to load-balancer IP of\s+edge\/ingress:https\n(?:.*\n){4}  output: "DROP"/);
    expect(flows).toMatch(/- name: client inside loadBalancerSourceRanges to load-balancer IP of\s+edge\/ingress:https\n(?:.*\n){4}  output: "10\.244\.1\.20:8443"/);
    expect(flows).toMatch(/- name: pod to unserved port 81 of cluster IP of shop\/web\n(?:.*\n){4}  output: ""/);
    expect(kpsim(['golden', dir]).code).toBe(0);
  });
});

describe('more assumptions said', () => {
  it('no KubeProxyConfiguration: defaults, and no masquerade from outside the pods without a clusterCIDR', () => {
    const f = join(tmp, 'no-config.yaml');
    const text = readFileSync(EXAMPLE, 'utf8');
    const start = text.indexOf('apiVersion: kubeproxy.config.k8s.io/v1alpha1');
    const end = text.indexOf('\n---', start);
    writeFileSync(f, text.slice(0, start) + text.slice(end + 5));
    const r = kpsim(['compile', f, '--node', 'worker-1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning[CFG_DEFAULTS]');
    expect(r.stderr).toContain('clusterCIDR empty');
    expect(kpsim(['compile', f, '--node', 'worker-1', '--cluster-cidr', '10.244.0.0/16']).stderr).not.toContain('clusterCIDR empty');
    expect(kpsim(['compile', EXAMPLE]).stderr).not.toContain('CFG_DEFAULTS');
  });
  it('a TCP flow without destPort', () => {
    const f = join(tmp, 'flows-noport.yaml');
    writeFileSync(f, '- name: no port\n  sourceIP: 10.244.1.7\n  protocol: TCP\n  destIP: 10.96.0.10\n');
    const r = kpsim(['trace', EXAMPLE, '--flows', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/flows-noport\.yaml:1:3: warning\[SIM_FLOW_ASSUMED\]: flow 1: no destPort for tcp/);
  });
});
