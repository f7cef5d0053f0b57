// Reading without positions (JSON.parse, js-yaml) and re-reading with them only the documents that
// have a problem gives exactly what reading everything with positions gives: the same diagnostics
// (code, severity, file, line, column, message, notes) and the same objects (origins included).
// Checked on every loading test input, every golden case's cluster, kubectl-shaped files with the
// bad object in the middle, and random mutations of kubectl documents; and the fast path is taken.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster, type InputText, type LoadStats } from '../../src/model/load.js';
import { mulberry32 } from '../../src/util/rng.js';
import { damage } from './damage.js';
import { clusterFiles, DIAGNOSTIC_CASES, OTHER_INPUTS } from './diagnostic-inputs.js';
import { kubectlCluster, kubectlObjects, kubectlYaml, type KubectlShape } from './kubectl-cluster.js';

function read(inputs: InputText[], positions: 'always' | 'when-needed') {
  const sink = new DiagnosticSink();
  const stats: LoadStats = { fast: 0, positioned: 0, positionedItems: 0 };
  const cluster = loadCluster(inputs, sink, { positions, stats });
  const loaded = { ...stats };
  // Origins' spans are getters on the fast path: stringifying asks each for its position.
  const objects = JSON.stringify(cluster, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  return { diagnostics: sink.items, objects, stats: loaded };
}

/** Reads both ways and requires the same result; returns the fast path's statistics. */
function expectSame(inputs: InputText[]): LoadStats {
  const reference = read(inputs, 'always');
  const fast = read(inputs, 'when-needed');
  expect(fast.diagnostics).toEqual(reference.diagnostics);
  expect(fast.objects).toEqual(reference.objects);
  return fast.stats;
}

const SHAPES: [KubectlShape, string][] = [
  ['multidoc', 'cluster.yaml'],
  ['list-yaml', 'list.yaml'],
  ['list-json', 'cluster.json'],
];

describe('the fast path reads what positioned reading reads', () => {
  it.each([...DIAGNOSTIC_CASES.map(([n, t]) => [n, t] as const), ...OTHER_INPUTS])('%s', (_name, text) => {
    expectSame([{ name: 'c.yaml', text }]);
  });

  it('on every golden case and example cluster', () => {
    const files = [...clusterFiles('golden'), 'examples/cluster.yaml'];
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) expectSame([{ name: f, text: readFileSync(f, 'utf8') }]);
  });

  it.each(SHAPES)('reads valid kubectl output (%s) without positions', (shape, name) => {
    const stats = expectSame([{ name, text: kubectlCluster({ services: 40, endpointsPer: 3 }, shape) }]);
    expect(stats).toEqual({ fast: shape === 'multidoc' ? 84 : 1, positioned: 0, positionedItems: 0 });
  });
});

// A fault in object 30 of 60 services (services come first, then slices, then nodes), and what
// it makes of a multi-document file: the one document read with positions (1), or none (0).
const SVC = 'svc-30';
type Expect = { readonly diagnostics: boolean; readonly positioned: 0 | 1 };
const REPORTED: Expect = { diagnostics: true, positioned: 1 };
const objectFaults: [string, Expect, (o: Record<string, any>) => void][] = [
  ['target port out of range', REPORTED, (o) => (o.spec.ports[0].targetPort = 70000)],
  ['port as a string', REPORTED, (o) => (o.spec.ports[0].port = '80')],
  ['bad cluster IP', REPORTED, (o) => (o.spec.clusterIP = '10.96.0.300')],
  ['no kind', REPORTED, (o) => delete o.kind],
  ['sloppy IP (a warning)', REPORTED, (o) => (o.spec.clusterIP = '172.020.0.30')],
  ['metadata not a map', REPORTED, (o) => (o.metadata = ['a'])],
  // Found by a check across objects: positions found for the two objects only.
  ['a second Service of the same name', { diagnostics: true, positioned: 0 }, (o) => Object.assign(o.metadata, { name: 'svc-29', namespace: 'ns-29' })],
];
/** Edits the text from the Service's name line on. */
function afterName(text: string, shape: KubectlShape, edit: (rest: string) => string): string {
  const at = text.indexOf(shape === 'list-json' ? `"name": "${SVC}"` : `name: ${SVC}\n`);
  const lineStart = text.lastIndexOf('\n', at) + 1;
  return text.slice(0, lineStart) + edit(text.slice(lineStart));
}
/** Replaces the Service's name line (`"name": "svc-30",` or `name: svc-30`) keeping its indentation. */
const nameLine = (json: string, yaml: string) => (t: string, s: KubectlShape) =>
  afterName(t, s, (r) => (s === 'list-json' ? r.replace(/^(\s*)"name": "svc-30",/, (_m, i: string) => json.replaceAll('$i', i)) : r.replace(/^(\s*)name: svc-30\n/, (_m, i: string) => yaml.replaceAll('$i', i))));
const VALID: Expect = { diagnostics: false, positioned: 1 };
const textFaults: [string, Expect | ((s: KubectlShape) => Expect), (text: string, shape: KubectlShape) => string][] = [
  ['duplicate key', REPORTED, nameLine('$i"name": "svc-30",\n$i"name": "again",', '$iname: svc-30\n$iname: again\n')],
  ['unclosed flow sequence', REPORTED, nameLine('$i"name": ["svc-30",', '$iname: [svc-30\n')],
  // JSON allows a tab where YAML indentation does not.
  ['a tab in the indentation', (s) => (s === 'list-json' ? { diagnostics: false, positioned: 0 } : REPORTED), (t, s) => afterName(t, s, (r) => r.replace(/^( *)(name|"name")/, '$1\t$2'))],
  ['an anchor and an alias', VALID, nameLine('$i"name": &n "svc-30", "nameAgain": *n,', '$iname: &n svc-30\n$inameAgain: *n\n')],
  ['an explicit tag', VALID, nameLine('$i"name": !!str "svc-30",', '$iname: !!str svc-30\n')],
  // In a flow mapping (JSON) `yaml` takes the next line as the string's continuation.
  ['a quoted continuation line not indented', (s) => (s === 'list-json' ? VALID : REPORTED), nameLine('$i"name": "svc\n-30",', '$iname: "svc\n-30"\n')],
];

describe('a bad object in the middle of a large file', () => {
  const objects = () => kubectlObjects({ services: 60, endpointsPer: 3 });
  const render = (objs: Record<string, any>[], shape: KubectlShape) => {
    if (shape === 'multidoc') return objs.map(kubectlYaml).join('---\n');
    const list = { apiVersion: 'v1', items: objs, kind: 'List', metadata: { resourceVersion: '' } };
    return shape === 'list-json' ? JSON.stringify(list, null, 4) + '\n' : kubectlYaml(list);
  };
  const cases = SHAPES.flatMap(([shape, name]) => [
    ...objectFaults.map(([fault, expected, edit]) => {
      const make = () => {
        const objs = objects();
        edit(objs[30]);
        return render(objs, shape);
      };
      return [`${fault} (${shape})`, shape, name, expected, make, true] as const;
    }),
    ...textFaults.map(([fault, expected, edit]) => [`${fault} (${shape})`, shape, name, typeof expected === 'function' ? expected(shape) : expected, () => edit(render(objects(), shape), shape), false] as const),
  ]);

  it.each(cases)('%s', (_n, shape, name, expected, make, inOneObject) => {
    const text = make();
    expect(text).not.toEqual(render(objects(), shape));
    const stats = expectSame([{ name, text }]);
    expect(read([{ name, text }], 'always').diagnostics.length > 0).toBe(expected.diagnostics);
    // The other documents of a multi-document file stay on the fast path.
    if (shape === 'multidoc') expect(stats).toEqual({ fast: 124 - expected.positioned, positioned: expected.positioned, positionedItems: 0 });
    // A problem in one item of a list: that item alone is read with positions.
    else if (inOneObject && expected.positioned) expect(stats).toEqual({ fast: 1, positioned: 0, positionedItems: 1 });
  });

  // The list's values are not kept after loading (they are several times the file's size): a
  // check after loading that asks for two items' positions reads the list again to check each
  // item read alone against its value, and finds both alone.
  it.each(SHAPES.filter(([shape]) => shape !== 'multidoc'))('a duplicate found after loading is located by its item alone (%s)', (shape, name) => {
    const objs = objects();
    Object.assign((objs[30] as Record<string, any>).metadata, { name: 'svc-29', namespace: 'ns-29' });
    const stats = expectSame([{ name, text: render(objs, shape) }]);
    expect(stats).toEqual({ fast: 1, positioned: 0, positionedItems: 2 });
  });

  it('an unclosed quote whose kind no later document holds takes the rest of the stream with it', () => {
    const docs = kubectlObjects({ services: 4, endpointsPer: 2 }).map(kubectlYaml);
    docs[2] = docs[2].replace('name: svc-2\n', "name: 'svc-2\n");
    const text = docs.join('---\n');
    expect(text.indexOf("'", text.indexOf("'svc-2") + 1)).toBe(-1);
    const stats = expectSame([{ name: 'c.yaml', text }]);
    expect(stats).toEqual({ fast: 2, positioned: 1, positionedItems: 0 });
  });
});

describe('random damage to kubectl documents', () => {
  const base = (shape: KubectlShape) => kubectlCluster({ services: 3, endpointsPer: 2, nodes: 1 }, shape);
  const DAMAGE = [' ', '\t', '\n', ':', '-', '#', '"', "'", '{', '}', '[', ']', ',', '&a ', '*a', '!', '|', '>', '?', '%', '@', '`', '---\n', '...\n', '\\', 'ü', '0'];
  it.each(SHAPES)('%s', (shape, name) => {
    const rand = mulberry32(shape.length * 7919);
    const text = base(shape);
    let differed = 0;
    for (let n = 0; n < 150; n++) {
      const t = damage(text, rand, DAMAGE, 1 + Math.floor(rand() * 2));
      if (t !== text) differed++;
      expectSame([{ name, text: t }]);
    }
    expect(differed).toBeGreaterThan(140);
  });
});
