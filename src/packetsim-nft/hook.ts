// The node's nftables base chains as hook functions of the simulator (HookExtension): each runs
// at its hook and priority among the iptables tables and the other chains (hook-order.ts), a
// chain of type nat only for a connection's first packet, from the NAT core (nf_nat_inet_fn), and
// not once a chain before it bound the connection. So kube-proxy's `ip kube-proxy` table, Calico's
// or Docker's nftables tables and iptables' own tables are traced as one node, as the kernel runs
// them. The proxy mode's row (src/modes.ts) adds these for any node value with nftables tables.
import type { Family } from '../net/index.js';
import type { NftState } from '../nftables/state.js';
import { natEligible } from '../packetsim/evaluate.js';
import { placeStep } from '../packetsim/hook-order.js';
import type { CompileProblem, HookExtension } from '../packetsim/types.js';
import { compileNft } from './compile.js';
import { runBaseChain } from './run.js';

/** One hook extension per base chain of the tables a packet of `family` meets. */
export function nftablesExtensions(state: NftState, family: Family, interfaces: readonly string[]): HookExtension[] {
  const c = compileNft(state, family, interfaces);
  const problems: readonly CompileProblem[] = c.problems;
  return c.bases.map((chain, i) => {
    const b = chain.base!;
    return {
      name: `nftables ${chain.table.label} ${chain.name}`,
      // The first extension carries the compile's problems, once.
      problems: i === 0 ? problems : [],
      place: (programs, step) => placeStep(programs, step(b.hook, { priority: b.priority, nat: b.nat })),
      run: (w, hook, pending) => {
        if (b.nat && !natEligible(w, hook)) return;
        runBaseChain(w, chain, hook, pending);
      },
      // compile.ts watchSource notes each read of the source for the flow cache.
      notesSource: true,
    } satisfies HookExtension;
  });
}
