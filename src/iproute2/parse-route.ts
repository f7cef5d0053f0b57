// parseIpRoute: `ip -j route`, `ip -6 -j route` (also `show table all`, and both appended to one
// file) -> routes. Fields as iproute2's print_route writes them (ip/iproute.c): type (absent for
// unicast), dst (`default`, a prefix, or an address meaning a host route), gateway, dev, prefsrc,
// metric, table (absent for main), scope, nexthops[] of a multipath route.
import type { Diagnostic } from '../diag/diagnostic.js';
import { parseAddress, parseCidr, type Family } from '../net/index.js';
import { ROUTE_TYPES, type IpRoute, type RouteType } from './ir.js';
import { Fields, JsonReport, readJsonLists } from './json.js';
import { readScope } from './parse-addr.js';

export interface IpRouteResult {
  readonly routes: IpRoute[];
  readonly diagnostics: Diagnostic[];
}

const familyOfAddress = (text: string): Family | null => (parseAddress(text, 'ipv4') !== null ? 'ipv4' : parseAddress(text, 'ipv6') !== null ? 'ipv6' : null);

/** The family of a destination (`10.0.0.0/8`, `fe80::1`), or null for `default` and what is not an address. */
function familyOfDst(dst: string): Family | null {
  if (dst === 'default') return null;
  const slash = dst.indexOf('/');
  return familyOfAddress(slash < 0 ? dst : dst.slice(0, slash));
}

export function parseIpRoute(text: string, file: string): IpRouteResult {
  const report = new JsonReport(file);
  const routes: IpRoute[] = [];
  const lists = readJsonLists(text, 'ip -j route', report) ?? [];
  for (const list of lists) {
    // A default route through a device alone says no family: the other routes of its list do
    // (one command's output holds one family).
    const families = list.map((o) => {
      const dst = new Fields(o, new JsonReport(file)).string('dst')?.value;
      return dst ? familyOfDst(dst) : null;
    });
    const listFamily = families.find((f) => f !== null) ?? null;
    for (const o of list) {
      const r = readRoute(new Fields(o, report), report, listFamily);
      if (r) routes.push(r);
    }
  }
  const other = [...new Set(routes.filter((r) => r.table !== 'main' && r.table !== 'local').map((r) => r.table))];
  if (other.length) {
    report.diagnostics.push({
      severity: 'warning',
      code: 'IPROUTE_OTHER_TABLE',
      message: `routes of table${other.length > 1 ? 's' : ''} ${other.join(', ')} are ignored: only policy rules (ip rule), which kpsim does not read, send packets there`,
      file,
      span: null,
    });
  }
  return { routes, diagnostics: report.diagnostics };
}

function readRoute(f: Fields, report: JsonReport, listFamily: Family | null): IpRoute | null {
  if (f.has('ifname') && !f.has('dst')) {
    report.error('IPROUTE_WRONG_FILE', 'this is an interface (`ip -j addr` or `bridge -j link` output), not a route: give it with --ip-addr or --bridge-links', f.node);
    return null;
  }
  const dst = f.string('dst', true);
  if (!dst) return null;
  const typeField = f.string('type');
  let type: RouteType = 'unicast';
  if (typeField) {
    if (!(ROUTE_TYPES as readonly string[]).includes(typeField.value)) {
      report.error('IPROUTE_BAD_VALUE', `route type "${typeField.value}": expected one of ${ROUTE_TYPES.join(', ')}`, typeField.node);
      return null;
    }
    type = typeField.value as RouteType;
  }
  let gateway = f.string('gateway');
  let dev = f.string('dev');
  const hops = f.objects('nexthops');
  if (hops.length) {
    // fib_select_multipath hashes the flow over the next hops; kpsim takes the first.
    const first = new Fields(hops[0], report);
    gateway ??= first.string('gateway');
    dev ??= first.string('dev');
    if (hops.length > 1) report.warning('IPROUTE_MULTIPATH', `a multipath route (${hops.length} next hops): kpsim sends every packet by the first`, f.node);
  }
  const prefsrc = f.string('prefsrc');
  let family = familyOfDst(dst.value);
  if (dst.value !== 'default' && family === null) {
    report.error('IPROUTE_BAD_VALUE', `"${dst.value}" is neither "default" nor an address or prefix`, dst.node);
    return null;
  }
  family ??= (gateway && familyOfAddress(gateway.value)) || (prefsrc && familyOfAddress(prefsrc.value)) || listFamily;
  if (family === null) {
    report.error('IPROUTE_FAMILY', 'a default route through a device alone, in a list with no other route: its family is unknown (give `ip -j route` and `ip -6 -j route` as separate files)', dst.node);
    return null;
  }
  const bits = family === 'ipv4' ? 32 : 128;
  const to = dst.value === 'default' ? 'default' : dst.value.includes('/') ? dst.value : `${dst.value}/${bits}`;
  if (to !== 'default' && parseCidr(to, family) === null) {
    report.error('IPROUTE_BAD_VALUE', `"${dst.value}" is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} prefix`, dst.node);
    return null;
  }
  for (const [what, v] of [['gateway', gateway], ['prefsrc', prefsrc]] as const) {
    if (v && familyOfAddress(v.value) === null) {
      report.error('IPROUTE_BAD_VALUE', `${what} "${v.value}" is not an address`, v.node);
      return null;
    }
  }
  const needsDev = type === 'unicast' || type === 'local' || type === 'broadcast' || type === 'anycast' || type === 'multicast';
  if (needsDev && !dev) {
    report.error('IPROUTE_MISSING_FIELD', `a ${type} route without "dev"`, f.node);
    return null;
  }
  const table = f.nameOrNumber('table');
  const metric = f.number('metric');
  return {
    family,
    to,
    type,
    dev: dev?.value ?? null,
    gateway: gateway?.value ?? null,
    src: prefsrc?.value ?? null,
    metric: metric?.value ?? 0,
    table: table ? String(table.value) : 'main',
    scope: readScope(f, report) ?? (type === 'local' ? 'host' : 'global'),
  };
}
