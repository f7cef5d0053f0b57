// The chains every sync writes whatever the services: KUBE-POSTROUTING, KUBE-MARK-MASQ,
// KUBE-FIREWALL (route_localnet guard), KUBE-FORWARD, and the KUBE-SERVICES tail into
// KUBE-NODEPORTS (syncProxyRules in pkg/proxy/iptables/proxier.go).
import type { ProxierSettings } from '../settings.js';
import { addRule, type RestoreData } from './restore.js';
import type { IptablesWords } from './spell-settings.js';

export const FILTER_CHAINS = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL'];
export const NAT_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];

export const NFACCT_INVALID = 'ct_state_invalid_dropped_pkts';
export const NFACCT_LOCALHOST_NODEPORTS = 'localhost_nps_accepted_pkts';

export function emitHead(out: RestoreData, s: ProxierSettings, w: IptablesWords): void {
  out.filter.chains.push(...FILTER_CHAINS);
  out.nat.chains.push(...NAT_CHAINS);
  const mark = w.mark;
  addRule(out.nat, 'KUBE-POSTROUTING', `-m mark ! --mark ${mark}/${mark} -j RETURN`);
  // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
  addRule(out.nat, 'KUBE-POSTROUTING', `-j MARK --xor-mark ${mark}`);
  addRule(out.nat, 'KUBE-POSTROUTING', `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${s.randomFully ? ' --random-fully' : ''}`);
  addRule(out.nat, 'KUBE-MARK-MASQ', `-j MARK --or-mark ${mark}`);
  if (s.family === 'ipv4' && s.localhostNodePorts) {
    // route_localnet opens 127.0.0.0/8 to the outside (issue 90259); this rule closes it again.
    out.filter.chains.push('KUBE-FIREWALL');
    addRule(
      out.filter,
      'KUBE-FIREWALL',
      '-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
  }
}

const NODEPORTS_COMMENT = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';

export function emitTail(out: RestoreData, s: ProxierSettings, w: IptablesWords): void {
  if (s.nodePortIPs === null) {
    // Localhost NodePorts never work on IPv6, and on IPv4 only with route_localnet.
    const notLocalhost = s.family === 'ipv6' ? ' ! -d ::1/128' : s.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8';
    addRule(out.nat, 'KUBE-SERVICES', `${NODEPORTS_COMMENT} -m addrtype --dst-type LOCAL${notLocalhost} -j KUBE-NODEPORTS`);
  } else {
    for (const ip of s.nodePortIPs) addRule(out.nat, 'KUBE-SERVICES', `${NODEPORTS_COMMENT} -d ${ip.text} -j KUBE-NODEPORTS`);
  }
  // Without nf_conntrack_tcp_be_liberal, INVALID packets would reset connections (issue 74839).
  if (!s.tcpBeLiberal) {
    addRule(out.filter, 'KUBE-FORWARD', `-m conntrack --ctstate INVALID${s.nfacct ? ` -m nfacct --nfacct-name ${NFACCT_INVALID}` : ''} -j DROP`);
  }
  const mark = w.mark;
  addRule(out.filter, 'KUBE-FORWARD', `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  addRule(out.filter, 'KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
}
