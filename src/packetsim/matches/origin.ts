// Matches on the socket a packet belongs to. Which socket that is, and whose, no ruleset says: the
// trace is told (--uid, --gid, --socket, --cgroup) or the match cannot decide (UNKNOWN). A packet
// this node forwards has no socket: xt_owner then matches exactly when every test it was given is
// negated, xt_cgroup never.
//  - owner (xt_owner.c owner_mt, OUTPUT and POSTROUTING only): the sending socket exists for every
//    packet this node sends; --uid-owner / --gid-owner test its process's fsuid / fsgid (and, with
//    --suppl-groups, its supplementary groups).
//  - socket (xt_socket.c socket_match, PREROUTING and INPUT): a local socket takes the packet; one
//    listening on any address counts only with --nowildcard, and with --transparent only one with
//    IP_TRANSPARENT does.
//  - cgroup (xt_cgroup.c): the socket's cgroup v2 path is the given one or below it (--path), or its
//    net_cls class id is the given one (--cgroup).
import type { OptionArg } from '../../iptables/ir.js';
import type { CMatch, Walk } from '../types.js';
import { negated, ValueError } from './values.js';

/** Whether the packet comes from a socket of this node (as opposed to passing through it). */
const fromHere = (w: Walk) => w.ctx.origin === 'local';

function idRange(opt: OptionArg): [number, number] | string {
  const v = opt.values[0];
  if (v?.type === 'intRange') return [v.from, v.to];
  if (v?.type === 'integer') return [v.value, v.value];
  // A user or group name: iptables resolved it through the node's passwd / group database.
  return `${opt.spelling} ${v?.text ?? ''}: a name the node's user database resolves, which no input gives`;
}

export function compileOwner(opts: readonly OptionArg[]): CMatch[] {
  let socketExists: boolean | null = null;
  let uid: { range: [number, number] | string; neg: boolean } | null = null;
  let gid: { range: [number, number] | string; neg: boolean } | null = null;
  let suppl = false;
  for (const opt of opts) {
    if (opt.name === 'socket-exists') socketExists = !negated(opt);
    else if (opt.name === 'uid-owner') uid = { range: idRange(opt), neg: negated(opt) };
    else if (opt.name === 'gid-owner') gid = { range: idRange(opt), neg: negated(opt) };
    else if (opt.name === 'suppl-groups') suppl = true;
    else throw new ValueError(`unknown owner option ${opt.spelling}`, opt);
  }
  const tests = [socketExists, uid, gid].filter((t) => t !== null);
  // (info->match ^ info->invert) == 0: every test given was negated.
  const allNegated = tests.every((t) => (typeof t === 'boolean' ? !t : t.neg));
  const text = `-m owner ${opts.map((o) => `${negated(o) ? '! ' : ''}${o.spelling}${o.values.length ? ` ${o.values[0].text}` : ''}`).join(' ')}`;
  const within = (r: [number, number], n: number) => n >= r[0] && n <= r[1];
  return [
    {
      kind: 'maybe',
      text,
      test: (w) => {
        if (!fromHere(w)) return allNegated;
        if (socketExists === false) return false;
        const m = w.ctx.meta;
        if (uid) {
          if (typeof uid.range === 'string') return uid.range;
          if (m.uid === null) return "the sending process's user is not given (--uid)";
          if (within(uid.range, m.uid) === uid.neg) return false;
        }
        if (gid) {
          if (typeof gid.range === 'string') return gid.range;
          if (m.gid === null) return "the sending process's group is not given (--gid)";
          const r = gid.range;
          let hit = within(r, m.gid);
          if (!hit && suppl) {
            if (m.groups === null) return "the sending process's supplementary groups are not given";
            hit = m.groups.some((g) => within(r, g));
          }
          if (hit === gid.neg) return false;
        }
        return true;
      },
    },
  ];
}

export function compileSocket(opts: readonly OptionArg[]): CMatch[] {
  let transparent = false;
  let nowildcard = false;
  for (const opt of opts) {
    if (opt.name === 'restore-skmark') return [{ kind: 'unknown', text: '-m socket --restore-skmark', reason: "socket --restore-skmark sets the packet's mark from a socket kpsim does not know" }];
    if (opt.name === 'transparent') transparent = true;
    else if (opt.name === 'nowildcard') nowildcard = true;
    else throw new ValueError(`unknown socket option ${opt.spelling}`, opt);
  }
  return [
    {
      kind: 'maybe',
      text: `-m socket ${opts.map((o) => o.spelling).join(' ')}`.trim(),
      test: (w) => {
        const s = w.ctx.meta.socket;
        if (s === null) return 'which local socket takes the packet is not given (--socket)';
        return s.bound !== 'none' && (s.bound === 'address' || nowildcard) && (!transparent || s.transparent);
      },
    },
  ];
}

/** `a/b` is `a` or below it (cgroup_is_descendant), paths relative to the cgroup root. */
function below(path: string, ancestor: string): boolean {
  const p = path.replace(/^\/+|\/+$/g, '');
  const a = ancestor.replace(/^\/+|\/+$/g, '');
  return a === '' || p === a || p.startsWith(`${a}/`);
}

export function compileCgroup(opts: readonly OptionArg[]): CMatch[] {
  return opts.map((opt): CMatch => {
    const v = opt.values[0];
    const neg = negated(opt);
    const text = `-m cgroup ${neg ? '! ' : ''}${opt.spelling} ${v?.text ?? ''}`;
    let test: (w: Walk) => boolean | string;
    if (opt.name === 'path') {
      if (v?.type !== 'string') throw new ValueError('--path needs a cgroup path', opt);
      test = (w) => (w.ctx.meta.cgroup === null ? "the socket's cgroup is not given (--cgroup)" : below(w.ctx.meta.cgroup, v.value) !== neg);
    } else if (opt.name === 'cgroup') {
      if (v?.type !== 'integer') throw new ValueError('--cgroup needs a class id', opt);
      test = (w) => (w.ctx.meta.classid === null ? "the socket's net_cls class id is not given (--classid)" : (w.ctx.meta.classid === v.value) !== neg);
    } else throw new ValueError(`unknown cgroup option ${opt.spelling}`, opt);
    return {
      kind: 'maybe',
      text,
      // No full socket, no match, negated or not: a packet passing through, or one arriving before
      // INPUT (early demux attaches an established socket in ip_rcv_finish, after PREROUTING).
      test: (w) => {
        if (fromHere(w)) return test(w);
        const s = w.ctx.meta.socket;
        if (w.hook !== 'INPUT' || s?.bound === 'none') return false;
        return s !== null ? test(w) : 'which local socket takes the packet is not given (--socket)';
      },
    };
  });
}
