// Where a hook function runs. Netfilter keeps each hook's functions sorted by priority
// (nf_hook_entries_grow: a function goes before the first one whose priority is not lower, so of
// two with equal priority the one registered later runs first) and calls them in that order; the
// iptables tables, conntrack and every nftables base chain are such functions. Chains of type nat
// are the exception: the NAT core registers one function at its own priority (NF_IP_PRI_NAT_DST
// -100 in PREROUTING and OUTPUT, NF_IP_PRI_NAT_SRC 100 in INPUT and POSTROUTING) and calls the nat
// chains from there, in their priority order, until one binds the connection (nf_nat_inet_fn;
// checked with nft: a nat chain at priority -190 in output runs after a filter chain at -150).
//
// The core's programs (evaluate.ts PROGRAMS) list the steps of each path in that order; `placeStep`
// puts a hook extension's step (an nftables base chain, IPVS) where the kernel would call it. The
// iptables tables are taken as registered first (a node's iptables tables are set up before the
// nftables tables that share their priority), so an extension's step goes before a core step of
// equal priority.
import type { Programs } from './evaluate.js';
import type { ExtStep, Hook, HookPriority, Step } from './types.js';

/** include/uapi/linux/netfilter_ipv4.h nf_ip_hook_priorities (the same numbers for IPv6). */
export const NF_PRIORITY = {
  RAW: -300,
  CONNTRACK: -200,
  MANGLE: -150,
  NAT_DST: -100,
  FILTER: 0,
  SECURITY: 50,
  NAT_SRC: 100,
  CONNTRACK_CONFIRM: 2147483647,
} as const;

const TABLE_PRIORITY: Readonly<Record<string, number>> = { raw: NF_PRIORITY.RAW, mangle: NF_PRIORITY.MANGLE, filter: NF_PRIORITY.FILTER, security: NF_PRIORITY.SECURITY };

/** The NAT core's priority at a hook (destination NAT before routing, source NAT after). */
export function natCorePriority(hook: Hook): number {
  return hook === 'PREROUTING' || hook === 'OUTPUT' ? NF_PRIORITY.NAT_DST : NF_PRIORITY.NAT_SRC;
}

/** Where an iptables table runs at a hook (the nat table: from the NAT core); null for a table netfilter does not know. */
export function tablePriority(table: string, hook: Hook): number | null {
  return table === 'nat' ? natCorePriority(hook) : (TABLE_PRIORITY[table] ?? null);
}

/** The hooks each program passes, in order. */
const PROGRAM_HOOKS: { readonly [K in keyof Programs]: readonly Hook[] } = {
  remote: ['PREROUTING'],
  input: ['INPUT'],
  forward: ['FORWARD', 'POSTROUTING'],
  local: ['OUTPUT', 'POSTROUTING'],
  loopback: ['PREROUTING', 'INPUT'],
};

/** [hook position, priority, order among the NAT core's chains]: steps run in increasing key order. */
type Key = readonly [number, number, number];

function hookKey(hooks: readonly Hook[], hook: Hook, at: HookPriority): Key {
  const h = hooks.indexOf(hook);
  return at.nat ? [h, natCorePriority(hook), at.priority] : [h, at.priority, at.priority];
}

function stepKey(hooks: readonly Hook[], s: Step): Key {
  const last = hooks.length;
  switch (s.kind) {
    case 'table':
      return s.table === 'nat' ? hookKey(hooks, s.hook, { priority: natCorePriority(s.hook), nat: true }) : hookKey(hooks, s.hook, { priority: TABLE_PRIORITY[s.table], nat: false });
    case 'nat':
      // The binding applied once every nat chain had its say (nf_nat_inet_fn's do_nat).
      return [hooks.indexOf(s.hook), natCorePriority(s.hook), Infinity];
    case 'conntrack':
      return hookKey(hooks, s.hook, { priority: NF_PRIORITY.CONNTRACK, nat: false });
    case 'confirm':
      return hookKey(hooks, s.hook, { priority: NF_PRIORITY.CONNTRACK_CONFIRM, nat: false });
    case 'ext':
      return hookKey(hooks, s.hook, s.at);
    case 'receive':
    case 'routeOut':
      // The packet's entry (received on an interface, or made here): before every hook.
      return [0, -Infinity, -Infinity];
    case 'reroute':
      // nf_nat_ipv4_local_fn reroutes a packet whose destination the NAT core changed.
      return [hooks.indexOf('OUTPUT'), NF_PRIORITY.NAT_DST, Infinity];
    case 'routeIn':
    case 'loopback':
    case 'deliver':
      return [last, 0, 0];
    default: {
      const never: never = s;
      return never;
    }
  }
}

function before(a: Key, b: Key): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/** The program with `step` where its hook and priority put it; unchanged when it never passes that hook. */
function placeIn(program: readonly Step[], hooks: readonly Hook[], step: ExtStep): readonly Step[] {
  if (!hooks.includes(step.hook)) return program;
  const key = hookKey(hooks, step.hook, step.at);
  // Before the first step that does not run earlier (equal: the later registration runs first).
  let i = 0;
  while (i < program.length && before(stepKey(hooks, program[i]), key)) i++;
  return [...program.slice(0, i), step, ...program.slice(i)];
}

/** Every program with `step` in place (a packet's path may pass its hook in several programs). */
export function placeStep(programs: Programs, step: ExtStep): Programs {
  return {
    remote: placeIn(programs.remote, PROGRAM_HOOKS.remote, step),
    input: placeIn(programs.input, PROGRAM_HOOKS.input, step),
    forward: placeIn(programs.forward, PROGRAM_HOOKS.forward, step),
    local: placeIn(programs.local, PROGRAM_HOOKS.local, step),
    loopback: placeIn(programs.loopback, PROGRAM_HOOKS.loopback, step),
  };
}
