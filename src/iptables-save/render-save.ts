// renderSave: what `iptables-save` prints after `iptables-restore` loaded the ruleset into a fresh
// network namespace (iptables 1.8, nf_tables backend), without the `# Generated`/`# Completed`
// lines. The restore is applied (chain declarations, -A/-I/-D/-N/-X/-F/-P), then:
// - tables in the backend's fixed order (mangle, security, raw, filter, nat);
// - every built-in chain of the table with its policy, then the user chains sorted by name,
//   counters [0:0] (restore without --counters does not load them);
// - rules grouped per chain in that order, each `-A CHAIN` followed by -s, -d, -i, -o, -p, -f
//   (addresses masked, with /32 or /128), the matches in the order they were loaded (a protocol
//   match `-p tcp --dport 80` loads implicitly is printed as `-m tcp`), then the target.
import type { Arg, Family, OptionArg, Rule, Ruleset, Value } from '../iptables/ir.js';
import { applyRestore, cloneState, declareChains, emptyState, isBuiltinChain, SAVE_TABLE_ORDER, saveChainOrder, stateToRuleset, type KernelState } from '../iptables/state.js';
import { protocolName } from '../net/index.js';
import { ByteSink } from '../util/byte-sink.js';
import { parseIptablesSave } from './parse.js';
import { renderMatch, renderTargetOptions } from './render-match.js';
import { cidr } from './save-format.js';
import { SaveSpeller } from './save-spelling.js';

const HEADER_ORDER = ['source', 'destination', 'in-interface', 'out-interface', 'protocol', 'fragment'];
const HEADER_FLAGS: Readonly<Record<string, string>> = {
  source: '-s',
  destination: '-d',
  'in-interface': '-i',
  'out-interface': '-o',
  protocol: '-p',
  fragment: '-f',
};

function headerValue(o: OptionArg): string | null {
  const v: Value | undefined = o.values[0];
  if (o.name === 'fragment') return '';
  if (!v) return null;
  if (v.type === 'address') return v.prefix === 0 && o.negation === 'none' ? null : cidr(v);
  if (v.type === 'protocol') {
    if (v.number === null) return o.negation === 'none' ? null : 'all';
    return protocolName(v.number) ?? String(v.number);
  }
  return v.text;
}

interface MatchInstance {
  readonly name: string;
  readonly options: OptionArg[];
  readonly opaque: string[];
}

/** The matches of a rule as the kernel holds them: one per `-m` load, plus implicit loads. */
function matchInstances(args: readonly Arg[]): MatchInstance[] {
  const list: MatchInstance[] = [];
  const latest = (name: string | null) => {
    for (let i = list.length - 1; i >= 0; i--) if (list[i].name === name) return list[i];
    return undefined;
  };
  for (const a of args) {
    if (a.kind === 'module') list.push({ name: a.name, options: [], opaque: [] });
    else if (a.kind === 'option' && a.module !== null) {
      let m = latest(a.module);
      if (!m) {
        m = { name: a.module, options: [], opaque: [] };
        list.push(m);
      }
      m.options.push(a);
    } else if (a.kind === 'opaque' && a.module !== null) latest(a.module)?.opaque.push(a.text);
  }
  return list;
}

export function renderSaveRule(r: Rule, family: Family): string {
  let s = `-A ${r.chain}`;
  const header = new Map<string, OptionArg>();
  for (const a of r.args) if (a.kind === 'option' && a.module === null && a.name in HEADER_FLAGS) header.set(a.name, a);
  for (const name of HEADER_ORDER) {
    const o = header.get(name);
    if (!o) continue;
    const v = headerValue(o);
    if (v === null) continue;
    s += `${o.negation === 'none' ? '' : ' !'} ${HEADER_FLAGS[name]}${v === '' ? '' : ' ' + v}`;
  }
  for (const m of matchInstances(r.args)) {
    s += ` -m ${m.name}${renderMatch(m.name, m.options, family)}`;
    for (const t of m.opaque) s += ' ' + t;
  }
  const t = r.target;
  if (t) {
    switch (t.kind) {
      case 'verdict':
        s += ` -j ${t.name}`;
        break;
      case 'chain':
        s += ` ${t.goto ? '-g' : '-j'} ${t.name}`;
        break;
      case 'extension':
        s += ` -j ${t.name}${renderTargetOptions(t.name, t.options, family)}`;
        break;
      case 'opaque':
        s += ` -j ${t.name}${t.text ? ' ' + t.text : ''}`;
        break;
    }
  }
  return s;
}

/**
 * The kernel's iptables-save text for a ruleset loaded into a fresh namespace. The restore is
 * applied by the kernel-state model (src/iptables/state.ts); a table the text only opens and
 * commits is never created by iptables-nft, so it is not printed. Throws RestoreError where
 * iptables-restore would fail (a jump to a chain that does not exist, ...).
 */
export function renderSave(rs: Ruleset): string {
  const state = emptyState(rs.family);
  applyRestore(state, { ...rs, tables: rs.tables.filter((t) => t.lines.some((l) => l.kind !== 'trivia')) });
  return renderKernelRuleset(stateToRuleset(state));
}

/** Prints a ruleset that is already in the kernel's order (stateToRuleset's output). */
export function renderKernelRuleset(rs: Ruleset): string {
  const out: string[] = [];
  for (const t of rs.tables) {
    out.push(`*${t.name}`);
    for (const c of t.chains) out.push(`:${c.name} ${c.policy} [${c.counters?.packets ?? 0}:${c.counters?.bytes ?? 0}]`);
    for (const r of t.commands) if (r.kind === 'rule') out.push(renderSaveRule(r, rs.family));
    out.push('COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** Restore input of one table kept chain by chain as bytes (the compiler's form of it). */
export interface ChainedRestoreTable {
  readonly name: string;
  /** Its `:NAME - [0:0]` lines, in order. */
  readonly chains: readonly string[];
  /** The chains it has `-A` lines for, in the order they come. */
  readonly ruleChains: readonly string[];
  /** Calls `visit` with each byte range of the `-A` lines of `ruleChains[i]` (whole lines, UTF-8), in order. */
  forEachRange(i: number, visit: (bytes: Buffer, start: number, end: number) => void): void;
  /** Its `-X` lines. */
  readonly deleted: readonly string[];
  /** About how many bytes its `-A` lines take (for sizing the output). */
  readonly byteLength: number;
}

/** The save spelling of one restore rule line of `table`, by the general reader and printer. */
export function saveSpellingOfLine(line: string, table: string, family: Family): string {
  const { ruleset, diagnostics } = parseIptablesSave(`*${table}\n${line}\nCOMMIT\n`, { file: 'rule', family, noflush: true });
  const rule = ruleset?.tables[0]?.commands[0];
  const bad = diagnostics.find((d) => d.severity === 'error');
  if (!rule || rule.kind !== 'rule' || bad) throw new Error(`a rule the reader rejects: ${line}${bad ? `: ${bad.message}` : ''}`);
  return renderSaveRule(rule, family);
}

/**
 * What iptables-save prints after `tables` (a whole restore input, kept chain by chain) was
 * applied with --noflush to `base`, as UTF-8 bytes (what a file or standard output takes without
 * encoding it again), without building the IR of its rules: chains are declared by the
 * kernel-state model (src/iptables/state.ts), and each declared chain's lines are respelled from
 * their bytes (save-spelling.ts). The same text as applying the parsed input and printing
 * renderKernelRuleset(stateToRuleset(state)); null for input this does not take (`-X` lines,
 * rules for chains it does not declare or for built-in chains), which the caller loads that way.
 */
export function renderSaveAfterBytes(base: KernelState, tables: readonly ChainedRestoreTable[]): Buffer | null {
  const state = cloneState(base);
  const { family } = state;
  /** Per table: chain -> [its table's input, its index in ruleChains]. */
  const fromInput = new Map<string, Map<string, number>>();
  const inputs = new Map<string, ChainedRestoreTable>();
  let room = 4096;
  for (const t of tables) {
    if (t.deleted.length > 0 || inputs.has(t.name)) return null;
    declareChains(state, t.name, t.chains);
    const declared = new Set(t.chains);
    const index = new Map<string, number>();
    for (let i = 0; i < t.ruleChains.length; i++) {
      const c = t.ruleChains[i];
      if (!declared.has(c) || isBuiltinChain(t.name, c) || index.has(c)) return null;
      index.set(c, i);
    }
    fromInput.set(t.name, index);
    inputs.set(t.name, t);
    room += t.byteLength + 64 * t.chains.length;
  }
  const out = new ByteSink(room + (room >> 3));
  for (const name of SAVE_TABLE_ORDER) {
    const t = state.tables.get(name);
    if (!t) continue;
    out.write(`*${name}\n`);
    const order = saveChainOrder(name, t);
    for (const c of order) out.write(`:${c} ${t.get(c)!.policy} [0:0]\n`);
    const speller = new SaveSpeller(family, (line) => saveSpellingOfLine(line, name, family));
    const spell = (bytes: Buffer, start: number, end: number) => speller.spell(bytes, start, end, out);
    const index = fromInput.get(name);
    const input = inputs.get(name);
    for (const c of order) {
      const i = index?.get(c);
      if (i !== undefined) input!.forEachRange(i, spell);
      else for (const r of t.get(c)!.rules) out.write(`${renderSaveRule(r.chain === c ? r : { ...r, chain: c }, family)}\n`);
    }
    out.write('COMMIT\n');
  }
  return out.takeBytes();
}
