// One match module -> compiled tests, dispatched on the module name. Which modules are modelled
// is coverage.ts's table; a module outside it never gets here (compile.ts makes it an `unknown`
// match: both branches are explored and the outcome says so).
import type { Family, OptionArg } from '../../iptables/ir.js';
import type { IpsetDb } from '../ipset.js';
import type { ModelledMatch } from '../coverage.js';
import type { CMatch } from '../types.js';
import { compileAddrtype } from './addrtype.js';
import { compileConntrack } from './conntrack.js';
import { compileMark } from './marks.js';
import { ALWAYS, compileIcmp, compileIprange, compilePkttype } from './misc.js';
import { compileMultiport, compilePorts } from './ports.js';
import { compilePhysdev } from './physdev.js';
import { compileRpfilter } from './rpfilter.js';
import { compileRecent } from './recent.js';
import { compileSet } from './set.js';
import { compileStatistic } from './statistic.js';
import { compileConnbytes, compileConnlimit, compileHelper } from './counters.js';
import { compileDscp, compileLength, compileTos, compileTtl } from './fields.js';
import { compileCgroup, compileOwner, compileSocket } from './origin.js';
import { compileHashlimit, compileLimit } from './rate.js';
import { compileTime } from './time.js';
import { compileIpvs } from './ipvs.js';

export interface MatchContext {
  readonly family: Family;
  readonly ipsets: IpsetDb | null;
  /** The rule's uid, for per-rule state (nth counters). */
  readonly uid: number;
}

export function compileMatch(module: ModelledMatch, opts: readonly OptionArg[], cx: MatchContext): CMatch[] {
  switch (module) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      return compilePorts(module, opts);
    case 'multiport':
      return compileMultiport(opts);
    case 'comment':
    case 'nfacct':
      return [ALWAYS];
    case 'mark':
    case 'connmark':
      return compileMark(module, opts);
    case 'conntrack':
    case 'state':
      return compileConntrack(module, opts, cx.family);
    case 'addrtype':
      return compileAddrtype(opts, cx.family);
    case 'statistic':
      return compileStatistic(opts, cx.uid);
    case 'recent':
      return compileRecent(opts, cx.family);
    case 'set':
      return compileSet(opts, cx.ipsets);
    case 'iprange':
      return compileIprange(opts);
    case 'pkttype':
      return compilePkttype(opts);
    case 'icmp':
    case 'icmp6':
      return compileIcmp(module, opts);
    case 'length':
      return compileLength(opts);
    case 'ttl':
    case 'hl':
      return compileTtl(opts);
    case 'tos':
      return compileTos(opts);
    case 'dscp':
      return compileDscp(opts);
    case 'owner':
      return compileOwner(opts);
    case 'socket':
      return compileSocket(opts);
    case 'cgroup':
      return compileCgroup(opts);
    case 'connbytes':
      return compileConnbytes(opts);
    case 'connlimit':
      return compileConnlimit(opts, cx.family);
    case 'helper':
      return compileHelper(opts);
    case 'limit':
      return compileLimit(opts, cx.uid);
    case 'hashlimit':
      return compileHashlimit(opts, cx.family);
    case 'time':
      return compileTime(opts);
    case 'physdev':
      return compilePhysdev(opts);
    case 'rpfilter':
      return compileRpfilter(opts);
    case 'ipvs':
      return compileIpvs(opts, cx.family);
    default: {
      const never: never = module;
      return never;
    }
  }
}
