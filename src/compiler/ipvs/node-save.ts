// What an IPVS node holds after kube-proxy's first sync, and what a user sees there beside the
// tables: the artefact files (`ipvsadm-save -n`, `ipset save`, `iptables-save`, the kube-ipvs0
// addresses; src/modes.ts renders them from the node value) and the node facts.
import { renderIpsetSave } from '../../ipset/render.js';
import { nodeInterfaces } from '../node-interfaces.js';
import { DUMMY_DEVICE, type IpvsCompiled } from './index.js';
import { renderJumpSetup } from './iptables.js';

export const ARTEFACT_FILES = ['ipvsadm.save', 'ipset.save', 'iptables.save', 'kube-ipvs0.addrs'] as const;
export type ArtefactFile = (typeof ARTEFACT_FILES)[number];

/**
 * The node kube-proxy leaves in IPVS mode, as the texts and tables the kernel was given: the IPVS
 * host setup and the restore input (--noflush), the ipsets (as `ipset save` text: the compile keeps
 * entries as text, and the reader gives them their dimensions), the virtual servers, the
 * interfaces, and the service addresses kube-proxy binds to kube-ipvs0.
 */
export function ipvsNodeArtefacts(c: IpvsCompiled) {
  const family = c.settings.family;
  return {
    iptables: [
      { family, file: 'IPVS host setup', text: renderJumpSetup() },
      { family, file: 'IPVS restore input', text: c.restore, noflush: true },
    ],
    ipsetsText: { file: 'compiled ipsets', text: renderIpsetSave(c.ipsets) },
    ipvs: c.ipvs,
    interfaces: nodeInterfaces(c.settings),
    /** Addresses kube-proxy binds to kube-ipvs0 (src/node/dummy-interface.ts adds those the node lacks). */
    dummy: { device: DUMMY_DEVICE, addresses: c.dummyAddresses },
  };
}

/** `ip -o addr show dev kube-ipvs0` reduced to what kube-proxy binds: one ADDRESS/32 (or /128) per line. */
export function renderDummyAddresses(c: IpvsCompiled): string {
  return c.dummyAddresses.map((a) => `${a}/${a.includes(':') ? 128 : 32}\n`).join('');
}

/** The node facts a user of IPVS mode needs beside the tables: scheduler, sysctls (strictARP), excludeCIDRs. */
export function renderNodeFacts(c: IpvsCompiled): string {
  const n = c.node;
  let s = `# scheduler ${n.scheduler}; strictARP ${n.strictARP}; ${DUMMY_DEVICE} holds ${c.dummyAddresses.length} address${c.dummyAddresses.length === 1 ? '' : 'es'}\n`;
  for (const x of n.sysctls) s += `# sysctl ${x.name}=${x.value}  (${x.why})\n`;
  if (n.excludeCIDRs.length > 0) s += `# excludeCIDRs ${n.excludeCIDRs.map((c) => c.text).join(',')}: virtual servers there are never deleted by kube-proxy\n`;
  if (n.timeouts) s += `# ipvsadm --set ${n.timeouts.tcp} ${n.timeouts.tcpFin} ${n.timeouts.udp}\n`;
  return s;
}
