// The inputs whose kernel iptables-save output is committed under test/fixtures/kernel-save/:
// every kube-proxy conformance restore file (golden/kube-proxy-iptables: full files as they are,
// one-chain partial files wrapped in `*table`/`:chain`/COMMIT as the corpus README describes,
// ip6tables for the IPv6 cases) and the module coverage files in test/fixtures/kernel-save/inputs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Family } from '../../src/iptables/ir.js';

export const ROOT = join(import.meta.dirname, '../..');
export const FIXTURES = join(ROOT, 'test/fixtures/kernel-save');
const GOLDEN = join(ROOT, 'golden/kube-proxy-iptables');
const INPUTS = join(FIXTURES, 'inputs');

export interface KernelCase {
  readonly name: string;
  readonly family: Family;
  readonly input: string;
  /** `ipset save` text to restore before the rules. */
  readonly ipsets: string;
  /** The committed kernel output (may be missing before the first update). */
  readonly expectedPath: string;
}

// modules-coverage.iptables names its CT timeout policy `dns`: iptables-save 1.8.9 (nf_tables)
// prints only the first four characters of a longer name (`--timeout udp-dns` comes back as
// `--timeout udp-`), which iptables-restore then refuses unless such a policy exists.

/** The hand-written TestTracePacket ruleset has unquoted multi-word comments; iptables refuses it. */
const NOT_LOADABLE = new Set(['trace-packet']);

export function kernelCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  const add = (name: string, family: Family, input: string, ipsets = '') =>
    cases.push({ name, family, input, ipsets, expectedPath: join(FIXTURES, `${name}.save`) });

  for (const dir of readdirSync(GOLDEN).sort()) {
    if (NOT_LOADABLE.has(dir)) continue;
    const family: Family = dir.includes('ipv6') ? 'ipv6' : 'ipv4';
    const full = join(GOLDEN, dir, 'iptables-save.txt');
    if (existsSync(full)) add(`${dir}.full`, family, readFileSync(full, 'utf8'));
    const partial = join(GOLDEN, dir, 'iptables-partial.txt');
    if (existsSync(partial)) {
      const where = parseYaml(readFileSync(join(GOLDEN, dir, 'partial.yaml'), 'utf8')) as { table: string; chain: string };
      add(`${dir}.partial`, family, `*${where.table}\n:${where.chain} - [0:0]\n${readFileSync(partial, 'utf8')}COMMIT\n`);
    }
  }
  const ipsets = readFileSync(join(INPUTS, 'modules.ipsets'), 'utf8');
  for (const file of readdirSync(INPUTS).sort()) {
    const m = /^(.*)\.(iptables|ip6tables)$/.exec(file);
    if (m) add(m[1], m[2] === 'ip6tables' ? 'ipv6' : 'ipv4', readFileSync(join(INPUTS, file), 'utf8'), ipsets);
  }
  return cases;
}
