// `npm run bench:html`: how long a trace page (kpsim trace --html) takes to open in Chromium, on a
// kubectl-shaped cluster of N services (default 10k, 10 endpoints each; the files are bench/.cache's,
// shared with `npm run bench`). The page embeds only the chains the packet reached; the figure is
// the time from navigation to the page drawn (its script done), median of several fresh tabs, and
// the time to unfold the listing of the reached chains (KUBE-SERVICES holds a rule per service).
// Issue 18's target: under a second. Measured here, never asserted in tests.
//
//   npm run bench:html -- --services 10000 --runs 5
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { ROOT } from './e2e/kpsim.js';
import { clusterFiles } from './kubectl/files.js';

const { values } = parseArgs({ options: { services: { type: 'string', default: '10000' }, runs: { type: 'string', default: '5' }, seed: { type: 'string', default: '1' } } });
const services = Number(values.services);
const runs = Number(values.runs);
const chromiumPath = process.env.KPSIM_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  console.error(`bench:html: no Chromium at ${chromiumPath} (apt-get install chromium, or set KPSIM_CHROMIUM)`);
  process.exit(2);
}

const files = clusterFiles(join(ROOT, 'bench', '.cache'), services, Number(values.seed));
const svc = files.facts.services.find((s) => s.protocol === 'TCP' && s.nodePort === 0) ?? files.facts.services[0];
const src = files.facts.services[1].endpoints[0];
const dir = mkdtempSync(join(tmpdir(), 'kpsim-bench-html-'));
const page = join(dir, 'trace.html');
try {
  const args = ['trace', files.shapes.json, files.config, '--src', src, '--dst', `${svc.namespace}/${svc.name}:${svc.portName}`, '--html', page, '-o', join(dir, 'trace.txt')];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/bin/kpsim.js'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kpsim trace failed (${r.status}): ${r.stderr}`);
  const traceS = (performance.now() - t0) / 1000;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const open: number[] = [];
  const listing: number[] = [];
  const marks: { script: number; load: number }[] = [];
  let chains = 0;
  for (let i = 0; i < runs; i++) {
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const start = performance.now();
    await p.goto(`file://${page}`);
    await p.waitForSelector('html[data-ready]');
    open.push(performance.now() - start);
    marks.push(
      await p.evaluate(() => {
        const at = (n: string) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
        return { script: at('kpsim-drawn') - at('kpsim-start'), load: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd };
      }),
    );
    const u = performance.now();
    await p.locator('details.listing > summary').first().click();
    await p.locator('details.chain > summary', { hasText: 'KUBE-SERVICES' }).first().click();
    await p.waitForSelector('details.chain[open] .line');
    listing.push(performance.now() - u);
    chains = await p.locator('details.chain').count();
    await p.close();
  }
  await browser.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`trace page for ${services} services: ${(statSync(page).size / 1e6).toFixed(2)} MB, ${chains} chains embedded (kpsim trace --html took ${traceS.toFixed(1)} s)`);
  console.log(`  opens in ${median(open).toFixed(0)} ms (median of ${runs}; ${open.map((x) => x.toFixed(0)).join(', ')}) — target < 1000 ms: ${median(open) < 1000 ? 'met' : 'NOT met'}`);
  console.log(`  in the page: load event at ${median(marks.map((m) => m.load)).toFixed(0)} ms, of which the page's script (JSON.parse and drawing) ${median(marks.map((m) => m.script)).toFixed(0)} ms (medians)`);
  console.log(`  unfolding the listing and KUBE-SERVICES (a line per service): ${median(listing).toFixed(0)} ms (median)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
