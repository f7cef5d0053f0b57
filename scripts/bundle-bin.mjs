// Bundles the built CLI (dist/bin/kpsim.js, tsc's output) with everything it imports, kpsim's own
// modules and its dependencies, into that one file. `npm run build` runs this after tsc.
//
// Why: every `kpsim` run is a fresh process, and resolving and loading some 170 ES modules and
// CommonJS files (commander, yaml, js-yaml, nearley, ...) took about 0.25 s of CPU before a
// command started, a tenth of what a user waits for `kpsim parse` on a 10k-service node. One file
// loads in a few milliseconds. The library (dist/src, the package's `exports`) is not bundled.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'dist', 'bin', 'kpsim.js');

await build({
  entryPoints: [bin],
  outfile: bin,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // The CommonJS dependencies call require() for node's own modules; an ES module has none.
  banner: { js: "import { createRequire as kpsimCreateRequire } from 'node:module';\nconst require = kpsimCreateRequire(import.meta.url);" },
});
// tsc's source map describes the file before bundling.
rmSync(`${bin}.map`, { force: true });
// The `kpsim` executable (`npx kpsim`): tsc and esbuild write it 0644.
chmodSync(bin, 0o755);
