// kube-proxy's nftables transaction as knftables builds it: objects (table, chains, sets, maps,
// rules, elements) with their rule text, each written as one `add` line the way knftables'
// objects.go writeOperation spells it:
//
//   add table ip kube-proxy { comment "rules for kube-proxy" ; }
//   add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
//   add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
//   add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "..."
//   add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-... }
//
// The objects are kept by kind and written table, sets and maps, chains, rules, elements: the
// order `nft -f` needs (a rule or an element may name only what exists), each kind in the order
// the emitters added it (a chain's rules keep their order). kube-proxy's first sync on a fresh
// node adds exactly these objects (its add+flush of each chain and flush of each map are no-ops
// there); its unit tests compare the same lines, object order aside
// (golden/kube-proxy-nftables/README.md).

export type NftFamilyWord = 'ip' | 'ip6';

/** A base chain's hook: `type filter hook input priority 0`. */
export interface BaseChain {
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** Written as a number: knftables turns named priorities (`dstnat-10`) into numbers. */
  readonly priority: number;
}

export interface ChainObject {
  readonly name: string;
  readonly base: BaseChain | null;
  readonly comment: string | null;
}

export interface SetObject {
  readonly map: boolean;
  readonly name: string;
  /** `ipv4_addr`, `ipv4_addr . inet_proto . inet_service : verdict`. */
  readonly type: string;
  readonly flags: readonly string[];
  readonly timeoutSeconds: number | null;
  readonly comment: string | null;
}

export interface RuleObject {
  readonly chain: string;
  /** The rule's text, as kube-proxy joins its words (knftables.Concat). */
  readonly rule: string;
  readonly comment: string | null;
}

export interface ElementObject {
  readonly set: string;
  /** The key's parts, written joined by ` . `. */
  readonly key: readonly string[];
  /** A map element's value (`goto service-...`, `drop`); null for a set element. */
  readonly value: string | null;
  readonly comment: string | null;
}

export class Transaction {
  readonly sets: SetObject[] = [];
  readonly chains: ChainObject[] = [];
  readonly rules: RuleObject[] = [];
  readonly elements: ElementObject[] = [];
  /** Keys already added per set (nftElementStorage.ensureElem: a key is added once). */
  private readonly keys = new Map<string, Set<string>>();

  constructor(
    readonly family: NftFamilyWord,
    readonly table: string,
    readonly tableComment: string | null,
  ) {}

  chain(name: string, base: BaseChain | null = null, comment: string | null = null): void {
    this.chains.push({ name, base, comment });
  }

  set(s: SetObject): void {
    this.sets.push(s);
  }

  rule(chain: string, rule: string, comment: string | null = null): void {
    this.rules.push({ chain, rule, comment });
  }

  /** Adds the element unless its key is in the set already. */
  element(set: string, key: readonly string[], value: string | null = null, comment: string | null = null): void {
    let seen = this.keys.get(set);
    if (!seen) this.keys.set(set, (seen = new Set()));
    const k = key.join(' . ');
    if (seen.has(k)) return;
    seen.add(k);
    this.elements.push({ set, key, value, comment });
  }

  /** The transaction's lines, as `nft -f` reads them. */
  render(): string {
    const head = `${this.family} ${this.table}`;
    const parts: string[] = [`add table ${head}${this.tableComment === null ? '' : ` { comment ${quote(this.tableComment)} ; }`}\n`];
    for (const s of this.sets) parts.push(setLine(head, s));
    for (const c of this.chains) parts.push(chainLine(head, c));
    for (const r of this.rules) parts.push(`add rule ${head} ${r.chain} ${r.rule}${r.comment === null ? '' : ` comment ${quote(r.comment)}`}\n`);
    for (const e of this.elements) parts.push(elementLine(head, e));
    return parts.join('');
  }
}

/** Go's %q for the ASCII text kube-proxy writes in comments. */
function quote(s: string): string {
  return JSON.stringify(s);
}

function chainLine(head: string, c: ChainObject): string {
  let props = '';
  if (c.base) props += ` type ${c.base.type} hook ${c.base.hook} priority ${c.base.priority} ;`;
  if (c.comment !== null) props += ` comment ${quote(c.comment)} ;`;
  return `add chain ${head} ${c.name}${props ? ` {${props} }` : ''}\n`;
}

function setLine(head: string, s: SetObject): string {
  let props = ` type ${s.type} ;`;
  if (s.flags.length > 0) props += ` flags ${s.flags.join(',')} ;`;
  if (s.timeoutSeconds !== null) props += ` timeout ${s.timeoutSeconds}s ;`;
  if (s.comment !== null) props += ` comment ${quote(s.comment)} ;`;
  return `add ${s.map ? 'map' : 'set'} ${head} ${s.name} {${props} }\n`;
}

function elementLine(head: string, e: ElementObject): string {
  const comment = e.comment === null ? '' : ` comment ${quote(e.comment)}`;
  const value = e.value === null ? '' : ` : ${e.value}`;
  return `add element ${head} ${e.set} { ${e.key.join(' . ')}${comment}${value} }\n`;
}
