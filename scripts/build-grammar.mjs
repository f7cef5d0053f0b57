// Compiles every src/**/*.ne grammar with nearleyc into a sibling `*.generated.js` ES module
// (git-ignored). `npm run build` runs this before tsc, so a fresh clone builds and tests alone.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nearleyc = join(root, 'node_modules', 'nearley', 'bin', 'nearleyc.js');

function grammars(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...grammars(path));
    else if (name.endsWith('.ne')) out.push(path);
  }
  return out;
}

for (const ne of grammars(join(root, 'src'))) {
  const out = ne.replace(/\.ne$/, '.generated.js');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(ne).mtimeMs) continue;
  execFileSync(process.execPath, [nearleyc, ne, '-o', out], { stdio: 'inherit' });
  console.log(`nearleyc ${ne.slice(root.length + 1)} -> ${out.slice(root.length + 1)}`);
}
