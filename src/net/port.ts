// Ports and port ranges as iptables, ipset and ipvsadm write them: `80`, `1000:2000` (matches),
// `1000-2000` (NAT targets, ipset, --to-ports), with iptables' open ends `5:` (to 65535) and `:100`
// (from 0) in matches.

/** `[from, to]`, inclusive; a single port is `[p, p]`. */
export type PortRange = readonly [number, number];

export const MAX_PORT = 65535;

/** Service names iptables resolves through /etc/services (getservbyname): the ones seen in real dumps. */
export const SERVICE_PORTS: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
  http: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  submission: 587,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
};

const DECIMAL = /^[0-9]+$/;

/** A decimal port 0-65535, or null. */
export function parsePort(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const n = Number(text);
  return n <= MAX_PORT ? n : null;
}

/** A decimal port or a service name (`ssh`), as iptables' xtables_parse_port reads one. */
export function parsePortOrService(text: string): number | null {
  return Object.hasOwn(SERVICE_PORTS, text) ? SERVICE_PORTS[text] : parsePort(text);
}

/**
 * `P` or `FROM{sep}TO` (FROM <= TO), each end read by `port`; with `openEnds` an empty FROM is 0 and
 * an empty TO is 65535, as iptables' match ranges allow (`:1024`, `1024:`).
 */
export function parsePortRange(text: string, sep: ':' | '-', port: (t: string) => number | null = parsePort, openEnds = false): PortRange | null {
  const i = text.indexOf(sep);
  if (i < 0) {
    const p = port(text);
    return p === null ? null : [p, p];
  }
  const from = openEnds && i === 0 ? 0 : port(text.slice(0, i));
  const to = openEnds && i === text.length - 1 ? MAX_PORT : port(text.slice(i + 1));
  if (from === null || to === null || from > to) return null;
  return [from, to];
}

/** `P` or `FROM{sep}TO`. */
export function formatPortRange(r: PortRange, sep: ':' | '-'): string {
  return r[0] === r[1] ? String(r[0]) : `${r[0]}${sep}${r[1]}`;
}

/** Whether the port lies in one of the ranges. */
export function inPortRanges(ranges: readonly PortRange[], port: number): boolean {
  for (let i = 0; i < ranges.length; i++) if (port >= ranges[i][0] && port <= ranges[i][1]) return true;
  return false;
}
