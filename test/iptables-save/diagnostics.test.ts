// Bad input: each case names the code and the line:column the diagnostic points at.
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, renderRestore } from '../../src/iptables-save/index.js';

const wrap = (rules: string, decl = ':X - [0:0]\n') => `*filter\n${decl}${rules}\nCOMMIT\n`;

// [name, text, code, line, col]
const cases: [string, string, string, number, number][] = [
  ['bad IPv4 address', wrap('-A X -s 10.0.0.300/32 -j ACCEPT'), 'IPT_BAD_ADDRESS', 3, 9],
  ['IPv6 address in an IPv4 file', wrap('-A X -s 10.0.0.1 -d ::1 -j ACCEPT'), 'IPT_BAD_ADDRESS', 3, 21],
  ['bad prefix', wrap('-A X -d 10.0.0.0/33 -j ACCEPT'), 'IPT_BAD_ADDRESS', 3, 9],
  ['port out of range', wrap('-A X -p tcp -m tcp --dport 70000 -j ACCEPT'), 'IPT_BAD_PORT', 3, 28],
  ['reversed port range', wrap('-A X -p tcp --sport 90:80 -j ACCEPT'), 'IPT_BAD_PORT', 3, 21],
  ['multiport range with an open end', wrap('-A X -p tcp -m multiport --dports 80,1024: -j ACCEPT'), 'IPT_BAD_PORT', 3, 35],
  ['--to-ports range with an open start', wrap('-A X -p tcp -j REDIRECT --to-ports -2000', ':X - [0:0]\n').replace('*filter', '*nat'), 'IPT_BAD_PORT', 3, 36],
  ['protocol name iptables does not know', wrap('-A X -p mpls -j ACCEPT'), 'IPT_BAD_PROTOCOL', 3, 9],
  ['non-contiguous netmask', wrap('-A X -s 10.0.0.0/255.0.255.0 -j ACCEPT'), 'IPT_BAD_ADDRESS', 3, 9],
  ['bad mark', wrap('-A X -m mark --mark 0xzz -j ACCEPT'), 'IPT_BAD_MARK', 3, 21],
  ['bad protocol', wrap('-A X -p tcpx -j ACCEPT'), 'IPT_BAD_PROTOCOL', 3, 9],
  ['bad probability', wrap('-A X -m statistic --mode random --probability 1.5 -j ACCEPT'), 'IPT_BAD_PROBABILITY', 3, 47],
  ['unknown ctstate', wrap('-A X -m conntrack --ctstate NEW,BOGUS -j ACCEPT'), 'IPT_BAD_VALUE', 3, 29],
  ['MAC address with seven bytes', wrap('-A X -m mac --mac-source 00:11:22:33:44:55:66 -j ACCEPT'), 'IPT_BAD_VALUE', 3, 26],
  ['MAC address with a byte of three digits', wrap('-A X -m mac --mac-source 000:1:2:3:4:5 -j ACCEPT'), 'IPT_BAD_VALUE', 3, 26],
  ['MAC address that is not hex', wrap('-A X -m mac --mac-source 00:11:22:33:44:zz -j ACCEPT'), 'IPT_BAD_VALUE', 3, 26],
  ['unknown option', wrap('-A X -m tcp --bogus 1 -j ACCEPT'), 'IPT_UNKNOWN_OPTION', 3, 13],
  ['option without its module', wrap('-A X --dport 80 -j ACCEPT'), 'IPT_UNKNOWN_OPTION', 3, 6],
  ['missing value', wrap('-A X -m comment --comment'), 'IPT_MISSING_VALUE', 3, 17],
  ['unquoted comment', wrap('-A X -m comment --comment two words -j ACCEPT'), 'IPT_UNEXPECTED_ARGUMENT', 3, 31],
  ['negation not allowed', wrap('-A X -m comment ! --comment x -j ACCEPT'), 'IPT_BAD_NEGATION', 3, 17],
  ['two targets', wrap('-A X -j ACCEPT -j DROP'), 'IPT_DUPLICATE_OPTION', 3, 16],
  ['two protocols', wrap('-A X -p tcp -p udp -j ACCEPT'), 'IPT_DUPLICATE_OPTION', 3, 13],
  ['interface too long', wrap('-A X -i abcdefghijklmnop -j ACCEPT'), 'IPT_BAD_INTERFACE', 3, 9],
  ['rule outside a table', '-A INPUT -j ACCEPT\n', 'IPT_OUTSIDE_TABLE', 1, 1],
  ['missing COMMIT at the end', '*filter\n:X - [0:0]\n-A X -j ACCEPT\n', 'IPT_MISSING_COMMIT', 4, 1],
  ['missing COMMIT before the next table', '*filter\n:X - [0:0]\n*nat\nCOMMIT\n', 'IPT_MISSING_COMMIT', 3, 1],
  ['rule in an undeclared chain', wrap('-A Y -j ACCEPT'), 'IPT_UNDECLARED_CHAIN', 3, 4],
  ['jump to a missing chain', wrap('-A X -j NOWHERE'), 'IPT_UNKNOWN_CHAIN', 3, 9],
  ['duplicate chain', wrap('-A X -j ACCEPT', ':X - [0:0]\n:X - [0:0]\n'), 'IPT_DUPLICATE_CHAIN', 3, 2],
  ['unknown table', '*bogus\nCOMMIT\n', 'IPT_UNKNOWN_TABLE', 1, 2],
  ['bad policy', '*filter\n:INPUT MAYBE [0:0]\nCOMMIT\n', 'IPT_BAD_POLICY', 2, 8],
  ['bad counters', '*filter\n:INPUT ACCEPT [x:0]\nCOMMIT\n', 'IPT_BAD_COUNTERS', 2, 15],
  ['unterminated quote', wrap('-A X -m comment --comment "open -j ACCEPT'), 'IPT_UNTERMINATED_QUOTE', 3, 27],
  ['binary garbage', wrap('-A X \x00\x01\x02 -j ACCEPT'), 'IPT_BINARY', 3, 6],
  ['syntax: a value where an option belongs', wrap('-A X foo -j ACCEPT'), 'IPT_SYNTAX', 3, 6],
  ['syntax: -m without a name', wrap('-A X -m'), 'IPT_SYNTAX', 3, 8],
  ['icmp in an IPv6 file', '*filter\n-A INPUT -s ::1 -p ipv6-icmp -m icmp --icmp-type 8 -j ACCEPT\nCOMMIT\n', 'IPT_WRONG_FAMILY', 2, 33],
  ['word longer than iptables takes', wrap(`-A X -m comment --comment ${'a'.repeat(2000)} -j ACCEPT`), 'IPT_LINE_TOO_LONG', 3, 27],
];

describe('diagnostics', () => {
  it.each(cases)('%s', (_name, text, code, line, col) => {
    const { ruleset, diagnostics } = parseIptablesSave(text, { file: 'in.rules' });
    const d = diagnostics.find((x) => x.code === code);
    expect(d, JSON.stringify(diagnostics.map((x) => [x.code, x.span?.line, x.span?.col]))).toBeDefined();
    expect(d!.file).toBe('in.rules');
    expect([d!.span?.line, d!.span?.col]).toEqual([line, col]);
    // The ruleset is still returned and still renders back what was read.
    expect(ruleset).not.toBeNull();
    expect(renderRestore(ruleset!)).toBe(text);
  });

  it('reports every error in the file, not only the first', () => {
    const text = wrap(['-A X -s 1.2.3.999 -j ACCEPT', '-A X -p tcp --dport 99999 -j ACCEPT', '-A X -m bogus-no --x -j ACCEPT', '-A X -j NOPE'].join('\n'));
    const codes = parseIptablesSave(text, { file: 'f' }).diagnostics.map((d) => `${d.code}@${d.span?.line}`);
    expect(codes).toEqual(['IPT_BAD_ADDRESS@3', 'IPT_BAD_PORT@4', 'IPT_UNKNOWN_CHAIN@6']);
  });

  it('keeps unknown modules and targets opaque, and refuses them with strict', () => {
    const text = wrap('-A X -m quota --quota 1000 --bogus 1 -j CLASSIFY --set-class 1:1');
    const lax = parseIptablesSave(text, { file: 'f' });
    expect(lax.diagnostics).toEqual([]);
    const rule = lax.ruleset!.tables[0].commands[0];
    expect(rule.kind === 'rule' && rule.args.map((a) => a.kind)).toEqual(['module', 'opaque', 'opaque']);
    expect(rule.kind === 'rule' && rule.target).toMatchObject({ kind: 'opaque', name: 'CLASSIFY', text: '--set-class 1:1' });
    const strict = parseIptablesSave(text, { file: 'f', strict: true }).diagnostics.map((d) => [d.code, d.span?.col]);
    expect(strict).toEqual([
      ['IPT_UNKNOWN_MODULE', 9],
      ['IPT_UNKNOWN_TARGET', 41],
    ]);
  });

  it('accepts what kube-proxy partial syncs rely on with noflush', () => {
    const text = '*nat\n-A KUBE-SERVICES -j KUBE-SVC-OLD\nCOMMIT\n';
    expect(parseIptablesSave(text, { file: 'f' }).diagnostics.map((d) => d.code)).toEqual(['IPT_UNDECLARED_CHAIN', 'IPT_UNKNOWN_CHAIN']);
    expect(parseIptablesSave(text, { file: 'f', noflush: true }).diagnostics).toEqual([]);
  });

  it('survives a 1 MB single line', () => {
    const text = wrap('-A X' + ' -s 10.0.0.1'.repeat(90_000));
    const { diagnostics } = parseIptablesSave(text, { file: 'f' });
    expect(diagnostics[0]).toMatchObject({ code: 'IPT_LINE_TOO_LONG', span: { line: 3, col: 1 } });
  });
});
