// The real-like nodes of test/fixtures/dumps/nodes/: each built in throwaway namespaces from its
// own files (bridges with ports, interfaces, addresses, routes, sysctls: test/host/real-node.ts),
// its rules loaded, every flow of its flows.yaml sent through the kernel and judged against kpsim
// tracing the same files. `KPSIM_UPDATE_NODES=1` prints the kernel's answers for flows.yaml.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../host/kernel-available.js';
import { judgeRealNode, type RealFlow } from '../host/judge-real-node.js';
import { readNodeFixture } from '../host/real-node.js';

const DIR = join(import.meta.dirname, '../fixtures/dumps/nodes');
const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`kernel tests not run: ${kernel.reason}`);

describe.skipIf(!kernel.ok)('real-like nodes judged by the kernel', () => {
  for (const name of readdirSync(DIR).sort()) {
    it(name, { timeout: 300_000 }, async () => {
      const fx = readNodeFixture(join(DIR, name));
      const flows = parseYaml(readFileSync(join(DIR, name, 'flows.yaml'), 'utf8')) as RealFlow[];
      const results = await judgeRealNode(fx, flows);
      const counts = { agree: 0, disagree: 0, unknown: 0 };
      for (const r of results) counts[r.verdict]++;
      console.log(`${name}: ${counts.agree} agree, ${counts.disagree} disagree, ${counts.unknown} UNKNOWN`);
      for (const r of results) if (r.verdict !== 'agree' || process.env.KPSIM_UPDATE_NODES) console.log(`  ${r.verdict}: ${r.flow.name}\n    kpsim:  ${r.kpsim.join(' | ')}\n    kernel: ${r.kernel.join(' | ')}`);
      // The kernel's answers are recorded in flows.yaml (test/packetsim/real-nodes.test.ts checks kpsim against them without a kernel).
      for (const r of results) expect(r.kernel.join(' | '), `${r.flow.name}: the recorded kernel answer`).toBe(r.flow.kernel);
      expect(results.filter((r) => r.verdict !== 'agree').map((r) => r.flow.name)).toEqual([]);
    });
  }
});
