// The text report of representative traces, end to end through the kpsim executable, against
// expected outputs in test/fixtures/traces/*.txt (plain text, reviewed in diffs). After a
// deliberate change, `KPSIM_UPDATE_TRACES=1 npx vitest run test/report/text-golden.test.ts`
// rewrites them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const DIR = 'test/fixtures/traces';
const UPDATE = process.env.KPSIM_UPDATE_TRACES === '1';
const EXAMPLE = 'examples/cluster.yaml';
const AFFINITY = 'golden/kpsim/session-affinity-within-timeout';
const TMP = mkdtempSync(join(tmpdir(), 'kpsim-traces-'));

beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

/** name -> the trace's arguments (paths under test/fixtures/traces as written there). */
const CASES: Record<string, string[]> = {
  'clusterip-3-endpoints': [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http'],
  'clusterip-3-endpoints-verbose': [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '--verbose'],
  'nodeport-masquerade-affinity': [EXAMPLE, '--src', '203.0.113.9', '--dst', 'shop/api:grpc', '--via', 'nodeport'],
  'affinity-flows': [join(AFFINITY, 'cluster.yaml'), '--flows', join(AFFINITY, 'flows.yaml')],
  'ipvs-clusterip': ['--mode', 'ipvs', EXAMPLE, '--src', '203.0.113.9', '--dst', '10.96.0.10:80'],
  'ipvs-persistence': ['--mode', 'ipvs', EXAMPLE, '--src', '203.0.113.9', '--dst', 'shop/api', '--via', 'nodeport'],
  'unknown-fork': ['--rules', join(DIR, 'unknown.rules'), '--node-ip', '192.168.0.2', '--src', '192.168.1.5', '--dst', '10.1.2.3:80'],
  'unknown-fork-verbose': ['--rules', join(DIR, 'unknown.rules'), '--node-ip', '192.168.0.2', '--src', '192.168.1.5', '--dst', '10.1.2.3:80', '--verbose'],
  'reply-nodeport': [EXAMPLE, '--src', '203.0.113.9', '--dst', 'shop/api:grpc', '--via', 'nodeport', '--reply'],
  'state-established': [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '--state', 'established'],
  'ten-endpoints-dump': ['--rules', join(DIR, 'ten-endpoints.rules'), '--node-ip', '192.168.0.2', '--src', '10.1.2.3', '--dst', '172.16.0.1:80'],
  'ten-endpoints-exact-no-paths': ['--rules', join(DIR, 'ten-endpoints.rules'), '--node-ip', '192.168.0.2', '--src', '10.1.2.3', '--dst', '172.16.0.1:80', '--exact', '--no-paths'],
};

describe('kpsim trace, the text report', () => {
  it.each(Object.entries(CASES))('%s', (name, args) => {
    const r = spawnSync(process.execPath, [BIN, 'trace', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const file = join(DIR, `${name}.txt`);
    const text = `$ kpsim trace ${args.join(' ')}\n${r.stdout}`;
    if (UPDATE) writeFileSync(file, text);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });

  it('prints no escape codes into a file (-o), and colours only a terminal', () => {
    const out = join(TMP, 'trace.txt');
    const r = spawnSync(process.execPath, [BIN, 'trace', ...CASES['clusterip-3-endpoints'], '-o', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toContain('\x1b[');
  });
});
