// Bad input: each case names the code and the line:column the diagnostic points at (nft -c -f
// points at the same place where it has an error for it; its wording is in the messages). Every
// problem is reported in one pass, and the text still renders back byte for byte.
import { describe, expect, it } from 'vitest';
import type { NftCode } from '../../src/nftables/index.js';
import { parseNft, renderNft } from '../../src/nftables/index.js';

const T = 'add table ip x\nadd chain ip x y\n';
const rule = (r: string) => `${T}add rule ip x y ${r}\n`;

// [name, text, code, line, col]
const cases: [string, string, NftCode, number, number][] = [
  ['bad IPv4 address', rule('ip daddr 1.2.3.400 drop'), 'NFT_BAD_ADDRESS', 3, 26],
  ['IPv6 address in an ip match', rule('ip daddr ::1 drop'), 'NFT_BAD_ADDRESS', 3, 26],
  ['a name where an address belongs', rule('ip daddr localhost drop'), 'NFT_BAD_ADDRESS', 3, 26],
  ['prefix too long', rule('ip saddr 10.0.0.0/33 drop'), 'NFT_BAD_PREFIX', 3, 26],
  ['IPv6 prefix too long', rule('ip6 saddr fd00::/129 drop'), 'NFT_BAD_PREFIX', 3, 27],
  ['port out of range', rule('tcp dport 70000 drop'), 'NFT_BAD_PORT', 3, 27],
  ['DNAT port out of range', rule('meta l4proto tcp dnat to 10.0.0.1:99999'), 'NFT_BAD_PORT', 3, 51],
  ['reversed range', rule('tcp dport 90-80 drop'), 'NFT_BAD_VALUE', 3, 27],
  ['unknown ct state', rule('ct state nw drop'), 'NFT_BAD_SYMBOL', 3, 26],
  ['unknown protocol', rule('meta l4proto tpc drop'), 'NFT_BAD_PROTOCOL', 3, 30],
  ['mark too large', rule('meta mark 0x100000000 drop'), 'NFT_BAD_NUMBER', 3, 27],
  ['numgen modulus 0', rule('numgen random mod 0 vmap { 0 : drop }'), 'NFT_BAD_VALUE', 3, 35],
  ['a word that is no statement', rule('foo'), 'NFT_SYNTAX', 3, 17],
  ['a field ip does not have', rule('ip frob 1'), 'NFT_SYNTAX', 3, 20],
  ['match without a value', rule('ip daddr'), 'NFT_SYNTAX', 3, 25],
  ['jump without a chain', rule('ip daddr 1.2.3.4 jump'), 'NFT_SYNTAX', 3, 38],
  ['an empty set element', rule('ip daddr { 1.2.3.4, } drop'), 'NFT_SYNTAX', 3, 37],
  ['unknown command', 'add blah\n', 'NFT_SYNTAX', 1, 5],
  ['a family that is none', 'add table foo x\n', 'NFT_SYNTAX', 1, 15],
  ['unterminated quote', rule('ip daddr "abc drop'), 'NFT_UNTERMINATED_QUOTE', 3, 26],
  ['control byte', rule('ip daddr \x01 drop'), 'NFT_BINARY', 3, 26],
  ['block not closed', 'table ip x {\n\tchain y {\n\t\tip daddr 1.2.3.4 drop\n', 'NFT_UNBALANCED', 4, 1],
  ['stray closing brace', '}\n', 'NFT_UNBALANCED', 1, 1],
  ['unknown hook', 'add table ip x\nadd chain ip x z { type filter hook inpt priority 0 ; }\n', 'NFT_BAD_HOOK', 2, 37],
  ['unknown priority name', 'add table ip x\nadd chain ip x z { type filter hook input priority bogus ; }\n', 'NFT_BAD_PRIORITY', 2, 52],
  ['dstnat on the forward hook', 'table ip x {\n\tchain z {\n\t\ttype nat hook forward priority dstnat; policy accept;\n\t}\n}\n', 'NFT_BAD_PRIORITY', 3, 34],
  ['unknown datatype', 'add table ip x\nadd set ip x s { type ipv5_addr ; }\n', 'NFT_BAD_TYPE', 2, 23],
  ['time units out of order', 'add table ip x\nadd set ip x s { type ipv4_addr ; flags timeout ; timeout 1h1d ; }\n', 'NFT_BAD_TIME', 2, 59],
  ['element of an address set', 'add table ip x\nadd set ip x s { type ipv4_addr ; }\nadd element ip x s { 1.2.3.999 }\n', 'NFT_BAD_ADDRESS', 3, 22],
  ['element port of a map', 'add table ip x\nadd map ip x m { type inet_proto . inet_service : verdict ; }\nadd element ip x m { tcp . 65536 : drop }\n', 'NFT_BAD_PORT', 3, 28],
  ['element protocol of a map', 'add table ip x\nadd map ip x m { type inet_proto . inet_service : verdict ; }\nadd element ip x m { tpc . 80 : drop }\n', 'NFT_BAD_PROTOCOL', 3, 22],
  ['listing element of a typed set', 'table ip x {\n\tset s {\n\t\ttype inet_service\n\t\telements = { 80, 65536 }\n\t}\n}\n', 'NFT_BAD_PORT', 4, 20],
  ['set literals nested too deep', rule(`ip daddr ${'{ '.repeat(20)}${'}'.repeat(20)}`), 'NFT_TOO_LONG', 3, 58],
  ['a statement too long to read', rule(`${'counter '.repeat(3000)}accept`), 'NFT_TOO_LONG', 3, 1],
  ['valid nft kpsim does not model', rule('tcp dport 80 queue num 1'), 'NFT_NOT_MODELLED', 3, 30],
  ['an extension header match', rule('ip6 hbh nexthdr 6 drop'), 'NFT_NOT_MODELLED', 3, 17],
  ['a flowtable offload', rule('ip protocol tcp flow add @f'), 'NFT_NOT_MODELLED', 3, 33],
  ['a service name kpsim does not know', rule('tcp dport kerberos accept'), 'NFT_NOT_MODELLED', 3, 27],
  ['words in the middle of a rule', rule('ip daddr 1.2.3.4 foo bar drop'), 'NFT_SYNTAX', 3, 34],
];

describe('diagnostics', () => {
  it.each(cases)('%s', (_name, text, code, line, col) => {
    const { file, diagnostics } = parseNft(text, { file: 'in.nft' });
    const d = diagnostics.find((x) => x.code === code);
    expect(d, JSON.stringify(diagnostics.map((x) => [x.code, x.span?.line, x.span?.col, x.message]))).toBeDefined();
    expect(d!.file).toBe('in.nft');
    expect([d!.span?.line, d!.span?.col]).toEqual([line, col]);
    expect(d!.severity).toBe(code === 'NFT_NOT_MODELLED' ? 'warning' : 'error');
    expect(renderNft(file)).toBe(text);
  });

  it('reports every problem of a file at once, each where it is', () => {
    const text = `${T}add rule ip x y ip daddr 1.2.3.400 drop\nadd rule ip x y tcp dport 70000 drop\nadd rule ip x y ct state nw drop\n`;
    const { diagnostics } = parseNft(text, { file: 'in.nft' });
    expect(diagnostics.map((d) => [d.code, d.span?.line])).toEqual([
      ['NFT_BAD_ADDRESS', 3],
      ['NFT_BAD_PORT', 4],
      ['NFT_BAD_SYMBOL', 5],
    ]);
  });

  it("uses nft's own words", () => {
    const msg = (text: string) => parseNft(text, { file: 'in.nft' }).diagnostics[0]?.message;
    expect(msg(rule('tcp dport 70000 drop'))).toBe('Service out of range');
    expect(msg(rule('ip saddr 10.0.0.0/33 drop'))).toBe('Prefix length 33 is invalid for type of 32 bits width');
    expect(msg(rule('ip daddr'))).toBe('syntax error, unexpected newline');
    expect(msg('add table foo x\n')).toBe('syntax error, unexpected string, expecting end of file or newline or semicolon');
    expect(msg('add table ip x\nadd chain ip x z { type filter hook inpt priority 0 ; }\n')).toBe('unknown chain hook');
  });

  it('reads valid nft it has no table for without a word', () => {
    for (const r of ['ip dscp cs1 accept', 'meta skuid root accept', 'ether type 8021q accept', 'ct id 5 accept', 'icmpv6 type packet-too-big accept']) {
      expect(parseNft(rule(r), { file: 'in.nft' }).diagnostics, r).toEqual([]);
    }
  });

  it('with strict, what is not modelled is an error', () => {
    const { diagnostics } = parseNft(rule('tcp dport 80 queue num 1'), { file: 'in.nft', strict: true });
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['NFT_NOT_MODELLED', 'error']]);
  });
});
