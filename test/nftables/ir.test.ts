// The IR carries what nft reads from the text, not only the text: addresses as numbers, ports,
// protocol numbers, conntrack bits, priorities as numbers, element keys typed by their set's type.
import { describe, expect, it } from 'vitest';
import type { ChainDecl, Command, Expr, NftFile, Rule, SetDecl, Stmt } from '../../src/nftables/index.js';
import { parseNft } from '../../src/nftables/index.js';
import { fixtures } from './corpus.js';

function read(text: string): NftFile {
  const { file, diagnostics } = parseNft(text, { file: 'in.nft' });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return file;
}

/** The statements of `add rule ip t c RULE`. */
function stmts(rule: string, family = 'ip'): readonly Stmt[] {
  const file = read(`add rule ${family} t c ${rule}\n`);
  const c = file.items[0] as Command;
  if (c.object.kind !== 'rule' || !c.object.rule) throw new Error('not a rule');
  return c.object.rule.stmts;
}

const value = (e: Expr) => (e.kind === 'value' ? e.value : null);

describe('values are read', () => {
  it('IPv4 and IPv6 addresses, prefixes with their network', () => {
    const [a, b] = stmts('ip daddr 172.30.0.41 ip saddr != 10.1.2.3/8 drop');
    expect(a).toMatchObject({ kind: 'match', op: 'implicit', right: { kind: 'value', value: { kind: 'ipv4', address: 0xac1e0029 } } });
    expect(b).toMatchObject({ kind: 'match', op: 'ne', opSpelling: '!=', right: { value: { kind: 'prefix', length: 8, network: 0x0a000000, base: { address: 0x0a010203 } } } });
    const [c] = stmts('ip6 daddr fd00:10:96::1 drop', 'ip6');
    expect(c).toMatchObject({ right: { value: { kind: 'ipv6', address: 0xfd000010009600000000000000000001n } } });
  });

  it('octets with a leading zero are octal, as nft reads them', () => {
    const [a] = stmts('ip daddr 172.30.0.041 drop');
    expect(a).toMatchObject({ right: { value: { address: (172 << 24 >>> 0) + (30 << 16) + 33 } } });
  });

  it('protocols, ports, ranges, conntrack states and FIB types by the left side', () => {
    const s = stmts('meta l4proto tcp th dport 1-1023 ct state established,related fib daddr type local ct direction reply accept');
    expect(s[0]).toMatchObject({ left: { kind: 'meta', key: 'l4proto', bare: false }, right: { value: { kind: 'symbol', text: 'tcp', value: 6 } } });
    expect(s[1]).toMatchObject({ left: { kind: 'payload', protocol: 'th', field: 'dport' }, right: { value: { kind: 'range', from: { value: 1 }, to: { value: 1023 } } } });
    expect(s[2]).toMatchObject({ right: { value: { kind: 'list', value: 2 | 4 } } });
    expect(s[3]).toMatchObject({ left: { kind: 'fib', flags: ['daddr'], result: 'type' }, right: { value: { value: 2 } } });
    expect(s[4]).toMatchObject({ left: { kind: 'ct', key: 'direction' }, right: { value: { value: 1 } } });
    expect(s[5]).toEqual({ kind: 'verdict', verdict: 'accept', chain: null });
  });

  it('interface names, with nft wildcards', () => {
    const [a, b] = stmts('iifname "cali*" oifname eth0 accept');
    expect(a).toMatchObject({ left: { kind: 'meta', key: 'iifname', bare: true }, right: { value: { kind: 'string', value: 'cali*', quoted: true, wildcard: true } } });
    expect(b).toMatchObject({ right: { value: { kind: 'string', value: 'eth0', quoted: false, wildcard: false } } });
  });

  it('times in milliseconds', () => {
    const file = read('add set ip t s { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }\n');
    const o = (file.items[0] as Command).object as Extract<Command['object'], { kind: 'set' | 'map' }>;
    expect(o.body!.items[2]).toMatchObject({ kind: 'timeout', value: { kind: 'time', ms: 10_800_000 } });
  });
});

describe('statements', () => {
  it("kube-proxy's masquerade marking, both spellings", () => {
    const [set] = stmts('mark set mark or 0x4000');
    expect(set).toMatchObject({ kind: 'set', target: { kind: 'meta', key: 'mark', bare: true }, value: { kind: 'binary', op: 'or', spelling: 'or', right: { value: { value: 0x4000 } } } });
    const [listed] = stmts('meta mark set meta mark | 0x00004000');
    expect(listed).toMatchObject({ kind: 'set', value: { kind: 'binary', op: 'or', spelling: '|', left: { kind: 'meta', bare: false }, right: { value: { value: 0x4000 } } } });
    const [test, ret] = stmts('meta mark & 0x00004000 == 0x00000000 return');
    expect(test).toMatchObject({ kind: 'match', op: 'eq', left: { kind: 'binary', op: 'and' }, right: { value: { value: 0 } } });
    expect(ret).toMatchObject({ kind: 'verdict', verdict: 'return' });
  });

  it('numgen verdict maps: modulus, offsets, keys and goto targets', () => {
    const [v] = stmts('numgen random mod 2 vmap { 0 : goto endpoint-A , 1 : goto endpoint-B }');
    expect(v).toMatchObject({ kind: 'vmap', key: { kind: 'numgen', mode: 'random', mod: { value: 2 }, offset: null } });
    const map = (v as Extract<Stmt, { kind: 'vmap' }>).map;
    expect(map.kind).toBe('set');
    if (map.kind !== 'set') return;
    expect(map.elements.map((e) => [value(e.key), e.data])).toEqual([
      [{ kind: 'number', text: '0', value: 0 }, { kind: 'verdict', verdict: 'goto', chain: 'endpoint-A' }],
      [{ kind: 'number', text: '1', value: 1 }, { kind: 'verdict', verdict: 'goto', chain: 'endpoint-B' }],
    ]);
  });

  it('concatenated lookups in named maps', () => {
    const [v] = stmts('ip daddr . meta l4proto . th dport vmap @service-ips');
    expect(v).toMatchObject({ kind: 'vmap', key: { kind: 'concat', parts: [{ kind: 'payload', field: 'daddr' }, { kind: 'meta', key: 'l4proto' }, { kind: 'payload', protocol: 'th' }] }, map: { kind: 'setRef', name: 'service-ips' } });
  });

  it('NAT targets: address and port, bracketed IPv6, ranges, maps, flags', () => {
    expect(stmts('meta l4proto tcp dnat to 10.180.0.1:80')[1]).toMatchObject({ kind: 'nat', type: 'dnat', to: true, address: { value: { address: 0x0ab40001 } }, port: { value: { value: 80 } } });
    expect(stmts('dnat ip6 to [fd00::1]:8080', 'ip6')[0]).toMatchObject({ family: 'ip6', bracketed: true, address: { value: { kind: 'ipv6' } }, port: { value: { value: 8080 } } });
    expect(stmts('snat ip to 1.2.3.4-1.2.3.8 fully-random')[0]).toMatchObject({ type: 'snat', address: { value: { kind: 'range' } }, flags: ['fully-random'] });
    expect(stmts('dnat ip to ip daddr . tcp dport map @m')[0]).toMatchObject({ address: { kind: 'map', key: { kind: 'concat' }, map: { kind: 'setRef', name: 'm' } } });
    expect(stmts('masquerade random,persistent')[0]).toMatchObject({ type: 'masquerade', to: false, address: null, flags: ['random', 'persistent'] });
    expect(stmts('tcp dport 8080 redirect to :80')[1]).toMatchObject({ type: 'redirect', address: null, port: { value: { value: 80 } } });
  });

  it('session affinity: update of a dynamic set with the source address', () => {
    const [u] = stmts('update @affinity-X { ip saddr timeout 1h }');
    expect(u).toMatchObject({ kind: 'setUpdate', op: 'update', set: 'affinity-X', element: { key: { kind: 'payload', field: 'saddr' }, options: [{ kind: 'timeout', value: { ms: 3_600_000 } }] } });
  });

  it('reject, counter, comment, log, limit', () => {
    const s = stmts('counter packets 3 bytes 180 log prefix "x: " level warn limit rate over 10/second burst 5 packets reject with icmpx admin-prohibited comment "why"');
    expect(s.map((x) => x.kind)).toEqual(['counter', 'log', 'limit', 'reject', 'comment']);
    expect(s[0]).toMatchObject({ packets: { value: 3 }, bytes: { value: 180 } });
    expect(s[2]).toMatchObject({ over: true, rate: { value: 10 }, per: 'second', burst: { value: 5 }, burstUnit: 'packets' });
    expect(s[3]).toMatchObject({ with: { family: 'icmpx', code: 'admin-prohibited' } });
    expect(s[4]).toMatchObject({ comment: { value: 'why' } });
  });

  it('what is not modelled stays opaque, with its exact text and position', () => {
    const { file, diagnostics } = parseNft('add rule ip t c tcp dport 80 queue num 1-3 fanout counter\n', { file: 'in.nft' });
    const rule = ((file.items[0] as Command).object as { rule: Rule }).rule;
    expect(rule.stmts.map((s) => s.kind)).toEqual(['match', 'opaque', 'counter']);
    expect(rule.stmts[1]).toMatchObject({ text: 'queue num 1-3 fanout', span: { line: 1, col: 30 } });
    expect(diagnostics.map((d) => d.code)).toEqual(['NFT_NOT_MODELLED']);
  });
});

describe('declarations', () => {
  const table = (text: string) => ((read(text).items[0] as Command).object as Extract<Command['object'], { kind: 'table' }>).body!.items;

  it('base chains: type, hook, named priorities with offsets as numbers, policy', () => {
    const items = table('table ip t {\n\tchain a {\n\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n\t}\n\n\tchain b {\n\t\ttype nat hook output priority -100; policy drop;\n\t}\n}\n');
    const [a, b] = items as ChainDecl[];
    expect(a.body.items[0]).toMatchObject({ kind: 'hook', type: 'filter', hook: 'prerouting', priority: { name: 'dstnat', sign: '-', value: -110 } });
    expect(a.body.items[1]).toMatchObject({ kind: 'policy', policy: 'accept' });
    expect(b.body.items[0]).toMatchObject({ priority: { name: null, value: -100, number: { kind: 'negative', value: -100 } } });
    expect(b.body.items[1]).toMatchObject({ policy: 'drop' });
    const [bridge] = table('table bridge t {\n\tchain f {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n}\n') as ChainDecl[];
    expect(bridge.body.items[0]).toMatchObject({ priority: { name: 'filter', value: -200 } });
  });

  it("elements are typed by their set's type: transactions and listings alike", () => {
    const file = read(
      'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }\n' +
        'add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto service-X }\n',
    );
    const el = ((file.items[1] as Command).object as Extract<Command['object'], { kind: 'element' }>).elements[0];
    expect(el.key).toMatchObject({ kind: 'concat', parts: [{ value: { kind: 'ipv4', address: 0xac1e0029 } }, { value: { kind: 'symbol', value: 6 } }, { value: { kind: 'number', value: 80 } }] });
    expect(el.options).toMatchObject([{ kind: 'comment', comment: { value: 'ns1/svc1:p80' } }]);
    expect(el.data).toEqual({ kind: 'verdict', verdict: 'goto', chain: 'service-X' });
    const [set] = table('table ip t {\n\tset s {\n\t\ttype inet_proto . inet_service\n\t\telements = { tcp . 3001 }\n\t}\n}\n') as SetDecl[];
    expect(set.body.items[1]).toMatchObject({ kind: 'elements', elements: [{ key: { parts: [{ value: { value: 6 } }, { value: { value: 3001 } }] } }] });
  });

  it('handles from nft -a on tables, chains, sets and rules', () => {
    const text = fixtures().find((f) => f.name.endsWith('kube-proxy-handles.nft'))!.text;
    const cmd = read(text).items[0] as Command;
    expect(cmd.object).toMatchObject({ kind: 'table', declHandle: expect.any(Number) });
    const body = (cmd.object as Extract<Command['object'], { kind: 'table' }>).body!;
    const chains = body.items.filter((i): i is ChainDecl => i.kind === 'chain');
    expect(chains.every((c) => typeof c.handle === 'number')).toBe(true);
    const rules = chains.flatMap((c) => c.body.items.filter((i): i is Rule => i.kind === 'rule'));
    expect(rules.length).toBeGreaterThan(20);
    expect(rules.every((r) => typeof r.handle === 'number')).toBe(true);
    expect(new Set(rules.map((r) => r.handle)).size).toBe(rules.length);
  });

  it("iptables-nft's compat statements", () => {
    const text = fixtures().find((f) => f.name.endsWith('iptables-nft-kube-proxy.nft'))!.text;
    const all = JSON.stringify(read(text), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(all).toContain('{"kind":"xt","type":"match","name":"recent"}');
    expect(all).toContain('"kind":"meta","key":"random"');
  });
});
