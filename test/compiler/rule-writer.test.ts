import { describe, expect, it } from 'vitest';
import { addRule, canonicalize, chainLines, emptyTable, renderSyncTransaction, ruleLine, type RestoreTable } from '../../src/compiler/iptables/restore.js';
import { RuleWriter } from '../../src/compiler/iptables/rule-writer.js';
import { mulberry32 } from '../../src/util/rng.js';

/** The restore text as plain string joins: the reference the byte-buffer rendering must equal. */
function renderReference(tables: readonly RestoreTable[], written: ReadonlyMap<RestoreTable, ReadonlyMap<string, readonly string[]>>): string {
  let out = '';
  for (const t of tables) {
    out += `*${t.name}\n`;
    for (const c of t.chains) out += `:${c} - [0:0]\n`;
    const rules = written.get(t)!;
    for (const chain of t.order ?? rules.keys()) for (const r of rules.get(chain) ?? []) out += ruleLine(chain, r) + '\n';
    for (const c of t.deleted) out += `-X ${c}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

/** Random rules over a few chains, interleaved, long enough to outgrow the first buffer. */
function fill(t: RestoreTable, seed: number, count: number): Map<string, string[]> {
  const rand = mulberry32(seed);
  const chains = ['KUBE-SVC-AAAA', 'KUBE-SEP-BBBB', 'KUBE-EXT-\u00e9t\u00e9', 'OTHER'];
  const written = new Map<string, string[]>();
  for (let i = 0; i < count; i++) {
    const chain = chains[Math.floor(rand() * chains.length)];
    const text = rand() < 0.05 ? '' : `-m comment --comment "ns/svc-${i} caf\u00e9 \u{1f600}" -j X${'y'.repeat(Math.floor(rand() * 300))}`;
    addRule(t, chain, text);
    const list = written.get(chain);
    if (list) list.push(text);
    else written.set(chain, [text]);
  }
  return written;
}

describe('rule text', () => {
  it('keeps a fork apart from its original when either is cleared or written', () => {
    const a = new RuleWriter();
    a.append('X', 'one\n');
    const b = a.fork();
    a.clear();
    a.append('X', 'two\n');
    b.append('X', 'three\n');
    b.append('Y', 'z'.repeat(1 << 21) + '\n');
    expect(a.text('X')).toBe('two\n');
    expect(b.text('X')).toBe('one\nthree\n');
    expect(b.text('Y')).toHaveLength((1 << 21) + 1);
    b.clear();
    b.append('X', 'four\n');
    expect(b.text('X')).toBe('four\n');
    expect([...a.chains()]).toEqual(['X']);
  });

  it('reads back a chain written line after line across many writes, and after a read in between', () => {
    const t = new RuleWriter();
    const lines = Array.from({ length: 5000 }, (_, i) => `-A KUBE-SVC-LONG rule ${i} ${'x'.repeat(i % 97)}\n`);
    for (let i = 0; i < lines.length; i++) {
      t.append('KUBE-SVC-LONG', lines[i]);
      if (i === 1234) expect(t.text('KUBE-SVC-LONG')).toBe(lines.slice(0, 1235).join(''));
    }
    t.append('OTHER', 'one\n');
    t.append('KUBE-SVC-LONG', 'last\n');
    expect(t.text('KUBE-SVC-LONG')).toBe(lines.join('') + 'last\n');
    expect([...t.chains()]).toEqual(['KUBE-SVC-LONG', 'OTHER']);
  });

  it('counts each chain\'s lines across writes, replacements, forks and clears, and tells ASCII text apart', () => {
    const t = emptyTable('nat');
    const written = fill(t, 2, 3000);
    for (const [chain, rules] of written) expect(t.text.lineCount(t.text.idOf(chain)), chain).toBe(rules.length);
    expect(t.text.lineCount(t.text.idOf('KUBE-NONE'))).toBe(0);
    expect(t.text.isAscii).toBe(false);
    const w = new RuleWriter();
    w.append('A', 'one\n');
    w.append('B', 'two\n');
    w.append('A', 'three\n');
    expect(w.isAscii).toBe(true);
    const f = w.fork();
    f.replace('A', ['x\n']);
    f.append('B', 'four\n');
    expect([f.lineCount(f.idOf('A')), f.lineCount(f.idOf('B'))]).toEqual([1, 2]);
    expect([w.lineCount(w.idOf('A')), w.lineCount(w.idOf('B'))]).toEqual([2, 1]);
    w.clear();
    w.append('B', 'caf\u00e9\n');
    expect([w.lineCount(w.idOf('A')), w.lineCount(w.idOf('B')), w.isAscii]).toEqual([0, 1, false]);
  });

  it('reads back every rule as written, chain by chain, across buffer growth', () => {
    const t = emptyTable('nat');
    const written = fill(t, 1, 3000);
    expect([...t.rules]).toEqual([...written]);
    expect(chainLines(t, 'OTHER')).toEqual(written.get('OTHER')!.map((r) => ruleLine('OTHER', r)));
    expect(chainLines(t, 'KUBE-NONE')).toEqual([]);
    addRule(t, 'OTHER', 'late');
    expect(t.rules.get('OTHER')!.at(-1)).toBe('late');
  });

  it('renders what plain string joins render', () => {
    const filter = emptyTable('filter');
    const nat = emptyTable('nat');
    const written = new Map([
      [filter, fill(filter, 2, 50)],
      [nat, fill(nat, 3, 2000)],
    ]);
    filter.chains.push('KUBE-SVC-AAAA', 'OTHER');
    nat.chains.push('KUBE-SEP-BBBB', 'KUBE-EXT-\u00e9t\u00e9');
    nat.deleted.push('KUBE-SEP-GONE');
    expect(renderSyncTransaction({ filter, nat })).toBe(renderReference([filter, nat], written));
  });

  it('renders ASCII-only tables (decoded as Latin-1) as plain string joins do', () => {
    const filter = emptyTable('filter');
    const nat = emptyTable('nat');
    for (const [t, n] of [[filter, 10], [nat, 5000]] as const) for (let i = 0; i < n; i++) addRule(t, `KUBE-SEP-${i % 7}`, i % 13 === 0 ? '' : `-m comment --comment "ns/s-${i}" -j DNAT --to-destination 10.0.${i % 256}.1:80`);
    const written = new Map([filter, nat].map((t) => [t, new Map([...t.rules].map(([c, r]) => [c, [...r]]))]));
    nat.chains.push('KUBE-SEP-0', 'KUBE-SEP-3');
    const text = renderSyncTransaction({ filter, nat });
    expect(text).toBe(renderReference([filter, nat], written));
    expect(text).toContain('-A KUBE-SEP-0\n');
  });

  it('renders again into the memory of the last render, leaving the earlier text as it was', () => {
    const big = emptyTable('nat');
    for (let i = 0; i < 20000; i++) addRule(big, `KUBE-SEP-${i % 11}`, `-m comment --comment "ns/s-${i}" -j DNAT --to-destination 10.0.${i % 256}.1:80`);
    const small = emptyTable('nat');
    addRule(small, 'KUBE-SEP-X', '-j ACCEPT');
    const filter = emptyTable('filter');
    const first = renderSyncTransaction({ filter, nat: big });
    const copy = first.slice(0, 1000) + first.slice(1000);
    const second = renderSyncTransaction({ filter, nat: small });
    expect(second).toBe(renderReference([filter, small], new Map([[filter, new Map()], [small, new Map([['KUBE-SEP-X', ['-j ACCEPT']]])]])));
    expect(renderSyncTransaction({ filter, nat: big })).toBe(copy);
    expect(first).toBe(copy);
  });

  it('puts KUBE-SERVICES and KUBE-NODEPORTS in the order of the service names in their comments, the last-rule jump last, ties as written', () => {
    const rand = mulberry32(7);
    const comments = ['"ns1/a cluster IP"', '"ns1/a:p external IP"', 'ns1/b', '"ns10/x"', '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"', null, '"ns2/c loadbalancer IP"'];
    for (let round = 0; round < 200; round++) {
      const t = emptyTable('nat');
      t.chains.push('KUBE-NODEPORTS', 'KUBE-SERVICES');
      const rules = new Map<string, string[]>([['KUBE-NODEPORTS', []], ['KUBE-SERVICES', []]]);
      const n = Math.floor(rand() * 8);
      for (let i = 0; i < n; i++) {
        const chain = rand() < 0.5 ? 'KUBE-NODEPORTS' : 'KUBE-SERVICES';
        const c = comments[Math.floor(rand() * comments.length)];
        const text = c === null ? (rand() < 0.5 ? '' : `-j X${i}`) : `-m comment --comment ${c} -j X${i}`;
        addRule(t, chain, text);
        rules.get(chain)!.push(text);
      }
      // The reference: a stable sort by (last-rule mark, service name).
      const key = (r: string) => {
        const m = / ?--comment ("[^"]*"|\S+)/.exec(r);
        const c = m ? m[1].replace(/"/g, '') : '';
        return [c.includes('must be the last rule') ? 1 : 0, c.split(/[ :]/)[0]] as const;
      };
      const sorted = (list: string[]) => list.map((r, i) => ({ r, i, k: key(r) })).sort((a, b) => a.k[0] - b.k[0] || (a.k[1] < b.k[1] ? -1 : a.k[1] > b.k[1] ? 1 : a.i - b.i)).map((x) => x.r);
      const c = canonicalize(t);
      for (const [chain, list] of rules) expect(c.rules.get(chain) ?? [], `round ${round} ${chain}`).toEqual(sorted(list));
    }
  });

  it('reorders KUBE-SERVICES in a copy, leaving the original table as written', () => {
    const t = emptyTable('nat');
    t.chains.push('KUBE-SERVICES', 'KUBE-SVC-B');
    addRule(t, 'KUBE-SERVICES', '-m comment --comment "ns2/b cluster IP"');
    addRule(t, 'KUBE-SVC-B', '1');
    addRule(t, 'KUBE-SERVICES', '-m comment --comment "ns1/a cluster IP"');
    const c = canonicalize(t);
    const filter = canonicalize(emptyTable('filter'));
    expect(renderSyncTransaction({ filter, nat: c })).toBe(
      '*filter\nCOMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-B - [0:0]\n' +
        '-A KUBE-SERVICES -m comment --comment "ns1/a cluster IP"\n-A KUBE-SERVICES -m comment --comment "ns2/b cluster IP"\n-A KUBE-SVC-B 1\nCOMMIT\n',
    );
    addRule(c, 'KUBE-SVC-B', '2');
    addRule(t, 'KUBE-SVC-B', '3');
    expect(c.rules.get('KUBE-SERVICES')).toEqual(['-m comment --comment "ns1/a cluster IP"', '-m comment --comment "ns2/b cluster IP"']);
    expect(c.rules.get('KUBE-SVC-B')).toEqual(['1', '2']);
    expect(t.rules.get('KUBE-SERVICES')).toEqual(['-m comment --comment "ns2/b cluster IP"', '-m comment --comment "ns1/a cluster IP"']);
    expect(t.rules.get('KUBE-SVC-B')).toEqual(['1', '3']);
  });
});
