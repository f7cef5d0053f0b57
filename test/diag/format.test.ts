// The diagnostics cap: the first N of each severity in full, then the exact number left out.
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diag/diagnostic.js';
import { DEFAULT_MAX_ERRORS, formatDiagnostics } from '../../src/diag/format.js';
import { SourceText } from '../../src/diag/source.js';

const diag = (severity: Diagnostic['severity'], i: number): Diagnostic => ({ severity, code: 'X', message: `m${i}`, file: 'f', span: { line: 1, col: 1, offset: 0, length: 1 } });
const none = () => undefined;

describe('formatDiagnostics', () => {
  it('prints the first 100 errors, then how many more, exactly', () => {
    const lines = formatDiagnostics(Array.from({ length: 1234 }, (_, i) => diag('error', i)), none);
    expect(DEFAULT_MAX_ERRORS).toBe(100);
    expect(lines).toHaveLength(101);
    expect(lines[99]).toBe('f:1:1: error[X]: m99');
    expect(lines[100]).toBe('... and 1134 more errors');
  });

  it('caps each severity on its own, in the order reported, and 0 prints all', () => {
    const diags = [diag('warning', 0), diag('error', 1), diag('warning', 2), diag('error', 3), diag('error', 4), diag('note', 5)];
    expect(formatDiagnostics(diags, none, { maxErrors: 1 })).toEqual(['f:1:1: warning[X]: m0', 'f:1:1: error[X]: m1', 'f:1:1: note[X]: m5', '... and 2 more errors', '... and 1 more warning']);
    expect(formatDiagnostics(diags, none, { maxErrors: 0 })).toHaveLength(6);
  });

  it('asks for the text only of files whose diagnostics it prints, once each', () => {
    const asked: string[] = [];
    const sourceOf = (f: string) => (asked.push(f), new SourceText(f, 'abc\n'));
    formatDiagnostics([diag('error', 0), diag('error', 1), { ...diag('error', 2), file: 'g' }], sourceOf, { maxErrors: 2 });
    expect(asked).toEqual(['f']);
  });

  it('shortens a message that quotes megabytes of input', () => {
    const [line] = formatDiagnostics([{ ...diag('error', 0), message: `bad token: ${'x'.repeat(1_000_000)}` }], none);
    expect(line.length).toBeLessThan(600);
    expect(line).toMatch(/\.\.\. \(1000011 characters\)$/);
  });
});
