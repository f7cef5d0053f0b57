// kpsim as another project's dependency: the packed tarball holds exactly what the CLI and the
// library need, installs without network access, and its `kpsim` runs compile, trace and golden
// there; the library entry imports with its type declarations beside it.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve('.');
let work = '';
let project = '';
let tarball = '';
let files: string[] = [];

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/bin/kpsim.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  work = mkdtempSync(join(tmpdir(), 'kpsim-pack-'));
  // --ignore-scripts: dist/ is built already, and rebuilding it here would pull it from under the
  // other test files that run the CLI at the same time.
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info[0].filename);
  files = info[0].files.map((f) => f.path);
  project = join(work, 'consumer');
  cpSync(join(ROOT, 'examples'), join(project, 'examples'), { recursive: true });
  cpSync(join(ROOT, 'golden/kpsim/three-endpoint-split'), join(project, 'cases/three-endpoint-split'), { recursive: true });
  writeConsumer();
}, 120_000);

interface LockEntry {
  version: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  [k: string]: unknown;
}

/**
 * The consumer project depending on the tarball, with a lockfile whose other entries are kpsim's
 * runtime dependencies exactly as kpsim's own package-lock.json pins them (by integrity), so that
 * `npm ci --offline` installs from npm's cache and never asks a registry.
 */
function writeConsumer(): void {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pk = lock.packages;
  const deps = (pk[''].dependencies ?? {}) as Record<string, string>;
  const tgz = tarball.slice(work.length + 1);
  const integrity = 'sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64');
  const spec = `file:../${tgz}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { kpsim: spec } },
    'node_modules/kpsim': { version: '0.1.0', resolved: spec, integrity, dependencies: deps, bin: { kpsim: 'dist/bin/kpsim.js' } },
  };
  // Node's resolution: the nearest node_modules/NAME up from the dependent's folder.
  const find = (from: string, name: string): string | null => {
    for (let at = from; ; ) {
      const cand = at ? `${at}/node_modules/${name}` : `node_modules/${name}`;
      if (pk[cand]) return cand;
      if (!at) return null;
      const i = at.lastIndexOf('/node_modules/');
      at = i >= 0 ? at.slice(0, i) : '';
    }
  };
  const todo: [string, string][] = Object.keys(deps).map((n) => ['', n]);
  while (todo.length) {
    const [from, name] = todo.pop()!;
    const key = find(from, name);
    if (!key || packages[key]) continue;
    const { dev: _dev, ...entry } = pk[key] as LockEntry & { dev?: boolean };
    packages[key] = entry;
    for (const d of Object.keys(entry.dependencies ?? {})) todo.push([key, d]);
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: { kpsim: spec } }));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 1));
}

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds the CLI, the library, its types and the generated grammar, and nothing else', () => {
    expect(files).toContain('dist/bin/kpsim.js');
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('dist/src/iptables-save/grammar.generated.js');
    expect(files).toContain('package.json');
    expect(files).toContain('LICENSE');
    const stray = files.filter((f) => !/^(dist\/(bin|src)\/|package\.json$|README\.md$|LICENSE$)/.test(f) || f.endsWith('.map'));
    expect(stray).toEqual([]);
  });

  it("runs in the project itself as the README's first command runs it (npx kpsim in a clone)", () => {
    // tsc writes dist/bin/kpsim.js without the execute bit; npm sets it only on a dependency's bin.
    // npx runs the package's bin as an executable, so run it the same way (npx itself takes
    // seconds to start on a loaded machine).
    const r = run(join(ROOT, 'dist/bin/kpsim.js'), ['--version'], ROOT);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('installs offline and runs compile, trace and golden', () => {
    const installed = run('npm', ['ci', '--offline', '--ignore-scripts'], project);
    expect(installed.code, installed.stderr).toBe(0);
    const kpsim = join(project, 'node_modules/.bin/kpsim');
    const compile = run(kpsim, ['compile', 'examples/cluster.yaml'], project);
    expect(compile.code, compile.stderr).toBe(0);
    expect(compile.stdout).toContain('-A KUBE-SERVICES');
    const trace = run(kpsim, ['trace', 'examples/cluster.yaml', '--src', '10.244.1.7', '--dst', 'shop/web:http', '--json'], project);
    expect(trace.code, trace.stderr).toBe(0);
    expect(JSON.parse(trace.stdout).outcomes.length).toBeGreaterThan(1);
    const golden = run(kpsim, ['golden', 'cases'], project);
    expect(golden.code, golden.stdout + golden.stderr).toBe(0);
    expect(golden.stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
    // The library entry, as `import ... from 'kpsim'` resolves it, with its declarations.
    const lib = run(process.execPath, ['--input-type=module', '-e', "import * as k from 'kpsim'; console.log(typeof k.loadCluster, typeof k.prepareNode, typeof k.tracePacket, k.MODE_NAMES.join(','))"], project);
    expect(lib.stderr).toBe('');
    expect(lib.stdout.trim()).toBe('function function function iptables,ipvs,nftables');
    expect(readdirSync(join(project, 'node_modules/kpsim/dist/src'))).toContain('index.d.ts');
  }, 180_000);
});
