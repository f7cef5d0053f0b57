// Hostile input on every loading path: each file of test/fixtures/hostile (and the large ones made
// here) gets a diagnostic and exit 1 from a fresh kpsim process with a limited heap and a hard
// timeout, never a crash or a stack trace. No timing asserts: the timeout only stops a hang.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/util/rng.js';

const BIN = 'dist/bin/kpsim.js';
const FIXTURES = 'test/fixtures/hostile';
const TIMEOUT_MS = 120_000;
const HEAP_MB = 768;

let dir = '';
const OK_RULES = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
const PACKET = ['--src', '10.0.0.1', '--dst', '10.96.0.10:80'];

/** The loading paths: each turns a hostile file into a kpsim command line (and standard input). */
const PATHS: Record<string, (file: string) => { args: string[]; stdin?: string }> = {
  'compile FILE': (f) => ({ args: ['compile', f] }),
  'compile - (stdin)': (f) => ({ args: ['compile', '-'], stdin: f }),
  'golden (cluster.yaml)': (f) => {
    const c = join(dir, `case-${Math.random().toString(36).slice(2)}`);
    mkdirSync(c);
    copyFileSync(f, join(c, 'cluster.yaml'));
    return { args: ['golden', c] };
  },
  'trace --flows': (f) => ({ args: ['trace', '--rules', join(dir, 'ok.rules'), '--node-ip', '192.168.0.2', '--flows', f] }),
  parse: (f) => ({ args: ['parse', f] }),
  'trace --rules': (f) => ({ args: ['trace', '--rules', f, ...PACKET] }),
  'trace --ipsets': (f) => ({ args: ['trace', '--rules', join(dir, 'ok.rules'), '--ipsets', f, ...PACKET] }),
  'trace --ipvs': (f) => ({ args: ['trace', '--mode', 'ipvs', '--rules', join(dir, 'ok.rules'), '--ipvs', f, ...PACKET] }),
};
const CLUSTER_PATHS = ['compile FILE', 'compile - (stdin)', 'golden (cluster.yaml)'];

function kpsim(args: string[], stdinFile?: string) {
  const fd = stdinFile ? openSync(stdinFile, 'r') : null;
  try {
    const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, BIN, ...args], {
      encoding: 'utf8',
      stdio: [fd ?? 'ignore', 'pipe', 'pipe'],
      timeout: TIMEOUT_MS,
      maxBuffer: 64 << 20,
    });
    return { code: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}`, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** [file, the diagnostic on every path, the diagnostic on cluster paths]: a code, optionally with its line:col. */
const FILES: [string, () => string, RegExp | null, RegExp | null][] = [
  ['alias-bomb.yaml', () => join(FIXTURES, 'alias-bomb.yaml'), null, /:4:40: error\[YAML_TOO_MANY_ALIASES\]/],
  ['nul.yaml', () => join(FIXTURES, 'nul.yaml'), /:4:10: error\[INPUT_NUL\]/, null],
  ['invalid-utf8.yaml', () => join(FIXTURES, 'invalid-utf8.yaml'), /:4:12: error\[INPUT_BAD_UTF8\]/, null],
  ['deep-flow.yaml', () => join(dir, 'deep-flow.yaml'), null, /:1:\d+: error\[YAML_TOO_DEEP\]/],
  ['deep-block.yaml', () => join(dir, 'deep-block.yaml'), null, /:1:\d+: error\[YAML_TOO_DEEP\]/],
  ['deep.json', () => join(dir, 'deep.json'), null, /:1:\d+: error\[YAML_TOO_DEEP\]/],
  ['long-line.yaml', () => join(dir, 'long-line.yaml'), null, /error\[OBJ_NOT_A_MAP\]/],
  ['sparse-2g', () => join(dir, 'sparse-2g'), /error\[INPUT_TOO_LARGE\]/, null],
  ['elf', () => join(dir, 'elf'), /:1:9: error\[INPUT_NUL\]/, null],
  ['garbage.txt', () => join(dir, 'garbage.txt'), null, /error\[YAML_SYNTAX\][^]*\.\.\. and \d+ more errors/],
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kpsim-hostile-'));
  writeFileSync(join(dir, 'ok.rules'), OK_RULES);
  const depth = 100_000;
  writeFileSync(join(dir, 'deep-flow.yaml'), '{a: '.repeat(depth) + '1' + '}'.repeat(depth) + '\n');
  writeFileSync(join(dir, 'deep-block.yaml'), '- '.repeat(depth) + 'x\n');
  writeFileSync(join(dir, 'deep.json'), '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '\n');
  writeFileSync(join(dir, 'long-line.yaml'), 'x'.repeat(5 << 20) + '\n');
  writeFileSync(join(dir, 'sparse-2g'), '');
  truncateSync(join(dir, 'sparse-2g'), 2 * 1024 ** 3);
  writeFileSync(join(dir, 'elf'), readFileSync(process.execPath).subarray(0, 256 << 10));
  const rand = mulberry32(50);
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
  const lines: string[] = [];
  for (let size = 0; size < 50e6; ) {
    let l = '';
    for (let n = 1 + Math.floor(rand() * 100); n > 0; n--) l += chars[Math.floor(rand() * chars.length)];
    lines.push(l);
    size += l.length + 1;
  }
  writeFileSync(join(dir, 'garbage.txt'), lines.join('\n') + '\n');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(FILES)('%s', (_name, file, everywhere, onClusters) => {
  it.each(Object.keys(PATHS))('%s: a diagnostic and exit 1', (path) => {
    const { args, stdin } = PATHS[path](file());
    const r = kpsim(args, stdin ? file() : undefined);
    expect(r.signal, r.out.slice(0, 2000)).toBeNull();
    expect(r.out).not.toMatch(/internal error|\n\s+at /);
    expect(r.code, r.out.slice(0, 2000)).toBe(1);
    expect(r.out).toMatch(/error\[[A-Z0-9_]+\]/);
    const want = everywhere ?? (CLUSTER_PATHS.includes(path) ? onClusters : null);
    if (want) expect(r.out).toMatch(want);
    // Capped: a screenful of diagnostics, never the file's megabytes (golden reports them on
    // standard output; parse echoes its input there, which is not a diagnostic).
    expect((path.startsWith('golden') ? r.out : r.stderr).length).toBeLessThan(400_000);
  }, TIMEOUT_MS + 10_000);
});

describe('--max-errors', () => {
  it.each([
    [[], 5, 0],
    [['--max-errors', '2'], 2, 3],
    [['--max-errors', '0'], 5, 0],
  ])('parse %j prints %i errors, then how many more', (flags, shown, more) => {
    const f = join(dir, 'five-bad.rules');
    writeFileSync(f, '*filter\n:INPUT ACCEPT [0:0]\n' + Array.from({ length: 5 }, (_, i) => `-A INPUT -p tcp --dport 9999${i} -j ACCEPT\n`).join('') + 'COMMIT\n');
    const r = kpsim(['parse', ...(flags as string[]), f]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/error\[IPT_BAD_PORT\]/g)).toHaveLength(shown);
    if (more) expect(r.stderr).toContain(`... and ${more} more error`);
    else expect(r.stderr).not.toContain('more error');
  });

  it('takes a number, else it is a usage error (exit 2)', () => {
    expect(kpsim(['compile', '--max-errors', 'lots', join(FIXTURES, 'nul.yaml')]).code).toBe(2);
  });
});
