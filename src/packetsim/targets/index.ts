// A rule's target -> compiled target. Built-in verdicts and chain jumps come typed from the IR;
// extension targets are dispatched on their name. Targets that only log, count or trace
// continue with the next rule, as in the kernel (XT_CONTINUE); a target the simulator does not
// model stops the walk with UNKNOWN.
import type { Target } from '../../iptables/ir.js';
import { ValueError, wordOf } from '../matches/values.js';
import type { CTarget } from '../types.js';
import { compileConnmarkTarget, compileMarkTarget } from './mark.js';
import { compileNatTarget } from './nat.js';

export const MODELLED_TARGETS = [
  'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'MARK', 'CONNMARK', 'CT', 'NOTRACK',
  'LOG', 'NFLOG', 'ULOG', 'TRACE', 'AUDIT', 'NFQUEUE',
] as const;
export type ModelledTarget = (typeof MODELLED_TARGETS)[number];

function isModelled(name: string): name is ModelledTarget {
  return (MODELLED_TARGETS as readonly string[]).includes(name);
}

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
      return { kind: 'unknown', text: `-j ${t.name} ${t.text}`.trim(), reason: `target ${t.name} is not modelled` };
    case 'extension':
      if (!isModelled(t.name)) {
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
    case 'CT': {
      if (options.some((o) => o.name === 'notrack')) return { kind: 'notrack' };
      const other = options.find((o) => !['zone', 'zone-orig', 'zone-reply'].includes(o.name));
      if (other) throw new ValueError(`CT ${other.spelling} is not modelled`, other);
      return { kind: 'continue', name: 'CT' };
    }
    case 'NOTRACK':
      return { kind: 'notrack' };
    case 'LOG':
    case 'NFLOG':
    case 'ULOG':
    case 'TRACE':
    case 'AUDIT':
      return { kind: 'continue', name };
    case 'NFQUEUE':
      return { kind: 'queue', name };
    default: {
      const never: never = name;
      return never;
    }
  }
}
