// The kernel half of a differential case: the shared judge (src/host/judge.ts) sends the flows
// through the real netfilter in a throwaway topology and compares with kpsim trace. This file is
// the only place that knows the judge's interface; campaign.ts and differential.test.ts ask
// `kernelJudge` whether it can run and why not.
import type { KernelCheck } from './run-case.js';

export interface KernelJudge {
  /** null when the kernel part cannot run; `reason` says why. */
  readonly check: KernelCheck | null;
  readonly reason: string;
}

// src/host/judge.ts had not landed when this was written (see the differential report); until an
// adapter to it is written here, the kernel part reports that it did not run.
export const kernelJudge: KernelJudge = {
  check: null,
  reason: 'the shared kernel judge (src/host/judge.ts) is not in this checkout yet, so no flow is sent to the kernel',
};
