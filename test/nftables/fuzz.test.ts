// Mutations of the corpus and the fixtures (deleted, duplicated and swapped words and lines,
// braces and semicolons dropped in, random bytes, truncation): the reader never throws, every
// diagnostic points inside the text with a consistent line and column, and the text still renders
// back byte for byte. How long inputs take is printed, not asserted (speed belongs to the bench);
// the work is bounded by the reader's limits (MAX_SHAPE, nesting, recovery length).
import { describe, expect, it } from 'vitest';
import { rng } from '../../bench/generate.js';
import { firstDifference, mutate } from '../fuzz/mutate.js';
import { SourceText } from '../../src/diag/source.js';
import { parseNft, renderNft } from '../../src/nftables/index.js';
import { corpusRulesets, fixtures } from './corpus.js';

const COUNT = 2000;
const files = [...corpusRulesets(), ...fixtures()];
const INSERTS = ['{', '}', ';', '"', '#', '@', '.', ':', ',', '!=', 'add', 'table', 'chain', 'jump', 'vmap', 'elements =', '\t', '\r'];

describe('fuzz', () => {
  it(`${COUNT} mutated inputs: diagnostics, not exceptions`, () => {
    const r = rng(20261207);
    let slowest = 0;
    let withErrors = 0;
    for (let n = 0; n < COUNT; n++) {
      const f = files[Math.floor(r() * files.length)];
      const text = mutate(f.text, r, INSERTS);
      const t0 = performance.now();
      let result;
      try {
        result = parseNft(text, { file: 'fuzz' });
      } catch (e) {
        throw new Error(`input ${n} (from ${f.name}) threw: ${(e as Error).stack}\n${JSON.stringify(text)}`);
      }
      slowest = Math.max(slowest, performance.now() - t0);
      const src = new SourceText('fuzz', text);
      for (const d of result.diagnostics) {
        expect(d.span, `${d.code} without a position`).not.toBeNull();
        const s = d.span!;
        expect(s.offset + s.length, `${d.code} past the end`).toBeLessThanOrEqual(text.length);
        expect({ line: s.line, col: s.col }, `${d.code} ${d.message} in input ${n}`).toEqual(src.position(s.offset));
      }
      if (result.diagnostics.some((d) => d.severity === 'error')) withErrors++;
      const diff = firstDifference(renderNft(result.file), text);
      if (diff) expect.fail(`input ${n} from ${f.name}, ${diff}`);
    }
    expect(withErrors).toBeGreaterThan(COUNT / 3);
    console.log(`nft fuzz: ${COUNT} inputs, ${withErrors} with errors, slowest ${slowest.toFixed(1)} ms`);
  });
});
