// YAML as `kubectl get -o yaml` writes it. kubectl turns the object into JSON and that into YAML
// with sigs.k8s.io/yaml, i.e. gopkg.in/yaml.v2 encoding a map: keys in byte order, two-space
// indentation, a sequence under a key not indented (`ports:\n- name: http`), `{}` and `[]` for
// empty values, multi-line strings as literal blocks (`|`, `|-` without a final newline), and
// strings quoted only where plain text would read back as something else: double quotes when it
// would resolve to a number, bool, null or timestamp (yaml.v2 encode.go stringv), single quotes
// when the emitter cannot write it plain (yaml_emitter_analyze_scalar: leading indicators, `: `,
// ` #`, edge spaces). The `yaml` package's stringify writes valid YAML but not these bytes (it
// quotes `.`, which managedFields use on every line it can) and needs seconds per megabyte, so the
// benchmark's files are spelled here; the generator test reads every shape back with `yaml` and
// requires the very same objects.
import type { Json } from './objects.js';

/** One document: a mapping (or sequence) at the left margin, ending in a newline. */
export function kubectlYaml(v: Json): string {
  const out: string[] = [];
  if (isEmpty(v) || typeof v !== 'object' || v === null) out.push(`${scalar(v)}\n`);
  else if (Array.isArray(v)) seq(v, 0, null, out);
  else map(v, 0, null, out);
  return out.join('');
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function isEmpty(v: Json): boolean {
  return typeof v === 'object' && v !== null && (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
}

/** `first` is the prefix of the first line when the mapping starts a sequence item (`- `). */
function map(obj: { [key: string]: Json }, indent: number, first: string | null, out: string[]): void {
  const pad = ' '.repeat(indent);
  Object.keys(obj)
    .sort(byteOrder)
    .forEach((k, i) => {
      out.push(`${i === 0 && first !== null ? first : pad}${str(k)}:`);
      value(obj[k], indent, out);
    });
}

function seq(items: Json[], indent: number, first: string | null, out: string[]): void {
  const pad = ' '.repeat(indent);
  items.forEach((item, i) => {
    const dash = `${i === 0 && first !== null ? first : pad}- `;
    if (item !== null && typeof item === 'object' && !isEmpty(item)) {
      if (Array.isArray(item)) seq(item, indent + 2, dash, out);
      else map(item, indent + 2, dash, out);
    } else {
      out.push(dash.slice(0, -1));
      value(item, indent, out);
    }
  });
}

/** The rest of a line that ended in `key:` or `-`, and the lines under it. */
function value(v: Json, indent: number, out: string[]): void {
  if (typeof v === 'string' && v.includes('\n')) {
    const body = v.endsWith('\n') ? v.slice(0, -1) : v;
    out.push(v.endsWith('\n') ? ' |\n' : ' |-\n');
    const pad = ' '.repeat(indent + 2);
    for (const line of body.split('\n')) out.push(line === '' ? '\n' : `${pad}${line}\n`);
  } else if (v === null || typeof v !== 'object' || isEmpty(v)) out.push(` ${scalar(v)}\n`);
  else if (Array.isArray(v)) {
    out.push('\n');
    seq(v, indent, null, out);
  } else {
    out.push('\n');
    map(v, indent + 2, null, out);
  }
}

function scalar(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'object') return '{}';
  return typeof v === 'string' ? str(v) : String(v);
}

// yaml.v2's resolve(): what a plain scalar would read back as, when not a string.
const NON_STRINGS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'on', 'On', 'ON', 'off', 'Off', 'OFF', '~', 'null', 'Null', 'NULL', '<<']);
const NUMBER = /^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9_]+|(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF|nan|NaN|NAN))$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[-+]\d{1,2}(?::\d{2})?)?)?$/;

function str(s: string): string {
  if (s === '' || NON_STRINGS.has(s) || NUMBER.test(s) || BASE60.test(s) || TIMESTAMP.test(s)) return JSON.stringify(s);
  if (plainAllowed(s)) return s;
  return /[\x00-\x1f\x7f]/.test(s) ? JSON.stringify(s) : `'${s.replaceAll("'", "''")}'`;
}

/** yaml_emitter_analyze_scalar, for block context. */
function plainAllowed(s: string): boolean {
  if (/[\x00-\x1f\x7f]/.test(s) || /^\s|\s$/.test(s)) return false;
  if ('#,[]{}&*!|>\'"%@`'.includes(s[0])) return false;
  if ('-?:'.includes(s[0]) && (s.length === 1 || s[1] === ' ')) return false;
  return !s.includes(': ') && !s.includes(' #') && !s.endsWith(':');
}
