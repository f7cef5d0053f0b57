// parseBridgeLink: `bridge -j link` -> bridge ports: each entry is a port (ifname) of the bridge
// named by its master, with its STP state (bridge/link.c print_linkinfo).
import type { Diagnostic } from '../diag/diagnostic.js';
import type { BridgePort } from './ir.js';
import { Fields, JsonReport, readJsonList } from './json.js';

export interface BridgeLinkResult {
  readonly ports: BridgePort[];
  readonly diagnostics: Diagnostic[];
}

export function parseBridgeLink(text: string, file: string): BridgeLinkResult {
  const report = new JsonReport(file);
  const ports: BridgePort[] = [];
  for (const o of readJsonList(text, 'bridge -j link', report) ?? []) {
    const f = new Fields(o, report);
    if (!f.has('ifname') && f.has('dst')) {
      report.error('IPROUTE_WRONG_FILE', 'this is a route (`ip -j route` output), not a bridge port: give it with --ip-route', o);
      continue;
    }
    const name = f.string('ifname', true);
    const master = f.string('master', true);
    const state = f.string('state');
    if (name && master) ports.push({ name: name.value, bridge: master.value, state: state?.value ?? null });
  }
  return { ports, diagnostics: report.diagnostics };
}
