// The boundary lint (eslint.config.js) must fail on imports that cross the pipeline's layers and on
// the process outside the CLI, and pass on the allowed direction: lint a file as if it lived at a
// path of src/, without writing it.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return r.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('the pipeline boundaries', () => {
  it.each([
    ['the simulator imports the compiler', 'src/packetsim/x.ts', "import { compileCluster } from '../compiler/index.js';\nvoid compileCluster;\n", 'no-restricted-imports'],
    ['the simulator imports the model', 'src/packetsim/x.ts', "import type { Cluster } from '../model/types.js';\nexport type X = Cluster;\n", 'no-restricted-imports'],
    ['the simulator core names a mode', 'src/packetsim/x.ts', "import { ipvsExtension } from '../packetsim-ipvs/hook.js';\nvoid ipvsExtension;\n", 'never names a mode'],
    ['the model imports the compiler', 'src/model/x.ts', "import { compileCluster } from '../compiler/index.js';\nvoid compileCluster;\n", 'no-restricted-imports'],
    ['the model imports a reader', 'src/model/x.ts', "import { parseIptablesSave } from '../iptables-save/index.js';\nvoid parseIptablesSave;\n", 'no-restricted-imports'],
    ['a reader imports the model', 'src/ipset/x.ts', "import { loadCluster } from '../model/load.js';\nvoid loadCluster;\n", 'no-restricted-imports'],
    ['a reader imports the compiler', 'src/iptables-save/x.ts', "import { compileCluster } from '../compiler/index.js';\nvoid compileCluster;\n", 'no-restricted-imports'],
    ['the compiler imports a reader', 'src/compiler/iptables/x.ts', "import { parseIptablesSave } from '../../iptables-save/index.js';\nvoid parseIptablesSave;\n", 'no-restricted-imports'],
    ['the compiler imports the simulator', 'src/compiler/x.ts', "import { tracePacket } from '../packetsim/trace.js';\nvoid tracePacket;\n", 'no-restricted-imports'],
    ['the node imports the compiler', 'src/node/x.ts', "import type { Compiled } from '../compiler/index.js';\nexport type X = Compiled;\n", 'no-restricted-imports'],
    ['the library reads a file', 'src/golden/x.ts', "import { readFileSync } from 'node:fs';\nvoid readFileSync;\n", 'no-restricted-imports'],
    ['the library touches the process', 'src/compiler/x.ts', 'export const args = process.argv;\n', 'no-restricted-globals'],
    ['the simulator imports explain', 'src/packetsim/x.ts', "import type { NodeServices } from '../explain/view.js';\nexport type X = NodeServices;\n", 'no-restricted-imports'],
    ['the compiler imports lint findings', 'src/compiler/x.ts', "import { lintNode } from '../findings/index.js';\nvoid lintNode;\n", 'no-restricted-imports'],
    ['explain imports diff', 'src/explain/x.ts', "import { structuralDiff } from '../diff/structural.js';\nvoid structuralDiff;\n", 'no-restricted-imports'],
    ['lint findings import diff', 'src/findings/x.ts', "import { behaviouralDiff } from '../diff/behaviour.js';\nvoid behaviouralDiff;\n", 'no-restricted-imports'],
    ['diff imports the mode table', 'src/diff/x.ts', "import { MODES } from '../modes.js';\nvoid MODES;\n", 'no-restricted-imports'],
    ['diff touches the process', 'src/diff/x.ts', 'export const args = process.argv;\n', 'no-restricted-globals'],
    ['the simulator imports a report', 'src/packetsim/x.ts', "import { renderText } from '../report/text.js';\nvoid renderText;\n", 'no-restricted-imports'],
    ['the node imports a report', 'src/node/x.ts', "import type { TraceReport } from '../report/model.js';\nexport type X = TraceReport;\n", 'no-restricted-imports'],
    ['golden imports a report', 'src/golden/x.ts', "import { renderText } from '../report/text.js';\nvoid renderText;\n", 'no-restricted-imports'],
    ['a report imports the compiler', 'src/report/x.ts', "import { compileCluster } from '../compiler/index.js';\nvoid compileCluster;\n", 'no-restricted-imports'],
    ['a report reads a dump itself', 'src/report/x.ts', "import { parseIptablesSave } from '../iptables-save/index.js';\nvoid parseIptablesSave;\n", 'no-restricted-imports'],
    ['a report touches the process', 'src/report/x.ts', 'export const out = process.stdout;\n', 'no-restricted-globals'],
  ])('%s fails', async (_, path, code, rule) => {
    expect((await problems(path, code)).join('\n')).toContain(rule);
  });

  it.each([
    ['the simulator reads the node value', 'src/packetsim/x.ts', "import type { Node } from '../node/node.js';\nexport type X = Node;\n"],
    ['the compiler reads the model', 'src/compiler/x.ts', "import type { Cluster } from '../model/types.js';\nexport type X = Cluster;\n"],
    ['the node reads a reader', 'src/node/x.ts', "import { parseIptablesSave } from '../iptables-save/index.js';\nvoid parseIptablesSave;\n"],
    ['the mode table wires the stages', 'src/modes-x.ts', "import { ipvsExtension } from './packetsim-ipvs/hook.js';\nvoid ipvsExtension;\n"],
    ['the CLI touches the process', 'src/cli/x.ts', 'export const args = process.argv;\n'],
    ['diff traces with the simulator', 'src/diff/x.ts', "import { tracePacket } from '../packetsim/trace.js';\nvoid tracePacket;\n"],
    ["explain recomputes the compiler's hashes", 'src/explain/x.ts', "import { portProtoHash } from '../compiler/hash.js';\nvoid portProtoHash;\n"],
    ['lint findings read explain', 'src/findings/x.ts', "import { serviceChainOf } from '../explain/rule-facts.js';\nvoid serviceChainOf;\n"],
    ["the mode table names each mode's service reader", 'src/modes-x.ts', "import { iptablesServices } from './explain/iptables-view.js';\nvoid iptablesServices;\n"],
    ["a report reads the simulator's results", 'src/report/x.ts', "import { tracePacket } from '../packetsim/trace.js';\nvoid tracePacket;\n"],
    ['a report reads the node value', 'src/report/x.ts', "import type { Node } from '../node/node.js';\nexport type X = Node;\n"],
    ['the CLI prints a report', 'src/cli/x.ts', "import { renderText } from '../report/text.js';\nvoid renderText;\n"],
  ])('%s passes', async (_, path, code) => {
    expect(await problems(path, code)).toEqual([]);
  });
});
