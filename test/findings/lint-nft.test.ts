// lint on nftables nodes: nothing on kube-proxy's tables as kpsim compiles them (golden/kpsim-nftables
// listings, IPv4 and IPv6), and each finding on a mutation of one, at the line and column of the
// rule, element or chain: a stale chain, a deleted split element, a changed DNAT port, an endpoint
// chain without DNAT, splits kube-proxy does not write, unreachable and shadowed rules in another
// table, another table on kube-proxy's masquerade bit, chains of no object.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lintNode, type Finding } from '../../src/findings/index.js';
import { compiled, lineOf, nftCaseText, nftNode } from '../explain/nodes.js';

const BASE = nftCaseText('three-endpoint-split');

function lint(text: string, names = false): Finding[] {
  return lintNode(nftNode(text), 'ipv4', { file: null, nftFile: 'node.nft', names: names ? compiled('three-endpoint-split', 'nftables', 'golden/kpsim-nftables').names : null });
}

function found(text: string, names = false): string[] {
  return lint(text, names)
    .filter((f) => f.severity !== 'note')
    .map((f) => `${f.code} @ ${f.span?.line}:${f.span?.col}`);
}

/** The text with `chain` added to kube-proxy's table (before its last line). */
function withChain(text: string, chain: string): string {
  const at = text.lastIndexOf('}');
  return `${text.slice(0, at)}\n${chain}\n}\n`;
}

const OTHER_TABLE = (rules: string) => `\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n${rules}\n\t}\n}\n`;

describe('kpsim lint on nftables tables', () => {
  it("finds nothing on kube-proxy's tables as kpsim compiles them", () => {
    for (const c of readdirSync('golden/kpsim-nftables', { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const family = c.name === 'ipv6-nodeport' ? 'ipv6' : 'ipv4';
      const node = nftNode(nftCaseText(c.name), { family });
      expect(lintNode(node, family, { file: null, nftFile: 'nftables.txt' }).filter((f) => f.severity !== 'note'), c.name).toEqual([]);
    }
  });

  it('a deleted split element: the split falls through, and the endpoint chain is stale', () => {
    const text = BASE.replace(/, 1 : goto endpoint-SW4XSTA3-[^,}]+/, '');
    expect(found(text)).toEqual([`LINT_STALE_SERVICE_CHAIN @ ${lineOf(text, /chain endpoint-SW4XSTA3/)}:2`, `LINT_SPLIT_FALLS_THROUGH @ ${lineOf(text, /numgen random mod 3/)}:3`]);
    expect(lint(text).find((f) => f.code === 'LINT_SPLIT_FALLS_THROUGH')!.message).toContain('1431655765/4294967296 of new connections');
  });

  it('a stale chain: a service chain no verdict map sends to, and the endpoint chains only it sends to', () => {
    const text = withChain(BASE, '\tchain service-AAAAAAAA-shop/old/tcp/http {\n\t\tnumgen random mod 1 vmap { 0 : goto endpoint-OFLYLSRH-shop/web/tcp/http__10.244.1.190/8080 }\n\t}');
    expect(found(text)).toEqual([`LINT_STALE_SERVICE_CHAIN @ ${lineOf(text, /chain service-AAAAAAAA/)}:2`]);
    // Without its service-ips element, the port's own chains are stale too: the service chain first (its endpoints are still sent to by it).
    const gone = BASE.replace(/elements = \{ 10\.96\.0\.190 \. tcp \. 80 : goto service-KHN6ECMT-shop\/web\/tcp\/http \}/, '');
    expect(found(gone)).toEqual([`LINT_STALE_SERVICE_CHAIN @ ${lineOf(gone, /chain service-KHN6ECMT/)}:2`]);
  });

  it('a changed DNAT port, and an endpoint chain without DNAT', () => {
    const port = BASE.replace('dnat to 10.244.2.192:8080', 'dnat to 10.244.2.192:9090');
    expect(found(port)).toEqual([`LINT_DNAT_NOT_ENDPOINT @ ${lineOf(port, /dnat to 10\.244\.2\.192:9090/)}:3`]);
    const none = BASE.replace('\t\tmeta l4proto tcp dnat to 10.244.2.192:8080\n', '');
    expect(found(none)).toEqual([`LINT_SEP_WITHOUT_DNAT @ ${lineOf(none, /chain endpoint-2JRYBSDK/)}:2`]);
  });

  it("splits kube-proxy does not write: a value never drawn, an endpoint with two values", () => {
    const never = BASE.replace('2 : goto endpoint-2JRYBSDK', '3 : goto endpoint-2JRYBSDK');
    const at = lineOf(never, /numgen random mod 3/);
    expect(found(never)).toEqual([`LINT_SPLIT_FALLS_THROUGH @ ${at}:3`, `LINT_UNREACHABLE_ENDPOINT @ ${at}:${never.split('\n')[at - 1].indexOf('3 : goto') + 1}`]);
    const doubled = BASE.replace('numgen random mod 3 vmap { 0 : goto endpoint-OFLYLSRH-shop/web/tcp/http__10.244.1.190/8080,', 'numgen random mod 4 vmap { 0 : goto endpoint-OFLYLSRH-shop/web/tcp/http__10.244.1.190/8080, 3 : goto endpoint-OFLYLSRH-shop/web/tcp/http__10.244.1.190/8080,');
    expect(found(doubled)).toEqual([`LINT_UNEVEN_SPLIT @ ${lineOf(doubled, /numgen random mod 4/)}:3`]);
    expect(lint(doubled).find((f) => f.code === 'LINT_UNEVEN_SPLIT')!.message).toContain('endpoint-OFLYLSRH-shop/web/tcp/http__10.244.1.190/8080 has 2 values');
  });

  it('rules after one that ends the chain for every packet, and a rule an earlier one shadows', () => {
    const text = BASE + OTHER_TABLE('\t\ttcp dport 22 accept\n\t\tip saddr 10.0.0.0/8 tcp dport 22 accept\n\t\tdrop\n\t\ttcp dport 80 accept\n\t\tcounter');
    expect(found(text)).toEqual([`LINT_SHADOWED_RULE @ ${lineOf(text, /ip saddr 10\.0\.0\.0\/8 tcp dport 22 accept/)}:3`, `LINT_UNREACHABLE_RULE @ ${lineOf(text, /tcp dport 80 accept/)}:3`]);
    // A mark set between them: the earlier rule on the mark shadows no more.
    const marks = BASE + OTHER_TABLE('\t\tmeta mark 0x1 accept\n\t\tmeta mark set 0x1\n\t\tmeta mark 0x1 tcp dport 22 accept');
    expect(found(marks).filter((f) => f.startsWith('LINT_SHADOWED'))).toEqual([]);
  });

  it("another table's rules on kube-proxy's masquerade bit (0x4000)", () => {
    const text = BASE + OTHER_TABLE('\t\tmeta mark & 0x00004000 == 0x00004000 accept\n\t\tmeta mark set meta mark | 0x00014000\n\t\tmeta mark set meta mark | 0x00010000');
    expect(found(text)).toEqual([lineOf(text, /0x00004000 == 0x00004000 accept/), lineOf(text, /meta mark \| 0x00014000/)].map((l) => `LINT_MASQ_MARK_CONFLICT @ ${l}:3`));
  });

  it('with the objects: per-service chains no service port or endpoint has', () => {
    expect(found(BASE, true)).toEqual([]);
    const text = withChain(BASE, '\tchain endpoint-AAAAAAAA-shop/web/tcp/http__10.244.9.9/8080 {\n\t\tmeta l4proto tcp dnat to 10.244.9.9:8080\n\t}');
    expect(found(text, true)).toEqual([`LINT_STALE_SERVICE_CHAIN @ ${lineOf(text, /chain endpoint-AAAAAAAA/)}:2`, `LINT_CHAIN_NO_OBJECT @ ${lineOf(text, /chain endpoint-AAAAAAAA/)}:2`]);
  });
});
