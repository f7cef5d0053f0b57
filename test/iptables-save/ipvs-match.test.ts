// -m ipvs (libxt_ipvs): read, checked and printed as iptables-save prints it. This kernel has no
// xt_ipvs (IPVS is not built), so no rule with it loads and the kernel-save fixtures cannot hold
// one (test/packetsim/coverage.test.ts names it as the one exception); the printed form follows
// libxt_ipvs's ipvs_mt_dump, whose format strings the last test finds in the installed library.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, renderSave } from '../../src/iptables-save/index.js';

const wrap = (rules: string) => `*filter\n:OUTPUT ACCEPT [0:0]\n${rules}COMMIT\n`;

function saved(rule: string): string {
  const { ruleset, diagnostics } = parseIptablesSave(wrap(`${rule}\n`), { file: 't.rules', family: 'ipv4' });
  expect(diagnostics).toEqual([]);
  return renderSave(ruleset!).split('\n').find((l) => l.startsWith('-A '))!;
}

function problems(rule: string): string[] {
  const { diagnostics } = parseIptablesSave(wrap(`${rule}\n`), { file: 't.rules', family: 'ipv4' });
  return diagnostics.map((d) => `${d.code} ${d.message}`);
}

describe('-m ipvs as iptables-save prints it', () => {
  it("kube-proxy's KUBE-IPVS-OUT-FILTER rule: protocol as a number, options in the library's order, no /32", () => {
    expect(saved('-A OUTPUT -s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP')).toBe(
      '-A OUTPUT -s 1.2.3.4/32 -m ipvs --vproto 6 --vaddr 1.2.3.4 --vport 80 -j DROP',
    );
  });

  it('--ipvs is printed only alone; the words in capitals; a network masked', () => {
    expect(saved('-A OUTPUT -m ipvs --ipvs -j ACCEPT')).toBe('-A OUTPUT -m ipvs --ipvs -j ACCEPT');
    expect(saved('-A OUTPUT -m ipvs ! --ipvs -j ACCEPT')).toBe('-A OUTPUT -m ipvs ! --ipvs -j ACCEPT');
    expect(saved('-A OUTPUT -m ipvs --ipvs --vmethod masq --vdir reply -j ACCEPT')).toBe('-A OUTPUT -m ipvs --vdir REPLY --vmethod MASQ -j ACCEPT');
    expect(saved('-A OUTPUT -m ipvs ! --vaddr 10.96.7.9/16 ! --vport 53 ! --vportctl 21 -j ACCEPT')).toBe(
      '-A OUTPUT -m ipvs ! --vaddr 10.96.0.0/16 ! --vport 53 ! --vportctl 21 -j ACCEPT',
    );
  });

  it('refuses what libxt_ipvs refuses: a port range, an unknown direction or method, a negated --vdir', () => {
    expect(problems('-A OUTPUT -m ipvs --vport 80:90 -j DROP')).toEqual([expect.stringMatching(/^IPT_BAD_VALUE '80:90' is not one port/)]);
    expect(problems('-A OUTPUT -m ipvs --vdir sideways -j DROP')).toEqual([expect.stringMatching(/^IPT_BAD_VALUE 'sideways' is not one of ORIGINAL, REPLY/)]);
    expect(problems('-A OUTPUT -m ipvs --vmethod nat -j DROP')).toEqual([expect.stringMatching(/^IPT_BAD_VALUE 'nat' is not one of GATE, IPIP, MASQ/)]);
    expect(problems('-A OUTPUT -m ipvs ! --vdir REPLY -j DROP')).toEqual([expect.stringMatching(/^IPT_BAD_NEGATION/)]);
  });

  const lib = ['/usr/lib/x86_64-linux-gnu/xtables/libxt_ipvs.so', '/usr/lib/aarch64-linux-gnu/xtables/libxt_ipvs.so', '/usr/lib/xtables/libxt_ipvs.so'].find((f) => existsSync(f));
  it.skipIf(!lib)(lib ? `the installed ${lib} prints the options in that order with those words` : 'libxt_ipvs format strings (skipped: no libxt_ipvs.so installed)', () => {
    // The format strings of ipvs_mt_dump, in the library's read-only data in source order.
    const text = readFileSync(lib!).toString('latin1');
    const formats = [' %sipvs', ' %svproto %u', ' %svaddr', ' %svport %u', ' %svdir REPLY', ' %svdir ORIGINAL', ' %svportctl %u'];
    const at = formats.map((f) => text.indexOf(f));
    expect(at.every((i) => i >= 0), `formats found at ${at.join(', ')}`).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
});
