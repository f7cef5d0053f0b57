// The IPVS step of a trace: at LOCAL_IN (a packet addressed to a local address, kube-ipvs0's
// included, after filter INPUT) and LOCAL_OUT (locally generated, after nat/filter OUTPUT), a new
// connection to a virtual service is assigned a real server and its destination rewritten
// (ip_vs_in / ip_vs_out hooks). Each outcome is labelled the way `kpsim trace` shows the step:
// `ipvs:TCP 172.30.0.41:80 rr -> 10.180.0.1:80`. The simulator's hook (hook.ts) applies the same
// choice to a walk, with the connection state and persistence templates this stateless view lacks.
import { hostPort, type IpvsProtocol, type IpvsTable, type RealServer, type VirtualServer } from '../ipvs/ir.js';
import { parseIP } from '../net/index.js';
import { choose, type Choice } from './schedule.js';

export interface IpvsPacket {
  readonly protocol: IpvsProtocol;
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
}

export type IpvsOutcome =
  /** Not a virtual service: the packet goes on unchanged (to a local socket at LOCAL_IN). */
  | { readonly kind: 'pass' }
  | { readonly kind: 'dnat'; readonly label: string; readonly to: RealServer; readonly numerator: number; readonly denominator: number; readonly persistent: number | null }
  | { readonly kind: 'drop'; readonly label: string; readonly reason: string }
  | { readonly kind: 'unsupported'; readonly label: string; readonly reason: string };

export function findService(table: IpvsTable, p: IpvsPacket): VirtualServer | undefined {
  const dst = parseIP(p.dst)?.text ?? p.dst;
  return table.services.find((v) => v.address === dst && v.port === p.dport && v.protocol === p.protocol);
}

export function ipvsStep(table: IpvsTable, p: IpvsPacket): IpvsOutcome[] {
  const vs = findService(table, p);
  if (!vs) return [{ kind: 'pass' }];
  const head = `ipvs:${vs.protocol} ${hostPort(vs.address, vs.port)} ${vs.scheduler}`;
  const src = parseIP(p.src);
  const dst = parseIP(p.dst);
  const choice: Choice = choose(vs, { source: BigInt(src?.value ?? 0), sourcePort: p.sport, destination: BigInt(dst?.value ?? 0), ipv6: vs.family === 'ipv6' });
  const persistent = vs.flags & 0x1 ? vs.timeout : null;
  switch (choice.kind) {
    case 'none':
      // ip_vs_leave: ICMP port unreachable for TCP and UDP alike ("the TCP RST packet cannot be sent"), then NF_DROP.
      return [{ kind: 'drop', label: `${head} -> (no real server)`, reason: 'no destination: ICMP port unreachable, the packet dropped' }];
    case 'unsupported':
      return [{ kind: 'unsupported', label: head, reason: choice.reason }];
    case 'fixed':
      return [{ kind: 'dnat', label: `${head} -> ${hostPort(choice.server.address, choice.server.port)}`, to: choice.server, numerator: 1, denominator: 1, persistent }];
    case 'shares':
      return choice.shares.map((s) => ({ kind: 'dnat', label: `${head} -> ${hostPort(s.server.address, s.server.port)}`, to: s.server, numerator: s.numerator, denominator: s.denominator, persistent }));
    default: {
      const never: never = choice;
      return never;
    }
  }
}
