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
    for (const [chain, list] of t.rules) {
      const head = `-A ${chain} `;
      for (const r of list) parts.push(r ? head + r + '\n' : `-A ${chain}\n`);
    }
    for (const c of t.deleted) parts.push(`-X ${c}\n`);
    parts.push('COMMIT\n');
  }
  return parts.join('');
}

/** Sort key of a chain in the canonical order: KUBE-NODEPORTS, KUBE-SERVICES, KUBE-*, the rest. */
function chainKey(name: string): string {
  if (name === 'KUBE-NODEPORTS') return '0';
  if (name === 'KUBE-SERVICES') return '1';
  return (name.startsWith('KUBE-') ? '2' : '3') + name;
}

export function compareChains(a: string, b: string): number {
  const ka = chainKey(a);
  const kb = chainKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Sorts chain names canonically with the engine's own string sort (no comparator callback). */
export function sortChains(names: Iterable<string>): string[] {
  const keys: string[] = [];
  for (const n of names) keys.push(chainKey(n));
  keys.sort();
  return keys.map((k) => (k === '0' ? 'KUBE-NODEPORTS' : k === '1' ? 'KUBE-SERVICES' : k.slice(1)));
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
  const i = c.search(/[ :]/);
  return i < 0 ? c : c.slice(0, i);
}

/**
 * The canonical order: chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, the rest by
 * name; rules grouped per chain in that order, keeping their order except in KUBE-NODEPORTS and
 * KUBE-SERVICES, which are stably sorted by the service name in their comment with the
 * "must be the last rule" jump kept last. kube-proxy writes services in map order, so only this
 * order is stable; every conformance file is a fixed point of it.
 */
export function canonicalize(t: RestoreTable): RestoreTable {
  const rules = new Map<string, string[]>();
  for (const chain of sortChains(t.rules.keys())) {
    let list = t.rules.get(chain)!;
    if (chain === 'KUBE-NODEPORTS' || chain === 'KUBE-SERVICES') {
      const keyed = list.map((r, i) => {
        const c = ruleComment(r) ?? '';
        return { r, i, last: c.includes(LAST_RULE_MARK), name: serviceNameOfComment(c) };
      });
      keyed.sort((a, b) => (a.last !== b.last ? (a.last ? 1 : -1) : a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i));
      list = keyed.map((k) => k.r);
    }
    rules.set(chain, list);
  }
  return { name: t.name, chains: sortChains(t.chains), rules, deleted: sortChains(t.deleted) };
}
