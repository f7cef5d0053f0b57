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
    const parts: string[] = [tableLine(this)];
    for (const s of this.sets) parts.push(setLine(head, s));
    for (const c of this.chains) parts.push(chainLine(head, c));
    for (const r of this.rules) parts.push(`add rule ${head} ${r.chain} ${r.rule}${r.comment === null ? '' : ` comment ${quote(r.comment)}`}\n`);
    for (const e of this.elements) parts.push(elementLine(head, e));
    return parts.join('');
  }
}

/**
 * The same transaction, grouped: what `nft -f` makes of it is the same kernel state, handles
 * included, but the text is read in about half the time. A 10k-service transaction repeats
 * `add rule ip kube-proxy CHAIN` on 224,000 lines, and reading those heads cost as much as the
 * rules; here the chains and their rules are one table block, the elements one line per set.
 *
 * Handles come out as render()'s lines give them (one counter per table, state.ts): the table, the
 * sets (`add set` lines), then the chains and the rules in a block, which nft adds chains first and
 * rules after, in the block's order (nft_cmd_expand): every chain, empty, in the order made, then
 * each run of consecutive rules of one chain as that chain again; the elements last, when every
 * chain a map's verdict names exists. test/compiler/nft-grouped.test.ts: both texts read to the
 * same state.
 */
export function renderGrouped(tx: Transaction): string {
  const head = `${tx.family} ${tx.table}`;
  const parts: string[] = [tableLine(tx)];
  for (const s of tx.sets) parts.push(setLine(head, s));
  if (tx.chains.length > 0) {
    parts.push(`table ${head} {\n`);
    for (const c of tx.chains) {
      parts.push(`\tchain ${c.name} {\n`);
      if (c.comment !== null) parts.push(`\t\tcomment ${quote(c.comment)}\n`);
      if (c.base) parts.push(`\t\ttype ${c.base.type} hook ${c.base.hook} priority ${c.base.priority};\n`);
      parts.push('\t}\n');
    }
    for (let i = 0; i < tx.rules.length; ) {
      const chain = tx.rules[i].chain;
      parts.push(`\tchain ${chain} {\n`);
      for (; i < tx.rules.length && tx.rules[i].chain === chain; i++) {
        const r = tx.rules[i];
        parts.push(`\t\t${r.rule}${r.comment === null ? '' : ` comment ${quote(r.comment)}`}\n`);
      }
      parts.push('\t}\n');
    }
    parts.push('}\n');
  }
  for (let i = 0; i < tx.elements.length; ) {
    const set = tx.elements[i].set;
    const run: string[] = [];
    for (; i < tx.elements.length && tx.elements[i].set === set; i++) run.push(elementText(tx.elements[i]));
    parts.push(`add element ${head} ${set} { ${run.join(', ')} }\n`);
  }
  return parts.join('');
}

function tableLine(tx: Transaction): string {
  return `add table ${tx.family} ${tx.table}${tx.tableComment === null ? '' : ` { comment ${quote(tx.tableComment)} ; }`}\n`;
}

function elementText(e: ElementObject): string {
  return `${e.key.join(' . ')}${e.comment === null ? '' : ` comment ${quote(e.comment)}`}${e.value === null ? '' : ` : ${e.value}`}`;
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
  return `add element ${head} ${e.set} { ${elementText(e)} }\n`;
}
