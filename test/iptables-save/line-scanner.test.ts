// The reader's one line lexer (line-scanner.ts: words as offsets and hashes, shapes as interned
// ids, scanned on the file's own string) against the plain oracle (line-oracle.ts splitLine and
// shapeOf, on strings): for every line, the same words (offsets, text, quoted), the same first
// control byte and unclosed quote, the same shape and so the same plan. Lines come from the
// corpus as written and respelled, its mutations, and hand-made hostile lines.
import { describe, expect, it } from 'vitest';
import type { Family } from '../../src/iptables/ir.js';
import { keepTarget, LineScanner, MAX_WORD, MAX_WORDS } from '../../src/iptables-save/line-scanner.js';
import { planFor } from '../../src/iptables-save/plan.js';
import { hashOf } from '../../src/iptables-save/word-table.js';
import { mulberry32 } from '../../src/util/rng.js';
import { corpus } from './corpus.js';
import { shapeOf, splitLine } from './line-oracle.js';
import { mutate } from './mutate.js';
import { RESPELLINGS } from './respellings.js';

interface Seen {
  readonly words: readonly (readonly [number, string, boolean, number])[] | null;
  readonly count: number;
  readonly controlAt: number;
  readonly unterminatedAt: number;
  readonly longWord: boolean;
  readonly shape: string | null;
}

/** What the scanner makes of the line text[from, to). */
function scanned(sc: LineScanner, text: string, from: number, to: number, family: Family): Seen {
  const plan = sc.scan(text, from, to);
  const shape = plan ? sc.shapeKey() : null;
  if (plan && plan !== planFor(shape!, family)) throw new Error(`the plan of ${JSON.stringify(text.slice(from, to))} is not its shape's`);
  const binary = sc.controlAt >= 0;
  const words = binary || sc.count > MAX_WORDS ? null : Array.from({ length: sc.n }, (_, i) => [sc.starts[i], sc.text(i), sc.quoted[i] === 1, sc.hash(i)] as const);
  return { words, count: binary ? -1 : sc.count, controlAt: sc.controlAt, unterminatedAt: binary ? -1 : sc.unterminatedAt, longWord: !binary && sc.longWord, shape };
}

/** What the oracle makes of the same line: the plan is wanted for every line of 1 to MAX_WORDS words without control bytes. */
function oracle(line: string): Seen {
  const w = splitLine(line);
  const n = w.texts.length;
  const binary = w.controlAt >= 0;
  const words = binary || n > MAX_WORDS ? null : w.texts.map((t, i) => [w.starts[i], t, w.quoted[i], hashOf(t)] as const);
  const planned = !binary && n > 0 && n <= MAX_WORDS;
  return {
    words,
    count: binary ? -1 : n,
    controlAt: w.controlAt,
    unterminatedAt: binary ? -1 : w.unterminatedAt,
    longWord: !binary && w.texts.some((t) => t.length > MAX_WORD),
    shape: planned ? shapeOf(w, keepTarget) : null,
  };
}

/** Every line of the text scanned where the parse scans it (the file's string, a final CR left out), with the oracle's answer. */
function compare(text: string, family: Family, sc = new LineScanner(family)): { line: string; got: Seen; want: Seen }[] {
  const differ: { line: string; got: Seen; want: Seen }[] = [];
  for (let start = 0; start <= text.length; ) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    const end = text.charCodeAt(nl - 1) === 13 && nl > start ? nl - 1 : nl;
    const line = text.slice(start, end);
    const got = scanned(sc, text, start, end, family);
    const want = oracle(line);
    if (JSON.stringify(got) !== JSON.stringify(want)) differ.push({ line, got, want });
    start = nl + 1;
  }
  return differ;
}

const files = corpus().filter((f) => f.text.length > 0);

const HOSTILE = [
  '',
  ' \t ',
  '-A X -j ACCEPT',
  '\t-A\tX  -p  TCP -m tcp --dport 80 -j DNAT --to-destination 10.0.0.1:80 ',
  '-A X -m comment --comment "a \\"quoted\\" \\\\ comment" -j RETURN',
  '-A X -m comment --comment "open quote -j ACCEPT',
  '-A X -m comment --comment "ends in a backslash\\',
  '-A X -m comment --comment "ends in an escaped quote\\"',
  '-A X -m comment --comment "an escaped backslash\\\\" -j ACCEPT',
  '-A X -m comment --comment "a"b -j ACCEPT',
  '-A X -m comment --comment \'single quotes\' -j ACCEPT',
  '-A X ! -s 10.0.0.0/8 -m -p -p udp -j ! ',
  '-A X -j -j -m -m -p -p -j',
  '-A X -j KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
  '[0:0] -A X -j ACCEPT [1:2]',
  '*filter',
  '*',
  ':KUBE-SERVICES - [0:0]',
  ':',
  'COMMIT',
  'COMMIT extra',
  '-A X -s 10.0.0.1\u0000 -j ACCEPT',
  '-A X -m comment --comment "nul \u0000 inside" -j ACCEPT',
  '-A X -m comment --comment "escaped \\\u0001 control" -j ACCEPT',
  '-A X -m comment --comment "tab\tinside" -j ACCEPT',
  '-A X\u007f -j ACCEPT',
  '-A X -j ACCEPT\r',
  '-A X -m comment --comment "' + 'x'.repeat(MAX_WORD) + '" -j ACCEPT',
  '-A X -m comment --comment ' + 'y'.repeat(MAX_WORD) + ' -j ACCEPT',
  '-A X -m comment --comment ' + 'y'.repeat(MAX_WORD + 1) + ' -j ACCEPT',
  Array.from({ length: MAX_WORDS }, (_, i) => (i === 0 ? '-A' : 'w')).join(' '),
  Array.from({ length: MAX_WORDS + 1 }, (_, i) => (i === 0 ? '-A' : 'w')).join(' '),
  Array.from({ length: MAX_WORDS + 5 }, (_, i) => (i === 0 ? '-A' : 'w')).join(' ') + ' \u0002',
  '-A X ' + '-m tcp '.repeat(400) + '"open',
];

describe('the line scanner agrees with the oracle lexer', () => {
  it('covers the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(55);
  });

  for (const [name, change] of RESPELLINGS) {
    it(`on the corpus (${name})`, () => {
      for (const f of files) {
        const family = f.family ?? 'ipv4';
        expect(compare(change(f.text), family).slice(0, 3), f.name).toEqual([]);
      }
    });
  }

  it('on hand-made hostile lines, as a file and one by one', () => {
    expect(compare(HOSTILE.join('\n'), 'ipv4')).toEqual([]);
    const sc = new LineScanner('ipv6');
    for (const line of HOSTILE) expect(compare(`# before\n${line}\n# after`, 'ipv6', sc)).toEqual([]);
  });

  it('on 2,000 mutations of the corpus', () => {
    const r = mulberry32(20260512);
    let binary = 0;
    let planned = 0;
    for (let n = 0; n < 2000; n++) {
      const f = files[Math.floor(r() * files.length)];
      const text = mutate(f.text, r);
      expect(compare(text, f.family ?? 'ipv4').slice(0, 3), `mutation ${n} of ${f.name}`).toEqual([]);
      binary += text.split('\n').filter((l) => splitLine(l).controlAt >= 0).length;
      planned += text.split('\n').filter((l) => splitLine(l).texts.length > 0).length;
    }
    // The mutations reach both the scanner's refusals and its plans.
    expect(binary).toBeGreaterThan(100);
    expect(planned).toBeGreaterThan(10_000);
  });
});
