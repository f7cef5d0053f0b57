// kube-proxy's iptables-restore input as data: per table, the declared chains, each chain's rules
// (the text after `-A CHAIN`, exactly as kube-proxy writes it), and the chains to delete.
// Rendering and the canonical order of kube-proxy's own tests (sortIPTablesRules in
// proxier_test.go) live here.
import { ByteSink, RuleWriter } from './rule-writer.js';
import { sortNames } from '../../iptables/sort-names.js';

export type TableName = 'filter' | 'nat';

export interface RestoreTable {
  readonly name: TableName;
  /** Chain lines (`:NAME - [0:0]`), in declaration order until canonicalized. */
  readonly chains: string[];
  /** The `-A` lines, chain by chain; a chain may have rules without a chain line (partial syncs). */
  readonly text: RuleWriter;
  /**
   * Rules per chain (the text after `-A CHAIN `), in the order they were written, read back from
   * `text` when first asked for (by tests, checks and statistics; rendering copies `text`).
   */
  readonly rules: ReadonlyMap<string, readonly string[]>;
  readonly deleted: string[];
  /** The order rules are rendered in, chain by chain (canonicalize sets it); else writing order. */
  readonly order?: readonly string[];
  /** The ids in `text` of the chains of `order` (canonicalize looks them up once). */
  readonly orderIds?: readonly number[];
}

export interface RestoreData {
  readonly filter: RestoreTable;
  readonly nat: RestoreTable;
}

function table(name: TableName, chains: string[], text: RuleWriter, deleted: string[], order?: readonly string[], orderIds?: readonly number[]): RestoreTable {
  let rules: Map<string, string[]> | undefined;
  let readAt = -1;
  return {
    name,
    chains,
    text,
    deleted,
    order,
    orderIds,
    get rules() {
      if (!rules || readAt !== text.version) {
        rules = new Map(Array.from(text.chains(), (chain) => [chain, chainRules(text, chain)]));
        readAt = text.version;
      }
      return rules;
    },
  };
}

export function emptyTable(name: TableName): RestoreTable {
  return table(name, [], new RuleWriter(), []);
}

export function ruleLine(chain: string, text: string): string {
  return text ? `-A ${chain} ${text}` : `-A ${chain}`;
}

/** Appends one rule (`text` is everything after `-A CHAIN `). */
export function addRule(t: RestoreTable, chain: string, text: string): void {
  t.text.append(chain, text ? `-A ${chain} ${text}\n` : `-A ${chain}\n`);
}

/** The rule lines of one chain, as `-A` lines. */
export function chainLines(t: RestoreTable, chain: string): string[] {
  const text = t.text.text(chain);
  return text ? text.slice(0, -1).split('\n') : [];
}

/** A chain's rules, the text after `-A CHAIN ` (nothing for a bare `-A CHAIN`). */
function chainRules(text: RuleWriter, chain: string): string[] {
  const lines = text.text(chain);
  if (!lines) return [];
  const head = `-A ${chain}`;
  return lines
    .slice(0, -1)
    .split('\n')
    .map((l) => l.slice(l.length === head.length ? head.length : head.length + 1));
}

/**
 * A table chain by chain as it is rendered (its `:NAME` lines, each chain's `-A` lines as byte
 * ranges of `text` in rendering order with their number, its `-X` lines): what the node reads
 * kpsim's own input from without its text (src/node/chained-restore.ts ChainedTable), and what
 * `--format save` respells.
 */
export function chainedTable(t: RestoreTable) {
  const ruleChains = t.order ?? [...t.text.chains()];
  const ids = t.orderIds ?? ruleChains.map((c) => t.text.idOf(c));
  return {
    name: t.name,
    chains: t.chains,
    deleted: t.deleted,
    ruleChains,
    lineCount: (i: number) => t.text.lineCount(ids[i]),
    forEachRange: (i: number, visit: (bytes: Buffer, start: number, end: number) => void) => t.text.forEachRange(ids[i], visit),
    byteLength: t.text.byteLength(),
  };
}

/** The restore text: `*filter` before `*nat`; chain lines, rules chain by chain, `-X` lines, `COMMIT`. */
export function renderSyncTransaction(data: RestoreData): string {
  const tables = [data.filter, data.nat];
  // Room for every line written and the chain lines; the sink grows if that is short.
  let room = 64;
  for (const t of tables) room += t.text.byteLength() + 32 * (t.chains.length + t.deleted.length);
  const out = new ByteSink(room);
  for (const t of tables) {
    out.write(`*${t.name}\n`);
    for (let i = 0; i < t.chains.length; i++) out.write(`:${t.chains[i]} - [0:0]\n`);
    if (t.orderIds) for (let i = 0; i < t.orderIds.length; i++) t.text.copyId(t.orderIds[i], out);
    else for (const c of t.order ?? [...t.text.chains()]) t.text.copyChain(c, out);
    for (const c of t.deleted) out.write(`-X ${c}\n`);
    out.write('COMMIT\n');
  }
  return out.take();
}

function chainRank(name: string): number {
  if (name === 'KUBE-NODEPORTS') return 0;
  if (name === 'KUBE-SERVICES') return 1;
  return name.startsWith('KUBE-') ? 2 : 3;
}

/**
 * Sorts chain names canonically: KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, the rest by
 * name. Buckets, then a string sort per bucket without comparator callbacks: a sync of a large
 * cluster sorts a hundred thousand KUBE-* names (sortNames sorts them by their hash).
 */
export function sortChains(names: readonly string[]): string[] {
  const head: string[] = [];
  const kube: string[] = [];
  const rest: string[] = [];
  // Indexed loops here and below: these run once per sync over every chain, too few times for
  // the optimizing compiler to remove the iterator objects a for-of allocates.
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    const r = chainRank(n);
    (r < 2 ? head : r === 2 ? kube : rest).push(n);
  }
  head.sort((a, b) => chainRank(a) - chainRank(b));
  rest.sort();
  return head.concat(sortNames(kube), rest);
}

const LAST_RULE_MARK = 'must be the last rule';

/** The comment of a rule as kube-proxy writes it (quotes removed), or null. */
export function ruleComment(text: string): string | null {
  let at: number;
  if (text.startsWith('--comment ')) at = 0;
  else {
    const i = text.indexOf(' --comment ');
    if (i < 0) return null;
    at = i + 1;
  }
  const start = at + '--comment '.length;
  if (text[start] === '"') {
    const end = text.indexOf('"', start + 1);
    return text.slice(start + 1, end < 0 ? text.length : end);
  }
  const end = text.indexOf(' ', start);
  return text.slice(start, end < 0 ? text.length : end);
}

function serviceNameOfComment(c: string): string {
  let end = c.length;
  const sp = c.indexOf(' ');
  if (sp >= 0) end = sp;
  const colon = c.indexOf(':');
  if (colon >= 0 && colon < end) end = colon;
  return c.slice(0, end);
}

/** What a KUBE-SERVICES / KUBE-NODEPORTS rule sorts by: the "must be the last rule" mark, then the service name in its comment. */
function sortKey(rule: string): { last: boolean; name: string } {
  const c = ruleComment(rule) ?? '';
  return { last: c.includes(LAST_RULE_MARK), name: serviceNameOfComment(c) };
}

/**
 * Whether a chain's rules are in canonicalize's order already, each rule's key read from the
 * chain's text in one pass (a 10k-service sync's KUBE-SERVICES has 10k+ rules; usually sorted).
 */
function sortedAlready(text: RuleWriter, chain: string): boolean {
  const lines = text.text(chain);
  const head = chain.length + 3; // `-A CHAIN`
  let prev: { last: boolean; name: string } | null = null;
  for (let start = 0; start < lines.length; ) {
    const nl = lines.indexOf('\n', start);
    const key = sortKey(nl - start === head ? '' : lines.slice(start + head + 1, nl));
    // Stable: equal keys keep their order.
    if (prev && (prev.last !== key.last ? prev.last : prev.name > key.name)) return false;
    prev = key;
    start = nl + 1;
  }
  return true;
}

/**
 * The canonical order: chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, the rest by
 * name; rules grouped per chain in that order, keeping their order except in KUBE-NODEPORTS and
 * KUBE-SERVICES, which are stably sorted by the service name in their comment with the
 * "must be the last rule" jump kept last. kube-proxy writes services in map order, so only this
 * order is stable; every conformance file is a fixed point of it.
 */
export function canonicalize(t: RestoreTable): RestoreTable {
  // The text is shared with `t` unless one of the two sorted chains is out of order.
  let text = t.text;
  for (const chain of ['KUBE-NODEPORTS', 'KUBE-SERVICES']) {
    // The compiler emits services in name order, so this is usually sorted already.
    if (!text.has(chain) || sortedAlready(text, chain)) continue;
    const keyed = chainRules(text, chain).map((r, i) => ({ r, i, ...sortKey(r) }));
    const before = (a: (typeof keyed)[0], b: (typeof keyed)[0]) => (a.last !== b.last ? (a.last ? 1 : -1) : a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i);
    if (text === t.text) text = t.text.fork();
    text.replace(
      chain,
      keyed.sort(before).map((k) => ruleLine(chain, k.r) + '\n'),
    );
  }
  const chains = sortChains(t.chains);
  // Rules normally go to declared chains only; fall back to sorting every chain that has rules.
  let order: string[] = [];
  let orderIds: number[] = [];
  for (let i = 0; i < chains.length; i++) {
    const id = text.idOf(chains[i]);
    if (id < 0) continue;
    order.push(chains[i]);
    orderIds.push(id);
  }
  if (order.length !== text.chainCount()) {
    order = sortChains([...text.chains()]);
    orderIds = order.map((c) => text.idOf(c));
  }
  return table(t.name, chains, text, sortChains(t.deleted), order, orderIds);
}

