// set (xt_set.c): `--match-set NAME src|dst[,src|dst...]`, membership in an ipset from
// `ipset save` output. With no contents given for the set, the match cannot be decided: unknown.
import type { OptionArg } from '../../iptables/ir.js';
import { setContains, type IpsetDb } from '../ipset.js';
import type { CMatch } from '../types.js';
import { listOf, negated, ValueError, wordOf } from './values.js';

export function compileSet(opts: readonly OptionArg[], ipsets: IpsetDb | null): CMatch[] {
  const out: CMatch[] = [];
  for (const opt of opts) {
    const n = opt.name;
    if (n === 'return-nomatch' || n === 'update-counters' || n === 'update-subcounters') continue;
    if (n !== 'match-set') {
      out.push({ kind: 'unknown', text: opt.spelling, reason: `set option ${opt.spelling} is not modelled` });
      continue;
    }
    if (opt.values.length < 2) throw new ValueError('--match-set needs a set name and flags', opt);
    const name = wordOf(opt, 0);
    const flags = listOf(opt, 1).map((f) => {
      if (f !== 'src' && f !== 'dst') throw new ValueError(`set flag ${f} must be src or dst`, opt);
      return f;
    });
    const neg = negated(opt);
    const text = `--match-set ${name} ${flags.join(',')}`;
    const set = ipsets?.get(name);
    if (!set) {
      out.push({ kind: 'unknown', text, reason: `no contents for ipset ${name} (give --ipsets)` });
      continue;
    }
    out.push({ kind: 'test', pure: true, test: (w) => setContains(set, w.pkt, flags) !== neg });
  }
  return out;
}

