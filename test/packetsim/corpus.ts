// The kube-proxy iptables conformance corpus as copied into the project (golden/, with its
// attribution; tests never read ../shared), and what both the simulator's conformance test and
// the kernel trace test need to know about it.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { findCases } from '../../src/cli/golden-read.js';
import { verifyCase } from '../../src/golden/verify.js';
import type { Family } from '../../src/iptables/ir.js';
import { familyOfText } from '../../src/net/index.js';
import type { NodeEnv } from '../../src/packetsim/env.js';
import type { CompiledRuleset } from '../../src/packetsim/types.js';
import { iptablesNodeArtefacts } from '../../src/compiler/iptables/node-artefacts.js';
import { nodeFromArtefacts } from '../../src/node/assemble.js';
import { prepareNode } from '../../src/packetsim/prepare.js';

export const CORPUS = join(import.meta.dirname, '../../golden/kube-proxy-iptables');

/**
 * trace-packet has a fixed ruleset and no cluster.yaml; its node is the fake's. Its built-in
 * chain jump rules carry unquoted multi-word comments (`--comment kubernetes service portals`),
 * which iptables-restore and kpsim's reader reject (IPT_UNEXPECTED_ARGUMENT; the reader keeps
 * the extra words as opaque items, and the simulator would explore both ways as UNKNOWN). The Go
 * tracer's tokenizer ignores the extra words, so here the comments are quoted first.
 */
export function quoteBareComments(text: string): string {
  return text.replace(/--comment ((?:[^"\s-][^\s]*)(?: (?!-)[^\s]+)+)/g, (_m, words: string) => `--comment "${words}"`);
}

/** The kernel's answer for a flow, in kube-proxy's tracer shape (an explicit filter ACCEPT is not visible to it). */
export interface KernelAnswer {
  readonly output: string;
  readonly masq: boolean;
}

/**
 * Flows where the real kernel disagrees with kube-proxy's test tracer (it starts node-originated
 * packets in PREROUTING and ignores state), proved by test/kernel/trace-kernel.test.ts and
 * written down in the case's notes.md. kpsim follows the kernel. Keys are `case | flow name`.
 */
export const KERNEL_DIFFERS: Readonly<Record<string, { readonly kernel: KernelAnswer; readonly why: string }>> = {};

export interface CorpusFlow {
  readonly name: string;
  readonly sourceIP: string;
  readonly protocol: string;
  readonly destIP: string;
  readonly destPort: number;
}

export interface CorpusTarget {
  readonly name: string;
  readonly indexed: CompiledRuleset;
  readonly plain: CompiledRuleset;
  readonly env: NodeEnv;
  readonly flows: readonly CorpusFlow[];
}

/** Every case and step with flows, per family, compiled (first sync of that step's objects) both ways. */
export function corpusTargets(): CorpusTarget[] {
  const out: CorpusTarget[] = [];
  if (!existsSync(CORPUS)) return out;
  for (const c of findCases(CORPUS)) {
    if (!c.files.has('cluster.yaml')) continue;
    const verified = verifyCase(c);
    [c, ...c.steps].forEach((step, i) => {
      const text = step.files.get('flows.yaml');
      const compiled = verified.compiled[i]?.compiled;
      if (text === undefined || !compiled) return;
      const family: Family = compiled.settings.family;
      const flows = (parseYaml(text) as CorpusFlow[]).filter((f) => familyOfText(f.sourceIP) === family);
      const node = nodeFromArtefacts(iptablesNodeArtefacts(compiled));
      const indexed = prepareNode(node, family).sim;
      out.push({ name: relative(CORPUS, step.dir), indexed: indexed.rs, plain: prepareNode(node, family, { index: false }).sim.rs, env: indexed.env, flows });
    });
  }
  return out;
}
