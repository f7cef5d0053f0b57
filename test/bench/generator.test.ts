// The benchmark's cluster generator (bench/kubectl/): the files must be what kubectl writes, with
// its metadata, in all shapes; every shape must hold the very same objects; and `kpsim compile`
// must read each shape to the same rules.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeShapes, SHAPES, type Shape } from '../../bench/kubectl/files.js';
import { bareObject, kubectlCluster, type Json } from '../../bench/kubectl/objects.js';
import { kubectlYaml } from '../../bench/kubectl/yaml.js';

const BIN = 'dist/bin/kpsim.js';
const SERVICES = 20;
type Obj = { [key: string]: Json };

const cluster = kubectlCluster(SERVICES, 7);
const dir = mkdtempSync(join(tmpdir(), 'kpsim-bench-gen-'));
const files = Object.fromEntries(Object.entries(SHAPES).map(([k, v]) => [k, join(dir, v.file)])) as Record<Shape, string>;

beforeAll(async () => {
  writeShapes(cluster.items, cluster.config, files);
  if (!existsSync(BIN)) await promisify(execFile)('npm', ['run', 'build']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kinds = (items: Obj[]) => items.map((o) => o.kind);
const meta = (o: Obj) => o.metadata as Obj;

describe('kubectl-shaped files', () => {
  it('hold the same objects in every kubectl shape', () => {
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as Obj;
    const list = parse(readFileSync(files.list, 'utf8')) as Obj;
    const multi = parseAllDocuments(readFileSync(files.multi, 'utf8')).map((d) => d.toJS() as Obj);
    expect(json.kind).toBe('List');
    expect(list.kind).toBe('List');
    expect(json.items).toEqual(cluster.items);
    expect(list.items).toEqual(cluster.items);
    expect(multi).toEqual(cluster.items);
    expect(kinds(cluster.items).filter((k) => k === 'Service')).toHaveLength(SERVICES);
    expect(kinds(cluster.items).filter((k) => k === 'EndpointSlice')).toHaveLength(SERVICES);
    expect(kinds(cluster.items)).toContain('Node');
  });

  it('are spelled as kubectl spells them: 4-space JSON, keys in byte order, unindented YAML lists', () => {
    const json = readFileSync(files.json, 'utf8');
    expect(json.startsWith('{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "apiVersion": "v1",\n            "kind": "Service",\n            "metadata": {\n                "annotations": {\n')).toBe(true);
    expect(json.endsWith('    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')).toBe(true);
    const list = readFileSync(files.list, 'utf8');
    expect(list.startsWith('apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    annotations:\n      kubectl.kubernetes.io/last-applied-configuration: |\n        {"apiVersion":"v1"')).toBe(true);
    expect(list).toMatch(/\n {4}creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\n/);
    expect(list).toMatch(/\n {4}resourceVersion: "\d+"\n/);
    expect(list).toMatch(/\n {4}managedFields:\n {4}- apiVersion: v1\n {6}fieldsType: FieldsV1\n {6}fieldsV1:\n {8}f:metadata:\n/);
    expect(list).toMatch(/\n {12}\.: \{\}\n/);
    expect(list).toMatch(/\n {12}k:\{"port":\d+,"protocol":"(TCP|UDP)"\}:\n/);
    expect(list).toMatch(/\n {4}clusterIP: 10\.96\.\d+\.\d+\n/);
    expect(list.endsWith('kind: List\nmetadata:\n  resourceVersion: ""\n')).toBe(true);
  });

  it('carry what kubectl and the controllers add', () => {
    for (const o of cluster.items) {
      const m = meta(o);
      expect(m.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(m.resourceVersion).toMatch(/^\d+$/);
      expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Object.keys(m.labels as Obj).length).toBeGreaterThan(0);
      const managed = m.managedFields as Obj[];
      expect(managed.length).toBeGreaterThan(0);
      for (const f of managed) {
        expect(f.fieldsType).toBe('FieldsV1');
        expect(Object.keys(f.fieldsV1 as Obj).every((k) => /^[fkv]:|^\.$/.test(k))).toBe(true);
      }
    }
    for (const svc of cluster.items.filter((o) => o.kind === 'Service')) {
      const applied = JSON.parse((meta(svc).annotations as Obj)['kubectl.kubernetes.io/last-applied-configuration'] as string) as Obj;
      expect(applied).toMatchObject({ kind: 'Service', metadata: { name: meta(svc).name, namespace: meta(svc).namespace } });
      expect(svc.status).toBeDefined();
    }
    for (const node of cluster.items.filter((o) => o.kind === 'Node')) expect((node.status as Obj).nodeInfo).toBeDefined();
  });

  it('bare objects keep only what a person writes', () => {
    const bare = parseAllDocuments(readFileSync(files.bare, 'utf8')).map((d) => d.toJS() as Obj);
    expect(bare[0]).toEqual(cluster.config);
    expect(bare.slice(1)).toEqual(cluster.items.map(bareObject));
    for (const o of bare.slice(1)) expect(Object.keys(meta(o)).sort()).toEqual(o.kind === 'EndpointSlice' ? ['labels', 'name', 'namespace'] : o.kind === 'Node' ? ['name'] : ['name', 'namespace']);
  });

  it('depend on the seed alone', () => {
    expect(kubectlCluster(SERVICES, 7)).toEqual(cluster);
    expect(kubectlCluster(SERVICES, 8).items).not.toEqual(cluster.items);
  });

  it('kpsim compile reads every shape to the same rules', async () => {
    const run = (inputs: string[]) => promisify(execFile)(process.execPath, [BIN, 'compile', ...inputs], { maxBuffer: 1 << 26 });
    const config = join(dir, 'config.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(config, kubectlYaml(cluster.config));
    const outs = await Promise.all([run([config, files.json]), run([config, files.list]), run([config, files.multi]), run([files.bare])]);
    for (const o of outs) expect(o.stderr).toBe('');
    expect(outs[0].stdout).toMatch(/^-A KUBE-SVC-/m);
    expect(outs[0].stdout.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('DNAT')).length).toBeGreaterThan(SERVICES);
    for (const o of outs.slice(1)) expect(o.stdout).toBe(outs[0].stdout);
  });
});

describe('kubectlYaml', () => {
  it('quotes what plain text would read as something else, as yaml.v2 does', () => {
    const values: Obj = { a: '0', b: 'true', c: 'yes', d: '2024-03-04T08:00:00Z', e: '', f: '1e3', g: '10:20', h: '0x1F', i: 'null', j: '~' };
    const text = kubectlYaml(values);
    for (const [k, v] of Object.entries(values)) expect(text).toContain(`${k}: ${JSON.stringify(v)}\n`);
    expect(parse(text)).toEqual(values);
  });

  it('writes plain what reads back as the same string, and single-quotes what cannot be plain', () => {
    const values: Obj = { ip: '10.96.0.10', dot: '.', key: 'k:{"port":80,"protocol":"TCP"}', size: '7910m', brace: '{x}', colon: 'a: b', hash: 'a #b', lead: '-' };
    const text = kubectlYaml(values);
    for (const k of ['ip', 'dot', 'key', 'size']) expect(text).toContain(`${k}: ${values[k] as string}\n`);
    for (const k of ['brace', 'colon', 'hash', 'lead']) expect(text).toContain(`${k}: '${values[k] as string}'\n`);
    expect(parse(text)).toEqual(values);
  });

  it('writes multi-line strings as literal blocks, nested lists and empty values as kubectl does', () => {
    const v: Obj = { s: 'one\ntwo\n', t: 'x\ny', l: [[1, 2], { a: {} }, []], m: {} };
    const text = kubectlYaml(v);
    expect(text).toBe('l:\n- - 1\n  - 2\n- a: {}\n- []\nm: {}\ns: |\n  one\n  two\nt: |-\n  x\n  y\n');
    expect(parse(text)).toEqual(v);
  });
});
