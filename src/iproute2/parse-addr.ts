// parseIpAddr: `ip -j addr` (also `ip -j -d addr`, `ip -j -4 addr`) -> links with their addresses.
// Fields as iproute2's print_linkinfo / print_addrinfo write them (ip/ipaddress.c): ifindex,
// ifname, flags, master, linkinfo.info_kind, addr_info[] with family, local, prefixlen, scope,
// secondary, deprecated, tentative. Fields kpsim does not need are ignored; every wrong one is a
// diagnostic at its position.
import type { Diagnostic } from '../diag/diagnostic.js';
import { parseAddress, type Family } from '../net/index.js';
import type { AddressScope, IpAddr, IpLink } from './ir.js';
import { Fields, JsonReport, readJsonList, type JsonNode } from './json.js';
import { scopeOf } from './scope.js';

export interface IpAddrResult {
  readonly links: IpLink[];
  readonly diagnostics: Diagnostic[];
}

export function parseIpAddr(text: string, file: string): IpAddrResult {
  const report = new JsonReport(file);
  const links: IpLink[] = [];
  const list = readJsonList(text, 'ip -j addr', report);
  for (const o of list ?? []) {
    const f = new Fields(o, report);
    if (!f.has('ifname') && (f.has('dst') || f.has('gateway'))) {
      report.error('IPROUTE_WRONG_FILE', 'this is a route (`ip -j route` output), not an interface: give it with --ip-route', o);
      continue;
    }
    const name = f.string('ifname', true);
    const index = f.number('ifindex');
    const master = f.string('master');
    const info = f.node_('linkinfo');
    let kind: string | null = null;
    let slaveKind: string | null = null;
    if (info?.type === 'Object') {
      const li = new Fields(info, report);
      kind = li.string('info_kind')?.value ?? null;
      slaveKind = li.string('info_slave_kind')?.value ?? null;
    }
    const addrs: IpAddr[] = [];
    for (const a of f.objects('addr_info')) {
      const x = readAddr(new Fields(a, report), report);
      if (x) addrs.push(x);
    }
    if (name) links.push({ index: index?.value ?? links.length + 1, name: name.value, flags: f.strings('flags'), master: master?.value ?? null, kind, slaveKind, addrs });
  }
  return { links, diagnostics: report.diagnostics };
}

const FAMILIES: Readonly<Record<string, Family>> = { inet: 'ipv4', inet6: 'ipv6' };

function readAddr(f: Fields, report: JsonReport): IpAddr | null {
  const fam = f.string('family', true);
  const local = f.string('local', true);
  const len = f.number('prefixlen', true);
  if (!fam || !local || !len) return null;
  const family = FAMILIES[fam.value];
  // Other families (a `link` address of a CAN or MPLS device) do not route IP.
  if (!family) return null;
  if (parseAddress(local.value, family) === null) {
    report.error('IPROUTE_BAD_VALUE', `"${local.value}" is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`, local.node);
    return null;
  }
  const max = family === 'ipv4' ? 32 : 128;
  if (!Number.isInteger(len.value) || len.value < 0 || len.value > max) {
    report.error('IPROUTE_BAD_VALUE', `prefix length ${len.value} is out of range 0-${max}`, len.node);
    return null;
  }
  const scope = readScope(f, report) ?? 'global';
  return {
    family,
    cidr: `${local.value}/${len.value}`,
    scope,
    secondary: f.flag('secondary'),
    deprecated: f.flag('deprecated') || f.flag('tentative') || f.flag('dadfailed'),
  };
}

export function readScope(f: Fields, report: JsonReport): AddressScope | null {
  const s = f.nameOrNumber('scope');
  if (!s) return null;
  const scope = scopeOf(s.value);
  if (scope === null) report.error('IPROUTE_BAD_VALUE', `scope ${JSON.stringify(s.value)}: expected global, site, link, host or nowhere`, s.node as JsonNode);
  return scope;
}
