// The parse checks most values with a quick check on the source text (quick-check.ts quickOk) instead
// of reading them: a quick check may only say "no problem" where reading the value (readValue and
// checkWords, through ValueReader) finds none. Checked for every option value slot of the
// vocabulary against every word of the corpus, hand-picked edge cases and random words.
import { describe, expect, it } from 'vitest';
import type { Family } from '../../src/iptables/ir.js';
import { unquote } from '../../src/iptables-save/lexer.js';
import { BUILTIN, MATCH_MODULES, TARGET_MODULES, type ModuleSpec } from '../../src/iptables-save/spec.js';
import { QUICK_NONE, quickCheckOf, quickOk } from '../../src/iptables-save/quick-check.js';
import { isProblem } from '../../src/iptables-save/read-value.js';
import { ValueReader } from '../../src/iptables-save/value-reader.js';
import { rng } from '../../bench/generate.js';
import { corpus } from './corpus.js';
import { splitLine } from './line-oracle.js';

const EDGES = [
  '', '0', '00', '1', '65535', '65536', '99999', '000080', '0x50', '80:90', ':', 'http', '-1', '1e3',
  '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.02.3.4', '1.2.3.04', '1.2.3.4/', '1.2.3.4/0',
  '1.2.3.4/32', '1.2.3.4/33', '1.2.3.4/032', '1.2.3.4/8/8', '1.2.3.4/255.0.0.0', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:65535',
  '1.2.3.4:65536', '1.2.3.4:000080', '1.2.3.4:80-90', '1.2.3.4-1.2.3.5', '1.2.3.4:0x10', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4a',
  '1111.2.3.4', '1.2.3.4:80:90', '"1.2.3.4"', '1.2."3".4', '::1', '[::1]:80', 'fd00::1/64', '10.0.0.0/8', '.1.2.3', '1..2.3',
  '"a"', '"a b"', '"\\""', '"' + 'x'.repeat(300) + '"', 'x'.repeat(29), 'x'.repeat(30), 'x'.repeat(63), 'x'.repeat(64),
  'x'.repeat(255), 'x'.repeat(256), '"' + 'x'.repeat(255) + '"', '"' + 'x'.repeat(254) + '"', 'random', 'nth', 'NEW',
];

interface Slot {
  readonly kind: Parameters<typeof quickCheckOf>[0];
  readonly key: string;
  readonly index: number;
}

function slots(): Slot[] {
  const out: Slot[] = [];
  const add = (m: ModuleSpec) => {
    for (const o of m.options) o.args.forEach((kind, index) => out.push({ kind, key: `${m.name}.${o.name}`, index }));
  };
  add(BUILTIN);
  for (const m of MATCH_MODULES.values()) add(m);
  for (const m of TARGET_MODULES.values()) add(m);
  return out;
}

function randomWords(count: number): string[] {
  const r = rng(20261201);
  const alphabet = '0123456789.:/-x"\\ ab';
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let w = '';
    const n = 1 + Math.floor(r() * 24);
    for (let j = 0; j < n; j++) w += r() < 0.7 ? '0123456789.'[Math.floor(r() * 11)] : alphabet[Math.floor(r() * alphabet.length)];
    out.push(w);
  }
  return out;
}

describe('quick value checks', () => {
  const words = new Set<string>(EDGES);
  for (const f of corpus()) for (const line of f.text.split('\n')) for (const w of splitLine(line).texts) words.add(w);
  for (const w of randomWords(20000)) words.add(w);
  const all = [...words];

  for (const family of ['ipv4', 'ipv6'] as Family[]) {
    it(`never pass a value that reading finds a problem in (${family})`, () => {
      let quick = 0;
      let passed = 0;
      const wrong: string[] = [];
      for (const slot of slots()) {
        const q = quickCheckOf(slot.kind, slot.key, slot.index, family);
        if (q.quick === QUICK_NONE) continue;
        quick++;
        const reader = new ValueReader(family);
        for (const w of all) {
          // in the middle of other text, as in the file
          const src = `x ${w} y`;
          if (!quickOk(q, src, 2, 2 + w.length)) continue;
          passed++;
          const r = reader.read(slot, w);
          if (isProblem(r)) wrong.push(`${slot.key}#${slot.index} (${slot.kind}) ${JSON.stringify(w)}: ${r.message}`);
        }
      }
      expect(wrong.slice(0, 20)).toEqual([]);
      expect(quick).toBeGreaterThan(10);
      expect(passed).toBeGreaterThan(1000);
    });
  }

  it('take the hot kube-proxy values', () => {
    const ok = (kind: Slot['kind'], key: string, w: string) => quickOk(quickCheckOf(kind, key, 0, 'ipv4'), w, 0, w.length);
    expect(ok('address', '.source', '10.0.81.61')).toBe(true);
    expect(ok('address', '.source', '10.0.0.0/8')).toBe(true);
    expect(ok('natRange', 'DNAT.to-destination', '10.0.81.61:8080')).toBe(true);
    expect(ok('port', 'tcp.dport', '30900')).toBe(true);
    expect(ok('string', 'comment.comment', '"ns-0/svc-2650:http has no local endpoints"')).toBe(true);
    expect(ok('word', 'recent.name', 'KUBE-SEP-2223OORDO66TYQBX')).toBe(true);
    expect(ok('address', '.source', '10.0.81.256')).toBe(false);
    expect(ok('word', 'statistic.mode', 'random')).toBe(false); // a word list: read
  });
});

/** unquote as it was written first, character by character. */
function unquoteReference(text: string): string {
  let out = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuote) {
      if (ch === '\\' && i + 1 < text.length) out += text[++i];
      else if (ch === '"') inQuote = false;
      else out += ch;
    } else if (ch === '"') inQuote = true;
    else out += ch;
  }
  // A quote left open keeps the line break iptables-restore reads inside it.
  return inQuote ? out + '\n' : out;
}

describe('unquote', () => {
  it('reads every corpus word, edge case and random word as the character-by-character reference does', () => {
    const r = rng(7);
    const words = [...EDGES, '"a\\', '\\"', '"\\\\"', 'a"b"c', '""', '"', '"a\\"b" c', '"é\\\u{1F600}"'];
    for (const f of corpus()) for (const line of f.text.split('\n')) for (const w of splitLine(line).texts) if (w.includes('"')) words.push(w);
    for (let i = 0; i < 5000; i++) {
      let w = '';
      for (let j = Math.floor(r() * 12); j > 0; j--) w += 'a"\\ b'[Math.floor(r() * 5)];
      words.push(w);
    }
    for (const w of words) expect(unquote(w)).toBe(unquoteReference(w));
  });
});
