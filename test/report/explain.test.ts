// Why a rule did not match (packetsim/explain.ts), said with the packet's own values, decided by
// the simulator's compiled tests option by option; and the short exact forms of probabilities.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { nodeFromDumps } from '../../src/node/assemble.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { explainer } from '../../src/packetsim/explain.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { tracePacket, type PacketSpec } from '../../src/packetsim/trace.js';
import type { PathNode } from '../../src/packetsim/types.js';
import { decimalText, shortExact } from '../../src/report/exact.js';

const FILTER = (rules: string) => `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules}COMMIT\n`;

/** The why of every rule the packet tried and did not match, by the rule's line text. */
function whys(text: string, spec: PacketSpec): Map<string, string | null> {
  const sink = new DiagnosticSink();
  const node = nodeFromDumps({ iptables: [{ family: 'ipv4', file: 'node.rules', text }], interfaces: simpleInterfaces(['192.168.0.2']) }, sink)!;
  expect(sink.errors).toEqual([]);
  const { sim } = prepareNode(node, 'ipv4');
  const ex = explainer(node, 'ipv4');
  const out = new Map<string, string | null>();
  for (const w of tracePacket(sim.rs, sim.env, spec, { explain: true }).walks) {
    for (let n: PathNode | null = w.path; n; n = n.prev) if (n.kind === 'nomatch') out.set(ex.rule(n.rule!).text, ex.whyNot(n.rule!, n.at!, n.forked));
  }
  return out;
}

const PKT: PacketSpec = { protocol: 'tcp', sourceIP: '192.168.1.5', sourcePort: 40000, destIP: '10.1.2.3', destPort: 80 };

describe('why a rule did not match', () => {
  it.each([
    ['-A FORWARD -p tcp -m tcp --dport 443 -j DROP', '--dport 443 != 80'],
    ['-A FORWARD -s 10.0.0.0/8 -j DROP', '-s 10.0.0.0/8: 192.168.1.5 is outside'],
    ['-A FORWARD ! -s 192.168.0.0/16 -j DROP', '! -s 192.168.0.0/16: 192.168.1.5 is inside'],
    ['-A FORWARD -d 10.9.0.0/16 -j DROP', '-d 10.9.0.0/16: 10.1.2.3 is outside'],
    ['-A FORWARD -p udp -j DROP', '-p udp: the packet is tcp'],
    ['-A FORWARD -i eth1 -j DROP', '-i eth1: the packet came in on eth0'],
    ['-A FORWARD -m conntrack --ctstate ESTABLISHED -j DROP', '--ctstate ESTABLISHED: the packet is NEW'],
    ['-A FORWARD -m state --state INVALID -j DROP', '--state INVALID: the packet is NEW'],
    ['-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP', "--mark 0x4000/0x4000: the packet's mark is 0x0"],
    ['-A FORWARD -p tcp -m multiport --dports 443,8443 -j DROP', '--dports 443,8443: 80 is not among them'],
    ['-A FORWARD -p tcp -m tcp ! --sport 40000 -j DROP', '! --sport 40000: the port is 40000'],
    ['-A FORWARD -m addrtype --dst-type LOCAL -j DROP', '--dst-type LOCAL: 10.1.2.3 is not LOCAL'],
    ['-A FORWARD -m iprange --src-range 10.0.0.1-10.0.0.9 -j DROP', '--src-range 10.0.0.1-10.0.0.9: 192.168.1.5 is outside'],
    ['-A FORWARD -m recent --rcheck --seconds 60 --name X -j DROP', '-m recent --rcheck --seconds 60 --name X: 192.168.1.5 is not in recent list X within 60 s'],
    ['-A FORWARD -p tcp -m tcp --tcp-flags SYN,ACK ACK -j DROP', "--tcp-flags SYN,ACK ACK: the packet's TCP flags are SYN"],
  ])('%s: %s', (rule, why) => {
    expect(whys(FILTER(`${rule}\n`), PKT).get(rule)).toBe(why);
  });

  it('names the first test that fails, in the kernel\'s order (built-in matches first)', () => {
    const rule = '-A FORWARD -p tcp -m tcp --dport 443 -s 10.0.0.0/8 -j DROP';
    expect(whys(FILTER(`${rule}\n`), PKT).get(rule)).toBe('-s 10.0.0.0/8: 192.168.1.5 is outside');
    const later = '-A FORWARD -p tcp -m tcp --sport 40000 -m tcp --dport 443 -j DROP';
    expect(whys(FILTER(`${later}\n`), PKT).get(later)).toBe('--dport 443 != 80');
  });

  it('a statistic rule not picked, and an unmodelled match assumed false, say so', () => {
    const split = '-A FORWARD -m statistic --mode random --probability 0.25 -j DROP';
    expect(whys(FILTER(`${split}\n`), PKT).get(split)).toBe('-m statistic --mode random: not picked (the rule takes 1/4 of the packets that reach it)');
    const odd = '-A FORWARD -m statistic --mode random --probability 0.33333333349 -j DROP';
    expect(whys(FILTER(`${odd}\n`), PKT).get(odd)).toBe('-m statistic --mode random: not picked (the rule takes 715827883/2^31 of the packets that reach it)');
    const unknown = '-A FORWARD -m devgroup --src-group 0x1 -j DROP';
    expect(whys(FILTER(`${unknown}\n`), PKT).get(unknown)).toMatch(/^-m devgroup --src-group 0x1: not modelled .*assumes it does not match$/);
  });

  it('every rule the kube-proxy corpus does not match has a reason', () => {
    const rules = FILTER(['-A FORWARD -p tcp -m tcp --dport 443 -j DROP', '-A FORWARD -m conntrack --ctstate INVALID -j DROP', '-A FORWARD -m comment --comment "x" -m mark --mark 0x4000/0x4000 -j ACCEPT'].join('\n') + '\n');
    for (const [rule, why] of whys(rules, PKT)) expect(why, rule).not.toBeNull();
  });
});

describe('short exact forms', () => {
  it.each([
    [{ num: 1n, exp: 0, den: 3n }, '1/3'],
    [{ num: 715827883n, exp: 31, den: 1n }, '715827883/2^31'],
    [{ num: 1431655765n, exp: 32, den: 1n }, '1431655765/2^32'],
    [{ num: 1n, exp: 1, den: 1n }, '1/2'],
    [{ num: 3n, exp: 4, den: 1n }, '3/16'],
    [{ num: 1n, exp: 1, den: 3n }, '1/6'],
    [{ num: 5n, exp: 31, den: 3n }, '5/(3*2^31)'],
    [{ num: 1n, exp: 0, den: 1n }, '1'],
    [{ num: 0n, exp: 0, den: 1n }, '0'],
    // Reduced first: 2/4 is 1/2.
    [{ num: 2n, exp: 2, den: 1n }, '1/2'],
  ])('%o is %s', (p, text) => {
    expect(shortExact(p)).toBe(text);
  });

  it('has none where the numerator is long: a rounding is never passed off as exact', () => {
    expect(shortExact({ num: 230584300682760101n, exp: 61, den: 1n })).toBeNull();
  });

  it('decimals are short only when exact', () => {
    expect(decimalText({ num: 1n, exp: 1, den: 1n })).toBe('0.5');
    expect(decimalText({ num: 1n, exp: 0, den: 1n })).toBe('1');
    expect(decimalText({ num: 214748365n, exp: 31, den: 1n })).toBe('0.1000000001');
    expect(decimalText({ num: 1844674407394816091n, exp: 64, den: 1n })).toBe('0.1000000000');
    expect(decimalText({ num: 1n, exp: 0, den: 3n })).toBe('0.3333333333');
  });
});
