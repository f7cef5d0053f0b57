// render(parse(text)) === text for every iptables text in the project, and the kernel's spelling
// is stable: renderSave of what renderSave printed is the same text.
import { describe, expect, it } from 'vitest';
import { parseIptablesSave, renderRestore, renderSave } from '../../src/iptables-save/index.js';
import { corpus } from './corpus.js';

const files = corpus();

describe('round trip over the corpus', () => {
  it('finds the golden, dump and fixture files', () => {
    expect(files.length).toBeGreaterThanOrEqual(55);
  });

  it.each(files.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const { ruleset, diagnostics } = parseIptablesSave(f.text, { file: f.name, family: f.family });
    expect(ruleset).not.toBeNull();
    expect(renderRestore(ruleset!)).toBe(f.text);
    // Parsing the rendering gives the same IR.
    expect(parseIptablesSave(renderRestore(ruleset!), { file: f.name, family: f.family }).ruleset).toEqual(ruleset);
    const loadable = !diagnostics.some((d) => d.severity === 'error') && !f.name.includes('partial') && !f.name.endsWith('-legacy');
    if (loadable) {
      const save = renderSave(ruleset!);
      const again = parseIptablesSave(save, { file: 'save', family: ruleset!.family });
      expect(again.diagnostics).toEqual([]);
      expect(renderSave(again.ruleset!)).toBe(save);
    }
  });

  it('keeps unusual whitespace, CRLF and a missing final newline', () => {
    const text = '# hand-edited\r\n*filter\r\n:INPUT  ACCEPT [0:0]\r\n-A INPUT\t -s 10.0.0.1   -m comment --comment "a  b"  -j ACCEPT \r\n\r\nCOMMIT\r\n# end';
    const { ruleset, diagnostics } = parseIptablesSave(text, { file: 'f' });
    expect(diagnostics).toEqual([]);
    expect(renderRestore(ruleset!)).toBe(text);
  });
});
