// What each conformance case marks as asserted, as checks on kpsim's IPVS artefacts. Each check
// mirrors one helper of kube-proxy's proxier_test.go (see golden/kube-proxy-ipvs/README.md):
// the exact IPVS table, checkIPVS counts and real servers, checkIPSet entries, checkIptables
// per-chain jump/--match-set lists (nat rules, then filter rules, of a chain name), the
// kube-ipvs0 addresses and the chain declarations.
import { parse } from 'yaml';
import { SET, SET_INFO, setName } from '../../src/compiler/ipvs/ipsets.js';
import { hostPort, type VirtualServer } from '../../src/ipvs/ir.js';
import type { CaseState } from './corpus.js';

export interface Check {
  readonly name: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

const rsStrings = (vs: VirtualServer) => vs.realServers.map((r) => hostPort(r.address, r.port));

function find(st: CaseState, address: string, port?: number, protocol?: string): VirtualServer | undefined {
  return st.compiled.ipvs.services.find((v) => v.address === address && (port === undefined || v.port === port) && (protocol === undefined || v.protocol === protocol));
}

function ipvsChecks(st: CaseState, doc: Record<string, any>): Check[] {
  const out: Check[] = [];
  const services = st.compiled.ipvs.services;
  if (doc.comparison === 'exact') {
    const norm = (list: any[]) =>
      list
        .map((v) => ({ address: v.address, port: v.port, protocol: v.protocol, scheduler: v.scheduler, flags: v.flags, timeout: v.timeout, realServers: v.realServers.map((r: any) => ({ address: r.address, port: r.port, weight: r.weight })) }))
        .sort((a, b) => (`${a.address}|${a.port}|${a.protocol}` < `${b.address}|${b.port}|${b.protocol}` ? -1 : 1));
    out.push({ name: 'ipvs: whole table', expected: norm(doc.virtualServers), actual: norm(services as any[]) });
  }
  const ta = doc.testAssertions;
  if (!ta || typeof ta !== 'object') return out;
  if (typeof ta.virtualServerCount === 'number') out.push({ name: 'ipvs: virtual server count', expected: ta.virtualServerCount, actual: services.length });
  if (Array.isArray(ta.virtualServers)) {
    for (const want of ta.virtualServers) {
      const vs = find(st, want.address, want.port, want.protocol);
      if (!vs) continue; // checkIPVS: no such virtual server, only the count is checked
      const rs: string[] = want['realServers (address:port, weight not checked)'] ?? [];
      const key = `${want.address}:${want.port}/${want.protocol}`;
      out.push({ name: `ipvs: ${key} real server count`, expected: rs.length, actual: vs.realServers.length });
      if (rs.length === 1) out.push({ name: `ipvs: ${key} real server`, expected: rs[0], actual: rsStrings(vs)[0] });
    }
  }
  if (ta.realServersInOrderByVirtualServerAddress) {
    for (const [addr, list] of Object.entries(ta.realServersInOrderByVirtualServerAddress as Record<string, string[]>)) {
      const vs = find(st, addr);
      out.push({ name: `ipvs: real servers of ${addr}`, expected: list, actual: vs ? rsStrings(vs) : null });
    }
  }
  if (ta.realServersOfTheOnlyVirtualServerInOrder) {
    out.push({ name: 'ipvs: real servers of the only virtual server', expected: ta.realServersOfTheOnlyVirtualServerInOrder, actual: services.length === 1 ? rsStrings(services[0]) : services.map(rsStrings) });
  }
  if (typeof ta.everyVirtualServerTimeout === 'number') {
    out.push({ name: 'ipvs: every timeout', expected: services.map(() => ta.everyVirtualServerTimeout), actual: services.map((v) => v.timeout) });
  }
  const addrs = ta['kube-ipvs0Addresses (ListBindAddress)'];
  if (Array.isArray(addrs)) out.push({ name: 'kube-ipvs0 addresses', expected: [...addrs].sort(), actual: [...st.compiled.dummyAddresses].sort() });
  if (ta.anyExternalIPVirtualServer) {
    const ext = new Set(st.cluster.services.flatMap((s) => s.externalIPs));
    const vs = services.find((v) => ext.has(v.address) && v.port === 80 && v.protocol === 'TCP');
    out.push({ name: 'ipvs: an externalIP virtual server', expected: ta.anyExternalIPVirtualServer.realServers, actual: vs ? rsStrings(vs) : null });
  }
  return out;
}

/** The fake proxier names its sets the IPv4 way even for IPv6; the real one uses KUBE-6-, cut to 31 characters. */
function realSetName(name: string, st: CaseState): string {
  const info = SET_INFO.find((i) => SET[i.key] === name);
  return info ? setName(info.key, st.family) : name;
}

function ipsetChecks(st: CaseState, doc: Record<string, any>): Check[] {
  const sets = doc.testAssertions?.sets as Record<string, string[]> | undefined;
  if (!sets) return [];
  return Object.entries(sets as Record<string, string[] | null>).map(([key, entries]) => {
    // `NAME (entry count only)`: the test reads the proxier's desired entry count.
    const countOnly = key.endsWith(' (entry count only)');
    const name = countOnly ? key.slice(0, -' (entry count only)'.length) : key;
    const set = st.compiled.ipsets.sets.find((s) => s.name === realSetName(name, st));
    const actual = set ? set.entries.map((e) => e.text).sort() : null;
    if (countOnly) return { name: `ipset ${name} entry count`, expected: entries, actual: actual?.length ?? null };
    return { name: `ipset ${name}`, expected: [...(entries ?? [])].map(String).sort(), actual };
  });
}

interface SavedRule {
  readonly line: string;
  readonly jump: string;
  readonly matchSet: string;
  readonly source: string;
}

/** getRules: every `-A CHAIN` line of the nat table, then of the filter table. */
function rulesOf(save: string, chain: string): SavedRule[] {
  const tables = new Map<string, string[]>();
  let cur = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) tables.set((cur = line.slice(1)), []);
    else if (line.startsWith(`-A ${chain} `)) tables.get(cur)?.push(line);
  }
  return [...(tables.get('nat') ?? []), ...(tables.get('filter') ?? [])].map((line) => ({
    line,
    jump: / -j (\S+)/.exec(line)?.[1] ?? '',
    matchSet: / --match-set (\S+)/.exec(line)?.[1] ?? '',
    source: / -s (\S+)/.exec(line)?.[1] ?? '',
  }));
}

function iptablesChecks(st: CaseState, doc: Record<string, any>): Check[] {
  const save = st.artefacts['iptables.save'];
  const out: Check[] = [];
  // Set names in IPv4 spelling, as the Go fake writes them (see realSetName).
  const fake = new Map(SET_INFO.map((i) => [setName(i.key, st.family), SET[i.key] as string]));
  for (const [chain, want] of Object.entries((doc.chains ?? {}) as Record<string, { jump: string; matchSet: string }[]>)) {
    const got = rulesOf(save, chain);
    out.push({
      name: `iptables ${chain}`,
      expected: want.map((r) => `${r.jump} ${r.matchSet}`),
      actual: got.map((r) => `${r.jump} ${fake.get(r.matchSet) ?? r.matchSet}`),
    });
  }
  const first = doc['firstRuleOfKUBE-SERVICES'];
  if (first) {
    const r = rulesOf(save, 'KUBE-SERVICES')[0];
    out.push({ name: 'iptables first KUBE-SERVICES rule', expected: `-s ${first.sourceAddress} -j ${first.jump}`, actual: r ? `-s ${r.source} -j ${r.jump}` : null });
  }
  const post = doc['KUBE-POSTROUTING'];
  if (post) {
    const masq = rulesOf(save, 'KUBE-POSTROUTING').filter((r) => r.jump === 'MASQUERADE' && !r.matchSet);
    out.push({ name: 'iptables KUBE-POSTROUTING has the MASQUERADE rule', expected: post.hasMasqueradeRule, actual: masq.length > 0 });
    out.push({ name: 'iptables MASQUERADE --random-fully', expected: post.masqueradeHasRandomFully, actual: masq.some((r) => r.line.includes('--random-fully')) });
  }
  return out;
}

/** The chain lines kube-proxy's restore input starts each table with. */
function chainDeclarations(restore: string): string {
  return restore
    .split('\n')
    .filter((l) => l.startsWith('*') || l.startsWith(':'))
    .map((l) => l + '\n')
    .join('');
}

export function checksOf(st: CaseState): Check[] {
  const out: Check[] = [];
  const ipvs = st.file('ipvs.yaml');
  if (ipvs) out.push(...ipvsChecks(st, parse(ipvs)));
  const ipsets = st.file('ipsets.yaml');
  if (ipsets) out.push(...ipsetChecks(st, parse(ipsets)));
  const ipt = st.file('iptables-expect.yaml');
  if (ipt) out.push(...iptablesChecks(st, parse(ipt)));
  const chains = st.file('iptables-chains.txt');
  if (chains) out.push({ name: 'iptables chain declarations', expected: chains, actual: chainDeclarations(st.compiled.restore) });
  return out;
}
