// kpsim on the real-like nodes of test/fixtures/dumps/nodes/, against the kernel's answers
// recorded in their flows.yaml (test/kernel/real-nodes.test.ts sends the same flows through the
// kernel and keeps them honest). Each flow exercises one thing the node's files decide: bridged
// traffic and -m physdev, -m rpfilter, rp_filter, route_localnet, the output interface from the
// routes, blackhole routes, MASQUERADE's source address.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kpsimKeys, type RealFlow } from '../host/judge-real-node.js';
import { readNodeFixture } from '../host/real-node.js';

const DIR = join(import.meta.dirname, '../fixtures/dumps/nodes');

describe('real-like nodes: kpsim gives the kernel\'s answer', () => {
  for (const name of readdirSync(DIR).sort()) {
    const fx = readNodeFixture(join(DIR, name));
    const flows = parseYaml(readFileSync(join(DIR, name, 'flows.yaml'), 'utf8')) as RealFlow[];
    it.each(flows.map((f) => ({ name: f.name, f })))(`${name}: $name`, ({ f }) => {
      expect(f.kernel, 'flows.yaml records the kernel\'s answer').toBeDefined();
      expect(kpsimKeys(fx, f)).toEqual([f.kernel]);
    });
  }
});
