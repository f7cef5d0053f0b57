// options.yaml: the compile options a golden case was made with (`kpsim golden init --node NAME
// --cluster-cidr ...`), so verifying it compiles the same node the same way. The same options as
// `kpsim compile`'s flags, under the names of CompileOptions:
//   node: worker-1
//   mode: ipvs
//   family: ipv6
//   clusterCIDR: 10.244.0.0/16
//   masqueradeAll: true
//   nodeIP: 192.168.0.2
//   randomFully: false
//   nfacct: false
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { CompileOptions } from '../compiler/settings.js';
import type { Diagnostic } from '../diag/diagnostic.js';

export interface CaseOptions {
  readonly mode?: string;
  readonly compile: CompileOptions;
}

const KINDS = {
  node: 'string',
  mode: 'string',
  family: 'family',
  clusterCIDR: 'string',
  masqueradeAll: 'boolean',
  nodeIP: 'string',
  randomFully: 'boolean',
  nfacct: 'boolean',
} as const;

export const NO_OPTIONS: CaseOptions = { compile: {} };

export function parseCaseOptions(text: string, file: string): { options: CaseOptions; diagnostics: Diagnostic[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number, length: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col, offset, length };
  };
  for (const e of doc.errors) diagnostics.push({ severity: 'error', code: 'GOLDEN_BAD_OPTIONS', message: e.message, file, span: at(e.pos[0], e.pos[1] - e.pos[0]) });
  const out: Record<string, unknown> = {};
  if (doc.contents !== null && !isMap(doc.contents)) {
    diagnostics.push({ severity: 'error', code: 'GOLDEN_BAD_OPTIONS', message: 'expected a mapping of option names to values', file, span: at(doc.contents.range?.[0] ?? 0, 1) });
  }
  if (isMap(doc.contents)) {
    for (const item of doc.contents.items) {
      const key = isScalar(item.key) ? String(item.key.value) : '';
      const range = (item.key as unknown as { range?: [number, number] } | null)?.range ?? [0, 1];
      const kind = KINDS[key as keyof typeof KINDS];
      if (!kind) {
        diagnostics.push({ severity: 'error', code: 'GOLDEN_BAD_OPTIONS', message: `unknown option '${key}': expected one of ${Object.keys(KINDS).join(', ')}`, file, span: at(range[0], range[1] - range[0]) });
        continue;
      }
      const v = isScalar(item.value) ? item.value.value : undefined;
      const vr = (item.value as unknown as { range?: [number, number] } | null)?.range ?? range;
      const ok = kind === 'boolean' ? typeof v === 'boolean' : kind === 'family' ? v === 'ipv4' || v === 'ipv6' : typeof v === 'string' && v !== '';
      if (!ok) {
        diagnostics.push({ severity: 'error', code: 'GOLDEN_BAD_OPTIONS', message: `${key}: expected ${kind === 'boolean' ? 'true or false' : kind === 'family' ? 'ipv4 or ipv6' : 'a string'}`, file, span: at(vr[0], vr[1] - vr[0]) });
        continue;
      }
      out[key] = v;
    }
  }
  const { mode, ...rest } = out as { mode?: string } & Record<string, unknown>;
  const compile: CompileOptions = { node: rest.node as string | undefined, family: rest.family as CompileOptions['family'], clusterCIDR: rest.clusterCIDR as string | undefined, masqueradeAll: rest.masqueradeAll as boolean | undefined, nodeIP: rest.nodeIP as string | undefined, randomFully: rest.randomFully as boolean | undefined, nfacct: rest.nfacct as boolean | undefined };
  for (const k of Object.keys(compile) as (keyof CompileOptions)[]) if (compile[k] === undefined) delete (compile as Record<string, unknown>)[k];
  return { options: { mode, compile }, diagnostics };
}

/** options.yaml for the given options, or null when there are none. */
export function renderCaseOptions(o: CaseOptions): string | null {
  // randomFully and nfacct are on unless said otherwise (--no-random-fully, --no-nfacct).
  const entries = Object.entries({ ...(o.mode ? { mode: o.mode } : {}), ...o.compile }).filter(([k, v]) => v !== undefined && !((k === 'randomFully' || k === 'nfacct') && v === true));
  if (entries.length === 0) return null;
  return '# The compile options this case was made with (kpsim golden init): verification uses them.\n' + entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`).join('\n') + '\n';
}
