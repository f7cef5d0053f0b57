// Prints a diagnostic like a compiler does:
//   cluster.yaml:14:17: error[SVC_BAD_PORT]: spec.ports[1].targetPort 70000 is out of range 1-65535
//      14 |       targetPort: 70000
//         |                   ^^^^^
import type { Diagnostic } from './diagnostic.js';
import type { SourceText } from './source.js';

const MAX_SHOWN_LINE = 200;

export function formatDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, SourceText>, color = false): string {
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const where = d.file ? (d.span ? `${d.file}:${d.span.line}:${d.span.col}: ` : `${d.file}: `) : '';
  const sevColor = d.severity === 'error' ? '31;1' : d.severity === 'warning' ? '33;1' : '36;1';
  let out = `${where}${paint(sevColor, `${d.severity}[${d.code}]`)}: ${d.message}`;
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
