// parseSysctls: `sysctl -a` output (`net.ipv4.conf.all.rp_filter = 1`), also sysctl.conf syntax
// (`key=value`, `#` and `;` comments) -> key -> value. Keys keep sysctl's spelling: dots separate
// levels, and a dot inside an interface name is printed as a slash (`net.ipv4.conf.eth0/100.rp_filter`
// for eth0.100). What `sysctl -a` writes to stderr, when captured with 2>&1 (`sysctl: permission
// denied on key ...`, `sysctl: reading key ...`), is skipped with a warning.
import type { Diagnostic } from '../diag/diagnostic.js';

export type SysctlCode =
  | 'SYSCTL_SYNTAX' // a line that is not `key = value`
  | 'SYSCTL_BAD_KEY' // a key with characters no sysctl has
  | 'SYSCTL_MESSAGE' // a line sysctl wrote to stderr (a warning)
  | 'SYSCTL_DUPLICATE'; // the same key twice with different values (a warning: the last counts)

export interface SysctlResult {
  readonly values: Map<string, string>;
  readonly diagnostics: Diagnostic[];
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-/:@+]*$/;

export function parseSysctls(text: string, file: string): SysctlResult {
  const values = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const where = new Map<string, number>();
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const lineOffset = offset;
    offset += lines[i].length + 1;
    const lead = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const span = (col: number, length: number) => ({ line: i + 1, col: col + 1, offset: lineOffset + col, length: Math.max(1, length) });
    if (line.startsWith('sysctl:')) {
      diagnostics.push({ severity: 'warning', code: 'SYSCTL_MESSAGE', message: `skipped: a message of sysctl, not a setting (${line.slice(8, 80)})`, file, span: span(lead, line.length) });
      continue;
    }
    const eq = raw.indexOf('=');
    if (eq < 0) {
      diagnostics.push({ severity: 'error', code: 'SYSCTL_SYNTAX', message: 'expected `key = value` as `sysctl -a` prints', file, span: span(lead, line.length) });
      continue;
    }
    // `-` before a key in sysctl.conf: ignore failures setting it.
    const keyText = raw.slice(0, eq).trim().replace(/^-/, '');
    const value = raw.slice(eq + 1).trim();
    if (!KEY.test(keyText)) {
      diagnostics.push({ severity: 'error', code: 'SYSCTL_BAD_KEY', message: `"${keyText.slice(0, 80)}" is not a sysctl key`, file, span: span(lead, Math.max(1, eq - lead)) });
      continue;
    }
    const prev = values.get(keyText);
    if (prev !== undefined && prev !== value) {
      diagnostics.push({ severity: 'warning', code: 'SYSCTL_DUPLICATE', message: `${keyText} is also set on line ${where.get(keyText)}: the last value, ${value}, counts`, file, span: span(lead, eq - lead) });
    }
    values.set(keyText, value);
    where.set(keyText, i + 1);
  }
  return { values, diagnostics };
}
