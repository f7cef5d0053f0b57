// flows.yaml reading and rewriting, and the unified diff: the pieces of kpsim golden that are
// not whole cases.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseFlowsFile, parseJsonFlows, parseYamlFlows } from '../../src/golden/flows-file.js';
import { unifiedDiff } from '../../src/golden/unified-diff.js';
import { readCase } from '../../src/cli/golden-read.js';
import { verifyCase } from '../../src/golden/verify.js';

describe('flows.yaml', () => {
  it.each([
    ['not a list', 'name: x\n', 1, 1],
    ['a flow without destIP', '- name: a\n  sourceIP: 10.0.0.1\n', 1, 3],
    ['a bad protocol', '- sourceIP: 10.0.0.1\n  destIP: 10.0.0.2\n  protocol: gre\n', 3, 13],
    ['masq not a boolean', '- sourceIP: 10.0.0.1\n  destIP: 10.0.0.2\n  masq: "yes"\n', 3, 9],
    ['a YAML syntax error', '- sourceIP: [10.0.0.1\n', 2, 1],
  ])('reports %s at its position', (_what, text, line, col) => {
    const { diagnostics } = parseFlowsFile(text, 'flows.yaml');
    expect(diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])[0]).toEqual(['SIM_BAD_FLOW', line, col]);
  });

  it('a malformed flows.yaml fails its case as a load error, with the diagnostics kept', () => {
    const c = readCase('golden/kpsim/multi-port');
    const files = new Map(c.files).set('flows.yaml', '- name: a\n  sourceIP: 10.0.0.1\n');
    const r = verifyCase({ ...c, files });
    expect(r.checks.filter((k) => k.status === 'fail').map((k) => k.kind)).toEqual(['load']);
    expect(r.diagnostics.flatMap((d) => d.diagnostics.map((x) => x.code))).toEqual(['SIM_BAD_FLOW']);
    expect(r.rewrites).toEqual([]);
  });

  it("a flow of the other family is traced through that family's proxier", () => {
    const c = readCase('golden/kpsim/multi-port');
    const files = new Map(c.files).set('flows.yaml', '- sourceIP: fd00::1\n  destIP: fd00::2\n  destPort: 80\n  output: ""\n  masq: false\n');
    const r = verifyCase({ ...c, files });
    const flow = r.checks.find((k) => k.kind === 'flow')!;
    expect(flow.status).toBe('pass');
    expect(flow.flow!.actual.paths.join('\n')).toContain('nat:PREROUTING');
  });

  it('rewrites only the flows that differ and keeps every other byte', () => {
    const text = readFileSync('golden/kpsim/three-endpoint-split/flows.yaml', 'utf8');
    const c = readCase('golden/kpsim/three-endpoint-split');
    const broken = text.replace('1431655765/4294967296', '1/3');
    const r = verifyCase({ ...c, files: new Map(c.files).set('flows.yaml', broken) });
    expect(r.rewrites.map((w) => w.file)).toEqual(['golden/kpsim/three-endpoint-split/flows.yaml']);
    expect(r.rewrites[0].content).toBe(text);
  });
});

describe('unifiedDiff', () => {
  const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  it('is empty for equal texts', () => {
    expect(unifiedDiff(a, a, { expected: 'a', actual: 'b' })).toBe('');
  });
  it('gives hunks with three lines of context that patch(1) would accept', () => {
    const b = a.replace('line 2\n', '').replace('line 15\n', 'line 15\nline 15b\n');
    const d = unifiedDiff(a, b, { expected: 'a', actual: 'b' });
    const hunks = d.split('\n@@').slice(1);
    expect(hunks).toHaveLength(2);
    // Each hunk opens and closes with unchanged context (at most three lines).
    for (const h of hunks) {
      const body = h.split('\n').slice(1).filter((l) => l !== '');
      expect(body[body.length - 1].startsWith(' ')).toBe(true);
      expect(body.findIndex((l) => !l.startsWith(' '))).toBeLessThanOrEqual(3);
    }
    // Applying the diff's - and + lines to `a` gives `b`.
    const out: string[] = [];
    const lines = a.trimEnd().split('\n');
    let pos = 0;
    for (const h of d.split('\n@@').slice(1)) {
      const [head, ...body] = h.split('\n').filter((l) => l !== '');
      const start = Number(/-(\d+)/.exec(head)![1]) - 1;
      out.push(...lines.slice(pos, start));
      pos = start;
      for (const l of body) {
        if (l.startsWith('+')) out.push(l.slice(1));
        else if (l.startsWith('-')) pos++;
        else {
          out.push(lines[pos]);
          pos++;
        }
      }
    }
    out.push(...lines.slice(pos));
    expect(out.join('\n') + '\n').toBe(b);
  });
});

describe('flows files written as JSON', () => {
  const flow = (extra: Record<string, unknown> = {}) => ({ name: 'a', sourceIP: '10.0.0.1', destIP: '172.30.0.41', destPort: 80, protocol: 'TCP', ...extra });
  const strip = (f: ReturnType<typeof parseFlowsFile>) => ({ flows: f.flows, diagnostics: f.diagnostics });
  it.each([
    ['plain flows', [flow(), flow({ name: 'b', masq: true, output: '10.0.0.5:80', probabilities: { '10.0.0.5:80': '1/2', '10.0.0.6:80': '1/2' }, affinity: '0', at: 3, inInterface: 'eth0', sourcePort: 5000 })], true],
    ['nulls and numbers as text', [flow({ output: null, probabilities: null, destPort: '80', name: 7 })], true],
    ['a collection where a scalar goes', [flow({ name: ['x'], output: { a: 1 } })], true],
    ['a missing destIP', [{ sourceIP: '10.0.0.1' }], false],
    ['a bad protocol', [flow({ protocol: 'gre' })], false],
    ['masq not a boolean', [flow({ masq: 'yes' })], false],
    ['probabilities not a map', [flow({ probabilities: [1] })], false],
    ['a probability that is a list', [flow({ probabilities: { x: [1] } })], false],
    ['a flow that is a list', [[1]], false],
    ['not a list', { a: 1 }, false],
  ])('%s: the same flows and diagnostics as read with positions', (_n, value, fast) => {
    const text = JSON.stringify(value, null, 4);
    expect(strip(parseFlowsFile(text, 'flows.json'))).toEqual(strip(parseYamlFlows(text, 'flows.json')));
    expect(parseJsonFlows(text) !== null).toBe(fast);
  });

  it('a duplicate key is read with positions, where YAML reports it', () => {
    const text = '[{"name": "a", "name": "b", "sourceIP": "10.0.0.1", "destIP": "10.0.0.2"}]';
    expect(parseJsonFlows(text)).toBeNull();
    expect(parseFlowsFile(text, 'f.json').diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['SIM_BAD_FLOW']);
  });

  it('rewrites a JSON file through its YAML document, read when first asked', () => {
    const f = parseFlowsFile(JSON.stringify([flow()]), 'flows.json');
    expect(f.document().toJS()).toEqual([flow()]);
    expect(f.document()).toBe(f.document());
  });
});
