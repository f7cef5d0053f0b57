// Diagnostics: loaders and parsers report to a sink and keep going; only the CLI decides the exit
// code. Codes are a literal union per stage so tests can assert on them, not on wording.

export type Severity = 'error' | 'warning' | 'note';

export interface SourceSpan {
  /** 1-based line and column of the first character, 0-based offset, length in characters. */
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  readonly length: number;
}

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  /** The file name as the user gave it, or `<stdin>`; null for problems with no source text. */
  readonly file: string | null;
  readonly span: SourceSpan | null;
  readonly notes?: readonly string[];
}

export class DiagnosticSink {
  readonly items: Diagnostic[] = [];

  report(d: Diagnostic): void {
    this.items.push(d);
  }

  error(code: string, message: string, file: string | null, span: SourceSpan | null, notes?: readonly string[]): void {
    this.report({ severity: 'error', code, message, file, span, notes });
  }

  warning(code: string, message: string, file: string | null, span: SourceSpan | null, notes?: readonly string[]): void {
    this.report({ severity: 'warning', code, message, file, span, notes });
  }

  note(code: string, message: string, file: string | null, span: SourceSpan | null): void {
    this.report({ severity: 'note', code, message, file, span });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }
}
