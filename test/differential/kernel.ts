// The kernel half of a differential case: the shared judge (src/host/judge.ts) sends the flows
// through the real netfilter in a throwaway topology and compares with kpsim trace.
import type { KernelCheck } from './run-case.js';

/** Until src/host/judge.ts lands, the kernel part reports that it did not run. */
export const kernelCheck: KernelCheck = async () => ({ disagreements: [], checked: 0, error: 'judge: src/host/judge.ts has not landed yet' });
