// statistic (xt_statistic.c). Random mode branches: the rule matches with probability
// stored / 2^31 where stored = lround(2^31 * p) (libxt_statistic.c). Nth mode is deterministic
// from the counter: iptables stores --every n as n-1 and starts the counter at --packet; each
// packet moves it to `count == every ? 0 : count + 1` and matches when that is 0.
import type { OptionArg } from '../../iptables/ir.js';
import { storedProbability, ZERO } from '../fraction.js';
import type { CMatch } from '../types.js';
import { readNth } from '../world.js';
import { intOf, negated, ValueError, wordOf } from './values.js';

export function compileStatistic(opts: readonly OptionArg[], uid: number): CMatch[] {
  let mode: string | null = null;
  let prob: OptionArg | null = null;
  let every: number | null = null;
  let packet = 0;
  let invert = false;
  for (const opt of opts) {
    switch (opt.name) {
      case 'mode':
        mode = wordOf(opt);
        break;
      case 'probability':
        prob = opt;
        invert ||= negated(opt);
        break;
      case 'every':
        every = intOf(opt);
        invert ||= negated(opt);
        break;
      case 'packet':
        packet = intOf(opt);
        break;
      default:
        throw new ValueError(`unknown statistic option ${opt.spelling}`, opt);
    }
  }
  if (mode === 'random') {
    if (!prob) throw new ValueError('--mode random needs --probability', opts[0]);
    const v = prob.values[0];
    if (v?.type !== 'probability') throw new ValueError(`--probability must be between 0 and 1${v ? `, not ${v.text}` : ''}`, prob);
    return [{ kind: 'random', stored: storedProbability(v.value), invert, text: v.text, cacheIn: null, cacheYes: ZERO, cacheNo: ZERO }];
  }
  if (mode === 'nth') {
    if (every === null || every < 1) throw new ValueError('--mode nth needs --every N (N >= 1)', opts[0]);
    const max = every - 1;
    const start = packet;
    return [
      {
        kind: 'test',
        pure: false,
        test: (w) => {
          const count = readNth(w.ctx.world, w.delta, uid, start);
          const next = count === max ? 0 : count + 1;
          w.delta = { kind: 'nth', uid, count: next, prev: w.delta };
          return (next === 0) !== invert;
        },
      },
    ];
  }
  throw new ValueError(`unknown statistic mode ${mode ?? '(none)'}`, opts[0]);
}
