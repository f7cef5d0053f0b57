// Each service port as a short story: what kind of Service it looks like, where its traffic is
// captured, its traffic policies, affinity and source ranges, its endpoints with their exact
// shares, who is masqueraded, and what happens when there are no endpoints. Text for people,
// JSON (json.ts) for tools; both from the view alone.
import { fractionText, toDecimal, type Prob } from '../packetsim/fraction.js';
import { entryLabel, hostPort, type EntryOutcome, type NodeServices, type ServicePortView, type Split, type Where } from './view.js';

/** The dump file behind each source, for positions (`node.rules:12:1`); null where the node was compiled. */
export interface SourceNames {
  readonly iptables: string | null;
  readonly ipsets: string | null;
  readonly ipvs: string | null;
  readonly nftables: string | null;
}

export const NO_FILES: SourceNames = { iptables: null, ipsets: null, ipvs: null, nftables: null };

export function whereText(w: Where | null, files: SourceNames): string {
  if (!w) return '';
  const file = files[w.source];
  return file && w.span ? `${file}:${w.span.line}:${w.span.col}` : w.what;
}

/** Texts of shares already printed: a split's shares are shared by every port with the same split (shares.ts). */
const shareTexts = new WeakMap<Prob, string>();

export function shareText(p: Prob | null): string {
  if (!p) return 'by client hash';
  let t = shareTexts.get(p);
  if (t === undefined) shareTexts.set(p, (t = `${toDecimal(p).toFixed(10)}  ${exactText(p)}`));
  return t;
}

/** Longest exact fraction a text report prints; longer ones (long splits' later shares) are in --json. */
const EXACT_CHARS = 32;

/** The exact fraction, or where to find it when it is too long to read. */
export function exactText(p: Prob): string {
  const f = fractionText(p);
  return f.length <= EXACT_CHARS ? f : `(exact: ${f.length} digits, see --json)`;
}

/** What the port's entry points say about its Service type. */
export function looksLike(p: ServicePortView): string {
  const kinds = new Set(p.entries.map((e) => e.kind));
  const base = kinds.has('loadBalancerIP') || kinds.has('healthCheckNodePort') ? 'LoadBalancer' : kinds.has('nodePort') ? 'NodePort' : kinds.has('clusterIP') ? 'ClusterIP' : 'unknown';
  return kinds.has('externalIP') || kinds.has('external') ? `${base} with external IPs` : base;
}

function outcomeText(o: EntryOutcome): string {
  switch (o.kind) {
    case 'endpoints':
      return `${o.policy === 'Cluster' ? 'all endpoints (Cluster policy)' : "this node's endpoints (Local policy)"} via ${o.via}`;
    case 'chain':
      return `${o.chain}`;
    case 'verdict':
      return `${o.verdict}: ${o.why}`;
    case 'accept':
      return `ACCEPT: ${o.why}`;
    default: {
      const never: never = o;
      return never;
    }
  }
}

function splitText(s: Split, files: SourceNames): string[] {
  const out = [`  endpoints, ${s.policy} policy (${s.via}): ${s.endpoints.length}${s.scheduler ? `, chosen by ${s.scheduler} (a hash of the client)` : ''}`];
  const width = Math.max(0, ...s.endpoints.map((e) => hostPort(e.address, e.port).length));
  for (const e of s.endpoints) {
    out.push(`    ${hostPort(e.address, e.port).padEnd(width)}  ${shareText(e.share)}  ${e.via ?? ''}${e.at ? `  ${whereText(e.at, files)}` : ''}`.trimEnd());
  }
  if (s.fallThrough) out.push(`    (no endpoint)  ${shareText(s.fallThrough)}  falls through ${s.via}: the split does not add up`);
  return out;
}

/** What kube-proxy does when the port has no endpoints, as the node shows it or as it would write it. */
function withoutEndpoints(p: ServicePortView, mode: string): string {
  const verdicts = p.entries.filter((e) => e.outcome.kind === 'verdict');
  if (verdicts.length > 0 && p.splits.every((s) => s.endpoints.length === 0)) {
    return `no usable endpoints now: ${verdicts.map((e) => `${entryLabel(e)} ${e.outcome.kind === 'verdict' ? e.outcome.verdict : ''}`).join('; ')}`;
  }
  if (mode === 'ipvs') return 'without endpoints: the virtual servers stay, with no real server, and IPVS refuses new connections';
  if (mode === 'nftables') {
    const local = p.externalPolicy === 'Local' ? '; external traffic gets `drop` instead on a node with no local endpoint' : '';
    return `without endpoints: kube-proxy's addresses go to no-endpoint-services / no-endpoint-nodeports with \`goto reject-chain\` (connection refused)${local}`;
  }
  const local = p.externalPolicy === 'Local' ? '; external traffic is DROPped on a node with no local endpoint' : '';
  return `without endpoints: kube-proxy REJECTs new connections in the filter table (connection refused)${local}`;
}

export function portStory(p: ServicePortView, mode: string, files: SourceNames): string {
  const out: string[] = [];
  const name = p.name ?? `(unknown name${p.hash ? `: hash ${p.hash}` : ''}; give --objects to recover it)`;
  out.push(`${name}  ${p.protocol ?? '?'}  ${looksLike(p)}${p.nameFrom === 'objects' ? '  (named from the objects)' : ''}`);
  for (const e of p.entries) out.push(`  ${entryLabel(e)} -> ${outcomeText(e.outcome)}  ${whereText(e.at, files)}`.trimEnd());
  const policies: string[] = [];
  if (p.internalPolicy) policies.push(`internal ${p.internalPolicy}`);
  if (p.externalPolicy) policies.push(`external ${p.externalPolicy}`);
  if (policies.length) out.push(`  traffic policy: ${policies.join(', ')}`);
  if (p.affinitySeconds !== null) out.push(`  session affinity: ClientIP for ${p.affinitySeconds} s (a client's later connections go to its first endpoint)`);
  if (p.sourceRanges.length) out.push(`  source ranges: ${p.sourceRanges.join(', ')}`);
  for (const s of p.splits) out.push(...splitText(s, files));
  for (const n of p.notes) out.push(`  ${n}`);
  out.push(`  ${withoutEndpoints(p, mode)}`);
  return out.join('\n');
}

export function nodeStory(v: NodeServices, files: SourceNames): string {
  const parts = v.ports.map((p) => portStory(p, v.mode, files));
  const head = `${v.ports.length} service port${v.ports.length === 1 ? '' : 's'} (${v.mode} mode)`;
  const orphans = v.orphans.length ? `\n${v.orphans.length} per-service chain${v.orphans.length === 1 ? '' : 's'} of no known service port (stale? give --objects): ${v.orphans.map((o) => o.id.split(' ')[1]).join(', ')}` : '';
  return `${head}\n\n${parts.join('\n\n')}${orphans}\n`;
}
