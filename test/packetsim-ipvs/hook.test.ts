// The IPVS step in the simulator's hook programs: where it sits (after filter INPUT, before nat
// INPUT; after nat OUTPUT), what follows it (LOCAL_OUT again, POSTROUTING's masquerade), the
// scheduler's shares, and the state --flows carries (connections, persistence templates, rr).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileIpvsCluster } from '../../src/compiler/ipvs/index.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { emptyState } from '../../src/iptables/state.js';
import { parseIpvsadmSave } from '../../src/ipvs/parse.js';
import { loadCluster } from '../../src/model/load.js';
import { ipvsNode, modeNamed, type ModeRow } from '../../src/modes.js';
import { formatIp } from '../../src/net/index.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { tracePacket, type FlowSpec, type Outcome } from '../../src/packetsim/trace.js';

const VIP = '10.96.0.10';

/** The bundled example compiled in IPVS mode (node worker-1, 192.168.10.11), its web service's virtual server optionally replaced. */
function node(ipvsText: string | null = null, rotate = false) {
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: 'examples/cluster.yaml', text: readFileSync('examples/cluster.yaml', 'utf8') }], sink);
  const c = compileIpvsCluster(cluster, {}, sink);
  expect(sink.errors).toEqual([]);
  let table = c.ipvs;
  if (ipvsText !== null) {
    const parsed = parseIpvsadmSave(ipvsText, { file: 'ipvsadm.save' });
    expect(parsed.diagnostics).toEqual([]);
    table = { services: [...c.ipvs.services.filter((v) => !(v.address === VIP && v.port === 80)), ...parsed.table.services] };
  }
  const n = { ...ipvsNode(c), ipvs: table };
  const IPVS = modeNamed('ipvs') as ModeRow;
  return prepareNode(n, 'ipv4', { extensions: IPVS.extensions(n, 'ipv4', { rotate }) }).sim;
}

const where = (o: Outcome) => o.path.map((s) => (s.chain.extension ? s.rule!.action : `${s.chain.table}:${s.chain.name}`));
const dst = (o: Outcome) => `${formatIp(o.packet.dst, 'ipv4')}:${o.packet.dport}`;
const src = (o: Outcome) => formatIp(o.packet.src, 'ipv4');
const shares = (os: readonly Outcome[]) => Object.fromEntries(os.map((o) => [dst(o), fractionText(o.prob)]));
const pkt = (sourceIP: string, sourcePort = 40000): FlowSpec => ({ protocol: 'tcp', sourceIP, sourcePort, destIP: VIP, destPort: 80 });

const THREE = ['10.244.2.7:8080', '10.244.2.8:8080', '10.244.1.5:8080'];
const servers = (sched: string, weights: number[], extra = '') =>
  `-A -t ${VIP}:80 -s ${sched}${extra}\n` + THREE.map((s, i) => `-a -t ${VIP}:80 -r ${s} -m -w ${weights[i]}\n`).join('');

describe('IPVS hook placement', () => {
  it('a packet to a cluster IP: filter INPUT, then IPVS, then LOCAL_OUT and POSTROUTING (masquerade for an outside client)', () => {
    const { rs, env } = node();
    const r = tracePacket(rs, env, pkt('192.168.10.50'));
    expect(r.outcomes).toHaveLength(3);
    for (const o of r.outcomes) {
      const w = where(o);
      const ipvs = w.findIndex((x) => x.startsWith('ipvs:TCP 10.96.0.10:80 rr -> '));
      expect(ipvs).toBeGreaterThan(w.lastIndexOf('filter:INPUT'));
      expect(w.indexOf('filter:OUTPUT')).toBeGreaterThan(ipvs);
      expect(w.lastIndexOf('nat:KUBE-POSTROUTING')).toBeGreaterThan(w.indexOf('filter:OUTPUT'));
      expect(o.verdict).toBe('ACCEPT');
      expect(o.delivery).toBe('forward');
      // KUBE-SERVICES marked it (not from the cluster CIDR): KUBE-POSTROUTING masquerades.
      expect(o.masquerade).toBe(true);
      expect(src(o)).toBe('192.168.10.11');
    }
    expect(shares(r.outcomes)).toEqual({ '10.244.2.8:8080': '1/3', '10.244.2.7:8080': '1/3', '10.244.1.5:8080': '1/3' });
  });

  it('a pod to a cluster IP is not masqueraded, except hairpin to itself (KUBE-LOOP-BACK)', () => {
    const { rs, env } = node();
    const r = tracePacket(rs, env, pkt('10.244.1.5'));
    const bySrc = Object.fromEntries(r.outcomes.map((o) => [dst(o), src(o)]));
    expect(bySrc).toEqual({ '10.244.2.8:8080': '10.244.1.5', '10.244.2.7:8080': '10.244.1.5', '10.244.1.5:8080': '192.168.10.11' });
  });

  it('a packet from the node itself: nat OUTPUT, IPVS at LOCAL_OUT, then LOCAL_OUT again and POSTROUTING', () => {
    const { rs, env } = node();
    const r = tracePacket(rs, env, pkt('192.168.10.11'));
    expect(r.origin).toBe('local');
    for (const o of r.outcomes) {
      const w = where(o);
      const ipvs = w.findIndex((x) => x.startsWith('ipvs:'));
      expect(ipvs).toBeGreaterThan(w.indexOf('nat:OUTPUT'));
      expect(w.indexOf('filter:OUTPUT')).toBeGreaterThan(ipvs);
      expect(o.path[ipvs].chain.name).toBe('LOCAL_OUT');
      expect(o.verdict).toBe('ACCEPT');
    }
  });

  it('a local real server (a host-network endpoint) is delivered locally, nat INPUT after IPVS', () => {
    const { rs, env } = node(`-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r 192.168.10.11:6443 -m -w 1\n`);
    const [o, ...rest] = tracePacket(rs, env, pkt('10.244.1.7')).outcomes;
    expect(rest).toEqual([]);
    expect(o.delivery).toBe('local');
    expect(dst(o)).toBe('192.168.10.11:6443');
    expect(where(o)).toContain('ipvs:TCP 10.96.0.10:80 rr -> 192.168.10.11:6443');
  });

  it('no real server: ICMP port unreachable (REJECT), TCP and UDP alike', () => {
    const { rs, env } = node(`-A -t ${VIP}:80 -s rr\n`);
    const [o] = tracePacket(rs, env, pkt('10.244.1.7')).outcomes;
    expect(o.verdict).toBe('REJECT');
    expect(where(o)).toContain('ipvs:TCP 10.96.0.10:80 rr -> (no real server)');
    expect(o.note).toMatch(/ICMP port unreachable/);
  });

  it('iptables-mode programs have no IPVS step', () => {
    const { rs } = node();
    const plain = linkRuleset(emptyState('ipv4'));
    for (const p of Object.values(plain.programs)) expect(p.some((s) => s.kind === 'ext')).toBe(false);
    expect(rs.programs.input.filter((s) => s.kind === 'ext' && s.ext.name === 'ipvs')).toHaveLength(1);
    expect(rs.programs.local.filter((s) => s.kind === 'ext' && s.ext.name === 'ipvs')).toHaveLength(1);
  });
});

describe('IPVS scheduler shares', () => {
  it('wrr, wlc, lc: weight-proportional; rr: equal; weight 0: nothing', () => {
    for (const sched of ['wrr', 'wlc', 'lc']) {
      const { rs, env } = node(servers(sched, [1, 2, 3]));
      expect(shares(tracePacket(rs, env, pkt('10.244.1.7')).outcomes), sched).toEqual({ '10.244.2.7:8080': '1/6', '10.244.2.8:8080': '1/3', '10.244.1.5:8080': '1/2' });
    }
    const rr = node(servers('rr', [1, 5, 0]));
    expect(shares(tracePacket(rr.rs, rr.env, pkt('10.244.1.7')).outcomes)).toEqual({ '10.244.2.7:8080': '1/2', '10.244.2.8:8080': '1/2' });
  });

  it('sh: one server, decided by the source address', () => {
    const { rs, env } = node(servers('sh', [1, 1, 1]));
    const a = tracePacket(rs, env, pkt('10.244.1.7', 1)).outcomes;
    const b = tracePacket(rs, env, pkt('10.244.1.7', 2)).outcomes;
    expect(a).toHaveLength(1);
    expect(dst(b[0])).toBe(dst(a[0]));
    expect(fractionText(a[0].prob)).toBe('1/1');
  });
});

describe('IPVS mh (Maglev) in a trace', () => {
  // Slots of the kernel's 4093-slot table for these three servers in dump order (maglev.ts):
  // 10.244.1.7 hashes to slot 81 (10.244.1.5's), 10.244.1.2 to slot 1927 (10.244.2.8's).
  it("one server per client, its Maglev slot's, whatever the source port", () => {
    const { rs, env } = node(servers('mh', [1, 1, 1]));
    const a = tracePacket(rs, env, pkt('10.244.1.7', 1)).outcomes;
    const b = tracePacket(rs, env, pkt('10.244.1.7', 2)).outcomes;
    expect(a).toHaveLength(1);
    expect(fractionText(a[0].prob)).toBe('1/1');
    expect(where(a[0])).toContain('ipvs:TCP 10.96.0.10:80 mh -> 10.244.1.5:8080');
    expect(where(b[0])).toEqual(where(a[0]));
    expect(where(tracePacket(rs, env, pkt('10.244.1.2')).outcomes[0])).toContain('ipvs:TCP 10.96.0.10:80 mh -> 10.244.2.8:8080');
  });

  it('mh-port: the source port is hashed too, so one client spreads over the servers', () => {
    const { rs, env } = node(servers('mh', [1, 1, 1], ' -b mh-port'));
    const seen = new Set<string>();
    for (let port = 40000; port < 40032; port++) {
      const [o] = tracePacket(rs, env, pkt('10.244.1.7', port)).outcomes;
      expect(where(o).find((x) => x.startsWith('ipvs:'))).toMatch(/^ipvs:TCP 10\.96\.0\.10:80 mh -> /);
      seen.add(dst(o));
    }
    expect(seen.size).toBe(3);
  });

  it("a quiescent server's clients: no real server, or with mh-fallback another; the other clients stay", () => {
    const q = node(servers('mh', [1, 0, 1]));
    const [none] = tracePacket(q.rs, q.env, pkt('10.244.1.2')).outcomes;
    expect(none.verdict).toBe('REJECT');
    expect(where(none)).toContain('ipvs:TCP 10.96.0.10:80 mh -> (no real server)');
    expect(where(tracePacket(q.rs, q.env, pkt('10.244.1.7')).outcomes[0])).toContain('ipvs:TCP 10.96.0.10:80 mh -> 10.244.1.5:8080');
    const f = node(servers('mh', [1, 0, 1], ' -b mh-fallback'));
    const [moved] = tracePacket(f.rs, f.env, pkt('10.244.1.2')).outcomes;
    expect(moved.verdict).toBe('ACCEPT');
    expect(where(moved).find((x) => x.startsWith('ipvs:'))).toMatch(/^ipvs:TCP 10\.96\.0\.10:80 mh -> 10\.244\.(2\.7|1\.5):8080$/);
    expect(where(tracePacket(f.rs, f.env, pkt('10.244.1.7')).outcomes[0])).toContain('ipvs:TCP 10.96.0.10:80 mh -> 10.244.1.5:8080');
  });
});

describe('IPVS state in --flows', () => {
  it('rr rotates packet by packet; a connection keeps its server', () => {
    const { rs, env } = node(servers('rr', [1, 1, 1]), true);
    const flows = [1, 2, 3, 4, 1].map((port) => pkt('10.244.1.7', port));
    const got = traceFlows(rs, env, flows).map((f) => f.outcomes.map((o) => `${fractionText(o.prob)} ${dst(o)}`));
    expect(got).toEqual([['1/1 10.244.2.7:8080'], ['1/1 10.244.2.8:8080'], ['1/1 10.244.1.5:8080'], ['1/1 10.244.2.7:8080'], ['1/1 10.244.2.7:8080']]);
    const last = traceFlows(rs, env, flows).at(-1)!.outcomes[0];
    expect(where(last)).toContain('ipvs:TCP 10.96.0.10:80 rr -> 10.244.2.7:8080 (connection)');
  });

  it('persistence: the same client keeps its server within the timeout, others rotate on; after it, scheduled anew', () => {
    const { rs, env } = node(servers('rr', [1, 1, 1], ' -p 600'), true);
    const flows: FlowSpec[] = [
      { ...pkt('10.244.1.7', 1), at: 0 },
      { ...pkt('10.244.1.8', 1), at: 1 },
      { ...pkt('10.244.1.7', 2), at: 500 },
      { ...pkt('10.244.1.7', 3), at: 1200 },
    ];
    const got = traceFlows(rs, env, flows).map((f) => f.outcomes.map((o) => where(o).find((x) => x.startsWith('ipvs:'))));
    expect(got).toEqual([
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.2.7:8080'],
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.2.8:8080'],
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.2.7:8080 (persistent)'],
      ['ipvs:TCP 10.96.0.10:80 rr -> 10.244.1.5:8080'],
    ]);
  });

  it('persistence over shares: the first packet splits, every later one follows its world', () => {
    const { rs, env } = node(servers('wlc', [1, 1, 2], ' -p 600'));
    const [first, second] = traceFlows(rs, env, [pkt('10.244.1.7', 1), pkt('10.244.1.7', 2)]);
    expect(shares(first.outcomes)).toEqual({ '10.244.2.7:8080': '1/4', '10.244.2.8:8080': '1/4', '10.244.1.5:8080': '1/2' });
    expect(shares(second.outcomes)).toEqual(shares(first.outcomes));
    for (const o of second.outcomes) expect(where(o).some((x) => x.endsWith('(persistent)'))).toBe(true);
  });

  it("a reply from the real server leaves with the virtual service's address as its source", () => {
    const { rs, env } = node(`-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r 10.244.2.7:8080 -m -w 1\n`, true);
    const [, back] = traceFlows(rs, env, [pkt('203.0.113.9', 5555), { protocol: 'tcp', sourceIP: '10.244.2.7', sourcePort: 8080, destIP: '192.168.10.11', destPort: 5555 }]);
    const [o] = back.outcomes;
    expect(`${src(o)}:${o.packet.sport} -> ${dst(o)}`).toBe('10.96.0.10:80 -> 203.0.113.9:5555');
    expect(where(o)).toContain('ipvs:TCP 10.96.0.10:80 rr reply 10.244.2.7:8080 -> 10.96.0.10:80');
    expect(o.verdict).toBe('ACCEPT');
  });
});
