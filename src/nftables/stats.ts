// What an nft file holds, counted per table: chains (base chains apart), rules, sets, maps and
// elements, the statements used, and everything kept as written because kpsim does not model it.
// Transactions and listings count alike: `add rule` lines are rules, `chain x { ... }` blocks chains.
import type { ChainItem, Command, NftFile, SetItem, Stmt, TableItem } from './ir.js';
import type { NftStateTable } from './state.js';

export interface TableStats {
  readonly name: string;
  chains: number;
  baseChains: number;
  rules: number;
  sets: number;
  maps: number;
  elements: number;
}

export interface NftStats {
  readonly spelling: 'listing' | 'transaction' | 'mixed' | 'empty';
  readonly tables: TableStats[];
  /** Statement kinds (`match`, `verdict`, `nat`, ...) and how often each occurs. */
  readonly statements: Map<string, number>;
  /** What is kept as written: opaque statements by their first words, objects, units. */
  readonly notModelled: Map<string, number>;
}

export function nftStats(file: NftFile): NftStats {
  const tables = new Map<string, TableStats>();
  const statements = new Map<string, number>();
  const notModelled = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
  const table = (family: string, name: string): TableStats => {
    const key = `${family} ${name}`;
    let t = tables.get(key);
    if (!t) tables.set(key, (t = { name: key, chains: 0, baseChains: 0, rules: 0, sets: 0, maps: 0, elements: 0 }));
    return t;
  };
  const stmts = (list: readonly Stmt[]) => {
    for (const s of list) {
      bump(statements, s.kind);
      if (s.kind === 'opaque') bump(notModelled, headOf(s.text));
      if (s.kind === 'xt') bump(notModelled, `xt ${s.type} ${s.name}`);
    }
  };
  const chainBody = (t: TableStats, items: readonly ChainItem[]) => {
    for (const it of items) {
      if (it.kind === 'hook') t.baseChains++;
      else if (it.kind === 'rule') {
        t.rules++;
        stmts(it.stmts);
      } else if (it.kind === 'opaque') bump(notModelled, `${headOf(it.text)} (in a chain)`);
    }
  };
  const setBody = (t: TableStats, items: readonly SetItem[]) => {
    for (const it of items) {
      if (it.kind === 'elements') t.elements += it.elements.length;
      else if (it.kind === 'opaque') bump(notModelled, `${headOf(it.text)} (in a set)`);
    }
  };
  const tableBody = (t: TableStats, items: readonly TableItem[]) => {
    for (const it of items) {
      switch (it.kind) {
        case 'chain':
          t.chains++;
          chainBody(t, it.body.items);
          break;
        case 'set':
        case 'map':
          if (it.kind === 'set') t.sets++;
          else t.maps++;
          setBody(t, it.body.items);
          break;
        case 'object':
          bump(notModelled, `${it.objectType} (object)`);
          break;
        case 'opaque':
          bump(notModelled, `${headOf(it.text)} (in a table)`);
          break;
        default:
          break;
      }
    }
  };
  let listing = 0;
  let transaction = 0;
  for (const item of file.items) {
    if (item.kind === 'opaque') bump(notModelled, `${headOf(item.text)} (command)`);
    if (item.kind !== 'command') continue;
    if (item.verb === null) listing++;
    else transaction++;
    command(item);
  }
  const spelling = listing && transaction ? 'mixed' : listing ? 'listing' : transaction ? 'transaction' : 'empty';
  return { spelling, tables: [...tables.values()], statements, notModelled };

  function command(c: Command): void {
    const o = c.object;
    const adds = c.verb === null || c.verb === 'add' || c.verb === 'create' || c.verb === 'insert' || c.verb === 'replace';
    switch (o.kind) {
      case 'table': {
        const t = table(o.ref.family, o.ref.table);
        if (o.body) tableBody(t, o.body.items);
        return;
      }
      case 'chain': {
        const t = table(o.ref.family, o.ref.table);
        if (adds) t.chains++;
        if (o.body) chainBody(t, o.body.items);
        return;
      }
      case 'set':
      case 'map': {
        const t = table(o.ref.family, o.ref.table);
        if (adds && o.kind === 'set') t.sets++;
        else if (adds) t.maps++;
        if (o.body) setBody(t, o.body.items);
        return;
      }
      case 'element':
        if (adds) table(o.ref.family, o.ref.table).elements += o.elements.length;
        return;
      case 'rule': {
        const t = table(o.ref.family, o.ref.table);
        if (adds && o.rule) {
          t.rules++;
          stmts(o.rule.stmts);
        }
        return;
      }
      case 'object':
        bump(notModelled, `${o.objectType} (object)`);
        return;
      case 'ruleset':
        return;
    }
  }
}

/** The first two words of a text kept as written, to group what is not modelled. */
function headOf(text: string): string {
  return text.split(/\s+/).slice(0, 2).join(' ');
}

export function formatNftStats(s: NftStats): string {
  const lines = [`nft ${s.spelling}`];
  for (const t of s.tables) {
    lines.push(`table ${t.name}: ${t.chains} chains (${t.baseChains} base), ${t.rules} rules, ${t.sets} sets, ${t.maps} maps, ${t.elements} elements`);
  }
  const list = (title: string, m: Map<string, number>) => {
    lines.push(`${title}: ${m.size === 0 ? 'none' : ''}`);
    for (const [k, n] of [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) lines.push(`  ${k} ${n}`);
  };
  list('statements', s.statements);
  list('not modelled (kept as written)', s.notModelled);
  return lines.join('\n') + '\n';
}

/** One table of the kernel state counted (`kpsim compile --stats` in nftables mode). */
export function formatStateTableStats(t: NftStateTable): string {
  let base = 0;
  let rules = 0;
  for (const c of t.chains.values()) {
    if (c.hook) base++;
    rules += c.rules.length;
  }
  let sets = 0;
  let maps = 0;
  let elements = 0;
  for (const s of t.sets.values()) {
    if (s.map) maps++;
    else sets++;
    elements += s.elements.length;
  }
  return `${t.family} ${t.name}: ${t.chains.size} chains (${base} base), ${rules} rules, ${sets} sets, ${maps} maps, ${elements} elements\n`;
}
