// -m ipvs in the simulator (xt_ipvs ipvs_mt): IPVS marks the packets it sends on, and the match
// finds their connection. kube-proxy's one use: KUBE-IPVS-OUT-FILTER drops the node's own
// connections to a load balancer IP whose source ranges leave the node out (the node's source
// for a local address is that address). Without the model those packets were UNKNOWN.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { compileIpvsCluster } from '../../src/compiler/ipvs/index.js';
import { loadCluster } from '../../src/model/load.js';
import { modeNamed, renderIpvsArtefacts, type ModeRow } from '../../src/modes.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { compileIpvs } from '../../src/packetsim/matches/ipvs.js';
import type { IpvsMark } from '../../src/packetsim/packet.js';
import type { Walk } from '../../src/packetsim/types.js';
import { tracePacket, type FlowSpec, type Outcome } from '../../src/packetsim/trace.js';

/** `kpsim compile --mode ipvs -o DIR` of a cluster file: the node's iptables-save, ipset save and ipvsadm-save. */
function compileFiles(file: string) {
  const sink = new DiagnosticSink();
  const c = compileIpvsCluster(loadCluster([{ name: file, text: readFileSync(file, 'utf8') }], sink), {}, sink);
  expect(sink.errors).toEqual([]);
  const f = renderIpvsArtefacts(c);
  const vips = f['kube-ipvs0.addrs'].split('\n').filter((l) => l && !l.startsWith('#'));
  return { iptables: f['iptables.save'], ipsets: f['ipset.save'], ipvs: f['ipvsadm.save'], vips };
}

const LB = '198.51.100.20';

/** The golden case's node in IPVS mode, with extra filter OUTPUT rules placed before kube-proxy's. */
function sim(extraOutput: readonly string[] = []) {
  const files = compileFiles('golden/kpsim/lb-source-ranges-from-node/cluster.yaml');
  const iptables = files.iptables.replace(':KUBE-IPVS-OUT-FILTER - [0:0]\n', `:KUBE-IPVS-OUT-FILTER - [0:0]\n:PROBE - [0:0]\n`).replace('-A OUTPUT ', `${extraOutput.map((r) => `-A OUTPUT ${r}\n`).join('')}-A OUTPUT `);
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [{ family: 'ipv4', file: 'iptables.save', text: iptables }], ipsets: { file: 'ipset.save', text: files.ipsets }, ipvs: { file: 'ipvsadm.save', text: files.ipvs }, interfaces: [{ name: 'lo', addresses: ['127.0.0.1/8'] }, { name: 'eth0', addresses: ['192.168.10.11/24'] }, { name: 'kube-ipvs0', addresses: files.vips }] }, sink);
  expect(sink.errors).toEqual([]);
  const IPVS = modeNamed('ipvs') as ModeRow;
  return prepareNode(node!, 'ipv4', { extensions: IPVS.extensions(node!, 'ipv4', { rotate: false }) }).sim;
}

const pkt = (sourceIP: string, destIP: string, destPort = 80): FlowSpec => ({ protocol: 'tcp', sourceIP, sourcePort: 40000, destIP, destPort });
const rulesHit = (o: Outcome) => o.path.filter((s) => s.rule && !s.chain.extension).map((s) => `${s.chain.name}: ${s.rule!.text}`);

describe('-m ipvs', () => {
  it("the node's own connection to a load balancer IP outside its source ranges: KUBE-IPVS-OUT-FILTER drops it after IPVS", () => {
    const { rs, env } = sim();
    const r = tracePacket(rs, env, pkt(LB, LB));
    expect(r.outcomes.map((o) => o.verdict)).toEqual(['DROP']);
    expect(rulesHit(r.outcomes[0]).at(-1)).toMatch(/^KUBE-IPVS-OUT-FILTER: .*-m ipvs .*-j DROP$/);
  });

  it('the same source to another of its virtual services is not dropped (--vaddr/--vport are the connection\'s)', () => {
    const { rs, env } = sim();
    const r = tracePacket(rs, env, pkt(LB, '10.96.0.40'));
    expect(r.outcomes.length).toBeGreaterThan(0);
    for (const o of r.outcomes) {
      expect(o.verdict).toBe('ACCEPT');
      expect(rulesHit(o).some((t) => t.startsWith('KUBE-IPVS-OUT-FILTER'))).toBe(false);
    }
  });

  it('--ipvs matches once IPVS has sent the packet on, and ! --ipvs not', () => {
    // Both probes sit at the top of filter OUTPUT. IPVS runs at LOCAL_OUT before filter OUTPUT
    // and sends the packet for a remote real server through LOCAL_OUT again, marked: filter
    // OUTPUT sees it only then.
    const { rs, env } = sim(['-m ipvs --ipvs -j PROBE', '-m ipvs ! --ipvs -j LOG --log-prefix not-ipvs']);
    const [o] = tracePacket(rs, env, pkt('192.168.10.11', '10.96.0.40')).outcomes;
    const hits = rulesHit(o).filter((t) => t.startsWith('OUTPUT: -m ipvs'));
    expect(hits).toEqual([expect.stringContaining('-m ipvs --ipvs -j PROBE')]);
  });

  it('a packet IPVS never handled (not to a virtual service) matches ! --ipvs and no other option', () => {
    const { rs, env } = sim(['-m ipvs ! --ipvs -j LOG --log-prefix not-ipvs', '-m ipvs --vdir ORIGINAL -j LOG --log-prefix orig']);
    const [o] = tracePacket(rs, env, pkt('192.168.10.11', '192.0.2.9')).outcomes;
    const hits = rulesHit(o).filter((t) => t.startsWith('OUTPUT: -m ipvs'));
    expect(hits).toEqual([expect.stringContaining('! --ipvs')]);
  });
});

describe('-m ipvs options on a marked packet (xt_ipvs ipvs_mt)', () => {
  const test = (rule: string) => {
    const { ruleset } = parseIptablesSave(`*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT ${rule}\nCOMMIT\n`, { file: 't', family: 'ipv4' });
    const r = ruleset!.tables[0].commands.find((c) => c.kind === 'rule')!;
    const opts = r.kind === 'rule' ? r.args.filter((a) => a.kind === 'option' && a.module === 'ipvs') : [];
    const [m] = compileIpvs(opts as never, 'ipv4');
    return (ipvs: IpvsMark | null, dir: 'original' | 'reply' = 'original', proto = 6) => m.kind === 'test' && m.test({ pkt: { ipvs, proto }, dir } as unknown as Walk);
  };
  const fwd: IpvsMark = { vaddr: 0xc6336414, vport: 80, method: 'MASQ', found: true };
  const reply: IpvsMark = { ...fwd, found: false };

  it('a reply IPVS rewrote carries the mark, but its connection is not found: only --ipvs matches it', () => {
    expect(test('-m ipvs --ipvs')(reply, 'reply')).toBe(true);
    expect(test('-m ipvs --vdir REPLY')(reply, 'reply')).toBe(false);
    expect(test('-m ipvs ! --vaddr 10.0.0.0/8')(reply, 'reply')).toBe(false);
  });

  it('negations apply to the option, never to the mark or the lookup', () => {
    expect(test('-m ipvs --vaddr 198.51.100.0/24 --vport 80 --vproto tcp')(fwd)).toBe(true);
    expect(test('-m ipvs ! --vaddr 198.51.100.0/24')(fwd)).toBe(false);
    expect(test('-m ipvs ! --vport 443')(fwd)).toBe(true);
    expect(test('-m ipvs ! --vport 443')(null)).toBe(false);
    expect(test('-m ipvs --vproto udp')(fwd)).toBe(false);
    expect(test('-m ipvs --vmethod MASQ --vdir ORIGINAL')(fwd)).toBe(true);
    expect(test('-m ipvs --vdir REPLY')(fwd)).toBe(false);
    expect(test('-m ipvs ! --vmethod GATE')(fwd)).toBe(true);
    // No controlling connection (FTP's): --vportctl never matches, negated or not.
    expect(test('-m ipvs ! --vportctl 21')(fwd)).toBe(false);
    expect(test('-m ipvs ! --ipvs')(null)).toBe(true);
    expect(test('-m ipvs ! --ipvs')(fwd)).toBe(false);
  });
});
