// Spelling a file back: commands, declarations and their bodies. Top-level commands written with a
// verb are knftables' transaction lines; `table ... { }` blocks are nft's listing (nftables'
// rule.c table_print / chain_print / set_print: a tab per level, a blank line between objects,
// `type ... priority ...; policy ...;` on one line, element lists wrapped as nft wraps them).
// Where the source laid things out otherwise, the IR's gaps and layouts say how, so
// renderNft(parseNft(x).file) === x.
import type {
  Body,
  ChainDecl,
  ChainItem,
  Command,
  CommandObject,
  Layout,
  NftFile,
  ObjectDecl,
  OpaqueItem,
  Priority,
  Rule,
  SetDecl,
  SetItem,
  TableItem,
  TableRef,
  TopItem,
} from './ir.js';
import { commaList, INLINE_LIST, renderExpr, renderName, renderRuleTokens, renderSetLiteral, renderValue, TokOut, TRANSACTION_LIST, type ListFormat, type Style } from './render-expr.js';
import { SET_TYPE_NAMES, type DataType } from './datatypes.js';
import { typesOf } from './build-expr.js';

export type BodyKind = 'table' | 'chain' | 'set' | 'object';

/** How an item takes part in its body's layout. */
export type ItemRole = 'decl' | 'hook' | 'policy' | 'other';

export function renderNft(f: NftFile): string {
  const gaps = f.gaps ?? topGaps(f.items.length, f.finalNewline);
  // Joined once, not grown by `+=`: a 10k-service listing grown piece by piece is a tree of a
  // million small strings (several times the text's size) until it is written.
  const parts: string[] = [];
  f.items.forEach((item, i) => {
    parts.push(gaps[i], renderTopItem(item));
  });
  parts.push(gaps[f.items.length]);
  return parts.join('');
}

export function topGaps(n: number, finalNewline: boolean): string[] {
  const gaps: string[] = [''];
  for (let i = 1; i < n; i++) gaps.push('\n');
  gaps.push(n > 0 && finalNewline ? '\n' : '');
  return gaps;
}

function renderTopItem(item: TopItem): string {
  switch (item.kind) {
    case 'trivia':
    case 'opaque':
      return item.text;
    case 'command':
      return renderCommand(item);
  }
}

export function renderCommand(c: Command): string {
  const style: Style = c.verb === null ? 'listing' : 'transaction';
  const out = commandTokens(c, style);
  const head = unitText(out, c);
  const o = c.object;
  switch (o.kind) {
    case 'table':
      return o.body ? head + handleSuffix(o.declHandle) + renderBody(o.body, 'table', 1, style, (it) => renderTableItem(it, 1, style)) : head;
    case 'chain':
      return o.body ? head + handleSuffix(o.declHandle) + renderBody(o.body, 'chain', 1, style, (it) => renderChainItem(it, style)) : head;
    case 'set':
    case 'map':
      return o.body ? head + handleSuffix(o.declHandle) + renderBody(o.body, 'set', 1, style, (it) => renderSetItem(it, o.body!, style)) : head;
    case 'object':
      return o.body ? head + handleSuffix(o.declHandle) + renderBody(o.body, 'object', 1, style, renderOpaqueItem) : head;
    default:
      return head;
  }
}

/** The tokens of a command's own unit: up to and with `{` when it has a body, the rule when it is one. */
export function commandTokens(c: Command, style: Style): TokOut {
  const out = new TokOut();
  if (c.verb) out.t(c.verb, '');
  const o = c.object;
  const first = c.verb ? ' ' : '';
  const kindWord = o.kind === 'object' ? o.objectType : o.kind;
  switch (o.kind) {
    case 'ruleset':
      out.t('ruleset', first);
      if (o.family) out.t(o.family);
      return out;
    case 'object':
      for (const [i, w] of kindWord.split(' ').entries()) out.t(w, i === 0 ? first : ' ');
      break;
    default:
      out.t(kindWord, first);
  }
  if (o.kind === 'table' && o.handle) {
    if (o.ref.familyWritten) out.t(o.ref.family);
    out.pair('handle', o.handle);
    return out;
  }
  tableRefTokens(o.ref, out);
  switch (o.kind) {
    case 'table':
      break;
    case 'chain':
    case 'set':
    case 'map':
      if (o.handle) out.pair('handle', o.handle);
      else if (o.name !== null) out.t(renderName(o.name));
      break;
    case 'object':
      out.t(renderName(o.name));
      break;
    case 'element':
      out.t(renderName(o.set));
      renderSetLiteral(o.elements, out, ' ', style === 'listing' ? INLINE_LIST : TRANSACTION_LIST);
      return out;
    case 'rule':
      out.t(renderName(o.chain));
      if (o.position) out.pair(o.position.keyword, o.position.value);
      if (o.rule) renderRuleTokens(o.rule, out, ' ', style === 'listing' ? INLINE_LIST : TRANSACTION_LIST);
      return out;
  }
  if ('body' in o && o.body) out.t('{');
  return out;
}

function tableRefTokens(ref: TableRef, out: TokOut): void {
  if (ref.familyWritten) out.t(ref.family);
  out.t(renderName(ref.table));
}

/** A unit's text: its raw text when kept, else its tokens with the source's or the canonical spacing. */
export function unitText(out: TokOut, l: Layout): string {
  return l.raw ?? out.join(l.layout);
}

function handleSuffix(handle: number | null | undefined): string {
  return handle === null || handle === undefined ? '' : ` # handle ${handle}`;
}

/** Items, the gaps before each and before `}`, and the `}`. */
export function renderBody<I extends { readonly kind: string; readonly handle?: number | null }>(body: Body<I>, kind: BodyKind, depth: number, style: Style, item: (it: I) => string): string {
  const gaps = body.gaps ?? canonicalGaps(body.items.map((it) => roleOf(it)), kind, depth, body.inline);
  const parts: string[] = [];
  body.items.forEach((it, i) => {
    // A declaration's handle follows its `{` (written by item()); a rule's follows the rule.
    parts.push(gaps[i], item(it));
    if (roleOf(it) !== 'decl' && it.handle !== null && it.handle !== undefined) parts.push(handleSuffix(it.handle));
  });
  parts.push(gaps[body.items.length], '}');
  return parts.join('');
}

export function roleOf(item: { kind: string }): ItemRole {
  switch (item.kind) {
    case 'chain':
    case 'set':
    case 'map':
    case 'object':
      return 'decl';
    case 'hook':
      return 'hook';
    case 'policy':
      return 'policy';
    default:
      return 'other';
  }
}

/**
 * The gaps nft's printer (a block) or knftables (one line: `{ a ; b ; }`) puts around a body's items:
 * gaps[i] before item i, gaps[n] before `}`.
 */
export function canonicalGaps(roles: readonly ItemRole[], kind: BodyKind, depth: number, inline: boolean): string[] {
  const n = roles.length;
  if (inline) {
    const gaps = [' '];
    for (let i = 1; i <= n; i++) gaps.push(' ; ');
    return gaps;
  }
  const indent = '\n' + '\t'.repeat(depth);
  const gaps: string[] = [];
  let declSeen = false;
  for (let i = 0; i < n; i++) {
    const prev = i > 0 ? roles[i - 1] : null;
    const cur = roles[i];
    let g = indent;
    if (prev === 'hook' && cur === 'policy') g = '; ';
    else if (prev === 'hook' || prev === 'policy') g = ';' + indent;
    if (kind === 'table' && cur === 'decl' && declSeen) g = '\n' + g;
    if (cur === 'decl') declSeen = true;
    gaps.push(g);
  }
  const last = n > 0 ? roles[n - 1] : null;
  gaps.push((last === 'hook' || last === 'policy' ? ';' : '') + '\n' + '\t'.repeat(depth - 1));
  return gaps;
}

// ---- items

export function renderTableItem(it: TableItem, depth: number, style: Style): string {
  switch (it.kind) {
    case 'flags':
    case 'comment':
      return unitText(tablePropertyTokens(it), it);
    case 'chain':
      return declHeader(it) + handleSuffix(it.handle) + renderBody(it.body, 'chain', depth + 1, style, (c) => renderChainItem(c, style));
    case 'set':
    case 'map':
      return declHeader(it) + handleSuffix(it.handle) + renderBody(it.body, 'set', depth + 1, style, (c) => renderSetItem(c, it.body, style));
    case 'object':
      return declHeader(it) + handleSuffix(it.handle) + renderBody(it.body, 'object', depth + 1, style, renderOpaqueItem);
    case 'opaque':
      return it.text;
  }
}

export function declHeaderTokens(d: ChainDecl | SetDecl | ObjectDecl): TokOut {
  const out = new TokOut();
  const words = d.kind === 'object' ? d.objectType.split(' ') : [d.kind];
  words.forEach((w, i) => out.t(w, i === 0 ? '' : ' '));
  out.t(renderName(d.name));
  out.t('{');
  return out;
}

function declHeader(d: ChainDecl | SetDecl | ObjectDecl): string {
  return unitText(declHeaderTokens(d), d);
}

export function renderChainItem(it: ChainItem, style: Style): string {
  return it.kind === 'opaque' ? it.text : unitText(chainItemTokens(it, style), it);
}

export function chainItemTokens(it: Exclude<ChainItem, OpaqueItem>, style: Style): TokOut {
  const out = new TokOut();
  switch (it.kind) {
    case 'hook':
      out.t('type', '');
      out.t(it.type);
      out.t('hook');
      out.t(it.hook);
      out.pair('device', it.device);
      out.t('priority');
      priorityTokens(it.priority, out);
      return out;
    case 'policy':
      out.pair('policy', it.policy, '');
      return out;
    case 'comment':
      return commentTokens(it.comment.text);
    case 'rule':
      renderRuleTokens(it, out, '', style === 'listing' ? INLINE_LIST : TRANSACTION_LIST);
      return out;
  }
}

function priorityTokens(p: Priority, out: TokOut): void {
  if (p.name !== null) {
    out.t(p.name);
    if (p.sign && p.number) {
      out.t(p.sign);
      renderValue(p.number, out, ' ');
    }
  } else if (p.number) renderValue(p.number, out, ' ');
}

export function renderSetItem(it: SetItem, body: Body<SetItem>, style: Style): string {
  return it.kind === 'opaque' ? it.text : unitText(setItemTokens(it, body.items, style), it);
}

/** A set body unit's tokens; `siblings` are the body's items (an element list wraps by the set's type). */
export function setItemTokens(it: Exclude<SetItem, OpaqueItem>, siblings: readonly SetItem[], style: Style): TokOut {
  const out = new TokOut();
  switch (it.kind) {
    case 'type':
      out.t('type', '');
      typeListTokens(it.key, out);
      if (it.data) {
        out.t(':');
        typeListTokens(it.data, out);
      }
      return out;
    case 'typeof': {
      out.t('typeof', '');
      renderExpr(it.key, out, ' ', INLINE_LIST);
      if (it.data) {
        out.t(':');
        renderExpr(it.data, out, ' ', INLINE_LIST);
      }
      return out;
    }
    case 'flags':
      return flagsTokens(it.flags);
    case 'timeout':
    case 'gc-interval':
    case 'size':
      out.pair(it.kind, it.value, '');
      return out;
    case 'policy':
      out.pair('policy', it.policy, '');
      return out;
    case 'counter':
    case 'auto-merge':
      out.t(it.kind, '');
      return out;
    case 'comment':
      return commentTokens(it.comment.text);
    case 'elements':
      out.t('elements', '');
      out.t('=');
      renderSetLiteral(it.elements, out, ' ', style === 'listing' ? elementListFormat(siblings) : TRANSACTION_LIST);
      return out;
  }
}

function typeListTokens(types: readonly string[], out: TokOut): void {
  types.forEach((t, i) => {
    if (i > 0) out.t('.');
    out.t(t);
  });
}

/** A table's `flags ...` or `comment "..."`. */
export function tablePropertyTokens(it: Extract<TableItem, { kind: 'flags' | 'comment' }>): TokOut {
  return it.kind === 'flags' ? flagsTokens(it.flags) : commentTokens(it.comment.text);
}

function flagsTokens(flags: readonly string[]): TokOut {
  const out = new TokOut();
  out.t('flags', '');
  commaList(flags, out, ' ');
  return out;
}

function commentTokens(text: string): TokOut {
  const out = new TokOut();
  out.pair('comment', text, '');
  return out;
}

function renderOpaqueItem(it: OpaqueItem): string {
  return it.text;
}

/**
 * How nft wraps a named set's elements (expression.c calculate_delim): addresses and conntrack
 * states two per line, numbers, protocols, ports and marks five per line, everything else
 * (concatenations, IPv6 addresses, interface names, verdict maps' keys) one per line.
 */
export function elementListFormat(siblings: readonly SetItem[]): ListFormat {
  let types: readonly (DataType | null)[] | null = null;
  for (const it of siblings) {
    if (it.kind === 'type') types = it.key.map((k) => SET_TYPE_NAMES.get(k) ?? null);
    else if (it.kind === 'typeof') types = typesOf(it.key, 'inet');
  }
  return { style: 'listing', perLine: perLineFor(types) };
}

function perLineFor(types: readonly (DataType | null)[] | null): number {
  if (!types || types.length !== 1) return 1;
  switch (types[0]) {
    case 'ipv4_addr':
    case 'ct_state':
    case 'ct_status':
    case 'pkt_type':
      return 2;
    case 'nf_proto':
    case 'integer':
    case 'inet_proto':
    case 'inet_service':
    case 'tcp_flag':
    case 'mark':
    case 'iface_index':
    case 'ct_dir':
      return 5;
    default:
      return 1;
  }
}

export type { CommandObject, Rule };
