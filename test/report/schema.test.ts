// `kpsim trace --json` against its schema (schema/trace.schema.json) with Ajv: real output of every
// kind (single packets, --flows, --sample, IPVS, --no-paths, --verbose, --state, --reply, UNKNOWN),
// each object valid, with `schemaVersion`; and the schema itself strict enough to fail on an
// undocumented field or a missing one.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const EXAMPLE = 'examples/cluster.yaml';
const AFFINITY = 'golden/kpsim/session-affinity-within-timeout';
const TMP = mkdtempSync(join(tmpdir(), 'kpsim-schema-'));
const UNKNOWN_RULES = join(TMP, 'unknown.rules');

const schema = JSON.parse(readFileSync('schema/trace.schema.json', 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

function kpsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Each case's output, run once. */
const outputs = new Map<string, ReturnType<typeof kpsim>>();
const traced = (args: string[]) => {
  const key = args.join(' ');
  if (!outputs.has(key)) outputs.set(key, kpsim(['trace', ...args.map((a) => (a === 'UNKNOWN' ? UNKNOWN_RULES : a)), '--json']));
  return outputs.get(key)!;
};

beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  writeFileSync(UNKNOWN_RULES, '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -m devgroup --src-group 0x1 -j ACCEPT\n-A FORWARD -p tcp -m tcp --dport 443 -j ACCEPT\nCOMMIT\n');
});

const CASES: [string, string[]][] = [
  ['ClusterIP, three endpoints', [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http']],
  ['NodePort with masquerade and affinity', [EXAMPLE, '--src', '203.0.113.9', '--dst', 'shop/api:grpc', '--via', 'nodeport']],
  ['--verbose', [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '--verbose']],
  ['--no-paths', [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '--no-paths']],
  ['--state established', [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '--state', 'established']],
  ['--state invalid', [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '--state', 'invalid']],
  ['--reply', [EXAMPLE, '--src', '203.0.113.9', '--dst', 'shop/api:grpc', '--via', 'nodeport', '--reply', '--verbose']],
  ['--sample', [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http', '--sample', '100']],
  ['IPVS, verbose', ['--mode', 'ipvs', EXAMPLE, '--src', '203.0.113.9', '--dst', 'shop/api', '--via', 'nodeport', '--verbose']],
  ['IPVS', ['--mode', 'ipvs', EXAMPLE, '--src', '203.0.113.9', '--dst', '10.96.0.10:80']],
  ['--flows with affinity', [join(AFFINITY, 'cluster.yaml'), '--flows', join(AFFINITY, 'flows.yaml')]],
  ['--flows --no-paths', [join(AFFINITY, 'cluster.yaml'), '--flows', join(AFFINITY, 'flows.yaml'), '--no-paths']],
  ['--flows --sample', [join(AFFINITY, 'cluster.yaml'), '--flows', join(AFFINITY, 'flows.yaml'), '--sample', '10']],
  ['a dump with an UNKNOWN match', ['--rules', 'UNKNOWN', '--node-ip', '192.168.0.2', '--src', '192.168.1.5', '--dst', '10.1.2.3:80', '--verbose']],
  ['ICMP', [EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.10', '-p', 'icmp']],
];

describe('kpsim trace --json follows schema/trace.schema.json', () => {
  it.each(CASES)('%s', (_, args) => {
    const r = traced(args);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const o = JSON.parse(line);
      expect(validate(o), ajv.errorsText(validate.errors)).toBe(true);
      expect(o.schemaVersion).toBe(1);
    }
  });

  it('the outputs together use every field the schema documents', () => {
    const seen = new Set<string>();
    const walk = (v: unknown, path: string) => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, `${path}[]`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { seen.add(`${path}.${k}`); walk(x, `${path}.${k}`); }
    };
    for (const [, args] of CASES) for (const line of traced(args).stdout.trim().split('\n')) walk(JSON.parse(line), '');
    const documented: string[] = [];
    const props = (s: { properties?: Record<string, unknown>; $ref?: string; items?: unknown }, path: string, depth = 0): void => {
      if (depth > 6) return;
      const d = s.$ref ? schema.$defs[s.$ref.split('/').at(-1)!] : s;
      for (const [k, sub] of Object.entries(d.properties ?? {})) {
        documented.push(`${path}.${k}`);
        const x = sub as { type?: string; items?: unknown; $ref?: string; properties?: unknown };
        if (x.items) props(x.items as never, `${path}.${k}[]`, depth + 1);
        else props(x as never, `${path}.${k}`, depth + 1);
      }
    };
    props(schema, '');
    // `approximate` needs more states than a test should make.
    expect(documented.filter((p) => !seen.has(p) && p !== '.approximate')).toEqual([]);
  });

  it('the schema refuses an object without schemaVersion, and any undocumented field', () => {
    const o = JSON.parse(traced(CASES[0][1]).stdout);
    expect(validate(o)).toBe(true);
    const { schemaVersion: _, ...without } = o;
    expect(validate(without)).toBe(false);
    expect(validate({ ...o, extra: 1 })).toBe(false);
    expect(validate({ ...o, outcomes: [{ ...o.outcomes[0], path: [{ ...o.outcomes[0].path[0], surprise: true }] }] })).toBe(false);
  });
});
