// kpsim's own golden cases (golden/kpsim) through the real kernel: every flow the judge's topology
// can send faithfully, compared with kpsim trace and with the case's expected output/masq.
import type { Compiled } from '../../src/compiler/index.js';
import { judgeCorpus, type GoldenFlow } from './judge-corpus.js';

/** Destinations (`ip:port`, or `*:nodePort`) of service ports with ClientIP session affinity. */
function affinityDestinations(compiled: Compiled): Set<string> {
  const out = new Set<string>();
  for (const p of compiled.plans) {
    if (p.affinitySeconds === null) continue;
    for (const ip of [p.clusterIP, ...p.externalIPs, ...p.loadBalancerVIPs]) out.add(`${ip}:${p.port.port}`);
    if (p.nodePort) out.add(`*:${p.nodePort}`);
  }
  return out;
}

judgeCorpus('golden/kpsim', 'kernel: kpsim golden cases, real packets against kpsim trace', (flow: GoldenFlow, compiled) => {
  // Flows that name their interface (local-traffic detection by BridgeInterface or
  // InterfaceNamePrefix) are sent: the judge names the node's pods-side interface after them
  // (one name per case) and sends pods-side sources from there, eth0 ones from the client side.
  // The judge sends several probes from one client and compares each with a fresh connection's
  // odds; ClientIP affinity pins every probe after the first to one endpoint.
  if (compiled) {
    const dst = affinityDestinations(compiled);
    if (dst.has(`${flow.destIP}:${flow.destPort}`) || dst.has(`*:${flow.destPort}`)) return 'ClientIP affinity pins repeated probes from one client';
  }
  return null;
});
