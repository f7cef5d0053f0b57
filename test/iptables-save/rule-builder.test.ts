// Rules are built by per-shape compiled builders (rule-builder.ts); the interpreter in
// build-table.ts says what they must build. Both over the corpus, as written and with its lines
// spelled otherwise (CRLF, doubled blanks, tabs, quotes dropped, options after the target):
// the same IR, with the same fields in the same order (as JSON shows it).
import { afterEach, describe, expect, it } from 'vitest';
import type { Family, Ruleset } from '../../src/iptables/ir.js';
import { useRuleBuilders } from '../../src/iptables-save/build-table.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { corpus } from './corpus.js';

const variants: [string, (t: string) => string][] = [
  ['as written', (t) => t],
  ['CRLF', (t) => t.replace(/\n/g, '\r\n')],
  ['doubled blanks', (t) => t.replace(/ /g, '  ')],
  ['tabs', (t) => t.replace(/ -/g, '\t-')],
  ['no quotes', (t) => t.replace(/"/g, '')],
  ['options after the target', (t) => t.replace(/-j /g, '-j  X --foo 1 -j ')],
  ['blanks around lines', (t) => ' ' + t.replace(/\n/g, ' \n ')],
];

function built(text: string, family: Family | undefined, compiled: boolean): string[] {
  useRuleBuilders(compiled);
  const { ruleset } = parseIptablesSave(text, { file: 'x', family });
  const rs = ruleset as Ruleset;
  // every line of every table, read the way a consumer of the whole IR does
  return rs.tables.map((t) => JSON.stringify({ chains: t.chains, commands: t.commands, lines: t.lines }, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
}

describe('compiled rule builders', () => {
  afterEach(() => useRuleBuilders(true));
  const files = corpus().filter((f) => f.text.length > 0);

  it('cover the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(55);
  });

  for (const [name, change] of variants) {
    it(`build what the interpreter builds (${name})`, () => {
      for (const f of files) {
        const text = change(f.text);
        expect(built(text, f.family, true), f.name).toEqual(built(text, f.family, false));
      }
    });
  }
});
