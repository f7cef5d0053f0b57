// Every kind of value, expression and statement the IR has (src/nftables/kinds.ts) is read from
// real text and rendered back: from the corpus and the kernel's listings, and for the few that nft
// reads but never lists ($variables, parentheses, statements kpsim keeps opaque) from input text.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PAYLOAD_FIELD_WORDS } from '../../src/nftables/datatypes.js';
import { EXPR_KINDS, STMT_KINDS, VALUE_KINDS } from '../../src/nftables/kinds.js';
import type { Body, ChainItem, Expr, NftFile, Priority, Rule, SetElement, SetItem, Stmt, TableItem, Value } from '../../src/nftables/index.js';
import { parseNft, renderNft } from '../../src/nftables/index.js';
import { corpusRulesets, fixtures, ROOT } from './corpus.js';

const INPUT_ONLY = `define pods = 10.0.0.0/8
table inet t {
	chain c {
		ip saddr $pods tcp flags & (fin | syn) == syn queue num 1
	}
}
`;

interface Seen {
  values: Set<string>;
  exprs: Set<string>;
  stmts: Set<string>;
}

function collect(file: NftFile, seen: Seen): void {
  const value = (v: Value): void => {
    seen.values.add(v.kind);
    if (v.kind === 'prefix') value(v.base);
    if (v.kind === 'range') [v.from, v.to].forEach(value);
    if (v.kind === 'list') v.items.forEach(value);
    if (v.kind === 'negative') value(v.magnitude);
  };
  const element = (el: SetElement): void => {
    expr(el.key);
    if (el.data) expr(el.data);
    for (const o of el.options) if (o.kind === 'timeout' || o.kind === 'expires') value(o.value);
  };
  const expr = (e: Expr): void => {
    seen.exprs.add(e.kind);
    switch (e.kind) {
      case 'value':
        return value(e.value);
      case 'concat':
        return e.parts.forEach(expr);
      case 'binary':
        return [e.left, e.right].forEach(expr);
      case 'masked':
        return [e.value, e.mask].forEach(expr);
      case 'set':
        return e.elements.forEach(element);
      case 'map':
        return [e.key, e.map].forEach(expr);
      case 'hash':
        if (e.expr) expr(e.expr);
        return;
      case 'paren':
        return expr(e.expr);
      default:
        return;
    }
  };
  const stmt = (s: Stmt): void => {
    seen.stmts.add(s.kind);
    switch (s.kind) {
      case 'match':
        return [s.left, s.right].forEach(expr);
      case 'vmap':
        return [s.key, s.map].forEach(expr);
      case 'nat':
        return [s.address, s.port].forEach((x) => x && expr(x));
      case 'set':
        return [s.target, s.value].forEach(expr);
      case 'setUpdate':
        return element(s.element);
      default:
        return;
    }
  };
  const rule = (r: Rule) => r.stmts.forEach(stmt);
  const priority = (p: Priority) => p.number && value(p.number);
  const chain = (b: Body<ChainItem>) =>
    b.items.forEach((it) => {
      if (it.kind === 'rule') rule(it);
      if (it.kind === 'hook') priority(it.priority);
    });
  const set = (b: Body<SetItem>) =>
    b.items.forEach((it) => {
      if (it.kind === 'elements') it.elements.forEach(element);
      if (it.kind === 'timeout' || it.kind === 'gc-interval') value(it.value);
    });
  const table = (b: Body<TableItem>) =>
    b.items.forEach((it) => {
      if (it.kind === 'chain') chain(it.body);
      if (it.kind === 'set' || it.kind === 'map') set(it.body);
    });
  for (const item of file.items) {
    if (item.kind !== 'command') continue;
    const o = item.object;
    if (o.kind === 'table' && o.body) table(o.body);
    if (o.kind === 'chain' && o.body) chain(o.body);
    if ((o.kind === 'set' || o.kind === 'map') && o.body) set(o.body);
    if (o.kind === 'element') o.elements.forEach(element);
    if (o.kind === 'rule' && o.rule) rule(o.rule);
  }
}

describe('coverage of the IR', () => {
  const seen: Seen = { values: new Set(), exprs: new Set(), stmts: new Set() };
  const texts = [...corpusRulesets(), ...fixtures(), { name: 'input-only', path: '', text: INPUT_ONLY }];
  for (const f of texts) {
    const { file } = parseNft(f.text, { file: f.name });
    expect(renderNft(file)).toBe(f.text);
    collect(file, seen);
  }

  it.each(Object.keys(VALUE_KINDS))('value %s is read and rendered', (k) => expect(seen.values).toContain(k));
  it.each(Object.keys(EXPR_KINDS))('expression %s is read and rendered', (k) => expect(seen.exprs).toContain(k));
  it.each(Object.keys(STMT_KINDS))('statement %s is read and rendered', (k) => expect(seen.stmts).toContain(k));
});

describe('the grammar and the datatype table agree', () => {
  it('on the header fields nft knows', () => {
    const grammar = readFileSync(join(ROOT, 'src/nftables/grammar.ne'), 'utf8');
    const line = grammar.split('\n').find((l) => l.startsWith('payloadField ->'))!;
    const words = [...line.matchAll(/"([a-z0-9-]+)"/g)].map((m) => m[1]);
    expect([...words].sort()).toEqual([...PAYLOAD_FIELD_WORDS].sort());
  });
});
