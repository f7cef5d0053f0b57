// The namespace library itself: lifecycle, clean-up, the safety refusals, and one real topology
// (client -> node -> pod) carrying TCP and UDP through DNAT, MASQUERADE and REJECT.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelAvailable } from '../host/kernel-available.js';
import { createNamespace, sweepOwnNamespaces, withNamespace, withNamespaces } from '../host/netns.js';
import { loadRules } from '../host/iptables.js';
import { conntrackEntries, probe, startResponder } from '../host/probe.js';
import { withServiceNode } from '../host/service-node.js';
import { withTopology, type TopologySpec } from '../host/topology.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.warn(`kernel tests not run: ${kernel.reason}`);

function listNamespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

// What the root namespace looks like from the outside; none of it may change.
function rootState(): string {
  const show = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
  return [['-o', 'link'], ['-o', 'addr'], ['route'], ['-6', 'route'], ['rule']].map(show).join('\n');
}

// client 192.168.0.1 -- 192.168.0.2 node 10.0.0.254 -- 10.0.0.1 pod1
const SPEC: TopologySpec = {
  namespaces: ['node', 'client', 'pod1'],
  links: [
    { a: { ns: 'node', ifname: 'eth0', addrs: ['192.168.0.2/24', '2001:db8::2/64'] }, b: { ns: 'client', ifname: 'eth0', addrs: ['192.168.0.1/24', '2001:db8::1/64'] } },
    { a: { ns: 'node', ifname: 'veth-pod1', addrs: ['10.0.0.254/24'] }, b: { ns: 'pod1', ifname: 'eth0', addrs: ['10.0.0.1/24'] } },
  ],
  routes: [
    { ns: 'client', to: 'default', via: '192.168.0.2' },
    { ns: 'pod1', to: 'default', via: '10.0.0.254' },
  ],
  sysctls: { node: { 'net.ipv4.ip_forward': 1 } },
};

const NAT = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.1:8080
-A PREROUTING -d 172.30.0.41/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.0.0.1:5353
COMMIT
`;

describe.runIf(kernel.ok)('throwaway network namespaces', () => {
  let rootBefore = '';
  beforeAll(() => {
    rootBefore = rootState();
  });
  afterAll(() => {
    expect(rootState()).toBe(rootBefore);
  });

  it('creates uniquely named namespaces and deletes them afterwards, also when fn throws', async () => {
    let names: string[] = [];
    await expect(
      withNamespaces(2, async (nss) => {
        names = nss.map((ns) => ns.name);
        expect(new Set(names).size).toBe(2);
        for (const name of names) expect(name).toMatch(new RegExp(`^kpsim-${process.pid}-\\d+$`));
        expect(listNamespaces()).toEqual(expect.arrayContaining(names));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(listNamespaces().filter((n) => names.includes(n))).toEqual([]);
  });

  it('runs programs inside the namespace with stdin, not in the root namespace', async () => {
    await withNamespace(async (ns) => {
      const links = await ns.ip(['-o', 'link']);
      expect(links.trim().split('\n')).toHaveLength(1); // only lo
      await loadRules(ns, 'iptables', '*filter\n:INPUT DROP [0:0]\nCOMMIT\n');
      expect(await ns.exec('iptables-save', ['-t', 'filter'])).toContain(':INPUT DROP');
      const failed = await ns.run('iptables-restore', [], { stdin: '*filter\n-A NOPE -j ACCEPT\nCOMMIT\n' });
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toMatch(/line 2/);
    });
  });

  it('refuses ip arguments that reach another namespace, and non-net sysctls', async () => {
    await withNamespace(async (ns) => {
      await expect(ns.ip(['link', 'add', 'x', 'type', 'veth', 'peer', 'name', 'y', 'netns', '1'])).rejects.toThrow(/another namespace/);
      await expect(ns.run('ip', ['-n', 'other', 'link'])).rejects.toThrow(/another namespace/);
      await expect(ns.sysctl('kernel.panic', 1)).rejects.toThrow(/net\.\*/);
      await ns.sysctl('net.ipv4.ip_forward', 1);
      expect((await ns.exec('sysctl', ['-n', 'net.ipv4.ip_forward'])).trim()).toBe('1');
    });
  });

  it('sweeps its own namespaces on demand (as at exit)', async () => {
    const ns = await createNamespace();
    expect(sweepOwnNamespaces()).toContain(ns.name);
    expect(listNamespaces()).not.toContain(ns.name);
    await ns.delete();
  });

  it('carries TCP and UDP from client through DNAT and MASQUERADE to a pod, and sees REJECT', async () => {
    await withTopology(SPEC, async (t) => {
      const node = t.ns('node');
      await startResponder(t.ns('pod1'), 'tcp', 8080, 'pod1');
      await startResponder(t.ns('pod1'), 'udp', 5353, 'pod1');
      await loadRules(node, 'iptables', NAT);

      const tcp = await probe(t.ns('client'), { protocol: 'tcp', host: '172.30.0.41', port: 80 }, 3);
      expect(tcp.map((r) => r.reply?.split(' ').slice(0, 2).join(' '))).toEqual(Array(3).fill('pod1 192.168.0.1'));
      const udp = await probe(t.ns('client'), { protocol: 'udp', host: '172.30.0.41', port: 53, sourcePort: 40000 }, 1);
      // The answer comes from the address the DNAT chose (one UDP socket per address), so conntrack un-NATs it.
      expect(udp).toEqual([{ reply: 'pod1 192.168.0.1 40000 10.0.0.1 5353' }]);
      const entries = await conntrackEntries(node);
      expect(entries.some((e) => e.includes('dst=172.30.0.41') && e.includes('src=10.0.0.1'))).toBe(true);

      await loadRules(node, 'iptables', '*nat\n-A POSTROUTING -d 10.0.0.0/24 -j MASQUERADE\nCOMMIT\n', { noflush: true });
      const masq = await probe(t.ns('client'), { protocol: 'tcp', host: '172.30.0.41', port: 80 }, 1);
      expect(masq[0]?.reply).toMatch(/^pod1 10\.0\.0\.254 /);

      await loadRules(node, 'iptables', '*filter\n-A FORWARD -d 10.0.0.1/32 -p tcp -j REJECT --reject-with tcp-reset\nCOMMIT\n', { noflush: true });
      expect(await probe(t.ns('client'), { protocol: 'tcp', host: '172.30.0.41', port: 80 }, 1)).toEqual([{ error: 'ECONNREFUSED' }]);
    });
  });

  it('builds a service node: remote and local clients reach both endpoints, masquerade shows', async () => {
    const spec = { nodeAddrs: ['192.168.0.2', '2001:db8::1'], clientAddrs: ['203.0.113.2', '10.0.0.2'], endpointAddrs: ['10.180.0.1', '10.180.0.2'] };
    const rules = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
-A PREROUTING -j SVC
-A OUTPUT -j SVC
-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE
-A SVC ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j MARK --or-mark 0x4000
-A SVC -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.180.0.1:80
-A SVC -d 172.30.0.41/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.180.0.2:80
COMMIT
`;
    await withServiceNode(spec, async (n) => {
      expect(n.sideOf('192.168.0.2')).toBe('node');
      expect(n.sideOf('10.180.0.2')).toBe('pods');
      expect(n.sideOf('203.0.113.2')).toBe('client');
      await startResponder(n.pods, 'tcp', 80, 'pod');
      await loadRules(n.node, 'iptables', rules);
      const seen = async (src: string) => {
        const results = await probe(n.ns(n.sideOf(src)), { protocol: 'tcp', host: '172.30.0.41', port: 80, sourceAddress: src }, 24);
        // `pod <source seen> <port> <endpoint address> 80`
        return new Set(results.map((r) => { const f = r.reply?.split(' '); return f ? `${f[1]} -> ${f[3]}` : r.error; }));
      };
      // Outside client: masqueraded to the node's address on the pods link; 24 tries miss an endpoint with odds 2^-23.
      expect(await seen('203.0.113.2')).toEqual(new Set(['169.254.2.1 -> 10.180.0.1', '169.254.2.1 -> 10.180.0.2']));
      // Pod on another node: not masqueraded.
      expect(await seen('10.0.0.2')).toEqual(new Set(['10.0.0.2 -> 10.180.0.1', '10.0.0.2 -> 10.180.0.2']));
      // The node itself (nat OUTPUT), masqueraded because its source is outside 10.0.0.0/8.
      expect(await seen('192.168.0.2')).toEqual(new Set(['169.254.2.1 -> 10.180.0.1', '169.254.2.1 -> 10.180.0.2']));
    });
  });
});
