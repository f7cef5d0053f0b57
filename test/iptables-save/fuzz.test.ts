// Mutations of the corpus (deleted, duplicated and swapped words and lines, random bytes,
// truncation): the parser always returns a ruleset, every diagnostic points inside the text, the
// text still renders back byte for byte. How long inputs take is a figure (printed, and measured
// in `npm run bench`), not an assertion: a timing check fails on a loaded machine, not on a slow parser.
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, renderRestore } from '../../src/iptables-save/index.js';
import { rng } from '../../bench/generate.js';
import { firstDifference } from '../fuzz/mutate.js';
import { corpus } from './corpus.js';
import { mutate } from './mutate.js';

const COUNT = 3000;

// A seeded generator (bench/generate.ts), so a failure names a reproducible input.
const files = corpus().filter((f) => f.text.length > 0);

describe('fuzz', () => {
  it(`${COUNT} mutated inputs`, () => {
    const r = rng(20261201);
    let slowest = 0;
    let slowestInput = -1;
    let withErrors = 0;
    for (let n = 0; n < COUNT; n++) {
      const f = files[Math.floor(r() * files.length)];
      const text = mutate(f.text, r);
      const t0 = performance.now();
      let result;
      try {
        result = parseIptablesSave(text, { file: 'fuzz', family: f.family });
      } catch (e) {
        throw new Error(`input ${n} (from ${f.name}) threw: ${(e as Error).stack}\n${JSON.stringify(text)}`);
      }
      const ms = performance.now() - t0;
      if (ms > slowest) [slowest, slowestInput] = [ms, n];
      expect(result.ruleset).not.toBeNull();
      const lineCount = text.split('\n').length;
      for (const d of result.diagnostics) {
        expect(d.span, `${d.code} without a position`).not.toBeNull();
        expect(d.span!.line).toBeGreaterThanOrEqual(1);
        expect(d.span!.line).toBeLessThanOrEqual(lineCount);
        expect(d.span!.col).toBeGreaterThanOrEqual(1);
        expect(d.span!.offset + d.span!.length).toBeLessThanOrEqual(text.length);
      }
      if (result.diagnostics.length) withErrors++;
      const diff = firstDifference(renderRestore(result.ruleset!), text);
      if (diff) expect.fail(`input ${n} from ${f.name}, ${diff}`);
    }
    // The mutations must actually produce bad input most of the time.
    expect(withErrors).toBeGreaterThan(COUNT / 3);
    console.log(`fuzz: ${COUNT} inputs, ${withErrors} with diagnostics, slowest ${slowest.toFixed(1)} ms (input ${slowestInput})`);
  });
});
