// Spelling the IR back as tokens: values, expressions, statements, rules and set elements, each
// as the tokens nft reads with the spacing nft's printer puts between them (`10.0.0.0/8` glued,
// `ip daddr . meta l4proto` spaced). A unit's text is its tokens joined by that spacing, or by the
// source's own spacing where the IR keeps it (ir.ts `layout`). Each writer mirrors one reader of
// build-expr.ts and the grammar, so format drift shows side by side.
import type { ElementOption, Expr, Rule, SetElement, Stmt, Value } from './ir.js';

/** The style of the text around: nft's listing, or knftables' transaction lines. */
export type Style = 'listing' | 'transaction';

/** Tokens and the canonical spacing before each (the first token's is its parent's business). */
export class TokOut {
  readonly texts: string[] = [];
  readonly seps: string[] = [];

  t(text: string, sep = ' '): void {
    this.texts.push(text);
    this.seps.push(sep);
  }

  /** `keyword value` (`mod 2`, `packets 0`, `timeout 3h`), or nothing when the value is absent. */
  pair(keyword: string, value: { readonly text: string } | string | null | undefined, sep = ' '): void {
    if (value === null || value === undefined) return;
    this.t(keyword, sep);
    this.t(typeof value === 'string' ? value : value.text);
  }

  /** The tokens joined by their canonical spacing, or by `layout` (the text before tokens 1..n-1). */
  join(layout?: readonly string[] | null): string {
    const { texts, seps } = this;
    if (texts.length === 0) return '';
    let s = texts[0];
    const useLayout = layout && layout.length === texts.length - 1;
    for (let i = 1; i < texts.length; i++) s += (useLayout ? layout[i - 1] : seps[i]) + texts[i];
    return s;
  }
}

/** What a set literal's elements are separated by, and where nft's printer breaks the line. */
export interface ListFormat {
  readonly style: Style;
  /** For `elements = { ... }` in a listing: after how many elements per line nft wraps (0: never). */
  readonly perLine: number;
}

export const INLINE_LIST: ListFormat = { style: 'listing', perLine: 0 };
export const TRANSACTION_LIST: ListFormat = { style: 'transaction', perLine: 0 };

/** nft's continuation of a wrapped element list (expression.c calculate_delim): a fixed indent. */
export const ELEMENT_WRAP = '\n\t\t\t     ';

export function renderValue(v: Value, out: TokOut, sep: string): void {
  switch (v.kind) {
    case 'ipv4':
    case 'ipv6':
    case 'number':
    case 'time':
    case 'string':
    case 'symbol':
    case 'variable':
    case 'raw':
      out.t(v.text, sep);
      return;
    case 'negative':
      out.t('-', sep);
      out.t(v.magnitude.text, '');
      return;
    case 'prefix':
      out.t(v.base.text, sep);
      out.t('/', '');
      out.t(v.lengthText, '');
      return;
    case 'range':
      renderValue(v.from, out, sep);
      out.t('-', '');
      renderValue(v.to, out, '');
      return;
    case 'list':
      v.items.forEach((item, i) => {
        if (i > 0) out.t(',', '');
        renderValue(item, out, i === 0 ? sep : '');
      });
      return;
  }
}

export function renderExpr(e: Expr, out: TokOut, sep: string, list: ListFormat): void {
  switch (e.kind) {
    case 'payload':
      out.t(e.protocol, sep);
      out.t(e.field);
      return;
    case 'meta':
      if (e.bare) out.t(e.key, sep);
      else {
        out.t('meta', sep);
        out.t(e.key);
      }
      return;
    case 'ct':
      out.t('ct', sep);
      if (e.direction) out.t(e.direction);
      if (e.family) out.t(e.family);
      out.t(e.key);
      return;
    case 'fib':
      out.t('fib', sep);
      e.flags.forEach((f, i) => {
        if (i > 0) out.t('.');
        out.t(f);
      });
      out.t(e.result);
      return;
    case 'numgen':
      out.pair('numgen', e.mode, sep);
      out.pair('mod', e.mod);
      out.pair('offset', e.offset);
      return;
    case 'hash':
      out.t(e.function, sep);
      if (e.expr) renderExpr(e.expr, out, ' ', list);
      out.pair('mod', e.mod);
      out.pair('seed', e.seed);
      out.pair('offset', e.offset);
      return;
    case 'concat':
      e.parts.forEach((p, i) => {
        if (i > 0) out.t('.');
        renderExpr(p, out, i === 0 ? sep : ' ', list);
      });
      return;
    case 'binary':
      renderInfix(e.left, e.spelling, e.right, out, sep, list);
      return;
    case 'masked':
      renderInfix(e.value, '/', e.mask, out, sep, list);
      return;
    case 'value':
      renderValue(e.value, out, sep);
      return;
    case 'set':
      renderSetLiteral(e.elements, out, sep, list);
      return;
    case 'setRef':
      out.t('@' + e.name, sep);
      return;
    case 'map':
      renderInfix(e.key, 'map', e.map, out, sep, list);
      return;
    case 'verdict':
      renderVerdict(e, out, sep);
      return;
    case 'paren':
      out.t('(', sep);
      renderExpr(e.expr, out, '', list);
      out.t(')', '');
      return;
  }
}

/**
 * `{ a, b }`: in a listing `, ` (anonymous sets never wrap), in knftables' lines ` , ` (as
 * kube-proxy joins them); a named set's `elements = { ... }` wraps after `perLine` elements.
 */
export function renderSetLiteral(elements: readonly SetElement[], out: TokOut, sep: string, list: ListFormat): void {
  out.t('{', sep);
  elements.forEach((el, i) => {
    if (i > 0) out.t(',', list.style === 'transaction' ? ' ' : '');
    const wrap = list.perLine === 1 || (list.perLine > 1 && i > 0 && i % list.perLine === 0);
    renderElement(el, out, i > 0 && wrap ? ELEMENT_WRAP : ' ', list);
  });
  out.t('}');
}

export function renderElement(el: SetElement, out: TokOut, sep: string, list: ListFormat): void {
  renderExpr(el.key, out, sep, list);
  for (const o of el.options) renderElementOption(o, out);
  if (el.data) {
    out.t(':');
    renderExpr(el.data, out, ' ', list);
  }
}

function renderElementOption(o: ElementOption, out: TokOut): void {
  switch (o.kind) {
    case 'timeout':
    case 'expires':
      out.pair(o.kind, o.value);
      return;
    case 'comment':
      out.pair('comment', o.comment);
      return;
    case 'counter':
      counterTokens(o, out, ' ');
      return;
  }
}

export function renderStmt(s: Stmt, out: TokOut, sep: string, list: ListFormat): void {
  switch (s.kind) {
    case 'match':
      renderExpr(s.left, out, sep, list);
      if (s.opSpelling !== null) out.t(s.opSpelling);
      renderExpr(s.right, out, ' ', list);
      return;
    case 'verdict':
      renderVerdict(s, out, sep);
      return;
    case 'vmap':
      renderInfix(s.key, 'vmap', s.map, out, sep, list);
      return;
    case 'reject':
      out.t('reject', sep);
      if (s.with) {
        out.t('with');
        out.t(s.with.family);
        if (s.with.typeWord) out.t('type');
        out.t(s.with.code);
      }
      return;
    case 'counter':
      counterTokens(s, out, sep);
      return;
    case 'nat':
      out.t(s.type, sep);
      if (s.family) out.t(s.family);
      if (s.to) out.t('to');
      if (s.address) {
        if (s.bracketed) {
          out.t('[');
          renderExpr(s.address, out, '', list);
          out.t(']', '');
        } else renderExpr(s.address, out, ' ', list);
      }
      if (s.port) {
        out.t(':', s.address ? '' : ' ');
        renderExpr(s.port, out, '', list);
      }
      if (s.flags.length > 0) commaList(s.flags, out, ' ');
      return;
    case 'set':
      renderInfix(s.target, 'set', s.value, out, sep, list);
      return;
    case 'setUpdate':
      out.t(s.op, sep);
      out.t('@' + s.set);
      out.t('{');
      renderElement(s.element, out, ' ', list);
      out.t('}');
      return;
    case 'log':
      out.t('log', sep);
      for (const o of s.options) out.pair(o.kind, o.value);
      return;
    case 'limit':
      out.t('limit', sep);
      out.t('rate');
      if (s.over) out.t('over');
      out.t(s.rate.text);
      if (s.unit !== null) out.t(s.unit);
      else {
        out.t('/', '');
        out.t(s.per, '');
      }
      out.pair('burst', s.burst);
      if (s.burstUnit) out.t(s.burstUnit);
      return;
    case 'comment':
      out.pair('comment', s.comment, sep);
      return;
    case 'notrack':
      out.t('notrack', sep);
      return;
    case 'xt':
      out.t('xt', sep);
      out.t(s.type);
      out.t(renderName(s.name));
      return;
    case 'opaque':
      out.t(s.text, sep);
      return;
  }
}

/** `LEFT word RIGHT`: `meta mark & 0x4000`, `ip daddr vmap @m`, `meta mark set 1`. */
function renderInfix(left: Expr, word: string, right: Expr, out: TokOut, sep: string, list: ListFormat): void {
  renderExpr(left, out, sep, list);
  out.t(word);
  renderExpr(right, out, ' ', list);
}

function renderVerdict(v: { readonly verdict: string; readonly chain: string | null }, out: TokOut, sep: string): void {
  out.t(v.verdict, sep);
  if (v.chain !== null) out.t(renderName(v.chain));
}

/** `a,b,c` (flags, nat flags): the commas glued to their words. */
export function commaList(words: readonly string[], out: TokOut, sep: string): void {
  words.forEach((w, i) => {
    if (i > 0) out.t(',', '');
    out.t(w, i === 0 ? sep : '');
  });
}

/** `counter` or `counter packets N bytes M` (a statement, or an element's option). */
function counterTokens(c: { readonly packets: { readonly text: string } | null; readonly bytes: { readonly text: string } | null }, out: TokOut, sep: string): void {
  out.t('counter', sep);
  if (c.packets && c.bytes) {
    out.pair('packets', c.packets);
    out.pair('bytes', c.bytes);
  }
}

export function renderRuleTokens(r: Rule, out: TokOut, sep: string, list: ListFormat): void {
  r.stmts.forEach((s, i) => renderStmt(s, out, i === 0 ? sep : ' ', list));
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_\-/.]*$/;

/** A table, chain or set name as nft reads it: plain when it is a word, else quoted. */
export function renderName(name: string): string {
  return PLAIN_NAME.test(name) ? name : `"${name}"`;
}
