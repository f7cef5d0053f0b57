// parseNft: nft text (knftables' transaction lines, `nft list ruleset` output, or any `nft -f`
// input mixing them) -> NftFile, reporting every problem with its position and carrying on.
//
// The structure is read here in one pass over the moo lexer's tokens: units end at a newline or
// `;` outside braces; a `{` after a declaration's head (`table ip x`, `chain y`, `set s`) opens a
// body whose units are read in that body's context, any other `{` opens a set literal that belongs
// to the unit. Each unit is planned by its shape (plan.ts: the grammar runs once per shape) and
// built into typed IR (build-*.ts), then rendered back and compared with its source, so the IR
// keeps the source's spacing exactly where it differs from the canonical one (layout.ts).
import type { Diagnostic } from '../diag/diagnostic.js';
import { MAX_SHAPE } from './build-expr.js';
import { setKey, UnitBuilder, type SetTypes } from './build-unit.js';
import type {
  Body,
  ChainDecl,
  ChainItem,
  Command,
  CommandObject,
  Layout,
  NftFamily,
  NftFile,
  ObjectDecl,
  OpaqueItem,
  Rule,
  SetDecl,
  SetItem,
  TableItem,
  TopItem,
  Trivia,
} from './ir.js';
import { layoutOf } from './layout.js';
import { FAMILY_WORDS, lexer, type Tok } from './lexer.js';
import { isPlanError, planFor, type Context, type PObject, type PUnit } from './plan.js';
import { canonicalGaps, chainItemTokens, commandTokens, declHeaderTokens, roleOf, setItemTokens, tablePropertyTokens, topGaps, type BodyKind } from './render.js';
import { TokOut } from './render-expr.js';
import { unitOf, type Unit } from './unit.js';

export interface ParseOptions {
  /** The file name diagnostics carry (`<stdin>` for standard input). */
  readonly file: string;
  /** What kpsim does not model is an error instead of a warning (it is still kept as written). */
  readonly strict?: boolean;
}

export interface ParseResult {
  readonly file: NftFile;
  readonly diagnostics: Diagnostic[];
}

// Bodies nest two deep at most (a table holds chains, sets, objects; nothing else opens a body, see
// opensBody), so only set literals can nest without bound.
/** Set literals nested deeper than this (`{ { { ...`) are not read. */
const MAX_BRACE_DEPTH = 16;

const VERBS: ReadonlySet<string> = new Set(['add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush', 'reset', 'list']);
const PREPROCESSOR_WORDS: ReadonlySet<string> = new Set(['define', 'redefine', 'undefine', 'include']);
const DECL_WORDS: ReadonlySet<string> = new Set(['table', 'chain', 'set', 'map', 'flowtable', 'counter', 'quota', 'limit', 'ct', 'synproxy', 'secmark']);

interface Header {
  readonly toks: Tok[];
  readonly plan: PUnit | null;
  readonly gapBefore: string;
}

interface Frame {
  readonly kind: 'top' | BodyKind;
  readonly items: unknown[];
  readonly gaps: string[];
  lastEnd: number;
  readonly open: Tok | null;
  readonly header: Header | null;
  readonly family: NftFamily;
  readonly table: string;
  /** For set bodies: the key and data types once the `type` unit is read. */
  readonly setTypes: { value: SetTypes | null };
  readonly setName: string | null;
}

export function parseNft(text: string, opts: ParseOptions): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const b = new UnitBuilder(text, opts.file, diagnostics);
  const top: Frame = { kind: 'top', items: [], gaps: [], lastEnd: 0, open: null, header: null, family: 'ip', table: '', setTypes: { value: null }, setName: null };
  const frames: Frame[] = [top];
  let unit: Tok[] = [];
  let unitDepth = 0;
  let unitBad = false;
  let lineStart = 0;
  let lineHasTokens = false;
  let lineNo = 1;
  let lastTokEnd = 0;
  const frame = () => frames[frames.length - 1];

  lexer.reset(text);
  for (let t = lexer.next() as Tok | undefined; t; t = lexer.next() as Tok | undefined) {
    switch (t.type) {
      case 'space':
        continue;
      case 'comment':
        if (unit.length > 0 && unitDepth > 0) continue;
        if (unit.length > 0) finishUnit();
        continue;
      case 'nl':
      case 'crlf':
        if (unit.length > 0 && unitDepth > 0) continue;
        if (unit.length > 0) finishUnit();
        if (frame() === top && !lineHasTokens) trivia(lineStart, t.offset);
        lineStart = t.offset + t.text.length;
        lineNo = t.line + 1;
        lineHasTokens = false;
        continue;
      case 'semi':
        lineHasTokens = true;
        if (unitDepth > 0) unit.push(t);
        else if (unit.length > 0) finishUnit();
        continue;
      case 'lbrace':
        lineHasTokens = true;
        if (unitDepth === 0 && unit.length > 0 && !unitBad && opensBody(frame(), unit)) {
          openBody(t);
          continue;
        }
        if (unitDepth >= MAX_BRACE_DEPTH && !unitBad) {
          b.report('NFT_TOO_LONG', `set literals nested deeper than ${MAX_BRACE_DEPTH}; kpsim does not read them`, b.span(t));
          unitBad = true;
        }
        unitDepth++;
        unit.push(t);
        continue;
      case 'rbrace':
        lineHasTokens = true;
        if (unitDepth > 0) {
          unitDepth--;
          unit.push(t);
          continue;
        }
        if (unit.length > 0) finishUnit();
        if (frame() === top) {
          b.report('NFT_UNBALANCED', "syntax error, unexpected '}'", b.span(t));
          unit.push(t);
          unitBad = true;
          lastTokEnd = t.offset + 1;
          continue;
        }
        closeBody(t);
        lastTokEnd = t.offset + 1;
        continue;
      case 'junk':
      case 'openQuote':
        lineHasTokens = true;
        badToken(t);
        unit.push(t);
        unitBad = true;
        lastTokEnd = t.offset + t.text.length;
        continue;
      default:
        lineHasTokens = true;
        unit.push(t);
        lastTokEnd = t.offset + t.text.length;
    }
  }
  if (unit.length > 0) {
    if (unitDepth > 0) {
      b.report('NFT_UNBALANCED', 'syntax error, unexpected end of file', eofSpan());
      unitBad = true;
    }
    finishUnit();
  }
  if (frames.length > 1) {
    b.report('NFT_UNBALANCED', 'syntax error, unexpected end of file', eofSpan());
    // What an unclosed block held cannot be rendered from the IR: keep it all as written.
    const outer = frames[1];
    frames.length = 1;
    const start = outer.header!.toks[0].offset;
    pushItem(top, { kind: 'opaque', text: text.slice(start, lastTokEnd), span: b.rangeSpan(outer.header!.toks[0], outer.header!.toks[0]) }, outer.header!.gapBefore, lastTokEnd);
  }
  if (lineStart < text.length && !lineHasTokens) trivia(lineStart, text.length);

  const finalNewline = text.endsWith('\n');
  top.gaps.push(text.slice(top.lastEnd));
  const items = top.items as TopItem[];
  const canonical = topGaps(items.length, finalNewline);
  const gaps = sameStrings(top.gaps, canonical) ? null : top.gaps;
  const strict = opts.strict ? diagnostics.map((d) => (d.code === 'NFT_NOT_MODELLED' ? { ...d, severity: 'error' as const } : d)) : diagnostics;
  return { file: { items, gaps, finalNewline }, diagnostics: strict };

  // ---------------------------------------------------------------------------------------

  function eofSpan() {
    const state = lexer.save();
    return { line: state.line, col: (state as unknown as { col?: number }).col ?? 1, offset: text.length, length: 0 };
  }

  function badToken(t: Tok): void {
    if (t.type === 'openQuote') {
      b.report('NFT_UNTERMINATED_QUOTE', 'syntax error, unexpected junk (the quote is not closed on this line)', b.span(t));
      return;
    }
    const c = t.text.charCodeAt(0);
    if (c < 32 || c === 127) b.report('NFT_BINARY', `control byte 0x${c.toString(16).padStart(2, '0')} in the text; this is not nft text`, b.span(t));
    else b.report('NFT_SYNTAX', 'syntax error, unexpected junk', b.span(t));
  }

  function trivia(start: number, end: number): void {
    const item: Trivia = { kind: 'trivia', text: text.slice(start, end), span: { line: lineNo, col: 1, offset: start, length: end - start } };
    pushItem(top, item, text.slice(top.lastEnd, start), end);
  }

  function pushItem(f: Frame, item: unknown, gap: string, end: number): void {
    f.items.push(item);
    f.gaps.push(gap);
    f.lastEnd = end;
  }

  function opensBody(f: Frame, toks: Tok[]): boolean {
    if (f.kind === 'top') {
      const i = VERBS.has(toks[0].text) ? 1 : 0;
      if (i === 1 && toks[0].text !== 'add' && toks[0].text !== 'create') return false;
      return toks.length > i && DECL_WORDS.has(toks[i].text);
    }
    return f.kind === 'table' && DECL_WORDS.has(toks[0].text) && toks[0].text !== 'table';
  }

  function bodyKindOf(toks: Tok[], f: Frame): BodyKind {
    const w = f.kind === 'top' && VERBS.has(toks[0].text) ? toks[1].text : toks[0].text;
    return w === 'table' ? 'table' : w === 'chain' ? 'chain' : w === 'set' || w === 'map' ? 'set' : 'object';
  }

  function openBody(open: Tok): void {
    const toks = unit;
    unit = [];
    unitDepth = 0;
    const parent = frame();
    const gapBefore = text.slice(parent.lastEnd, toks[0].offset);
    const kind = bodyKindOf(toks, parent);
    const u = unitOf(toks);
    const plan = b.tooLong(u) ? { error: true as const, at: 0, expected: [] } : planFor(parent.kind === 'top' ? '%TOP' : '%TABLE', [...u.shape, '%BODY']);
    let family = parent.family;
    let table = parent.table;
    let setName: string | null = null;
    let ok: PUnit | null = null;
    if (isPlanError(plan)) b.syntaxError({ ...u, shape: [...u.shape, '%BODY'], first: [...u.first, toks.length], last: [...u.last, toks.length], toks: [...toks, open] }, plan.at, plan.expected);
    else {
      ok = plan;
      if (plan.u === 'command' && 'ref' in plan.obj) {
        const ref = b.tableRef(u, plan.obj.ref);
        family = ref.family;
        table = ref.table;
        if ((plan.obj.o === 'set' || plan.obj.o === 'map') && plan.obj.name >= 0) setName = b.name(u, plan.obj.name);
      } else if (plan.u === 'decl' && (plan.o === 'set' || plan.o === 'map')) setName = b.name(u, plan.name);
    }
    if (kind === 'object') {
      const words = toks.map((t) => t.text).join(' ');
      b.report('NFT_NOT_MODELLED', `${words}: kpsim keeps this object as written and does not model it`, b.rangeSpan(toks[0], toks[toks.length - 1]), 'warning');
    }
    frames.push({ kind, items: [], gaps: [], lastEnd: open.offset + 1, open, header: { toks: [...toks, open], plan: ok, gapBefore }, family, table, setTypes: { value: null }, setName });
  }

  function closeBody(close: Tok): void {
    const f = frames.pop()!;
    const parent = frame();
    f.gaps.push(text.slice(f.lastEnd, close.offset));
    const headerHandle = takeHandles(f);
    const inline = !text.slice(f.open!.offset, close.offset).includes('\n');
    const depth = frames.length;
    const canonical = canonicalGaps(f.items.map((it) => roleOf(it as { kind: string })), f.kind as BodyKind, depth, inline);
    const body: Body<unknown> = { items: f.items, inline, gaps: sameStrings(f.gaps, canonical) ? null : f.gaps };
    const header = f.header!;
    const end = close.offset + 1;
    if (f.kind === 'set' && f.setName !== null && f.setTypes.value) b.sets.set(setKey(f.family, f.table, f.setName), f.setTypes.value);
    if (!header.plan) {
      const text0 = text.slice(header.toks[0].offset, end);
      const span = b.rangeSpan(header.toks[0], close);
      pushItem(parent, { kind: 'opaque', text: text0, span }, header.gapBefore, end);
      return;
    }
    const hu = unitOf(header.toks, 0, header.toks.length - 1);
    const plan = header.plan;
    if (plan.u === 'command') {
      const object = b.commandObject(hu, plan.obj, null, body, headerHandle);
      const cmd: Command = { kind: 'command', verb: b.verb(hu, plan.verb), object, span: b.rangeSpan(header.toks[0], close) };
      const layout = layoutOf(text, header.toks, 0, header.toks.length, commandTokens(cmd, cmd.verb === null ? 'listing' : 'transaction'));
      pushItem(parent, withLayout(cmd, layout), header.gapBefore, end);
      return;
    }
    if (plan.u === 'decl') {
      const name = b.name(hu, plan.name);
      const span = b.rangeSpan(header.toks[0], close);
      let decl: ChainDecl | SetDecl | ObjectDecl;
      if (plan.o === 'chain') decl = { kind: 'chain', name, handle: headerHandle, span, body: body as Body<ChainItem> };
      else if (plan.o === 'set' || plan.o === 'map') decl = { kind: plan.o, name, handle: headerHandle, span, body: body as Body<SetItem> };
      else {
        const kw = plan.kw as readonly number[];
        decl = { kind: 'object', objectType: kw.map((i) => b.word(hu, i)).join(' '), name, handle: headerHandle, span, body: body as Body<OpaqueItem> };
      }
      const layout = layoutOf(text, header.toks, 0, header.toks.length, declHeaderTokens(decl));
      pushItem(parent, withLayout(decl, layout), header.gapBefore, end);
    }
  }

  /**
   * `# handle N` right after a unit (`nft -a`) is the unit's handle: taken out of the gap that
   * follows it. Returns the handle after the `{` (the declaration's own).
   */
  function takeHandles(f: Frame): number | null {
    let headerHandle: number | null = null;
    for (let i = 0; i < f.gaps.length; i++) {
      const m = /^ # handle ([0-9]+)(?=\r?\n|$)/.exec(f.gaps[i]);
      if (!m) continue;
      const handle = Number(m[1]);
      if (i === 0) headerHandle = handle;
      else {
        // nft prints handles after rules only (a declaration's follows its `{`).
        const prev = f.items[i - 1] as { kind: string; handle?: number | null };
        if (prev.kind !== 'rule') continue;
        f.items[i - 1] = { ...prev, handle };
      }
      f.gaps[i] = f.gaps[i].slice(m[0].length);
    }
    return headerHandle;
  }

  function finishUnit(): void {
    const toks = unit;
    const bad = unitBad;
    unit = [];
    unitDepth = 0;
    unitBad = false;
    const f = frame();
    const gap = text.slice(f.lastEnd, toks[0].offset);
    const last = toks[toks.length - 1];
    const end = last.offset + last.text.length;
    // A unit's shape is never longer than its tokens: only long units are measured.
    const item = bad || (toks.length > MAX_SHAPE && b.tooLong(unitOf(toks))) ? opaque(toks) : buildUnit(f, toks);
    pushItem(f, item, gap, end);
  }

  function opaque(toks: Tok[]): { kind: 'opaque'; text: string; span: ReturnType<UnitBuilder['rangeSpan']>; handle?: null } {
    const first = toks[0];
    const last = toks[toks.length - 1];
    return { kind: 'opaque', text: text.slice(first.offset, last.offset + last.text.length), span: b.rangeSpan(first, last) };
  }

  function buildUnit(f: Frame, toks: Tok[]): unknown {
    switch (f.kind) {
      case 'top':
        return topUnit(toks);
      case 'table':
        return bodyUnit(toks, '%TABLE', (u, p) => b.tableItem(u, p), (it) => tablePropertyTokens(it as Extract<TableItem, { kind: 'flags' | 'comment' }>));
      case 'chain':
        return chainUnit(f, toks);
      case 'set':
        return bodyUnit(
          toks,
          '%SET',
          (u, p) => b.setItem(u, p, f.family, f.setTypes),
          (it) => setItemTokens(it as Exclude<SetItem, OpaqueItem>, f.items as SetItem[], styleOf()),
        );
      case 'object':
        return opaque(toks);
    }
  }

  function bodyUnit(toks: Tok[], context: Context, build: (u: Unit, p: PUnit) => unknown, tokens: (item: unknown) => TokOut): unknown {
    const u = unitOf(toks);
    const plan = planFor(context, u.shape);
    if (isPlanError(plan)) {
      b.syntaxError(u, plan.at, plan.expected);
      return opaque(toks);
    }
    const item = build(u, plan);
    if (item === null) {
      b.syntaxError(u, 0, []);
      return opaque(toks);
    }
    return withLayout(item as object, layoutOf(text, toks, 0, toks.length, tokens(item)));
  }

  function chainUnit(f: Frame, toks: Tok[]): unknown {
    const w0 = toks[0].text;
    const property =
      (w0 === 'type' && toks.some((t) => t.text === 'hook')) ||
      (w0 === 'policy' && toks.length === 2) ||
      (w0 === 'comment' && toks.length === 2 && toks[1].type === 'string') ||
      (w0 === 'devices' && toks[1]?.text === '=');
    if (property) {
      if (w0 === 'devices') {
        b.report('NFT_NOT_MODELLED', "a chain's devices list is kept as written", b.rangeSpan(toks[0], toks[toks.length - 1]), 'warning');
        return opaque(toks);
      }
      return bodyUnit(toks, '%CHAIN', (u, p) => b.chainItem(u, p, f.family), (it) => chainItemTokens(it as Exclude<ChainItem, OpaqueItem>, styleOf()));
    }
    const rule = b.rule(unitOf(toks), f.family);
    const out = new TokOut();
    const tokens = chainItemTokens(rule, styleOf());
    out.texts.push(...tokens.texts);
    out.seps.push(...tokens.seps);
    return withLayout(rule, layoutOf(text, toks, 0, toks.length, out));
  }

  /** Units in a block written without a verb are nft's listing; in an `add ... { }` line, knftables'. */
  function styleOf(): 'listing' | 'transaction' {
    const plan = frames[1]?.header?.plan;
    return plan && plan.u === 'command' && plan.verb >= 0 ? 'transaction' : 'listing';
  }

  function topUnit(toks: Tok[]): TopItem {
    const w0 = toks[0].text;
    if (toks[0].type === 'word' && PREPROCESSOR_WORDS.has(w0)) {
      // nft -f's preprocessor (nft(8), VARIABLES and INCLUDE FILES): kept as written.
      const item = opaque(toks);
      b.report('NFT_NOT_MODELLED', `${w0}: kpsim keeps it as written and does not substitute ${w0 === 'include' ? 'files' : 'variables'}`, item.span, 'warning');
      return item as TopItem;
    }
    const ruleAt = ruleStart(toks);
    const head = unitOf(toks, 0, ruleAt < 0 ? toks.length : ruleAt);
    const hasRule = ruleAt >= 0 && ruleAt < toks.length;
    const shape = hasRule ? [...head.shape, '%STMTS'] : head.shape;
    const plan = planFor('%TOP', shape);
    if (isPlanError(plan)) {
      b.syntaxError(head, Math.min(plan.at, head.shape.length), plan.expected);
      return opaque(toks) as TopItem;
    }
    if (plan.u !== 'command') return opaque(toks) as TopItem;
    let rule: Rule | null = null;
    if (hasRule) {
      const ref = 'ref' in plan.obj ? b.tableRef(head, plan.obj.ref) : null;
      rule = b.rule(unitOf(toks, ruleAt, toks.length), ref?.family ?? 'ip');
    }
    const object: CommandObject = b.commandObject(head, plan.obj as PObject, rule, null, null);
    const cmd: Command = { kind: 'command', verb: b.verb(head, plan.verb), object, span: b.rangeSpan(toks[0], toks[toks.length - 1]) };
    return withLayout(cmd, layoutOf(text, toks, 0, toks.length, commandTokens(cmd, cmd.verb === null ? 'listing' : 'transaction')));
  }
}

/**
 * Where the rule starts in `[verb] rule [family] TABLE CHAIN [index|handle|position N] RULE`, or -1
 * when the unit is not a rule command. The rule is planned on its own (%RULE), so `add rule` lines
 * and rules in chain blocks share plans.
 */
function ruleStart(toks: readonly Tok[]): number {
  let i = VERBS.has(toks[0].text) ? 1 : 0;
  if (toks[i]?.text !== 'rule') return -1;
  i++;
  if (toks[i] && FAMILY_WORDS.has(toks[i].text) && toks[i].type === 'word') i++;
  i += 2;
  if (i > toks.length) return -1;
  const p = toks[i]?.text;
  if ((p === 'index' || p === 'handle' || p === 'position') && (toks[i + 1]?.type === 'number' || toks[i + 1]?.type === 'hex')) i += 2;
  return Math.min(i, toks.length);
}

/** The item with the source's layout when it has one; the same object when canonical (nearly always). */
function withLayout<T extends object>(item: T, layout: Layout): T {
  return layout.layout || layout.raw ? { ...item, ...layout } : item;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
