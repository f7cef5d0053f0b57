// One thing on the node explained: a chain (whose is it, why it exists, what each rule does), a
// rule (by its line in the dump or `table:chain:N`), a set or set element, a virtual server or a
// destination (`10.96.0.10:53`), or a service port by name. The answer names the service port it
// belongs to, from comments or from the objects' hashes, and tells that port's story.
import { SET_INFO, setName } from '../compiler/ipvs/ipsets.js';
import type { Family, Rule } from '../iptables/ir.js';
import type { Node } from '../node/node.js';
import type { NameBook } from './names.js';
import { commentOf, serviceChainOf } from './rule-facts.js';
import { ruleSentence } from './sentences.js';
import { STATIC_CHAINS, STATIC_NFT_OBJECTS } from './static-chains.js';
import { KUBE_PROXY_TABLE } from './nftables-view.js';
import { nftExprText, nftFamilyOf, nftRuleSentence, nftServiceChainOf, type NftChainKind } from './nft-facts.js';
import type { NftStateTable } from '../nftables/state.js';
import type { Rule as NftRule } from '../nftables/ir.js';
import { whereText, type SourceNames } from './story.js';
import type { NodeServices, ServicePortView } from './view.js';

export interface ItemExplanation {
  readonly kind: 'chain' | 'rule' | 'set' | 'set element' | 'destination' | 'service port';
  /** The item and what it is, one line. */
  readonly title: string;
  readonly lines: readonly string[];
  /** The service ports it belongs to (their stories follow). */
  readonly ports: readonly ServicePortView[];
}

/** What a per-service chain kind is for. */
const SERVICE_CHAIN_ROLE: Readonly<Record<string, string>> = {
  SVC: 'the Cluster-policy endpoint split (all ready endpoints)',
  SVL: "the Local-policy endpoint split (this node's endpoints only)",
  EXT: 'the external-traffic chain (NodePort, external and load-balancer IPs): masquerading and the external traffic policy',
  FW: 'the load-balancer source-range check (loadBalancerSourceRanges)',
  SEP: 'an endpoint chain: hairpin masquerade and the DNAT to the endpoint',
  XLB: "the external-traffic chain of a Local external policy as kube-proxy before 1.24 wrote it: the pod and node short-circuits, then this node's endpoint split",
};

/** What a per-service chain of kube-proxy's nftables table is for. */
const NFT_CHAIN_ROLE: Readonly<Record<NftChainKind, string>> = {
  service: 'the Cluster-policy endpoint split (all ready endpoints)',
  local: "the Local-policy endpoint split (this node's endpoints only)",
  external: 'the external-traffic chain (NodePort, external and load-balancer IPs): masquerading and the external traffic policy',
  firewall: 'the load-balancer source-range check (loadBalancerSourceRanges), before DNAT',
  endpoint: 'an endpoint chain: hairpin masquerade, the affinity record, and the DNAT to the endpoint',
};

interface RuleAt {
  readonly table: string;
  readonly chain: string;
  readonly index: number;
  readonly rule: Rule;
}

function findRule(node: Node, family: Family, test: (table: string, chain: string, index: number, r: Rule) => boolean): RuleAt | null {
  for (const [table, chains] of node.netfilter.get(family)?.tables ?? []) {
    for (const [chain, ch] of chains) {
      for (let i = 0; i < ch.rules.length; i++) if (test(table, chain, i, ch.rules[i])) return { table, chain, index: i, rule: ch.rules[i] };
    }
  }
  return null;
}

function portsWithPiece(v: NodeServices, id: string): ServicePortView[] {
  return v.ports.filter((p) => p.pieces.some((x) => x.id === id));
}

function portName(p: ServicePortView): string {
  return p.name ?? `the unnamed service port with hash ${p.hash ?? '?'}`;
}

function chainExplanation(v: NodeServices, node: Node, family: Family, name: string, names: NameBook | null, files: SourceNames): ItemExplanation | null {
  const tables = [...(node.netfilter.get(family)?.tables ?? [])].filter(([, chains]) => chains.has(name));
  const sc = serviceChainOf(name);
  if (tables.length === 0) {
    if (!sc) return null;
    const known = sc.kind === 'SEP' ? names?.byEndpointChain.get(name) : names?.byHash.get(sc.hash);
    const whose = known ? `the objects say it would belong to ${known.name}${'endpoint' in known ? ` (endpoint ${known.endpoint})` : ''}` : names ? 'no object hashes to it' : 'give --objects to find whose it would be';
    return { kind: 'chain', title: `${name}: not on this node; ${SERVICE_CHAIN_ROLE[sc.kind]}; ${whose}`, lines: [], ports: [] };
  }
  const lines: string[] = [];
  const ports: ServicePortView[] = [];
  for (const [table, chains] of tables) {
    const ch = chains.get(name)!;
    const owners = portsWithPiece(v, `${table} ${name}`);
    ports.push(...owners);
    let role: string;
    if (sc) {
      const how = owners.length ? `of ${owners.map(portName).join(', ')}${owners.some((o) => o.nameFrom === 'objects') ? ' (named by recomputing kube-proxy\'s hashes from the objects)' : ''}` : 'of no known service port: nothing jumps to it and neither its comments nor the objects name it (stale?)';
      const fromObjects = !owners.length && names ? (sc.kind === 'SEP' ? names.byEndpointChain.get(name) : names.byHash.get(sc.hash)) : undefined;
      role = `${SERVICE_CHAIN_ROLE[sc.kind]} ${fromObjects ? `of ${fromObjects.name} (from the objects), which nothing jumps to` : how}`;
    } else role = STATIC_CHAINS[`${table} ${name}`] ?? (ch.policy !== '-' ? `a built-in chain (policy ${ch.policy})` : 'a chain kpsim knows nothing about (another component\'s?)');
    lines.push(`${table} ${name}${ch.span ? ` (${whereText({ source: 'iptables', span: ch.span, what: '' }, files)})` : ''}: ${role}`);
    ch.rules.forEach((r, i) => lines.push(`  ${i + 1}. ${ruleSentence(r)}${r.span ? `  ${whereText({ source: 'iptables', span: r.span, what: '' }, files)}` : ''}`));
    if (ch.rules.length === 0) lines.push('  (no rules)');
  }
  return { kind: 'chain', title: `${name}`, lines, ports };
}

function ruleExplanation(v: NodeServices, at: RuleAt, files: SourceNames): ItemExplanation {
  const owners = portsWithPiece(v, `${at.table} ${at.chain}`);
  const entryOwners = v.ports.filter((p) => p.entries.some((e) => e.at.span !== null && e.at.span === at.rule.span));
  const ports = [...new Set([...owners, ...entryOwners])];
  const where = at.rule.span ? ` (${whereText({ source: 'iptables', span: at.rule.span, what: '' }, files)})` : '';
  const lines = [ruleSentence(at.rule)];
  if (ports.length) lines.push(`belongs to ${ports.map(portName).join(', ')}${commentOf(at.rule) ? '' : ' (the rule has no comment: found by its chain and destination)'}`);
  else if (STATIC_CHAINS[`${at.table} ${at.chain}`]) lines.push(`part of ${at.chain}: ${STATIC_CHAINS[`${at.table} ${at.chain}`]}`);
  return { kind: 'rule', title: `${at.table} ${at.chain} rule ${at.index + 1}${where}`, lines, ports };
}

function setExplanation(v: NodeServices, node: Node, family: Family, set: string, entry: string | null): ItemExplanation | null {
  const s = node.ipsets?.sets.find((x) => x.name === set);
  if (!s) return null;
  const info = SET_INFO.find((i) => setName(i.key, family) === set || setName(i.key, family === 'ipv4' ? 'ipv6' : 'ipv4') === set);
  const what = info ? `kube-proxy's set: ${info.comment}` : 'a set kpsim knows nothing about';
  if (entry === null) return { kind: 'set', title: `set ${set} (${s.type}, ${s.entries.length} entries): ${what}`, lines: [], ports: [] };
  const present = s.entries.some((e) => e.text === entry);
  const ports = portsWithPiece(v, `set ${set} ${entry}`);
  return {
    kind: 'set element',
    title: `${set} ${entry}: ${present ? 'in the set' : 'NOT in the set'}; ${what}`,
    lines: ports.length ? [`belongs to ${ports.map(portName).join(', ')}`] : present ? ['belongs to no known service port (stale?)'] : [],
    ports,
  };
}

/** `10.96.0.10:53`, `[fd00::10]:53`, `TCP 10.96.0.10:53`, `10.96.0.10:53/udp`. */
function parseDestination(item: string): { protocol: string | null; address: string; port: number } | null {
  const m = /^(?:(tcp|udp|sctp)\s+)?(?:\[([^\]]+)\]|([0-9.]+)):(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(item.trim());
  if (!m) return null;
  return { protocol: (m[1] ?? m[5] ?? null)?.toUpperCase() ?? null, address: m[2] ?? m[3], port: Number(m[4]) };
}

/** The nftables tables of the family a packet meets: kube-proxy's first. */
function nftTables(node: Node, family: Family): NftStateTable[] {
  const fams = family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
  const own = `${nftFamilyOf(family)} ${KUBE_PROXY_TABLE}`;
  return [...(node.nftables?.tables.values() ?? [])].filter((t) => fams.includes(t.family)).sort((a, b) => Number(`${b.family} ${b.name}` === own) - Number(`${a.family} ${a.name}` === own));
}

function nftWhere(span: NftRule['span'], files: SourceNames): string {
  return span ? `  ${whereText({ source: 'nftables', span, what: '' }, files)}` : '';
}

/** A chain of the node's nftables tables: whose it is, why it exists, each rule in words. */
function nftChainExplanation(v: NodeServices, node: Node, family: Family, name: string, names: NameBook | null, files: SourceNames): ItemExplanation | null {
  const t = nftTables(node, family).find((x) => x.chains.has(name));
  const sc = nftServiceChainOf(name);
  if (!t) {
    if (!sc) return null;
    const known = names?.nftBases().get(sc.base);
    const whose = known ? `the objects say it would belong to ${known.name}${known.endpoint ? ` (endpoint ${known.endpoint})` : ''}` : `its name says ${sc.readable}`;
    return { kind: 'chain', title: `${name}: not on this node; ${NFT_CHAIN_ROLE[sc.kind]}; ${whose}`, lines: [], ports: [] };
  }
  const ch = t.chains.get(name)!;
  const kubeProxy = t.name === KUBE_PROXY_TABLE;
  const ports = kubeProxy ? portsWithPiece(v, `${KUBE_PROXY_TABLE} ${name}`) : [];
  let role: string;
  if (kubeProxy && sc) role = `${NFT_CHAIN_ROLE[sc.kind]} ${ports.length ? `of ${ports.map(portName).join(', ')}` : 'of no known service port (stale?)'}`;
  else if (kubeProxy && STATIC_NFT_OBJECTS[`chain ${name}`]) role = `kube-proxy's chain: ${STATIC_NFT_OBJECTS[`chain ${name}`]}`;
  else role = ch.hook ? `a base chain of table ${t.family} ${t.name} (${ch.hook.type}, hook ${ch.hook.hook}, priority ${ch.hook.priority.value}, policy ${ch.policy ?? 'accept'})` : `a chain of table ${t.family} ${t.name} kpsim knows nothing about (another component's?)`;
  const where = ch.span ? ` (${whereText({ source: 'nftables', span: ch.span, what: '' }, files)})` : '';
  const lines = [`${t.family} ${t.name} ${name}${where}: ${role}`];
  ch.rules.forEach((r, i) => lines.push(`  ${i + 1}. ${nftRuleSentence(r, family)}${nftWhere(r.span, files)}`));
  if (ch.rules.length === 0) lines.push('  (no rules)');
  return { kind: 'chain', title: name, lines, ports };
}

/** The nftables rule at a line of the dump. */
function nftRuleExplanation(v: NodeServices, node: Node, family: Family, line: number, files: SourceNames): ItemExplanation | null {
  for (const t of nftTables(node, family)) {
    for (const ch of t.chains.values()) {
      const i = ch.rules.findIndex((r) => r.span?.line === line);
      if (i < 0) continue;
      const r = ch.rules[i];
      const ports = t.name === KUBE_PROXY_TABLE ? portsWithPiece(v, `${KUBE_PROXY_TABLE} ${ch.name}`) : [];
      const lines = [nftRuleSentence(r, family)];
      if (ports.length) lines.push(`belongs to ${ports.map(portName).join(', ')}`);
      else if (STATIC_NFT_OBJECTS[`chain ${ch.name}`]) lines.push(`part of ${ch.name}: ${STATIC_NFT_OBJECTS[`chain ${ch.name}`]}`);
      return { kind: 'rule', title: `${t.family} ${t.name} ${ch.name} rule ${i + 1}${r.span ? ` (${whereText({ source: 'nftables', span: r.span, what: '' }, files)})` : ''}`, lines, ports };
    }
  }
  return null;
}

/** A set or map of kube-proxy's table, or one element (`service-ips 10.96.0.10 . tcp . 80`). */
function nftSetExplanation(v: NodeServices, node: Node, family: Family, text: string): ItemExplanation | null {
  const t = nftTables(node, family).find((x) => x.name === KUBE_PROXY_TABLE);
  const space = text.indexOf(' ');
  const name = space < 0 ? text : text.slice(0, space);
  const s = t?.sets.get(name);
  if (!s) return null;
  const kind = s.map ? 'map' : 'set';
  const what = STATIC_NFT_OBJECTS[`${kind} ${name}`] ?? (name.startsWith('affinity-') ? "an endpoint's session-affinity set: the clients it served recently" : 'a set kpsim knows nothing about');
  if (space < 0) return { kind: 'set', title: `${kind} ${name} (${s.elements.length} element${s.elements.length === 1 ? '' : 's'}): ${what}`, lines: [], ports: v.ports.filter((p) => p.pieces.some((x) => x.id === `@${name}`)) };
  const key = text.slice(space + 1).trim().split(/\s+\.\s+/).join(' . ');
  const el = s.elements.find((e) => nftExprText(e.key, family) === key);
  const ports = portsWithPiece(v, `@${name} ${key}`);
  return {
    kind: 'set element',
    title: `${name} ${key}: ${el ? `in the ${kind}${el.data ? ` (${nftExprText(el.data, family)})` : ''}` : `NOT in the ${kind}`}; ${what}`,
    lines: ports.length ? [`belongs to ${ports.map(portName).join(', ')}`] : el ? ['belongs to no known service port (stale?)'] : [],
    ports,
  };
}

/** Explains one item, or null when nothing on the node (or in the objects) matches it. */
export function explainItem(v: NodeServices, node: Node, family: Family, item: string, names: NameBook | null, files: SourceNames): ItemExplanation | null {
  const text = item.trim();
  // A rule: its line in the dump (`42`, `node.rules:42`), or `table:chain:N` (`nat:KUBE-SERVICES:rule:3` as trace prints it).
  const line = /^(?:(.+):)?(\d+)$/.exec(text);
  if (line && files.nftables !== null && (line[1] === undefined || line[1] === files.nftables)) return nftRuleExplanation(v, node, family, Number(line[2]), files);
  if (line && (line[1] === undefined || line[1] === files.iptables)) {
    const at = findRule(node, family, (_t, _c, _i, r) => r.span?.line === Number(line[2]));
    return at ? ruleExplanation(v, at, files) : null;
  }
  const pos = /^(raw|mangle|nat|filter|security):([^:]+):(?:rule:)?(\d+)$/.exec(text);
  if (pos) {
    const at = findRule(node, family, (t, c, i) => t === pos[1] && c === pos[2] && i === Number(pos[3]) - 1);
    return at ? ruleExplanation(v, at, files) : null;
  }
  const setEntry = /^(\S+)[\s](\S+)$/.exec(text);
  if (setEntry && node.ipsets?.sets.some((s) => s.name === setEntry[1])) return setExplanation(v, node, family, setEntry[1], setEntry[2]);
  if (node.ipsets?.sets.some((s) => s.name === text)) return setExplanation(v, node, family, text, null);
  const nftSet = node.nftables ? nftSetExplanation(v, node, family, text) : null;
  if (nftSet) return nftSet;
  const dst = parseDestination(text);
  if (dst) {
    const ports = v.ports.filter((p) => p.entries.some((e) => e.port === dst.port && (e.address === dst.address || e.address === null) && (dst.protocol === null || e.protocol === dst.protocol)));
    return { kind: 'destination', title: `${text}: ${ports.length ? `captured for ${ports.map(portName).join(', ')}` : 'no service port captures it'}`, lines: [], ports };
  }
  if (text.includes('/')) {
    const ports = v.ports.filter((p) => p.name === text || p.name?.startsWith(`${text}:`));
    if (ports.length) return { kind: 'service port', title: text, lines: [], ports };
  }
  return (node.nftables ? nftChainExplanation(v, node, family, text, names, files) : null) ?? chainExplanation(v, node, family, text, names, files);
}
