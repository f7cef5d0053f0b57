// kube-proxy's iptables-restore input as data: per table, the chain lines, the rules (argument
// lists exactly as kube-proxy writes them), and the chains to delete. Rendering and the
// canonical order of kube-proxy's own tests (proxier_test.go sortIPTablesRules) live here.

export type TableName = 'filter' | 'nat';

export interface RestoreRule {
  readonly chain: string;
  readonly args: readonly string[];
}

export interface RestoreTable {
  readonly name: TableName;
  readonly chains: string[];
  readonly rules: RestoreRule[];
  readonly deleted: string[];
}

export interface RestoreData {
  readonly filter: RestoreTable;
  readonly nat: RestoreTable;
}

export function emptyTable(name: TableName): RestoreTable {
  return { name, chains: [], rules: [], deleted: [] };
}

export function ruleLine(r: RestoreRule): string {
  return r.args.length > 0 ? `-A ${r.chain} ${r.args.join(' ')}` : `-A ${r.chain}`;
}

/** The restore text: `*filter` before `*nat`, chain lines, rules, `-X` lines, `COMMIT`. */
export function renderRestore(data: RestoreData): string {
  let out = '';
  for (const t of [data.filter, data.nat]) {
    out += `*${t.name}\n`;
    for (const c of t.chains) out += `:${c} - [0:0]\n`;
    for (const r of t.rules) out += ruleLine(r) + '\n';
    for (const c of t.deleted) out += `-X ${c}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

function chainRank(name: string): [number, string] {
  if (name === 'KUBE-NODEPORTS') return [0, ''];
  if (name === 'KUBE-SERVICES') return [1, ''];
  return [name.startsWith('KUBE-') ? 2 : 3, name];
}

export function compareChains(a: string, b: string): number {
  const [ra, na] = chainRank(a);
  const [rb, nb] = chainRank(b);
  if (ra !== rb) return ra - rb;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

const LAST_RULE_MARK = 'must be the last rule';

/** The comment of a rule as written (quotes removed), or null. */
export function ruleComment(args: readonly string[]): string | null {
  for (let i = 0; i + 1 < args.length; i++) {
    if (args[i] === '--comment') {
      const c = args[i + 1];
      return c.length >= 2 && c.startsWith('"') && c.endsWith('"') ? c.slice(1, -1) : c;
    }
  }
  return null;
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
  const chains = [...t.chains].sort(compareChains);
  const byChain = new Map<string, RestoreRule[]>();
  for (const r of t.rules) {
    const list = byChain.get(r.chain);
    if (list) list.push(r);
    else byChain.set(r.chain, [r]);
  }
  const order = [...byChain.keys()].sort(compareChains);
  const rules: RestoreRule[] = [];
  for (const chain of order) {
    let list = byChain.get(chain)!;
    if (chain === 'KUBE-NODEPORTS' || chain === 'KUBE-SERVICES') {
      const keyed = list.map((r, i) => {
        const c = ruleComment(r.args) ?? '';
        return { r, i, last: c.includes(LAST_RULE_MARK), name: serviceNameOfComment(c) };
      });
      keyed.sort((a, b) => (a.last !== b.last ? (a.last ? 1 : -1) : a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i));
      list = keyed.map((k) => k.r);
    }
    rules.push(...list);
  }
  const deleted = [...t.deleted].sort(compareChains);
  return { name: t.name, chains, rules, deleted };
}
