// A rule's arguments as the kernel holds them: the built-in matches (-s -d -p -i -o -f, checked
// first by ip_packet_match) and, in order, one group per extension match with its options. A
// module the reader does not know is one opaque group with its text.
import type { Arg, OptionArg } from '../iptables/ir.js';

export interface MatchGroup {
  readonly module: string;
  readonly opts: OptionArg[];
  /** The match's text, when the reader kept it opaque (a module it does not type). */
  opaque: string | null;
}

export function groupArgs(args: readonly Arg[]): { builtins: OptionArg[]; groups: MatchGroup[] } {
  const builtins: OptionArg[] = [];
  const groups: MatchGroup[] = [];
  for (const a of args) {
    switch (a.kind) {
      case 'module':
        groups.push({ module: a.name, opts: [], opaque: null });
        break;
      case 'option': {
        if (a.module === null) {
          builtins.push(a);
          break;
        }
        let g: MatchGroup | undefined;
        for (let i = groups.length - 1; i >= 0; i--) {
          if (groups[i].module === a.module && groups[i].opaque === null) {
            g = groups[i];
            break;
          }
        }
        // `-p tcp --dport 80` loads the tcp match implicitly.
        if (!g) groups.push((g = { module: a.module, opts: [], opaque: null }));
        g.opts.push(a);
        break;
      }
      case 'opaque': {
        // `-m weird --thing 1`: the reader gives the load and the options it does not know apart;
        // they are one match the simulator does not model.
        // `-m string --string X --algo bm --to 60` is one match with three options: one group, so
        // the simulator forks once on it, not once per option.
        const last = groups[groups.length - 1];
        if (last && a.module !== null && last.module === a.module && last.opts.length === 0) {
          last.opaque = last.opaque === null ? `-m ${a.module} ${a.text}` : `${last.opaque} ${a.text}`;
        } else groups.push({ module: a.module ?? '?', opts: [], opaque: a.text });
        break;
      }
      default: {
        const never: never = a;
        void never;
      }
    }
  }
  return { builtins, groups };
}

/** A match group as written, for messages: `-m conntrack --ctexpire 10:20`. */
export function groupText(g: MatchGroup): string {
  if (g.opaque !== null) return g.opaque;
  return [`-m ${g.module}`, ...g.opts.map((o) => `${o.negation !== 'none' ? '! ' : ''}${o.spelling} ${o.values.map((v) => v.text).join(' ')}`.trim())].join(' ');
}
