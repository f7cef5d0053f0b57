// From plans to the IR of commands and of the units inside bodies: table flags and comments,
// chain hooks and policies, set types, flags, timeouts and element lists. Values are read and
// checked by build-expr.ts; this file checks what nft checks of declarations (families, hooks,
// priorities, datatypes).
import { CHAIN_TYPES, HOOKS, namedPriority, SET_TYPE_NAMES, type DataType } from './datatypes.js';
import { ExprBuilder, typesOf, type Types } from './build-expr.js';
import type { Body, ChainItem, CommandObject, NftFamily, NumberValue, Priority, Rule, SetElement, SetItem, TableItem, TableRef, Verb } from './ir.js';
import type { PObject, PPriority, PTableRef, PUnit } from './plan.js';
import type { Unit } from './unit.js';

/** A set's key and data types, for reading its elements wherever they are added. */
export interface SetTypes {
  readonly key: Types;
  readonly data: Types | 'verdict' | null;
}

export class UnitBuilder extends ExprBuilder {
  /** Named sets and maps seen so far, by `family table name`. */
  readonly sets = new Map<string, SetTypes>();

  /** One TableRef object per table spelling: a transaction names its table on every line. */
  private readonly refs = new Map<string, TableRef>();

  tableRef(u: Unit, r: PTableRef): TableRef {
    // The grammar takes only family words here (lexer.ts FAMILY_WORDS, the ir's NftFamily).
    const family = r.fam < 0 ? 'ip' : (this.word(u, r.fam) as NftFamily);
    const table = r.name < 0 ? '' : this.name(u, r.name);
    const key = `${r.fam >= 0 ? family : ''} ${table}`;
    let ref = this.refs.get(key);
    if (!ref) this.refs.set(key, (ref = { family, familyWritten: r.fam >= 0, table }));
    return ref;
  }

  /** A command's object; bodies and the rule are read apart and given here. */
  commandObject(u: Unit, p: PObject, rule: Rule | null, body: Body<unknown> | null, declHandle: number | null): CommandObject {
    switch (p.o) {
      case 'table':
        return { kind: 'table', ref: this.tableRef(u, p.ref), handle: p.handle < 0 ? null : this.number(u, p.handle), body: body as Body<TableItem> | null, declHandle };
      case 'chain':
        return { kind: 'chain', ref: this.tableRef(u, p.ref), name: p.name < 0 ? null : this.name(u, p.name), handle: p.handle < 0 ? null : this.number(u, p.handle), body: body as Body<ChainItem> | null, declHandle };
      case 'set':
      case 'map':
        return { kind: p.o, ref: this.tableRef(u, p.ref), name: p.name < 0 ? null : this.name(u, p.name), handle: p.handle < 0 ? null : this.number(u, p.handle), body: body as Body<SetItem> | null, declHandle };
      case 'element': {
        const ref = this.tableRef(u, p.ref);
        const set = this.name(u, p.name);
        const types = this.sets.get(setKey(ref.family, ref.table, set));
        const elements: SetElement[] = this.elements(u.toks, u.first[p.set], u.last[p.set], types?.key ?? null, types?.data ?? null, ref.family);
        return { kind: 'element', ref, set, elements };
      }
      case 'rule': {
        const position = p.position ? { keyword: this.word(u, p.position.kw) as 'index' | 'handle' | 'position', value: this.number(u, p.position.i) } : null;
        return { kind: 'rule', ref: this.tableRef(u, p.ref), chain: this.name(u, p.name), position, rule };
      }
      case 'ruleset':
        return { kind: 'ruleset', family: p.fam < 0 ? null : (this.word(u, p.fam) as NftFamily) };
      case 'object':
        return { kind: 'object', objectType: p.kw.map((i) => this.word(u, i)).join(' '), ref: this.tableRef(u, p.ref), name: this.name(u, p.name), body: body as Body<never> | null, declHandle };
    }
  }

  verb(u: Unit, i: number): Verb | null {
    return i < 0 ? null : (this.word(u, i) as Verb);
  }

  // ---- units inside bodies

  tableItem(u: Unit, p: PUnit): TableItem | null {
    const span = this.unitSpan(u);
    if (p.u === 'flags') return { kind: 'flags', flags: p.flags.map((i) => this.word(u, i)), span };
    if (p.u === 'comment') return { kind: 'comment', comment: this.stringValue(u, p.i), span };
    return null;
  }

  chainItem(u: Unit, p: PUnit, family: NftFamily): ChainItem | null {
    const span = this.unitSpan(u);
    switch (p.u) {
      case 'hook': {
        const type = this.word(u, p.type);
        const hook = this.word(u, p.hook);
        if (!CHAIN_TYPES.has(type)) this.report('NFT_BAD_VALUE', `unknown chain type ${type}`, this.span(this.tok(u, p.type)));
        if (!(HOOKS[family] ?? []).includes(hook)) this.report('NFT_BAD_HOOK', 'unknown chain hook', this.span(this.tok(u, p.hook)));
        const device = p.device < 0 ? null : this.stringValue(u, p.device);
        return { kind: 'hook', type, hook, device, priority: this.priority(u, p.prio, family, hook), span };
      }
      case 'policy':
        return { kind: 'policy', policy: this.word(u, p.i) as 'accept' | 'drop', span };
      case 'comment':
        return { kind: 'comment', comment: this.stringValue(u, p.i), span };
      default:
        return null;
    }
  }

  /** `-110`, `dstnat`, `dstnat - 10`, `filter + 5` (nft(8), CHAINS: standard priority names). */
  priority(u: Unit, p: PPriority, family: NftFamily, hook: string): Priority {
    let number: Priority['number'] = null;
    let offset = 0;
    if (p.num >= 0) {
      const n = this.number(u, p.num);
      number = p.neg ? { kind: 'negative', magnitude: n, value: -n.value } : n;
      offset = p.neg ? -n.value : n.value;
    }
    if (p.name < 0) return { name: null, sign: null, number, value: offset };
    const name = this.word(u, p.name);
    const sign = p.sign < 0 ? null : (this.word(u, p.sign) as '+' | '-');
    const base = namedPriority(family, hook, name);
    if (base === null) {
      const first = this.tok(u, p.name);
      const last = this.tok(u, p.num >= 0 ? p.num : p.name);
      this.report('NFT_BAD_PRIORITY', 'invalid priority expression value in this context.', this.rangeSpan(first, last));
    }
    return { name, sign, number: number as NumberValue | null, value: (base ?? 0) + (sign === '-' ? -offset : offset) };
  }

  /** A unit of a set or map body; `types` is updated when it declares the key and data types. */
  setItem(u: Unit, p: PUnit, family: NftFamily, types: { value: SetTypes | null }): SetItem | null {
    const span = this.unitSpan(u);
    switch (p.u) {
      case 'setType': {
        const key = p.key.map((i) => this.word(u, i));
        const data = p.data ? p.data.map((i) => this.word(u, i)) : null;
        for (const i of [...p.key, ...(p.data ?? [])]) {
          const name = this.word(u, i);
          if (!SET_TYPE_NAMES.has(name)) this.report('NFT_BAD_TYPE', `unknown datatype ${name}`, this.span(this.tok(u, i)));
        }
        const read = (names: string[]): (DataType | null)[] => names.map((n) => SET_TYPE_NAMES.get(n) ?? null);
        types.value = { key: read(key), data: data === null ? null : data.length === 1 && data[0] === 'verdict' ? 'verdict' : read(data) };
        return { kind: 'type', key, data, span };
      }
      case 'typeof': {
        const key = this.lhs(u, p.key, family);
        const data = p.data ? this.lhs(u, p.data, family) : null;
        types.value = { key: typesOf(key, family), data: data === null ? null : typesOf(data, family) };
        return { kind: 'typeof', key, data, span };
      }
      case 'flags':
        return { kind: 'flags', flags: p.flags.map((i) => this.word(u, i)), span };
      case 'timeout':
      case 'gc-interval':
        return { kind: p.u, value: this.time(u, p.i), span };
      case 'size':
        return { kind: 'size', value: this.number(u, p.i), span };
      case 'setPolicy':
        return { kind: 'policy', policy: this.word(u, p.i), span };
      case 'counter':
      case 'auto-merge':
        return { kind: p.u, span };
      case 'comment':
        return { kind: 'comment', comment: this.stringValue(u, p.i), span };
      case 'elements': {
        const t = types.value;
        return { kind: 'elements', elements: this.elements(u.toks, u.first[p.set], u.last[p.set], t?.key ?? null, t?.data ?? null, family), span };
      }
      default:
        return null;
    }
  }

  unitSpan(u: Unit) {
    const a = u.toks[u.first[0]];
    const b = u.toks[u.last[u.shape.length - 1]];
    return a && b ? this.rangeSpan(a, b) : null;
  }
}

export function setKey(family: string, table: string, name: string): string {
  return `${family} ${table} ${name}`;
}
