// Rules are built by per-shape compiled builders (src/iptables-save/rule-builder.ts); the
// interpreter (rule-interpreter.ts, reading the text on its own with the oracle lexer) says what
// they must build. Both over the corpus, as written and respelled (CRLF, doubled blanks, tabs,
// quotes dropped, options after the target): the same rules, with the same fields in the same
// order (as JSON shows it).
import { describe, expect, it } from 'vitest';
import type { Ruleset } from '../../src/iptables/ir.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { corpus } from './corpus.js';
import { RESPELLINGS } from './respellings.js';
import { interpretRules } from './rule-interpreter.js';

/** JSON with bigints (parsed values such as marks) spelled `123n`. */
function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

describe('compiled rule builders', () => {
  const files = corpus().filter((f) => f.text.length > 0);

  it('cover the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(55);
  });

  for (const [name, change] of RESPELLINGS) {
    it(`build what the interpreter builds (${name})`, () => {
      let rules = 0;
      for (const f of files) {
        const text = change(f.text);
        const rs = parseIptablesSave(text, { file: 'x', family: f.family }).ruleset as Ruleset;
        // every rule of every table, read the way a consumer of the whole IR does
        const built = rs.tables.flatMap((t) => t.commands.filter((c) => c.kind === 'rule')).map(json);
        const interpreted = interpretRules(text, rs.family).map(json);
        expect(built, f.name).toEqual(interpreted);
        rules += built.length;
      }
      expect(rules).toBeGreaterThan(1000);
    });
  }
});
