// renderSave: what `iptables-save` prints after `iptables-restore` loaded the ruleset into a fresh
// network namespace (iptables 1.8, nf_tables backend), without the `# Generated`/`# Completed`
// lines. The restore is applied (chain declarations, -A/-I/-D/-N/-X/-F/-P), then:
// - tables in the backend's fixed order, only those that hold a chain;
// - every built-in chain of the table with its policy, then the user chains sorted by name,
//   counters [0:0] (restore without --counters does not load them);
// - rules grouped per chain in that order, each `-A CHAIN` followed by -s, -d, -i, -o, -p, -f
//   (addresses masked, with /32 or /128), the matches in the order they were loaded (a protocol
//   match `-p tcp --dport 80` loads implicitly is printed as `-m tcp`), then the target.
import type { Arg, Family, OptionArg, Rule, Ruleset, Table, Value } from '../iptables/ir.js';
import { BUILTIN_CHAINS } from '../iptables/ir.js';
import { PROTOCOL_NAMES } from './names.js';
import { renderMatch, renderTargetOptions } from './render-match.js';
import { cidr } from './save-format.js';

/** The order iptables-nft lists tables in (its xtables_ipv4/ipv6 table array). */
const TABLE_ORDER = ['mangle', 'raw', 'filter', 'nat', 'security'];

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
    return PROTOCOL_NAMES[v.number] ?? String(v.number);
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

interface ChainState {
  policy: string;
  rules: Rule[];
}

/** iptables-restore's effect on one table (without --noflush: the table starts empty). */
function applyTable(t: Table, chains: Map<string, ChainState>, builtins: readonly string[]): void {
  const get = (name: string) => {
    let c = chains.get(name);
    if (!c) {
      c = { policy: builtins.includes(name) ? 'ACCEPT' : '-', rules: [] };
      chains.set(name, c);
    }
    return c;
  };
  for (const d of t.chains) {
    const c = get(d.name);
    c.rules = [];
    if (builtins.includes(d.name) && d.policy !== '-') c.policy = d.policy;
  }
  for (const cmd of t.commands) {
    if (cmd.kind === 'chainCommand') {
      const name = cmd.chain;
      switch (cmd.op) {
        case 'N':
          if (name) get(name);
          break;
        case 'X':
          if (name) chains.delete(name);
          else for (const n of [...chains.keys()]) if (!builtins.includes(n)) chains.delete(n);
          break;
        case 'F':
          if (name) get(name).rules = [];
          else for (const c of chains.values()) c.rules = [];
          break;
        case 'P':
          if (name && cmd.policy) get(name).policy = cmd.policy;
          break;
        case 'Z':
          break;
      }
      continue;
    }
    const c = get(cmd.chain);
    switch (cmd.op) {
      case 'A':
        c.rules.push(cmd);
        break;
      case 'I':
        c.rules.splice(Math.max(0, (cmd.position ?? 1) - 1), 0, cmd);
        break;
      case 'R':
        if (cmd.position !== null && cmd.position <= c.rules.length) c.rules[cmd.position - 1] = cmd;
        break;
      case 'D': {
        if (cmd.position !== null) c.rules.splice(cmd.position - 1, 1);
        else {
          const want = renderSaveRule(cmd, 'ipv4');
          const i = c.rules.findIndex((x) => renderSaveRule(x, 'ipv4') === want);
          if (i >= 0) c.rules.splice(i, 1);
        }
        break;
      }
    }
  }
}

export function renderSave(rs: Ruleset): string {
  const byName = new Map<string, Map<string, ChainState>>();
  for (const t of rs.tables) {
    const builtins = BUILTIN_CHAINS[t.name] ?? [];
    // Each `*table` of a restore without --noflush replaces the whole table.
    const chains = new Map<string, ChainState>();
    applyTable(t, chains, builtins);
    byName.set(t.name, chains);
  }
  const out: string[] = [];
  const names = [...byName.keys()].sort((a, b) => rank(a) - rank(b));
  for (const name of names) {
    const chains = byName.get(name)!;
    if (chains.size === 0) continue;
    const builtins = BUILTIN_CHAINS[name] ?? [];
    const users = [...chains.keys()].filter((c) => !builtins.includes(c)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const order = [...builtins, ...users];
    out.push(`*${name}`);
    for (const c of order) out.push(`:${c} ${chains.get(c)?.policy ?? 'ACCEPT'} [0:0]`);
    for (const c of order) for (const r of chains.get(c)?.rules ?? []) out.push(renderSaveRule(r, rs.family));
    out.push('COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function rank(table: string): number {
  const i = TABLE_ORDER.indexOf(table);
  return i < 0 ? TABLE_ORDER.length : i;
}

