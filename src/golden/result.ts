// What verifying a case reports: one result per check, and the files `--update` would rewrite.
import type { Compiled } from '../compiler/index.js';
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Cluster } from '../model/types.js';
import type { FlowExpectation } from './flows-file.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

/**
 * `file`: an expected file compared whole (rewritable); `flow`: one packet of flows.yaml;
 * `assert`: a checks.yaml assertion (not rewritable); `load`: the case's inputs do not load;
 * `unsupported`: the case asks for something kpsim does not build yet.
 */
export type CheckKind = 'file' | 'flow' | 'assert' | 'load' | 'unsupported';

/** The tracer's answer for one flow, and the rule path of each of kpsim's outcomes behind it. */
export interface FlowAnswer {
  readonly output: string;
  /** True when any outcome masquerades (the tracer follows every branch). */
  readonly masq: boolean;
  readonly probabilities: ReadonlyMap<string, string>;
  readonly affinity: string;
  readonly paths: readonly string[];
}

export interface CheckResult {
  /** `<case>[/<step>]: <what>` */
  readonly name: string;
  readonly status: CheckStatus;
  readonly kind: CheckKind;
  readonly file: string | null;
  readonly expected?: string;
  readonly actual?: string;
  readonly message?: string;
  readonly flow?: { readonly expected: FlowExpectation; readonly actual: FlowAnswer };
}

export interface CaseResult {
  readonly dir: string;
  readonly checks: CheckResult[];
  readonly diagnostics: { file: string; text: string; diagnostics: Diagnostic[] }[];
  /** The compiled output of each sync, in order (the case first, then its steps). */
  readonly compiled: { dir: string; compiled: Compiled; cluster: Cluster; files: ReadonlyMap<string, string> }[];
  /** Expected files whose content differs from kpsim's answer, with the content `--update` writes. */
  readonly rewrites: { file: string; content: string }[];
}

export type CaseStatus = 'pass' | 'fail' | 'skip';

/** A case fails when any check fails; it is skipped when something in it could not be checked. */
export function caseStatus(r: CaseResult): CaseStatus {
  if (r.checks.some((c) => c.status === 'fail')) return 'fail';
  if (r.checks.some((c) => c.status === 'skip')) return 'skip';
  return 'pass';
}
