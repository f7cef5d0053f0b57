// kube-proxy's iptables-restore input as data: per table, the declared chains, each chain's rules
// (the text after `-A CHAIN`, exactly as kube-proxy writes it), and the chains to delete.
// Rendering and the canonical order of kube-proxy's own tests (sortIPTablesRules in
// proxier_test.go) live here.

export type TableName = 'filter' | 'nat';

export interface RestoreTable {
  readonly name: TableName;
  /** Chain lines (`:NAME - [0:0]`), in declaration order until canonicalized. */
  readonly chains: string[];
  /** Rules per chain, in the order they were written; a chain may have rules without a chain line (partial syncs). */
  readonly rules: Map<string, string[]>;
  readonly deleted: string[];
  /** The order rules are rendered in, chain by chain (canonicalize sets it); else insertion order. */
  readonly order?: readonly string[];
}

export interface RestoreData {
  readonly filter: RestoreTable;
  readonly nat: RestoreTable;
}

export function emptyTable(name: TableName): RestoreTable {
  return { name, chains: [], rules: new Map(), deleted: [] };
}

/** Appends one rule (`text` is everything after `-A CHAIN `). */
export function addRule(t: RestoreTable, chain: string, text: string): void {
  // Template strings are built as ropes; reading a character makes V8 flatten this one now, while
  // its pieces are still young garbage, instead of keeping every piece alive until rendering.
  text.charCodeAt(0);
  const list = t.rules.get(chain);
  if (list) list.push(text);
  else t.rules.set(chain, [text]);
}

export function ruleLine(chain: string, text: string): string {
  return text ? `-A ${chain} ${text}` : `-A ${chain}`;
}

/** The rule lines of one chain, as `-A` lines. */
export function chainLines(t: RestoreTable, chain: string): string[] {
  return (t.rules.get(chain) ?? []).map((r) => ruleLine(chain, r));
}

export function ruleCount(t: RestoreTable): number {
  let n = 0;
  for (const list of t.rules.values()) n += list.length;
  return n;
}

/** The restore text: `*filter` before `*nat`; chain lines, rules chain by chain, `-X` lines, `COMMIT`. */
export function renderRestore(data: RestoreData): string {
  const parts: string[] = [];
  for (const t of [data.filter, data.nat]) {
    parts.push(`*${t.name}\n`);
    for (const c of t.chains) parts.push(`:${c} - [0:0]\n`);
    for (const chain of t.order ?? t.rules.keys()) {
      const list = t.rules.get(chain)!;
      // One join per chain: `-A CHAIN ` between the rules (a rule may be empty: `-A CHAIN`).
      const head = `-A ${chain} `;
      if (list.includes('')) for (const r of list) parts.push(ruleLine(chain, r) + '\n');
      else parts.push(head + list.join('\n' + head) + '\n');
    }
    for (const c of t.deleted) parts.push(`-X ${c}\n`);
    parts.push('COMMIT\n');
  }
  return parts.join('');
}

function chainRank(name: string): number {
  if (name === 'KUBE-NODEPORTS') return 0;
  if (name === 'KUBE-SERVICES') return 1;
  return name.startsWith('KUBE-') ? 2 : 3;
}

export function compareChains(a: string, b: string): number {
  const ra = chainRank(a);
  const rb = chainRank(b);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts chain names canonically: KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, the rest by
 * name. Buckets, then the engine's own string sort per bucket (no comparator callback): a sync of
 * a large cluster sorts a hundred thousand chain names.
 */
export function sortChains(names: Iterable<string>): string[] {
  const head: string[] = [];
  const kube: string[] = [];
  const rest: string[] = [];
  for (const n of names) {
    const r = chainRank(n);
    (r < 2 ? head : r === 2 ? kube : rest).push(n);
  }
  head.sort((a, b) => chainRank(a) - chainRank(b));
  kube.sort();
  rest.sort();
  return head.concat(kube, rest);
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

/**
 * The canonical order: chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, the rest by
 * name; rules grouped per chain in that order, keeping their order except in KUBE-NODEPORTS and
 * KUBE-SERVICES, which are stably sorted by the service name in their comment with the
 * "must be the last rule" jump kept last. kube-proxy writes services in map order, so only this
 * order is stable; every conformance file is a fixed point of it.
 */
export function canonicalize(t: RestoreTable): RestoreTable {
  const chains = sortChains(t.chains);
  // Rules normally go to declared chains only; fall back to sorting every chain that has rules.
  let order = chains.filter((c) => t.rules.has(c));
  if (order.length !== t.rules.size) order = sortChains(t.rules.keys());
  // The rules map is shared with `t` unless one of the two sorted chains is out of order.
  let rules = t.rules;
  for (const chain of ['KUBE-NODEPORTS', 'KUBE-SERVICES']) {
    const list = rules.get(chain);
    if (!list) continue;
    const keyed = list.map((r, i) => {
      const c = ruleComment(r) ?? '';
      return { r, i, last: c.includes(LAST_RULE_MARK), name: serviceNameOfComment(c) };
    });
    const before = (a: (typeof keyed)[0], b: (typeof keyed)[0]) => (a.last !== b.last ? (a.last ? 1 : -1) : a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i);
    // The compiler emits services in name order, so this is usually sorted already.
    if (keyed.some((k, i) => i > 0 && before(keyed[i - 1], k) > 0)) {
      if (rules === t.rules) rules = new Map(t.rules);
      rules.set(chain, keyed.sort(before).map((k) => k.r));
    }
  }
  return { name: t.name, chains, rules, deleted: sortChains(t.deleted), order };
}
