// The trace page's data (src/report/page-data.ts) and the page around it (html.ts), without a
// browser: each outcome's route through the hooks as the kernel takes it, the listing holding the
// reached chains only (every rule of each, at its line), the fork tails and ends as the text report
// prints them, and a page whose rules hold `</script>` still parses back to the same data.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { explainer, worldFacts } from '../../src/packetsim/explain.js';
import { ONE } from '../../src/packetsim/fraction.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { tracePacket, type PacketSpec } from '../../src/packetsim/trace.js';
import { renderHtml } from '../../src/report/html.js';
import { FIELD_NAMES, type TraceReport } from '../../src/report/model.js';
import { listedRule, PAGE_DATA_VERSION, reachedChains, routeOf, traceData, type PageData, type SegmentData } from '../../src/report/page-data.js';
import { buildReport } from '../../src/report/tree.js';

function traced(text: string, spec: PacketSpec) {
  const sink = new DiagnosticSink();
  const n = nodeFromDumps({ iptables: [{ family: 'ipv4', file: 'node.rules', text }], interfaces: simpleInterfaces(['192.168.0.2']) }, sink);
  expect(sink.errors).toEqual([]);
  const { sim } = prepareNode(n!, 'ipv4');
  const r = tracePacket(sim.rs, sim.env, spec, { explain: true });
  const ex = explainer(n!, 'ipv4');
  const report = buildReport({ input: r, traces: [{ prob: ONE, world: r.walks[0].ctx.world, result: r }], outcomes: r.outcomes, verbose: true }, ex, (w) => worldFacts(w, 'ipv4'));
  return { report, rs: sim.rs, ex };
}

const hooks = (r: TraceReport, n = 1) => routeOf(r, n).map((h) => (h.tables.length ? `${h.hook}(${h.tables.join(',')})` : h.hook));

const NAT = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n';
const FILTER = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n';
const SVC = [
  ':KUBE-SERVICES - [0:0]',
  ':KUBE-SVC-A - [0:0]',
  ':KUBE-SEP-A1 - [0:0]',
  ':KUBE-SEP-A2 - [0:0]',
  ':KUBE-SVC-UNUSED - [0:0]',
  '-A PREROUTING -j KUBE-SERVICES',
  '-A OUTPUT -j KUBE-SERVICES',
  '-A KUBE-SERVICES -d 10.96.0.99/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-UNUSED',
  '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "</script><b>x" -m tcp --dport 80 -j KUBE-SVC-A',
  '-A KUBE-SVC-A -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A1',
  '-A KUBE-SVC-A -j KUBE-SEP-A2',
  '-A KUBE-SEP-A1 -p tcp -m tcp -j DNAT --to-destination 10.244.0.1:8080',
  '-A KUBE-SEP-A2 -p tcp -m tcp -j DNAT --to-destination 10.244.0.2:8080',
  '-A KUBE-SVC-UNUSED -j KUBE-SEP-A1',
  '-A POSTROUTING -j MASQUERADE',
  'COMMIT',
  '',
].join('\n');
const TO_SVC: PacketSpec = { protocol: 'tcp', sourceIP: '10.1.2.3', destIP: '10.96.0.10', destPort: 80 };

describe('the trace page data', () => {
  it('routes a forwarded packet PREROUTING -> routing decision -> FORWARD -> POSTROUTING, with the tables it met', () => {
    const { report } = traced(`${NAT}${SVC}${FILTER}-A FORWARD -j ACCEPT\nCOMMIT\n`, TO_SVC);
    expect(hooks(report, 1)).toEqual(['PREROUTING(nat)', 'routing', 'FORWARD(filter)', 'POSTROUTING(nat)']);
    expect(hooks(report, 2)).toEqual(hooks(report, 1));
  });

  it('fills in the hooks no table stood in: a packet for this node ends in INPUT; a dropped one where it was dropped', () => {
    const local = traced(`${FILTER}COMMIT\n`, { protocol: 'tcp', sourceIP: '10.1.2.3', destIP: '192.168.0.2', destPort: 22 });
    expect(local.report.outcomes[0].delivery).toBe('local');
    // PREROUTING has no table here; filter INPUT is an empty built-in chain, whose policy accepts: still named.
    expect(hooks(local.report)).toEqual(['PREROUTING', 'routing', 'INPUT(filter)']);
    const dropped = traced(`${FILTER}-A FORWARD -j DROP\nCOMMIT\n`, { protocol: 'tcp', sourceIP: '10.1.2.3', destIP: '10.9.9.9', destPort: 22 });
    expect(dropped.report.outcomes[0].verdict).toBe('DROP');
    expect(hooks(dropped.report)).toEqual(['PREROUTING', 'routing', 'FORWARD(filter)']);
  });

  it('starts a packet made on this node in OUTPUT; one to its own address comes back in through PREROUTING and INPUT', () => {
    const out = traced(`${NAT}${SVC}`, { ...TO_SVC, sourceIP: '192.168.0.2' });
    expect(out.report.origin).toBe('local');
    expect(hooks(out.report)).toEqual(['OUTPUT(nat)', 'POSTROUTING(nat)']);
    const self = traced(`${FILTER}COMMIT\n`, { protocol: 'tcp', sourceIP: '192.168.0.2', destIP: '192.168.0.2', destPort: 22 });
    expect(self.report.outcomes[0].delivery).toBe('local');
    expect(hooks(self.report)).toEqual(['OUTPUT(filter)', 'routing', 'POSTROUTING', 'PREROUTING', 'INPUT(filter)']);
  });

  it('embeds the reached chains only, each whole with its lines, in the order the tree reaches them', () => {
    const { report, rs, ex } = traced(`${NAT}${SVC}`, TO_SVC);
    const listings = reachedChains([report], rs, ex);
    expect(listings.map((l) => [l.id, l.kind])).toEqual([['4', 'iptables']]);
    const listing = listings[0];
    expect(listing.file).toBe('node.rules');
    expect(listing.chains.map((c) => c.chain)).toEqual(['PREROUTING', 'KUBE-SERVICES', 'KUBE-SVC-A', 'KUBE-SEP-A1', 'POSTROUTING', 'KUBE-SEP-A2']);
    const services = listing.chains[1];
    const lines = `${NAT}${SVC}`.split('\n');
    expect(services.declaration).toEqual({ line: 6, text: ':KUBE-SERVICES - [0:0]' });
    expect(lines[5]).toBe(':KUBE-SERVICES - [0:0]');
    // Every rule of the chain, the one the packet never tried too, at its line in the file.
    expect(services.rules).toBe(2);
    for (let k = 1; k <= services.rules; k++) {
      const r = listedRule(listing, services, k);
      expect(lines[r.line! - 1]).toBe(r.text);
    }
    expect(listing.texts).toHaveLength(listing.chains.reduce((n, c) => n + c.rules, 0));
  });

  it('ends the walks after a fork\'s tail, as the text report does; every outcome has a place in the tree', () => {
    const { report } = traced(`${NAT}${SVC}`, TO_SVC);
    const t = traceData(report, 'trace-1');
    const fork = t.tree.fork!;
    expect(fork.branches.map((b) => b.share?.exact)).toEqual(['1/2', '1/2']);
    expect(fork.tail.map((s) => s.text)).toContain('-A POSTROUTING -j MASQUERADE');
    expect(fork.tailEnds).toEqual([1, 2]);
    // Branches end in the tail, not before it.
    const ends = (s: SegmentData): number[] => [...s.ends, ...(s.fork?.branches.flatMap((b) => ends(b.segment)) ?? [])];
    expect(fork.branches.flatMap((b) => ends(b.segment))).toEqual([]);
    expect(t.outcomes.map((o) => o.words)).toEqual(['ACCEPT, forwarded', 'ACCEPT, forwarded']);
  });

  it('a page whose rules hold </script> keeps its script whole and its data as written', () => {
    const { report, rs, ex } = traced(`${NAT}${SVC}`, TO_SVC);
    const data: PageData = { version: PAGE_DATA_VERSION, command: 'kpsim trace --rules node.rules </script>', mode: 'iptables', traces: [traceData(report, 'trace-1')], listings: reachedChains([report], rs, ex), fieldNames: FIELD_NAMES };
    const html = renderHtml(data, ['text </script> report']);
    // One closing tag per script element (the data, the listing's texts, the script), none from the data.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    const json = /<script type="application\/json" id="kpsim-data">([^]*?)<\/script>/.exec(html)![1];
    // The listing's texts apart, packed as the page unpacks them (gzip, base64; a line per rule).
    const packed = /<script type="application\/octet-stream" data-encoding="gzip base64" id="kpsim-listing-4">([^]*?)<\/script>/.exec(html)![1];
    const texts = gunzipSync(Buffer.from(packed, 'base64')).toString('utf8').split('\n');
    const read = JSON.parse(json) as PageData;
    expect({ ...read, listings: read.listings.map((l) => ({ ...l, texts })) }).toEqual(JSON.parse(JSON.stringify(data)));
    expect(texts.join('\n')).toContain('"</script><b>x"');
    expect(html).toContain('kpsim trace --rules node.rules &lt;/script&gt;');
    // Self-contained: no URL to load anything from.
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"`);
  });
});
