// Prints a diagnostic like a compiler does:
//   cluster.yaml:14:17: error[SVC_BAD_PORT]: spec.ports[1].targetPort 70000 is out of range 1-65535
//      14 |       targetPort: 70000
//         |                   ^^^^^
import type { Diagnostic } from './diagnostic.js';
import type { SourceText } from './source.js';

const MAX_SHOWN_LINE = 200;
/** Messages quote input (a YAML error quotes its token, which can be megabytes of garbage): shown up to this long. */
const MAX_SHOWN_MESSAGE = 400;

/** Where the formatter finds a file's text to show the line (a Map of them will do). */
export type SourceLookup = { get(file: string): SourceText | undefined };

export function formatDiagnostic(d: Diagnostic, sources: SourceLookup, color = false): string {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const where = d.file ? (d.span ? `${d.file}:${d.span.line}:${d.span.col}: ` : `${d.file}: `) : '';
  const sevColor = d.severity === 'error' ? '31;1' : d.severity === 'warning' ? '33;1' : '36;1';
  const message = d.message.length > MAX_SHOWN_MESSAGE ? `${d.message.slice(0, MAX_SHOWN_MESSAGE)}... (${d.message.length} characters)` : d.message;
  let out = `${where}${paint(sevColor, `${d.severity}[${d.code}]`)}: ${message}`;
  const src = d.file ? sources.get(d.file) : undefined;
  if (src && d.span) {
    let text = src.lineText(d.span.line);
    let col = d.span.col;
    if (text.length > MAX_SHOWN_LINE) {
      const start = Math.max(0, col - 1 - MAX_SHOWN_LINE / 2);
      text = (start > 0 ? '...' : '') + text.slice(start, start + MAX_SHOWN_LINE) + '...';
      col = col - start + (start > 0 ? 3 : 0);
    }
    text = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?');
    const num = String(d.span.line);
    const gutter = ' '.repeat(num.length);
    const width = Math.max(1, Math.min(d.span.length, text.length - col + 1));
    out += `\n ${num} | ${text}\n ${gutter} | ${' '.repeat(Math.max(0, col - 1))}${paint('32;1', '^'.repeat(width))}`;
  }
  for (const n of d.notes ?? []) out += `\n  note: ${n}`;
  return out;
}

/** How many errors (and, separately, warnings and notes) a command prints before summing up the rest. */
export const DEFAULT_MAX_ERRORS = 100;

export interface FormatOptions {
  readonly color?: boolean;
  /** Print at most this many diagnostics of each severity; 0 prints all. */
  readonly maxErrors?: number;
}

const SEVERITY_WORDS = { error: ['error', 'errors'], warning: ['warning', 'warnings'], note: ['note', 'notes'] } as const;

/**
 * Every diagnostic as `formatDiagnostic` prints it, up to `maxErrors` of each severity in the order
 * reported, then one line per severity with the exact number left out (`... and 41 more errors`):
 * a file of garbage yields a screenful, not hundreds of megabytes. `sourceOf` is asked only for the
 * files of the diagnostics printed.
 */
export function formatDiagnostics(diags: readonly Diagnostic[], sourceOf: (file: string) => SourceText | undefined, opts: FormatOptions = {}): string[] {
  const max = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
  const shown = { error: 0, warning: 0, note: 0 };
  const left = { error: 0, warning: 0, note: 0 };
  const sources = new Map<string, SourceText | undefined>();
  const lookup: SourceLookup = {
    get: (file) => {
      if (!sources.has(file)) sources.set(file, sourceOf(file));
      return sources.get(file);
    },
  };
  const out: string[] = [];
  for (const d of diags) {
    if (max > 0 && shown[d.severity] >= max) {
      left[d.severity]++;
      continue;
    }
    shown[d.severity]++;
    out.push(formatDiagnostic(d, lookup, opts.color));
  }
  for (const sev of ['error', 'warning', 'note'] as const) {
    if (left[sev] > 0) out.push(`... and ${left[sev]} more ${SEVERITY_WORDS[sev][left[sev] === 1 ? 0 : 1]}`);
  }
  return out;
}
