// What an IPVS node shows after kube-proxy's first sync, in the spelling of the tools a user runs
// there: `ipvsadm-save -n`, `ipset save`, `iptables-save` (host setup + restore applied to a
// fresh kernel, printed by the kernel-state model) and the kube-ipvs0 addresses.
import { applyRestore, emptyState, stateToRuleset } from '../../iptables/state.js';
import { parseIptablesSave, renderKernelRuleset } from '../../iptables-save/index.js';
import { renderIpsetSave } from '../../ipset/render.js';
import { renderIpvsadmSave } from '../../ipvs/render.js';
import { DUMMY_DEVICE, type IpvsCompiled } from './index.js';
import { renderJumpSetup } from './iptables.js';

export const ARTEFACT_FILES = ['ipvsadm.save', 'ipset.save', 'iptables.save', 'kube-ipvs0.addrs'] as const;
export type ArtefactFile = (typeof ARTEFACT_FILES)[number];

function parseOwn(text: string, what: string, c: IpvsCompiled, noflush: boolean) {
  const { ruleset, diagnostics } = parseIptablesSave(text, { file: what, family: c.settings.family, noflush });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (!ruleset || errors.length > 0) throw new Error(`kpsim produced ${what} text its reader rejects: ${errors.map((e) => `${e.span?.line}:${e.span?.col} ${e.message}`).join('; ')}`);
  return ruleset;
}

export function ipvsNodeRuleset(c: IpvsCompiled) {
  const state = emptyState(c.settings.family);
  applyRestore(state, parseOwn(renderJumpSetup(), 'IPVS host setup', c, false));
  applyRestore(state, parseOwn(c.restore, 'IPVS restore input', c, true));
  return stateToRuleset(state);
}

/** `ip -o addr show dev kube-ipvs0` reduced to what kube-proxy binds: one ADDRESS/32 (or /128) per line. */
export function renderDummyAddresses(c: IpvsCompiled): string {
  return c.dummyAddresses.map((a) => `${a}/${a.includes(':') ? 128 : 32}\n`).join('');
}

export function renderIpvsArtefacts(c: IpvsCompiled): Record<ArtefactFile, string> {
  return {
    'ipvsadm.save': renderIpvsadmSave(c.ipvs),
    'ipset.save': renderIpsetSave(c.ipsets),
    'iptables.save': renderKernelRuleset(ipvsNodeRuleset(c)),
    'kube-ipvs0.addrs': renderDummyAddresses(c),
  };
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

/** Everything on stdout, each artefact under a header line. */
export function renderIpvsReport(c: IpvsCompiled): string {
  const a = renderIpvsArtefacts(c);
  let s = renderNodeFacts(c);
  for (const f of ARTEFACT_FILES) s += `\n# ==> ${f} <==\n${a[f]}`;
  return s;
}
