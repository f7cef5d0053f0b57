// A rule's target -> compiled target. Built-in verdicts and chain jumps come typed from the IR;
// extension targets are dispatched on their name, and which are modelled is coverage.ts's table.
// Targets that log, count, trace, help conntrack or mangle what no rule reads (LOG, NFLOG, TRACE,
// CT --helper/--zone, CHECKSUM, TCPMSS) return XT_CONTINUE in the kernel: the walk goes on with
// the next rule. A target the simulator does not model stops the walk with UNKNOWN.
import type { Target } from '../../iptables/ir.js';
import { CONTINUING_OPAQUE_TARGETS, isModelledTarget, QUEUE_TARGETS, type ModelledTarget } from '../coverage.js';
import { wordOf } from '../matches/values.js';
import type { CTarget } from '../types.js';
import { compileConnmarkTarget, compileMarkTarget } from './mark.js';
import { compileNatTarget } from './nat.js';

export function compileTarget(t: Target | null): CTarget {
  if (t === null) return { kind: 'none' };
  switch (t.kind) {
    case 'verdict':
      switch (t.name) {
        case 'ACCEPT':
          return { kind: 'accept' };
        case 'DROP':
          return { kind: 'drop' };
        case 'RETURN':
          return { kind: 'return' };
        case 'QUEUE':
          return { kind: 'queue', name: 'QUEUE' };
        default: {
          const never: never = t;
          return never;
        }
      }
    case 'chain':
      return { kind: 'jump', chain: t.name, goto: t.goto };
    case 'opaque':
      if (CONTINUING_OPAQUE_TARGETS.has(t.name)) return { kind: 'continue', name: t.name };
      if (QUEUE_TARGETS.has(t.name)) return { kind: 'queue', name: t.name };
      return { kind: 'unknown', text: `-j ${t.name} ${t.text}`.trim(), reason: `target ${t.name} is not modelled` };
    case 'extension':
      if (!isModelledTarget(t.name)) {
        return { kind: 'unknown', text: `-j ${t.name}`, reason: `target ${t.name} is not modelled` };
      }
      return compileExtension(t.name, t.options);
    default: {
      const never: never = t;
      return never;
    }
  }
}

function compileExtension(name: ModelledTarget, options: Extract<Target, { kind: 'extension' }>['options']): CTarget {
  switch (name) {
    case 'REJECT': {
      const w = options.find((o) => o.name === 'reject-with');
      return { kind: 'reject', with: w ? wordOf(w) : null };
    }
    case 'DNAT':
    case 'SNAT':
    case 'MASQUERADE':
    case 'REDIRECT':
      return compileNatTarget(name, options);
    case 'MARK':
      return compileMarkTarget(options);
    case 'CONNMARK':
      return compileConnmarkTarget(options);
    case 'CT':
      // xt_CT: --notrack attaches the untracked template (the connection is UNTRACKED: no NAT, no
      // entry); --helper, --zone*, --timeout and the event masks set up the connection's template
      // and the walk goes on (xt_ct_target returns XT_CONTINUE).
      return options.some((o) => o.name === 'notrack') ? { kind: 'notrack' } : { kind: 'continue', name: 'CT' };
    case 'NOTRACK':
      return { kind: 'notrack' };
    case 'LOG':
    case 'NFLOG':
    case 'TRACE':
    // CHECKSUM fills in a checksum, TCPMSS rewrites the MSS option of a SYN: no rule reads either.
    case 'CHECKSUM':
    case 'TCPMSS':
      return { kind: 'continue', name };
    default: {
      const never: never = name;
      return never;
    }
  }
}
