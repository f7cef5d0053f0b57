// A chain as a piece of the node: its rules in normal form, computed only when diff asks. One
// object per chain and nothing else until asked (a 10k-service node has 100k of them).
import type { Family, Rule } from '../iptables/ir.js';
import type { KernelChain } from '../iptables/state.js';
import { normalForm } from './rule-facts.js';
import type { Piece, Where } from './view.js';

class ChainPiece implements Piece {
  readonly kind = 'chain' as const;
  private cached: readonly string[] | null = null;

  constructor(
    readonly id: string,
    private readonly ch: KernelChain,
    /** null: the chain's own rules, read when first asked (building a chain's rules is most of reading it). */
    private readonly own: readonly Rule[] | null,
    private readonly family: Family,
    readonly stale: boolean,
  ) {}

  private get rules(): readonly Rule[] {
    return this.own ?? this.ch.rules;
  }

  get at(): Where {
    return { source: 'iptables', span: this.ch.span, what: this.id };
  }

  get chain(): NonNullable<Piece['chain']> {
    return { policy: this.ch.policy, rules: this.rules, family: this.family };
  }

  lines(): readonly string[] {
    return (this.cached ??= [...(this.ch.policy !== '-' ? [`policy ${this.ch.policy}`] : []), ...this.rules.map((r) => normalForm(r, this.family))]);
  }
}

/** `rules`: those that are not a service port's (entry chains), or null for all the chain's; `stale`: no packet reaches the chain. */
export function chainPiece(table: string, name: string, ch: KernelChain, rules: readonly Rule[] | null, family: Family, stale = false): Piece {
  return new ChainPiece(`${table} ${name}`, ch, rules, family, stale);
}
