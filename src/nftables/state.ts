// The kernel's view of nftables: tables of chains, sets and maps, changed by nft text the way
// `nft -f` changes them (a transaction's commands in order; a listing's blocks are `add`s). What the
// packet simulator and the node value read, and what a compiler's transaction is applied to, sync
// after sync.
//
// The semantics are nft's (nft(8), COMMANDS): `add` creates or updates, `create` fails on what
// exists ("File exists"), `delete` fails on what does not, `destroy` does not; a rule, an element
// or a jump needs its chain, set or target to exist when it is added ("No such file or directory",
// the error nft reports for kube-proxy's corpus files loaded out of order); a chain jumped to
// cannot be deleted ("Device or resource busy"). Every problem is reported; nft would refuse the
// whole transaction at the first one.
//
// Handles are numbered as the kernel numbers them: one counter per table for its chains, sets,
// maps, objects and rules, in the order they are added (so a fresh namespace lists the same
// `# handle N` as this state holds).
import type { Diagnostic } from '../diag/diagnostic.js';
import type { NftCode } from './codes.js';
import type { Body, ChainItem, Command, Expr, NftFamily, NftFile, Priority, Rule, SetElement, SetItem, Span, Stmt, TableItem, Verb } from './ir.js';

export interface NftStateChain {
  readonly name: string;
  readonly handle: number;
  /** Where the text first declared it (`chain X {`, `add chain ...`): a listing's line for the chain. */
  readonly span: Span | null;
  /** `span`: the `type ... hook ... priority ...; policy ...;` item, where a listing writes a base chain's policy. */
  hook: { readonly type: string; readonly hook: string; readonly device: string | null; readonly priority: Priority; readonly span: Span | null } | null;
  policy: 'accept' | 'drop' | null;
  comment: string | null;
  /** Rules in chain order, each with the handle the kernel gave it. */
  rules: Rule[];
}

export interface NftStateSet {
  readonly name: string;
  readonly handle: number;
  readonly map: boolean;
  /** The set's declaration units as last given (type or typeof, flags, timeout, size, comment, ...). */
  readonly properties: Exclude<SetItem, { kind: 'elements' }>[];
  elements: SetElement[];
  /** Where each element is in `elements`, by what its key means (keyOf). */
  readonly index: Map<string, number>;
}

export interface NftStateTable {
  readonly family: NftFamily;
  readonly name: string;
  flags: string[];
  comment: string | null;
  readonly chains: Map<string, NftStateChain>;
  readonly sets: Map<string, NftStateSet>;
  /** Stateful objects and flowtables, by `type name` (kept as declared). */
  readonly objects: Map<string, { readonly handle: number }>;
  nextHandle: number;
}

export interface NftState {
  /** By `family name`, in the order the tables were made. */
  readonly tables: Map<string, NftStateTable>;
}

export function emptyNftState(): NftState {
  return { tables: new Map() };
}

export function tableKey(family: NftFamily, name: string): string {
  return `${family} ${name}`;
}

/** Applies a file's commands to the state, in order, and returns every problem nft would report. */
export function applyNft(state: NftState, file: NftFile, name: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (code: NftCode, message: string, span: Span | null) => out.push({ severity: 'error', code, message, file: name, span });
  for (const item of file.items) if (item.kind === 'command') command(state, item, report);
  return out;
}

type Report = (code: NftCode, message: string, span: Span | null) => void;

const ADDS: ReadonlySet<Verb | null> = new Set([null, 'add', 'create']);

function command(state: NftState, c: Command, report: Report): void {
  const o = c.object;
  const verb = c.verb;
  const span = c.span;
  if (o.kind === 'ruleset') {
    if (verb === 'flush') for (const [k, t] of state.tables) if (o.family === null || t.family === o.family) state.tables.delete(k);
    return;
  }
  const key = tableKey(o.ref.family, o.ref.table);
  if (o.kind === 'table') {
    if (ADDS.has(verb)) {
      if (verb === 'create' && state.tables.has(key)) report('NFT_EXISTS', 'Could not process rule: File exists', span);
      const t = tableOf(state, o.ref.family, o.ref.table);
      if (o.body) tableBody(t, o.body, report);
    } else if (verb === 'delete' || verb === 'destroy') {
      if (!state.tables.delete(key) && verb === 'delete') report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
    } else if (verb === 'flush') {
      const t = existing(state, key, span, report);
      if (t) for (const ch of t.chains.values()) ch.rules = [];
    }
    return;
  }
  const t = existing(state, key, span, report);
  if (!t) return;
  switch (o.kind) {
    case 'chain': {
      if (o.name === null) {
        // delete chain ... handle N
        const victim = [...t.chains.values()].find((ch) => ch.handle === o.handle?.value);
        if (!victim) report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
        else deleteChain(t, victim.name, span, report);
        return;
      }
      if (ADDS.has(verb)) {
        if (verb === 'create' && t.chains.has(o.name)) report('NFT_EXISTS', 'Could not process rule: File exists', span);
        declareChain(t, o.name, o.body, report, true, span);
      } else if (verb === 'delete' || verb === 'destroy') {
        if (t.chains.has(o.name)) deleteChain(t, o.name, span, report);
        else if (verb === 'delete') report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
      } else if (verb === 'flush') {
        const ch = t.chains.get(o.name);
        if (ch) ch.rules = [];
        else report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
      }
      return;
    }
    case 'set':
    case 'map': {
      const setName = o.name ?? [...t.sets.values()].find((s) => s.handle === o.handle?.value)?.name ?? null;
      if (ADDS.has(verb) && o.name !== null) {
        if (verb === 'create' && t.sets.has(o.name)) report('NFT_EXISTS', 'Could not process rule: File exists', span);
        declareSet(t, o.name, o.kind === 'map', o.body, report);
      } else if (setName === null || !t.sets.has(setName)) {
        if (verb !== 'destroy') report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
      } else if (verb === 'delete' || verb === 'destroy') t.sets.delete(setName);
      else if (verb === 'flush') setElements(t.sets.get(setName)!, []);
      return;
    }
    case 'element': {
      const set = t.sets.get(o.set);
      if (!set) {
        report('NFT_NO_SUCH', 'No such file or directory', span);
        return;
      }
      if (ADDS.has(verb)) addElements(t, set, o.elements, report);
      else if (verb === 'delete' || verb === 'destroy') {
        const gone = new Set(o.elements.map((e) => keyOf(e.key)));
        setElements(set, set.elements.filter((e) => !gone.has(keyOf(e.key))));
      }
      return;
    }
    case 'rule':
      return ruleCommand(t, verb, o, span, report);
    case 'object':
      if (ADDS.has(verb)) t.objects.set(`${o.objectType} ${o.name}`, { handle: t.objects.get(`${o.objectType} ${o.name}`)?.handle ?? t.nextHandle++ });
      else if (verb === 'delete' || verb === 'destroy') t.objects.delete(`${o.objectType} ${o.name}`);
      return;
  }
}

function tableOf(state: NftState, family: NftFamily, name: string): NftStateTable {
  const key = tableKey(family, name);
  let t = state.tables.get(key);
  if (!t) state.tables.set(key, (t = { family, name, flags: [], comment: null, chains: new Map(), sets: new Map(), objects: new Map(), nextHandle: 1 }));
  return t;
}

function existing(state: NftState, key: string, span: Span | null, report: Report): NftStateTable | null {
  const t = state.tables.get(key);
  if (!t) report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
  return t ?? null;
}

/**
 * A table block is added in nft's order, not the text's (nftables' nft_cmd_expand): its chains, then
 * its stateful objects, sets and maps, flowtables, and last the chains' rules; so a rule may jump to
 * a chain declared below it, and handles come out as the kernel gives them.
 */
function tableBody(t: NftStateTable, body: Body<TableItem>, report: Report): void {
  const items = body.items;
  const object = (it: Extract<TableItem, { kind: 'object' }>) => {
    if (!t.objects.has(`${it.objectType} ${it.name}`)) t.objects.set(`${it.objectType} ${it.name}`, { handle: t.nextHandle++ });
  };
  for (const it of items) {
    if (it.kind === 'flags') t.flags = [...it.flags];
    else if (it.kind === 'comment') t.comment = it.comment.value;
    else if (it.kind === 'chain') declareChain(t, it.name, it.body, report, false, it.span);
  }
  for (const it of items) if (it.kind === 'object' && it.objectType !== 'flowtable') object(it);
  for (const it of items) if (it.kind === 'set' || it.kind === 'map') declareSet(t, it.name, it.kind === 'map', it.body, report);
  for (const it of items) if (it.kind === 'object' && it.objectType === 'flowtable') object(it);
  for (const it of items) if (it.kind === 'chain') chainRules(t, t.chains.get(it.name)!, it.body, report);
}

/** Declares (or updates) a chain; its rules are added now or, in a table block, after the sets. */
function declareChain(t: NftStateTable, name: string, body: Body<ChainItem> | null, report: Report, withRules: boolean, span: Span | null): void {
  let ch = t.chains.get(name);
  if (!ch) t.chains.set(name, (ch = { name, handle: t.nextHandle++, span, hook: null, policy: null, comment: null, rules: [] }));
  for (const it of body?.items ?? []) {
    switch (it.kind) {
      case 'hook':
        ch.hook = { type: it.type, hook: it.hook, device: it.device?.value ?? null, priority: it.priority, span: it.span };
        // A base chain without a policy accepts (nft lists `policy accept;`).
        ch.policy ??= 'accept';
        break;
      case 'policy':
        ch.policy = it.policy;
        break;
      case 'comment':
        ch.comment = it.comment.value;
        break;
      default:
        break;
    }
  }
  if (withRules) chainRules(t, ch, body, report);
}

function chainRules(t: NftStateTable, ch: NftStateChain, body: Body<ChainItem> | null, report: Report): void {
  for (const it of body?.items ?? []) if (it.kind === 'rule') addRule(t, ch, it, 'append', null, it.span, report);
}

/**
 * A chain some rule jumps or goes to cannot be deleted ("Device or resource busy"); one that only
 * holds rules can, with them (kernel 6.x, checked with nft 1.0.6; nft(8) still says it must be empty).
 */
function deleteChain(t: NftStateTable, name: string, span: Span | null, report: Report): void {
  const jumped = [...t.chains.values()].some((other) => other.rules.some((r) => targetsOf(r.stmts).includes(name)));
  if (jumped) report('NFT_BUSY', 'Could not process rule: Device or resource busy', span);
  else t.chains.delete(name);
}

function declareSet(t: NftStateTable, name: string, map: boolean, body: Body<SetItem> | null, report: Report): void {
  let set = t.sets.get(name);
  const properties = (body?.items ?? []).filter((it): it is Exclude<SetItem, { kind: 'elements' }> => it.kind !== 'elements' && it.kind !== 'opaque');
  if (!set) t.sets.set(name, (set = { name, handle: t.nextHandle++, map, properties, elements: [], index: new Map() }));
  for (const it of body?.items ?? []) if (it.kind === 'elements') addElements(t, set, it.elements, report);
}

function addElements(t: NftStateTable, set: NftStateSet, elements: readonly SetElement[], report: Report): void {
  for (const el of elements) {
    // A verdict map's element that jumps to a chain needs the chain (nft: at the element's key).
    const target = el.data?.kind === 'verdict' ? el.data.chain : null;
    if (target !== null && !t.chains.has(target)) {
      report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', el.span);
      continue;
    }
    const key = keyOf(el.key);
    const i = set.index.get(key);
    if (i !== undefined) set.elements[i] = el;
    else set.index.set(key, set.elements.push(el) - 1);
  }
}

function setElements(set: NftStateSet, elements: SetElement[]): void {
  set.elements = elements;
  set.index.clear();
  elements.forEach((e, i) => set.index.set(keyOf(e.key), i));
}

function ruleCommand(t: NftStateTable, verb: Verb | null, o: Extract<Command['object'], { kind: 'rule' }>, span: Span | null, report: Report): void {
  const ch = t.chains.get(o.chain);
  if (!ch) {
    report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
    return;
  }
  const pos = o.position;
  if (verb === 'delete' || verb === 'destroy') {
    const i = ch.rules.findIndex((r) => r.handle === pos?.value.value);
    if (i >= 0) ch.rules.splice(i, 1);
    else if (verb === 'delete') report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
    return;
  }
  if (!o.rule) return;
  if (verb === 'replace') {
    const i = ch.rules.findIndex((r) => r.handle === pos?.value.value);
    if (i < 0) report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
    else if (refsExist(t, o.rule, o.rule.span ?? span, report)) ch.rules[i] = { ...o.rule, handle: ch.rules[i].handle };
    return;
  }
  addRule(t, ch, o.rule, verb === 'insert' ? 'insert' : 'append', pos, o.rule.span ?? span, report);
}

/**
 * `add` appends (after the rule at `index N` / `handle N` when given), `insert` prepends (before
 * it). The rule's chain jumps and set references must exist.
 */
function addRule(t: NftStateTable, ch: NftStateChain, rule: Rule, how: 'append' | 'insert', pos: { readonly keyword: string; readonly value: { readonly value: number } } | null, span: Span | null, report: Report): void {
  if (!refsExist(t, rule, span, report)) return;
  // Each anonymous set or map the rule holds is a kernel set, added before the rule, with a handle.
  t.nextHandle += anonymousSets(rule.stmts);
  const placed: Rule = { ...rule, handle: t.nextHandle++ };
  let at = how === 'append' ? ch.rules.length : 0;
  if (pos) {
    const i = pos.keyword === 'index' ? pos.value.value : ch.rules.findIndex((r) => r.handle === pos.value.value);
    if (i < 0 || i >= ch.rules.length) {
      report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
      return;
    }
    at = how === 'append' ? i + 1 : i;
  }
  ch.rules.splice(at, 0, placed);
}

function refsExist(t: NftStateTable, rule: Rule, span: Span | null, report: Report): boolean {
  let ok = true;
  for (const target of targetsOf(rule.stmts)) {
    if (!t.chains.has(target)) {
      report('NFT_NO_SUCH', 'Could not process rule: No such file or directory', span);
      ok = false;
    }
  }
  for (const set of setsOf(rule.stmts)) {
    if (!t.sets.has(set)) {
      report('NFT_NO_SUCH', 'No such file or directory', span);
      ok = false;
    }
  }
  return ok;
}

/** The chains a rule jumps or goes to, in verdicts and in its anonymous verdict maps. */
export function targetsOf(stmts: readonly Stmt[]): string[] {
  const out: string[] = [];
  const expr = (e: Expr | null): void => {
    if (!e) return;
    if (e.kind === 'verdict' && e.chain !== null) out.push(e.chain);
    if (e.kind === 'set') for (const el of e.elements) expr(el.data);
  };
  for (const s of stmts) {
    if (s.kind === 'verdict' && s.chain !== null) out.push(s.chain);
    if (s.kind === 'vmap') expr(s.map);
  }
  return out;
}

/**
 * How many kernel sets a rule's anonymous sets and maps make. nft folds a one-element set in a
 * match into a plain comparison (`ip daddr { 10.0.0.0/8 }` lists as `ip daddr 10.0.0.0/8`); maps
 * and verdict maps stay sets whatever their size.
 */
export function anonymousSets(stmts: readonly Stmt[]): number {
  let n = 0;
  const expr = (e: Expr | null, folds: boolean): void => {
    if (!e) return;
    if (e.kind === 'set') n += folds && e.elements.length === 1 ? 0 : 1;
    else if (e.kind === 'map') {
      expr(e.key, false);
      expr(e.map, false);
    } else if (e.kind === 'concat') e.parts.forEach((p) => expr(p, folds));
  };
  for (const s of stmts) {
    if (s.kind === 'match') expr(s.right, true);
    else if (s.kind === 'vmap') expr(s.map, false);
    else if (s.kind === 'nat') {
      expr(s.address, false);
      expr(s.port, false);
    }
  }
  return n;
}

/** The named sets and maps a rule reads or updates. */
export function setsOf(stmts: readonly Stmt[]): string[] {
  const out: string[] = [];
  const expr = (e: Expr | null): void => {
    if (!e) return;
    switch (e.kind) {
      case 'setRef':
        out.push(e.name);
        return;
      case 'map':
        expr(e.key);
        expr(e.map);
        return;
      case 'concat':
        e.parts.forEach(expr);
        return;
      case 'binary':
        expr(e.left);
        expr(e.right);
        return;
      default:
        return;
    }
  };
  for (const s of stmts) {
    switch (s.kind) {
      case 'match':
        expr(s.left);
        expr(s.right);
        break;
      case 'vmap':
        expr(s.key);
        expr(s.map);
        break;
      case 'nat':
        expr(s.address);
        expr(s.port);
        break;
      case 'setUpdate':
        out.push(s.set);
        break;
      default:
        break;
    }
  }
  return out;
}

/** An element key by what it means, not how it is spelled (`0x50` and `80` are one port). */
function keyOf(key: Expr): string {
  return JSON.stringify(key, meaning);
}

function meaning(key: string, v: unknown): unknown {
  if (key === 'text' || key === 'span' || key === 'lengthText') return undefined;
  if (typeof v === 'bigint') return v.toString();
  const n = v as { kind?: string; value?: unknown };
  if ((n?.kind === 'symbol' || n?.kind === 'number') && typeof n.value === 'number') return { n: n.value };
  return v;
}
