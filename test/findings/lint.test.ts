// Each lint finding on a mutation of a golden ruleset that shows it, at the line and column of the
// rule or chain; and none at all on kpsim's golden rulesets (what kube-proxy writes is clean).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lintNode, type Finding } from '../../src/findings/index.js';
import { guessFamily } from '../../src/iptables-save/parse.js';
import { caseText, compiled, dumpNode, edit, lineOf } from '../explain/nodes.js';

const BASE = caseText('three-endpoint-split', 'node.rules');

function lint(text: string, names = false): Finding[] {
  return lintNode(dumpNode(text, { lenient: true }), guessFamily(text), { file: 'node.rules', names: names ? compiled('three-endpoint-split').names : null });
}

/** code @ line:col of every warning and error. */
function found(text: string, names = false): string[] {
  return lint(text, names)
    .filter((f) => f.severity !== 'note')
    .map((f) => `${f.code} @ ${f.span?.line}:${f.span?.col}`);
}

/** Inserts `rules` after the line matching `re`. */
function after(text: string, re: RegExp, ...rules: string[]): string {
  return edit(text, re, (l) => [l, ...rules].join('\n'));
}

describe('kpsim lint', () => {
  it('finds nothing on the golden rulesets kpsim compiles (iptables and IPVS)', () => {
    for (const c of readdirSync('golden/kpsim', { withFileTypes: true }).filter((d) => d.isDirectory())) {
      expect(found(readFileSync(`golden/kpsim/${c.name}/node.rules`, 'utf8')), c.name).toEqual([]);
    }
    for (const c of readdirSync('golden/kpsim-ipvs', { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const dir = `golden/kpsim-ipvs/${c.name}`;
      const node = dumpNode(readFileSync(`${dir}/iptables.save`, 'utf8'), { lenient: true, mode: 'ipvs', ipsets: readFileSync(`${dir}/ipset.save`, 'utf8'), ipvs: readFileSync(`${dir}/ipvsadm.save`, 'utf8') });
      expect(lintNode(node, 'ipv4', { file: 'iptables.save' }).filter((f) => f.severity !== 'note'), c.name).toEqual([]);
    }
  });

  it('a jump to a chain the table lacks is an error at the target', () => {
    const text = BASE.replace('-j KUBE-SEP-GMCUMTIJ55LBH63B', '-j KUBE-SEP-MISSINGMISSING00');
    const line = lineOf(text, /KUBE-SEP-MISSINGMISSING00/);
    const f = lint(text).filter((x) => x.code === 'LINT_JUMP_TO_MISSING_CHAIN');
    expect(f.map((x) => [x.severity, x.span?.line, x.span?.col])).toEqual([['error', line, text.split('\n')[line - 1].indexOf('-j KUBE-SEP-MISSING') + 1]]);
  });

  it('a deleted endpoint jump leaves its KUBE-SEP chain stale, and the split uneven', () => {
    const text = edit(BASE, /-j KUBE-SEP-4ZSP25TBVKJOXROB$/, null);
    expect(found(text)).toEqual([`LINT_STALE_SERVICE_CHAIN @ ${lineOf(text, /^:KUBE-SEP-4ZSP25TBVKJOXROB/)}:1`, `LINT_UNEVEN_SPLIT @ ${lineOf(text, /^-A KUBE-SVC-67NZLRHBNDSAWJRO .*0\.33333333349/)}:1`]);
  });

  it('a stale service chain; with the objects, also one that matches no object', () => {
    const text = after(BASE, /^:KUBE-SVC-67NZLRHBNDSAWJRO/, ':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]', ':OTHER-CHAIN - [0:0]');
    const line = lineOf(text, /^:KUBE-SVC-AAAAAAAAAAAAAAAA/);
    expect(found(text)).toEqual([`LINT_STALE_SERVICE_CHAIN @ ${line}:1`]);
    expect(found(text, true)).toEqual([`LINT_STALE_SERVICE_CHAIN @ ${line}:1`, `LINT_CHAIN_NO_OBJECT @ ${line}:1`]);
    // Another component's unreferenced chain is only a note.
    expect(lint(text).filter((f) => f.code === 'LINT_UNREFERENCED_CHAIN').map((f) => [f.severity, f.span?.line])).toEqual([['note', line + 1]]);
  });

  it('a rule shadowed by an earlier one that covers it and ends the chain', () => {
    const text = after(BASE, /^-A KUBE-FORWARD -m conntrack --ctstate INVALID/, '-A KUBE-FORWARD -s 10.0.0.0/8 -j DROP', '-A KUBE-FORWARD -s 10.1.0.0/16 -p tcp -m tcp --dport 80 -j ACCEPT', '-A KUBE-FORWARD -s 192.168.0.0/16 -j ACCEPT');
    expect(found(text)).toEqual([`LINT_SHADOWED_RULE @ ${lineOf(text, /-s 10\.1\.0\.0\/16/)}:1`]);
  });

  it('a mark tested again after a rule that may change it is not shadowed (Calico re-tests its accept bit after a sub-chain)', () => {
    const chain = (...middle: string[]) => {
      let text = after(BASE, /^:KUBE-FORWARD/, ':cali-fw - [0:0]', ':cali-pro - [0:0]');
      text = after(text, /^-A KUBE-FORWARD -m conntrack --ctstate INVALID/, '-A cali-fw -m mark --mark 0x10000/0x10000 -j RETURN', ...middle, '-A cali-fw -m mark --mark 0x10000/0x10000 -j RETURN', '-A cali-fw -j DROP');
      return after(text, /^-A FORWARD -m comment --comment "kubernetes forwarding rules"/, '-A FORWARD -j cali-fw', '-A FORWARD -j cali-pro');
    };
    // Nothing in between: the second test can never match.
    const same = chain();
    expect(found(same)).toEqual([`LINT_SHADOWED_RULE @ ${lineOf(same, /cali-fw -m mark/) + 1}:1`]);
    // A MARK target, or a jump to a chain that may set the mark, in between: it can.
    expect(found(chain('-A cali-fw -j MARK --set-xmark 0x0/0x10000'))).toEqual([]);
    expect(found(chain('-A cali-fw -j cali-pro'))).toEqual([]);
    // A LOG rule changes nothing: still shadowed.
    const logged = chain('-A cali-fw -j LOG');
    expect(found(logged)).toEqual([`LINT_SHADOWED_RULE @ ${lineOf(logged, /cali-fw -j LOG/) + 1}:1`]);
  });

  it('rules after one that ends the chain for every packet', () => {
    const text = after(BASE, /^-A KUBE-FORWARD -m conntrack --ctstate INVALID/, '-A KUBE-FORWARD -m comment --comment "allow all" -j ACCEPT');
    const f = lint(text).filter((x) => x.code === 'LINT_UNREACHABLE_RULE');
    expect(f.map((x) => x.span?.line)).toEqual([lineOf(text, /allow all/) + 1]);
    expect(f[0].message).toContain('and the 1 after it');
  });

  it('a KUBE-SEP chain without DNAT', () => {
    const text = edit(BASE, /^-A KUBE-SEP-GMCUMTIJ55LBH63B -p tcp/, null);
    expect(found(text)).toEqual([`LINT_SEP_WITHOUT_DNAT @ ${lineOf(text, /^:KUBE-SEP-GMCUMTIJ55LBH63B/)}:1`]);
  });

  it('statistic splits other than kube-proxy\'s: uneven, an unreachable endpoint, traffic falling through', () => {
    const uneven = BASE.replace('--probability 0.50000000000', '--probability 0.60000000000');
    expect(found(uneven)).toEqual([`LINT_UNEVEN_SPLIT @ ${lineOf(uneven, /0\.60000000000/)}:1`]);
    // The kernel stores lround(2^31 p): 715827883 and 1288490189; each rule takes its share of what is left.
    const [s1, s2, scale] = [715827883n, 1288490189n, 2n ** 31n];
    const second = (scale - s1) * s2; // over 2^62
    const third = (scale - s1) * (scale - s2); // over 2^62
    const reduced = (n: bigint, exp: bigint) => {
      while (n % 2n === 0n) [n, exp] = [n / 2n, exp - 1n];
      return `${n}/${2n ** exp}`;
    };
    expect(lint(uneven).find((f) => f.code === 'LINT_UNEVEN_SPLIT')!.notes).toEqual([
      `shares: KUBE-SEP-VVPBSSYR66K7GAQW 715827883/2147483648, KUBE-SEP-4ZSP25TBVKJOXROB ${reduced(second, 62n)}, KUBE-SEP-GMCUMTIJ55LBH63B ${reduced(third, 62n)}`,
      "kube-proxy's: 715827883/2147483648, 1431655765/4294967296, 1431655765/4294967296",
    ]);
    const unreachable = BASE.replace('--probability 0.33333333349', '--probability 1.0');
    expect(found(unreachable)).toEqual([lineOf(unreachable, /KUBE-SEP-4ZSP25TBVKJOXROB$/), lineOf(unreachable, /KUBE-SEP-GMCUMTIJ55LBH63B$/)].map((l) => `LINT_UNREACHABLE_ENDPOINT @ ${l}:1`));
    const through = edit(BASE, /-j KUBE-SEP-GMCUMTIJ55LBH63B$/, (l) => l.replace('-j KUBE-SEP', '-m statistic --mode random --probability 0.50000000000 -j KUBE-SEP'));
    expect(found(through)).toEqual([`LINT_SPLIT_FALLS_THROUGH @ ${lineOf(through, /0\.5.* -j KUBE-SEP-GMCUMTIJ55LBH63B$/)}:1`]);
  });

  it("kube-proxy before 1.17 printed probabilities %0.5f: its splits are kube-proxy's, other ones are not", () => {
    const old = BASE.replace('--probability 0.33333333349', '--probability 0.33332999982');
    expect(found(old)).toEqual([]);
    const off = BASE.replace('--probability 0.33333333349', '--probability 0.33334000222');
    expect(found(off)).toEqual([`LINT_UNEVEN_SPLIT @ ${lineOf(off, /0\.33334000222/)}:1`]);
  });

  it("another component's rules on kube-proxy's masquerade mark bit (Azure NPM's 0x4000)", () => {
    let text = after(BASE, /^:KUBE-FORWARD/, ':AZURE-NPM - [0:0]');
    text = after(text, /^-A KUBE-FORWARD -m conntrack --ctstate INVALID/, '-A AZURE-NPM -m mark --mark 0x4000/0x4000 -j ACCEPT', '-A AZURE-NPM -j MARK --set-xmark 0x4000/0x4000', '-A AZURE-NPM -j MARK --set-xmark 0x10000/0x10000');
    text = after(text, /^-A FORWARD -m comment --comment "kubernetes forwarding rules"/, '-A FORWARD -j AZURE-NPM');
    expect(found(text)).toEqual([lineOf(text, /AZURE-NPM -m mark/), lineOf(text, /AZURE-NPM -j MARK --set-xmark 0x4000/)].map((l) => `LINT_MASQ_MARK_CONFLICT @ ${l}:1`));
  });

  // What lint says about each realistic dump of test/fixtures/dumps (kube-proxy of several eras beside
  // other components), reviewed finding by finding.
  const DUMPS: Readonly<Record<string, readonly string[]>> = {
    'calico-v3.27.iptables': [],
    'docker-20.10.iptables': [],
    'docker-28.iptables': [],
    'docker-port-ranges.iptables': [],
    // The ftp helper's RELATED rule comes after `--ctstate RELATED,ESTABLISHED -j ACCEPT`, which takes every packet it would.
    'edge-router-qos.iptables': ['LINT_SHADOWED_RULE @ 45:1'],
    'firewalld-centos7.iptables-legacy': [],
    // kube-proxy 1.20 wrote the two RELATED,ESTABLISHED rules; without a cluster CIDR they are the same rule.
    'flannel-kube-proxy-v1.20.iptables': ['LINT_SHADOWED_RULE @ 39:1', 'LINT_MASQ_MARK_CONFLICT @ 86:1'],
    'home-router.iptables': [],
    'ipv6-server.ip6tables': [],
    // Flannel tests kube-proxy's 0x4000 to leave kube-proxy's packets alone: the bit is shared, so it is said.
    'k3s-v1.29.iptables': ['LINT_MASQ_MARK_CONFLICT @ 102:1'],
    'kube-proxy-iptables-v1.10.iptables-legacy': [],
    'kube-proxy-iptables-v1.31-ipv6.ip6tables': [],
    'kube-proxy-iptables-v1.31.iptables': [],
    'kube-proxy-ipvs-v1.28.iptables': [],
    'openstack-compute.iptables': [],
    'ufw-fail2ban.iptables': [],
    'ufw-hashlimit-owner.iptables': [],
    'ufw-ipv6.ip6tables': [],
  };

  it.each(Object.entries(DUMPS))('the realistic dump %s', (name, want) => {
    const text = readFileSync(`test/fixtures/dumps/${name}`, 'utf8');
    const base = name.replace(/\.[^.]+$/, '');
    const ipsets = existsSync(`test/fixtures/dumps/${base}.ipsets`) ? readFileSync(`test/fixtures/dumps/${base}.ipsets`, 'utf8') : undefined;
    const node = dumpNode(text, { lenient: true, ipsets });
    expect(lintNode(node, guessFamily(text), { file: name }).filter((f) => f.severity !== 'note').map((f) => `${f.code} @ ${f.span?.line}:${f.span?.col}`)).toEqual(want);
  });

  it('covers every dump of test/fixtures/dumps', () => {
    expect(readdirSync('test/fixtures/dumps').filter((f) => /\.(iptables|ip6tables|iptables-legacy)$/.test(f)).sort()).toEqual(Object.keys(DUMPS).sort());
  });

  it("kubelet's KUBE-IPTABLES-HINT and the canaries are no finding at all", () => {
    const text = readFileSync('test/fixtures/dumps/kube-proxy-iptables-v1.31.iptables', 'utf8');
    expect(text).toContain(':KUBE-IPTABLES-HINT');
    expect(lint(text)).toEqual([]);
  });
});
