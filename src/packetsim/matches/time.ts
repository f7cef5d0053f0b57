// time (xt_time.c time_mt): the packet's arrival time, in UTC (--kerneltz: the kernel's time zone,
// which a node leaves at UTC unless something sets it with settimeofday), against a date range, a
// time of day (a range that wraps past midnight when the start is after the stop; with
// --contiguous the days tested are those the range started on), week days and month days. The
// time comes from the trace (--now, plus a flow's `at`); without it the match cannot decide.
import type { OptionArg } from '../../iptables/ir.js';
import type { CMatch } from '../types.js';
import { negated, ValueError } from './values.js';

const DAY = 86400;
/** The reader's week day names, Monday first (the kernel's bit 1). */
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function compileTime(opts: readonly OptionArg[]): CMatch[] {
  let dateStart = 0;
  let dateStop = 0x7fffffff;
  let dayStart = 0;
  let dayStop = DAY - 1;
  // Bit d for week day d (1 Monday .. 7 Sunday), bit d for month day d; all by default.
  let weekdays = 0xfe;
  let monthdays = 0xfffffffe;
  let contiguous = false;
  const int = (o: OptionArg) => {
    const v = o.values[0];
    if (v?.type !== 'integer') throw new ValueError(`--${o.name} needs a time`, o);
    return v.value;
  };
  const bits = (o: OptionArg, of: (item: string) => number, all: number) => {
    const v = o.values[0];
    if (v?.type !== 'list') throw new ValueError(`--${o.name} needs a list of days`, o);
    let b = 0;
    for (const item of v.items) b |= 2 ** of(item);
    // libxt_time stores the complement of a negated list.
    return (negated(o) ? ~b & all : b) >>> 0;
  };
  for (const opt of opts) {
    switch (opt.name) {
      case 'datestart':
        dateStart = int(opt);
        break;
      case 'datestop':
        dateStop = int(opt);
        break;
      case 'timestart':
        dayStart = int(opt);
        break;
      case 'timestop':
        dayStop = int(opt);
        break;
      case 'weekdays':
        weekdays = bits(opt, (d) => WEEKDAYS.indexOf(d) + 1, 0xfe);
        break;
      case 'monthdays':
        monthdays = bits(opt, Number, 0xfffffffe);
        break;
      case 'contiguous':
        contiguous = true;
        break;
      case 'kerneltz':
      case 'utc':
        break;
      default:
        throw new ValueError(`unknown time option ${opt.spelling}`, opt);
    }
  }
  return [
    {
      kind: 'maybe',
      text: '-m time',
      test: (w) => {
        let stamp = w.ctx.meta.time;
        if (stamp === null) return 'the time the packet passes is not given (--now)';
        stamp = Math.floor(stamp);
        if (stamp < dateStart || stamp > dateStop) return false;
        const t = ((stamp % DAY) + DAY) % DAY;
        if (dayStart < dayStop) {
          if (t < dayStart || t > dayStop) return false;
        } else {
          if (t < dayStart && t > dayStop) return false;
          if (contiguous && t <= dayStop) stamp -= DAY;
        }
        const date = new Date(stamp * 1000);
        // getUTCDay: 0 Sunday .. 6 Saturday; the kernel's 1 Monday .. 7 Sunday.
        const weekday = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
        if (!(weekdays & (2 ** weekday))) return false;
        if (monthdays !== 0xfffffffe && !(monthdays & (2 ** date.getUTCDate()))) return false;
        return true;
      },
    },
  ];
}
