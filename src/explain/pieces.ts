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
    private readonly rules: readonly Rule[],
    private readonly family: Family,
    readonly stale: boolean,
  ) {}

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

/** `rules`: the chain's, or those that are not a service port's (entry chains); `stale`: no packet reaches the chain. */
export function chainPiece(table: string, name: string, ch: KernelChain, rules: readonly Rule[], family: Family, stale = false): Piece {
  return new ChainPiece(`${table} ${name}`, ch, rules, family, stale);
}
