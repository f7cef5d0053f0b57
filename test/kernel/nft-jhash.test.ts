// nftables' jhash against the kernel: a rule stores `jhash ip daddr . udp dport mod 1000 seed 5`
// in the packet mark and copies it to the connection's mark; UDP packets to ten local addresses
// are sent in a throwaway namespace, and each connection's mark (conntrack -L) must be the mark
// kpsim's simulator gives the same packet (lookup3 over the registers' bytes, the port padded to
// 32 bits in the concatenation, reciprocal_scale into 1000 buckets).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { nftablesExtensions } from '../../src/packetsim-nft/hook.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { tracePacket } from '../../src/packetsim/trace.js';
import { kernelAvailable } from '../host/kernel-available.js';
import { withNamespace } from '../host/netns.js';

const kernel = kernelAvailable();
const nftOk = spawnSync('nft', ['--version']).status === 0;
if (!kernel.ok || !nftOk) console.warn(`nft jhash kernel test not run: ${kernel.ok ? 'no nft program' : kernel.reason}`);

const RULES = `table ip t {
	chain o {
		type filter hook output priority filter; policy accept;
		meta l4proto udp meta mark set jhash ip daddr . udp dport mod 1000 seed 0x5 ct mark set meta mark
	}
}
`;

describe.runIf(kernel.ok && nftOk)('jhash as the kernel computes it', () => {
  it('ten destinations, the same marks', async () => {
    const dests = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 1}`);
    const interfaces = [{ name: 'lo', addresses: ['127.0.0.1/8'] }];
    const sink = new DiagnosticSink();
    const node = nodeFromDumps({ iptables: [], nft: { file: 'jhash.nft', text: RULES }, interfaces }, sink);
    expect(sink.errors).toEqual([]);
    const { sim } = prepareNode(node!, 'ipv4', { extensions: nftablesExtensions(node!.nftables!, 'ipv4', ['lo']) });
    const kpsim = dests.map((d) => {
      const r = tracePacket(sim.rs, sim.env, { protocol: 'udp', sourceIP: '127.0.0.1', destIP: d, destPort: 9 });
      expect(r.outcomes).toHaveLength(1);
      return `${d} ${r.outcomes[0].packet.mark}`;
    });
    const seen = await withNamespace(async (ns) => {
      await ns.ip(['link', 'set', 'lo', 'up']);
      const load = await ns.run('nft', ['-f', '-'], { stdin: RULES });
      expect(load.stderr).toBe('');
      for (const d of dests) await ns.run('bash', ['-c', `echo x > /dev/udp/${d}/9`], { timeoutMs: 5000 });
      const ct = await ns.exec('conntrack', ['-L', '-p', 'udp']);
      return ct
        .split('\n')
        .map((l) => /dst=(\S+) .*mark=(\d+)/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => `${m[1]} ${m[2]}`);
    });
    expect(seen.sort()).toEqual(kpsim.sort());
    // Ten addresses over 1000 buckets: the marks differ (the hash is not constant).
    expect(new Set(kpsim.map((s) => s.split(' ')[1])).size).toBeGreaterThan(5);
  });
});
