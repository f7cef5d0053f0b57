// The kube-proxy iptables conformance corpus as copied into the project (golden/, with its
// attribution; tests never read ../shared), and what both the simulator's conformance test and
// the kernel trace test need to know about it.
import { join } from 'node:path';

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
