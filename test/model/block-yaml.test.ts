// readBlockYaml against the `yaml` library, document by document: whenever the block reader gives
// a value, the `yaml` library reads the document without an error and to exactly that value;
// whatever the `yaml` library reports, the block reader refuses. Over every YAML file of the
// project, kubectl's output in every shape, documents written to exercise each construct, and
// thousands of damaged copies of them; and the block reader must take most of the valid ones
// (else the comparison proves nothing of it).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readBlockYaml } from '../../src/model/block-yaml.js';
import { splitDocuments } from '../../src/model/documents.js';
import { mulberry32 } from '../../src/util/rng.js';
import { damage } from './damage.js';
import { kubectlCluster } from './kubectl-cluster.js';

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

/** The `yaml` library's reading of one document, as positioned.ts reads it: its value, or null when it reports an error. */
function yamlValue(doc: string): { value: unknown } | null {
  const docs = parseAllDocuments(doc, { uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length !== 1 || docs[0].errors.length > 0) return null;
  try {
    return { value: docs[0].toJS({ maxAliasCount: 100 }) };
  } catch {
    return null;
  }
}

interface Tally {
  taken: number;
  documents: number;
}

/** Compares the two readers on every document of `text`. */
function compare(text: string, tally: Tally, what: string): void {
  for (const { start, end } of splitDocuments(text)) {
    tally.documents++;
    const block = readBlockYaml(text, start, end);
    if (block === null) continue;
    tally.taken++;
    const doc = text.slice(start, end);
    const reference = yamlValue(doc);
    if (reference === null) throw new Error(`${what}: the block reader read a document the yaml library refuses:\n${doc}`);
    expect(block.value, `${what}:\n${doc}`).toStrictEqual(reference.value);
  }
}

/** Documents written to exercise each construct the block reader takes, and its edges. */
const CONSTRUCTS = [
  'a: 1\nb: two\nc: "three"\nd: \'four\'\ne:\nf: ~\ng: null\nh: true\ni: FALSE\nj: 0o17\nk: 0x1F\nl: -12\nm: +3.5\nn: .inf\no: -.Inf\np: .NaN\nq: 1e3\nr: 1.\ns: .5\n',
  'list:\n- a\n- 2\n-\n- - nested\n',
  'list:\n  - a\n  -   b\n  - c: 1\n    d: 2\n  -\n    e: 3\n',
  'm:\n  n:\n    o: deep\n  p: []\n  q: {}\n  r: [ ]\n',
  'k:{"port":80,"protocol":"TCP"}:\n  .: {}\n  f:name: {}\n',
  'url: http://x.example/a#b\ncomment: value # a comment\nhash: a#b\ncolon: a:b\ntrailing: x   \n',
  '# a comment\na: 1\n  # indented comment\nb: 2\n\n\nc: 3\n',
  '"quoted key": 1\n\'single key\': 2\n"": 3\n',
  'esc: "a\\tb\\nc\\"d\\\\e\\/f\\x41\\u00e9\\U0001F600\\0\\a\\b\\e\\f\\r\\v\\N\\_\\L\\P\\ z"\nsq: \'it\'\'s\'\n',
  'lit: |\n  line one\n  line two\n\n  after blank\nnext: 1\n',
  'strip: |-\n  text\n\n\nkeep: |+\n  text\n\n\nclip: |\n  text\n\n\nend: 1\n',
  'seq:\n- |\n  in a sequence\n- x\n',
  'indent: |\n    four\n      six\n    four\nx: 1\n',
  'a: 1\nb: 2\na: 3\n',
  'a: b: c\n',
  'a:\n  b\n',
  'plain: multi\n  line\n',
  'q: "multi\n  line"\n',
  'flow: {a: 1}\n',
  'flow: [1, 2]\n',
  'anchor: &a 1\nalias: *a\n',
  'tag: !!str 1\n',
  'fold: >\n  folded\n',
  '? complex\n: value\n',
  'a:\n- x\nb: 1\n- y\n',
  '- top\n- level\n',
  'scalar document\n',
  '  indented: top\n',
  '---\na: 1\n',
  '--- \na: 1\n',
  '--- a\n',
  'a: 1\n...\n',
  '<<: {a: 1}\n',
  '__proto__: 1\n',
  'true: 1\n',
  '1: one\n',
  'null: x\n',
  '"1": one\n',
  'key : spaced\n',
  '-: dash key\n',
  '-x: dash plain\n',
  '?x: q\n',
  ':x: c\n',
  'a: -\n',
  'a: - b\n',
  'a: "x"y\n',
  'a: "x" # c\n',
  'a: "x"#c\n',
  'a: @x\n',
  'a: `x`\n',
  'a: %x\n',
  'a: ,x\n',
  'a: ]\n',
  'a: |2\n  x\n',
  'a: | # c\n  x\n',
  'a: |\n  x',
  'a: |\n\n  x\n',
  'a: |\n     \n  x\n',
  'a: |\n  x\n    \n',
  'a: |\n  x\nb: |\n  y\n',
  'a: |\nb: 1\n',
  'long: ' + 'x'.repeat(5000) + '\n',
  'x'.repeat(999) + ': ok\n',
  'x'.repeat(1100) + ': long key\n',
  'a:\n  - b\n  c: d\n',
  'a:\n    b: 1\n  c: 2\n',
  'a: "\\q"\n',
  'a: "\\x4"\n',
  'a: \'\n',
  'a: "unclosed\n',
  'caf\u00e9: \u00fc\n',
  'emoji: \ud83d\ude00\n',
  'a: b\n# end\n',
  '',
  '# only a comment\n',
];

describe('the block reader reads as the yaml library reads', () => {
  it('on every YAML file of the project', () => {
    const tally: Tally = { taken: 0, documents: 0 };
    const files = [...yamlFiles('golden'), ...yamlFiles('examples'), ...yamlFiles('test/fixtures')];
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) compare(readFileSync(f, 'utf8'), tally, f);
    // Hand-written golden clusters often use flow style (`{type: InternalIP, ...}`), which the
    // block reader leaves to the general one; kube-proxy's own cases and kubectl's output are block style.
    expect(tally.taken).toBeGreaterThan(1000);
    expect(tally.taken / tally.documents).toBeGreaterThan(0.6);
  });

  it('on kubectl output in every shape, and bare objects', () => {
    for (const bare of [false, true]) {
      for (const shape of ['multidoc', 'list-yaml'] as const) {
        const tally: Tally = { taken: 0, documents: 0 };
        compare(kubectlCluster({ services: 30, endpointsPer: 3, nodes: 2, bare }, shape), tally, `${shape}${bare ? ' bare' : ''}`);
        // Every document of kubectl's output is of the block style.
        expect(tally.taken).toBe(tally.documents);
      }
    }
  });

  it('on documents written for each construct and its edges', () => {
    const tally: Tally = { taken: 0, documents: 0 };
    for (const c of CONSTRUCTS) compare(c, tally, JSON.stringify(c));
    expect(tally.taken).toBeGreaterThan(15);
  });

  it('on damaged copies', () => {
    const rand = mulberry32(20261207);
    const DAMAGE = [' ', '  ', '\n', ':', ': ', '- ', '-', '#', ' #', '"', "'", '{', '}', '[', ']', '{}', '[]', ',', '&a ', '*a', '!', '|', '|-', '|+', '>', '?', '? ', '%', '@', '`', '---\n', '...\n', '\\', '\\"', "''", 'ü', '0', '1.5', 'true', '~', '\n  ', '\n- ', 'x: ', '\x01', '\x7f', '\x85', '\u2028', '\ufeff', '\t', '\r', '\r\n'];
    const bases = [...CONSTRUCTS.filter((c) => c.length > 0), kubectlCluster({ services: 2, endpointsPer: 2, nodes: 1 }, 'multidoc'), kubectlCluster({ services: 2, endpointsPer: 2, nodes: 1 }, 'list-yaml')];
    const tally: Tally = { taken: 0, documents: 0 };
    for (let n = 0; n < 4000; n++) {
      const base = bases[Math.floor(rand() * bases.length)];
      const t = damage(base, rand, DAMAGE, 1 + Math.floor(rand() * 3));
      compare(t, tally, `damage ${n}`);
    }
    // Damage leaves most documents readable, and the block reader takes many of them.
    expect(tally.taken).toBeGreaterThan(tally.documents / 5);
  });
});
