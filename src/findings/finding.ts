// A lint finding: a diagnostic with a lint code, at a rule's or chain's position in the dump.
import type { Diagnostic, Severity } from '../diag/diagnostic.js';
import type { Span } from '../iptables/ir.js';
import type { FindingCode } from './codes.js';

export interface Finding extends Diagnostic {
  readonly code: FindingCode;
}

/** Where findings are reported: the iptables dump's name (null for a compiled node). */
export interface LintContext {
  readonly file: string | null;
  readonly out: Finding[];
}

export function report(ctx: LintContext, severity: Severity, code: FindingCode, message: string, span: Span | null, notes?: readonly string[]): void {
  ctx.out.push({ severity, code, message, file: ctx.file, span, ...(notes?.length ? { notes } : {}) });
}
