// Findings about rule order within a chain: rules that can never match because an earlier rule of
// the same chain ends the chain for every packet they would match (a terminal target: a verdict,
// a goto, or a NAT target, with matches that cover theirs: subsume.ts), and rules after a rule
// that ends the chain unconditionally. Jumps to user chains are not terminal: the chain may return.
// What a packet carries can change between two rules of a chain (a MARK or CONNMARK target, a
// jump to a chain that may set marks, CT --notrack), so an earlier rule shadows a later one only
// through matches nothing in between can change: after a rule that may change the packet, earlier
// rules that test a mark, conntrack state or anything kpsim knows only as text shadow no more
// (Calico tests its accept bit, sets it in a sub-chain, and tests it again).
import type { Family, Rule, TargetName } from '../iptables/ir.js';
import { ruleTargets, type KernelState } from '../iptables/state.js';
import { atoms, covers, indexKeys, type Atom } from './subsume.js';
import { report, type LintContext } from './finding.js';

const TERMINAL_EXTENSIONS: ReadonlySet<string> = new Set(['REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NFQUEUE']);

function terminal(t: TargetName): boolean {
  if (!t) return false;
  switch (t.kind) {
    case 'verdict':
      return true;
    case 'chain':
      return t.goto;
    case 'extension':
    case 'opaque':
      return TERMINAL_EXTENSIONS.has(t.name);
    default:
      return false;
  }
}

/** Targets that only observe the packet (log it, count it): they change nothing a later match reads. */
const OBSERVING_TARGETS: ReadonlySet<string> = new Set(['LOG', 'NFLOG', 'ULOG', 'TRACE', 'AUDIT']);

/** The rule may change what a later rule of the chain matches on (its mark, its conntrack entry, ...). */
function mayChangePacket(r: Rule): boolean {
  const t = r.target;
  if (!t || t.kind === 'verdict') return false;
  if (t.kind === 'chain') return !t.goto;
  return !OBSERVING_TARGETS.has(t.name);
}

/** Matches on what a rule may change (marks and other state kpsim reads only as text, conntrack states). */
function readsMutable(list: readonly Atom[]): boolean {
  return list.some((a) => a.kind === 'text' || a.kind === 'states');
}

interface Earlier {
  readonly index: number;
  readonly atoms: readonly Atom[];
}

/** Earlier terminal rules by what they require: a destination host, a destination port, or neither. */
class Shadowers {
  byHost = new Map<string, Earlier[]>();
  byPort = new Map<number, Earlier[]>();
  wild: Earlier[] = [];
  private mutable = 0;

  /** After a rule that may change the packet: the earlier rules that read what it may change shadow no more. */
  forgetMutable(): void {
    if (this.mutable === 0) return;
    const keep = [...this.wild, ...[...this.byPort.values()].flat(), ...[...this.byHost.values()].flat()].filter((e) => !readsMutable(e.atoms));
    this.byHost = new Map();
    this.byPort = new Map();
    this.wild = [];
    this.mutable = 0;
    for (const e of keep) this.add(e);
  }

  add(e: Earlier): void {
    if (readsMutable(e.atoms)) this.mutable++;
    const { host, port } = indexKeys(e.atoms);
    if (host !== null) push(this.byHost, host, e);
    else if (port !== null) push(this.byPort, port, e);
    else this.wild.push(e);
  }

  /** Earlier rules that may cover a rule with these keys (one without a host can only be covered by one without it too). */
  candidates(host: string | null, port: number | null): Earlier[] {
    const out = [...this.wild];
    if (port !== null) out.push(...(this.byPort.get(port) ?? []));
    if (host !== null) out.push(...(this.byHost.get(host) ?? []));
    return out;
  }
}

function push<K>(m: Map<K, Earlier[]>, k: K, e: Earlier): void {
  const list = m.get(k);
  if (list) list.push(e);
  else m.set(k, [e]);
}

export function lintOrder(state: KernelState, family: Family, ctx: LintContext): void {
  for (const [table, chains] of state.tables) {
    for (const [name, ch] of chains) {
      // Nothing to compute in a chain where no rule but the last ends the chain (a kube-proxy endpoint
      // chain's DNAT): known from the rules' targets, without building the rules.
      const targets = ruleTargets(ch);
      if (!targets.some((t, i) => terminal(t) && i < targets.length - 1)) continue;
      const earlier = new Shadowers();
      let any = false;
      for (let i = 0; i < ch.rules.length; i++) {
        const r = ch.rules[i];
        // Only a terminal rule shadows; until one has been seen (and for the last rule, which shadows nothing) nothing to compute.
        const shadows = terminal(targets[i]) && i < ch.rules.length - 1;
        if (!any && !shadows) continue;
        const mine = atoms(r, family);
        const { host, port } = indexKeys(mine);
        const by = earlier.candidates(host, port).find((e) => covers(e.atoms, mine));
        if (by) {
          if (by.atoms.length === 0) {
            const rest = ch.rules.length - i - 1;
            report(ctx, 'warning', 'LINT_UNREACHABLE_RULE', `${table} ${name} rule ${i + 1}${rest ? ` and the ${rest} after it` : ''} can never run: rule ${by.index + 1} ends the chain for every packet`, r.span);
            break;
          }
          report(ctx, 'warning', 'LINT_SHADOWED_RULE', `${table} ${name} rule ${i + 1} can never match: rule ${by.index + 1} matches every packet it would and ends the chain first`, r.span, [`rule ${by.index + 1} is at line ${ch.rules[by.index].span?.line ?? '?'}`]);
          continue;
        }
        if (shadows && !mine.some((a) => a.kind === 'random')) {
          earlier.add({ index: i, atoms: mine });
          any = true;
        } else if (mayChangePacket(r)) earlier.forgetMutable();
      }
    }
  }
}
