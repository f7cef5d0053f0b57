// The `ipvsadm-save -n` spelling (ipvsadm.c, print_service_entry with FMT_RULE): one `-A` line per
// virtual service, followed by one `-a` line per real server. The kernel lists services in hash
// order; kpsim prints them sorted by (address, port, protocol) and real servers by `ip:port`, the
// order kube-proxy's fake keeps, so the output is stable. The reader (parse.ts) takes it back.
import { hostPort, SERVICE_FLAGS, schedulerFlagNames, type ForwardMethod, type IpvsTable, type RealServer, type VirtualServer } from './ir.js';

const PROTOCOL_SWITCH = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' } as const;
const FORWARD_SWITCH: Readonly<Record<ForwardMethod, string>> = { masq: '-m', route: '-g', tunnel: '-i' };

export function serviceSwitch(vs: Pick<VirtualServer, 'protocol' | 'address' | 'port'>): string {
  return `${PROTOCOL_SWITCH[vs.protocol]} ${hostPort(vs.address, vs.port)}`;
}

export function renderService(vs: VirtualServer): string {
  let s = `-A ${serviceSwitch(vs)} -s ${vs.scheduler}`;
  if (vs.flags & SERVICE_FLAGS.persistent) {
    s += ` -p ${vs.timeout}`;
    const full = vs.family === 'ipv4' ? 32 : 128;
    if (vs.netmaskPrefix !== full) s += ` -M ${vs.family === 'ipv4' ? prefixToMask(vs.netmaskPrefix) : vs.netmaskPrefix}`;
  }
  if (vs.flags & SERVICE_FLAGS.onePacket) s += ' -o';
  const names = schedulerFlagNames(vs.scheduler);
  const bits = [SERVICE_FLAGS.sched1, SERVICE_FLAGS.sched2, SERVICE_FLAGS.sched3];
  const on = bits.flatMap((b, i) => (vs.flags & b ? [names[i]] : []));
  if (on.length > 0) s += ` -b ${on.join(',')}`;
  return s;
}

export function renderRealServer(vs: VirtualServer, rs: RealServer): string {
  let s = `-a ${serviceSwitch(vs)} -r ${hostPort(rs.address, rs.port)} ${FORWARD_SWITCH[rs.forward]} -w ${rs.weight}`;
  if (rs.upperThreshold) s += ` -x ${rs.upperThreshold}`;
  if (rs.lowerThreshold) s += ` -y ${rs.lowerThreshold}`;
  return s;
}

function prefixToMask(prefix: number): string {
  const v = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((sh) => (v >>> sh) & 0xff).join('.');
}

export function renderIpvsadmSave(table: IpvsTable): string {
  let s = '';
  for (const vs of table.services) {
    s += renderService(vs) + '\n';
    for (const rs of vs.realServers) s += renderRealServer(vs, rs) + '\n';
  }
  return s;
}
