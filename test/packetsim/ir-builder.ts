// A tiny test-only builder of rule IR from iptables-restore-like lines, so unit tests read like
// rulesets. Not a parser: it knows just enough option shapes for the simulator's tests, and
// gives every value as `word` (the simulator reads the text), except addresses.
import type { Arg, Family, OptionArg, Rule, Ruleset, Table, Target, Value, ChainDecl, Command } from '../../src/iptables/ir.js';

const BUILTIN: Record<string, string> = { '-s': 'source', '-d': 'destination', '-p': 'protocol', '-i': 'in-interface', '-o': 'out-interface', '-f': 'fragment' };
const FLAGS = new Set(['--set', '--rcheck', '--update', '--remove', '--reap', '--rsource', '--rdest', '--syn', '--random', '--random-fully', '--persistent', '--save-mark', '--restore-mark', '--notrack', '--limit-iface-in', '--limit-iface-out']);
const TWO_VALUES = new Set(['--tcp-flags', '--match-set']);
const VERDICTS = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);
const EXTENSIONS = new Set(['REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'MARK', 'CONNMARK', 'CT', 'NOTRACK', 'LOG', 'NFLOG', 'TRACE', 'NFQUEUE']);

function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? `"${m[1]}"` : m[2]);
  return out;
}

function value(text: string, family: Family, address: boolean): Value {
  if (address) {
    const [a, p] = text.split('/');
    return { type: 'address', text, family, address: a, prefix: p ? Number(p) : family === 'ipv4' ? 32 : 128, hostBits: false };
  }
  if (text.startsWith('"')) return { type: 'string', text, value: text.slice(1, -1) };
  return { type: 'word', text };
}

export function rule(line: string, family: Family = 'ipv4', lineNo = 0): Rule {
  const toks = tokenize(line);
  if (toks[0] !== '-A') throw new Error(`test builder: only -A lines: ${line}`);
  const chain = toks[1];
  const args: Arg[] = [];
  let target: Target | null = null;
  let mod: string | null = null;
  let neg = false;
  let targetOpts: OptionArg[] | null = null;
  let i = 2;
  const opt = (module: string | null, name: string, spelling: string, values: Value[]): OptionArg => ({
    kind: 'option', module, name, spelling, negation: neg ? 'prefix' : 'none', values, span: null,
  });
  while (i < toks.length) {
    const t = toks[i++];
    if (t === '!') {
      neg = true;
      continue;
    }
    if (t === '-m') {
      mod = toks[i++];
      args.push({ kind: 'module', name: mod, spelling: '-m', span: null });
      continue;
    }
    if (t === '-j' || t === '-g') {
      const name = toks[i++];
      if (t === '-g') target = { kind: 'chain', name, goto: true, spelling: '-g', span: null };
      else if (VERDICTS.has(name)) target = { kind: 'verdict', name: name as 'ACCEPT', spelling: '-j', span: null };
      else if (EXTENSIONS.has(name)) {
        targetOpts = [];
        target = { kind: 'extension', name, spelling: '-j', options: targetOpts, span: null };
        mod = name;
      } else if (name === 'OPAQUE') target = { kind: 'opaque', name, spelling: '-j', text: toks.slice(i).join(' '), span: null };
      else target = { kind: 'chain', name, goto: false, spelling: '-j', span: null };
      if (target.kind === 'opaque') break;
      continue;
    }
    if (BUILTIN[t]) {
      const name = BUILTIN[t];
      const vals = t === '-f' ? [] : [value(toks[i++], family, t === '-s' || t === '-d')];
      args.push(opt(null, name, t, vals));
      neg = false;
      continue;
    }
    if (t.startsWith('--')) {
      const name = t.slice(2);
      let vals: Value[] = [];
      if (!FLAGS.has(t)) {
        vals = [value(toks[i++], family, false)];
        if (TWO_VALUES.has(t)) vals.push(value(toks[i++], family, false));
      }
      const module = mod ?? (name === 'dport' || name === 'sport' ? 'tcp' : null);
      const o = opt(module, name, t, vals);
      if (targetOpts && mod === (target as { name?: string } | null)?.name) targetOpts.push(o);
      else args.push(o);
      neg = false;
      continue;
    }
    if (t === '--opaque') continue;
    // Unknown bare word: treat the rest as an opaque match.
    args.push({ kind: 'opaque', module: mod, text: toks.slice(i - 1).join(' '), span: null });
    break;
  }
  return { kind: 'rule', op: 'A', chain, position: null, counters: null, args, target, span: lineNo ? { line: lineNo, col: 1, offset: 0, length: line.length } : null };
}

/** `*table` / `:CHAIN POLICY` / `-A ...` / `COMMIT` text -> a ruleset. */
export function ruleset(text: string, family: Family = 'ipv4'): Ruleset {
  const tables: Table[] = [];
  let cur: { name: string; chains: ChainDecl[]; commands: Command[] } | null = null;
  text.split('\n').forEach((raw, idx) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    if (line.startsWith('*')) cur = { name: line.slice(1), chains: [], commands: [] };
    else if (line === 'COMMIT') {
      if (cur) tables.push({ name: cur.name, chains: cur.chains, commands: cur.commands, lines: [...cur.chains.map((decl) => ({ kind: 'chain' as const, decl })), ...cur.commands.map((command) => ({ kind: 'command' as const, command }))], committed: true, span: null });
      cur = null;
    } else if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      cur!.chains.push({ name, policy, counters: null, span: { line: idx + 1, col: 1, offset: 0, length: 0 } });
    } else cur!.commands.push(rule(line, family, idx + 1));
  });
  return { family, tables, outer: [] };
}
