import { describe, expect, it } from 'vitest';
import { endpointChainName, hash16, serviceChainName } from '../../src/compiler/hash.js';
import { probability } from '../../src/compiler/iptables/emit-service-chains.js';
import { hostSetup } from '../../src/compiler/iptables/host.js';
import { addRule, canonicalize, emptyTable, ruleComment } from '../../src/compiler/iptables/restore.js';
import { hexMark } from '../../src/compiler/iptables/spell-settings.js';
import { masqueradeMark } from '../../src/compiler/settings.js';

describe('chain names', () => {
  it.each([
    ['SVC', 'ns1/svc1:p80', 'tcp', 'KUBE-SVC-XPGD46QRK7WJZT7O'],
    ['EXT', 'ns2/svc2:p80', 'tcp', 'KUBE-EXT-GNZBNJ2PO5MGZ6GT'],
    ['FW', 'ns5/svc5:p80', 'tcp', 'KUBE-FW-NUKIZ6OKUXPJNT4C'],
  ] as const)('%s %s %s', (kind, spn, proto, want) => {
    expect(serviceChainName(kind, spn, proto)).toBe(want);
  });

  it('hashes endpoints with their ip:port string', () => {
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
    expect(hash16('')).toHaveLength(16);
  });
});

describe('probability', () => {
  // TestComputeProbability's pinned values.
  it.each([
    [1, '1.0000000000'],
    [2, '0.5000000000'],
    [10, '0.1000000000'],
    [100, '0.0100000000'],
    [1000, '0.0010000000'],
    [10000, '0.0001000000'],
    [100000, '0.0000100000'],
    [100001, '0.0000099999'],
  ])('1/%i', (n, want) => expect(probability(n)).toBe(want));
});

describe('masquerade mark', () => {
  it.each([
    [14, '0x4000'],
    [0, '0x1'],
    [31, '0x80000000'],
  ])('bit %i', (bit, want) => expect(hexMark(masqueradeMark(bit))).toBe(want));
});

describe('canonical order', () => {
  it('sorts KUBE-SERVICES by service name, keeps the nodeports jump last and other chains in order', () => {
    const t = emptyTable('nat');
    t.chains.push('KUBE-SVC-B', 'KUBE-SERVICES', 'OTHER', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ');
    addRule(t, 'KUBE-SERVICES', '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"');
    addRule(t, 'KUBE-SVC-B', '2');
    addRule(t, 'KUBE-SERVICES', '-m comment --comment "ns2/b cluster IP"');
    addRule(t, 'KUBE-SVC-B', '1');
    addRule(t, 'KUBE-SERVICES', '-m comment --comment "ns1/a:p cluster IP"');
    addRule(t, 'KUBE-NODEPORTS', '-m comment --comment ns1/a:p');
    const c = canonicalize(t);
    expect(c.chains).toEqual(['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-SVC-B', 'OTHER']);
    expect((c.order ?? []).map((chain) => [chain, c.rules.get(chain)!.map((r) => ruleComment(r) ?? r)])).toEqual([
      ['KUBE-NODEPORTS', ['ns1/a:p']],
      ['KUBE-SERVICES', ['ns1/a:p cluster IP', 'ns2/b cluster IP', 'kubernetes service nodeports; NOTE: this must be the last rule in this chain']],
      ['KUBE-SVC-B', ['2', '1']],
    ]);
  });
});

describe('host setup', () => {
  it('prepends the jump rules, so the last one ensured comes first', () => {
    const input = hostSetup().rules.filter((r) => r.table === 'filter' && r.chain === 'INPUT').map((r) => r.args.at(-1));
    expect(input).toEqual(['KUBE-FIREWALL', 'KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES']);
  });
});
