// renderSave against the real kernel. For every case (kernel-cases.ts) the committed fixture is
// what iptables-save printed after iptables-restore loaded the input into a fresh namespace
// (iptables 1.8.9, nf_tables; `# Generated`/`# Completed` lines removed).
// - Always: renderSave(parse(input)) equals the fixture, and the fixture parses cleanly and
//   round-trips byte for byte.
// - As root with the netfilter tools: the kernel still prints the fixture, and loading
//   renderRestore(parse(input)) gives the same text as loading the input.
// `KPSIM_UPDATE_KERNEL_SAVE=1 npx vitest run test/iptables-save/kernel-save.test.ts` rewrites the
// fixtures from the kernel.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCtTimeouts, createNfacct, ctTimeoutNamesIn, nfacctNamesIn, restoreIpsets, restoreRules, saveRules, stripSaveComments } from '../host/iptables.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { withNamespace } from '../host/netns.js';
import { parseIptablesSave, renderRestore, renderSave } from '../../src/iptables-save/index.js';
import { kernelCases, type KernelCase } from './kernel-cases.js';

const cases = kernelCases();
const UPDATE = process.env.KPSIM_UPDATE_KERNEL_SAVE === '1';
const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`kernel-save: kernel checks not run: ${kernel.reason}`);

function parseOk(text: string, c: KernelCase) {
  const r = parseIptablesSave(text, { file: c.name, family: c.family });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.ruleset!;
}

async function kernelSave(c: KernelCase, text: string): Promise<string> {
  return withNamespace(async (ns) => {
    if (c.ipsets) await restoreIpsets(ns, c.ipsets);
    await createNfacct(ns, nfacctNamesIn(text));
    await createCtTimeouts(ns, ctTimeoutNamesIn(text));
    const tool = c.family === 'ipv4' ? 'iptables' : 'ip6tables';
    const res = await restoreRules(ns, tool, text);
    if (res.code !== 0) throw new Error(`${tool}-restore failed for ${c.name}: ${res.stderr}`);
    return stripSaveComments(await saveRules(ns, tool));
  });
}

/**
 * Cases whose iptables-save output iptables-restore itself refuses, with the line it names: a
 * comment whose quote was left open holds the line break, which iptables-save prints as it is.
 */
const NOT_RESTORABLE = new Map([['quote-open', 6]]);

describe('renderSave matches the committed kernel output', () => {
  it('has the conformance, partial, IPv6 and module cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(19);
    expect(cases.some((c) => c.family === 'ipv6' && c.name.startsWith('node-ports-ipv6'))).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (!existsSync(c.expectedPath)) throw new Error(`${c.expectedPath} is missing; run with KPSIM_UPDATE_KERNEL_SAVE=1 as root`);
    const expected = readFileSync(c.expectedPath, 'utf8');
    expect(renderSave(parseOk(c.input, c))).toBe(expected);
    const refusedAt = NOT_RESTORABLE.get(c.name);
    if (refusedAt !== undefined) {
      // iptables-restore refuses the kernel's own text here, and so does kpsim, at the same line.
      const errors = parseIptablesSave(expected, { file: c.name, family: c.family }).diagnostics.filter((d) => d.severity === 'error');
      expect(errors.map((d) => d.span?.line)).toEqual([refusedAt]);
      return;
    }
    // The kernel's own text is also read losslessly, and is a fixed point of renderSave.
    const saved = parseOk(expected, c);
    expect(renderRestore(saved)).toBe(expected);
    expect(renderSave(saved)).toBe(expected);
  });
});

describe.runIf(kernel.ok)('the kernel agrees (network namespace)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const fromKernel = await kernelSave(c, c.input);
    if (UPDATE) writeFileSync(c.expectedPath, fromKernel);
    expect(fromKernel).toBe(readFileSync(c.expectedPath, 'utf8'));
    const rendered = renderRestore(parseOk(c.input, c));
    expect(await kernelSave(c, rendered)).toBe(fromKernel);
  });
});
