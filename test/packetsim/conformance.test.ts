// Every packet flow of the kube-proxy iptables conformance corpus, traced through kpsim's own
// compiled rules (compile -> host setup + restore applied to an empty kernel state -> trace), and
// compared the way the corpus README (section 5) says kube-proxy's test tracer reports them: the
// set of DNAT destinations / REJECT / DROP / ACCEPT (an explicit ACCEPT in one of the filter
// chains the tracer walks) or "", and the masquerade decision. The simulator follows the kernel;
// where that differs from kube-proxy's tracer the flow is listed in KERNEL_DIFFERS with the
// reason (see conformance-notes.md), and the test checks that exactly those differ.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compileCluster } from '../../src/compiler/index.js';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import type { Family } from '../../src/iptables/ir.js';
import { parseIptablesSave } from '../../src/iptables-save/index.js';
import { FAKE_NODE_INTERFACES, FAKE_NODE_SYSCTLS } from '../../src/node/fake-node.js';
import { nodeFromArtefacts } from '../../src/node/assemble.js';
import { iptablesNodeArtefacts } from '../../src/compiler/iptables/node-artefacts.js';
import { prepareNode } from '../../src/packetsim/prepare.js';
import { loadedState } from '../../src/iptables/state.js';
import { loadCluster } from '../../src/model/load.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import type { PacketProtocol } from '../../src/packetsim/packet.js';
import { tracePacket } from '../../src/packetsim/trace.js';
import { tracerView } from '../../src/packetsim/tracer-view.js';
import type { CompiledRuleset } from '../../src/packetsim/types.js';
import { CORPUS, KERNEL_DIFFERS, quoteBareComments } from './corpus.js';

const HAVE = existsSync(CORPUS);

interface Flow {
  name: string;
  sourceIP: string;
  protocol: string;
  destIP: string;
  destPort: number;
  output: string;
  masq: boolean;
}

function expectedOutput(s: string): string[] {
  return s === '' ? [] : s.split(', ').sort();
}

interface Target {
  rs: CompiledRuleset;
  env: ReturnType<typeof buildEnv>;
}

function compileCase(dir: string, family: Family): Target {
  const text = readFileSync(join(dir, 'cluster.yaml'), 'utf8');
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name: join(dir, 'cluster.yaml'), text }], sink);
  const compiled = compileCluster(cluster, { family }, sink);
  if (sink.hasErrors) throw new Error(sink.errors.map((e) => e.message).join('; '));
  return prepareNode(nodeFromArtefacts(iptablesNodeArtefacts(compiled)), family).sim;
}

function flowDirs(): string[] {
  if (!HAVE) return [];
  const out: string[] = [];
  for (const c of readdirSync(CORPUS).sort()) {
    const dir = join(CORPUS, c);
    if (existsSync(join(dir, 'flows.yaml'))) out.push(dir);
    const steps = join(dir, 'steps');
    if (existsSync(steps)) for (const s of readdirSync(steps).sort()) if (existsSync(join(steps, s, 'flows.yaml'))) out.push(join(steps, s));
  }
  return out;
}

const rows = flowDirs().flatMap((dir) =>
  (parseYaml(readFileSync(join(dir, 'flows.yaml'), 'utf8')) as Flow[]).map((f) => ({ id: `${dir.slice(CORPUS.length + 1)} | ${f.name}`, dir, f })),
);

const targets = new Map<string, Target>();
function targetFor(dir: string, family: Family): Target {
  const key = `${dir}#${family}`;
  let t = targets.get(key);
  if (!t) targets.set(key, (t = dir.endsWith('trace-packet') ? traceTarget(family) : compileCase(dir, family)));
  return t;
}

function traceTarget(family: Family): Target {
  const raw = readFileSync(join(CORPUS, 'trace-packet', 'iptables-save.txt'), 'utf8');
  expect(parseIptablesSave(raw, { file: 'iptables-save.txt', family }).diagnostics.map((d) => d.code)).toContain('IPT_UNEXPECTED_ARGUMENT');
  const r = parseIptablesSave(quoteBareComments(raw), { file: 'iptables-save.txt', family });
  if (!r.ruleset || r.diagnostics.some((d) => d.severity === 'error')) throw new Error(`trace-packet does not parse: ${JSON.stringify(r.diagnostics.slice(0, 2))}`);
  return { rs: linkRuleset(loadedState(r.ruleset, [])), env: buildEnv({ interfaces: FAKE_NODE_INTERFACES, routes: [], sysctls: FAKE_NODE_SYSCTLS }, family) };
}

describe.runIf(HAVE)('conformance: kube-proxy iptables flows', () => {
  it.each(rows)('$id', ({ id, dir, f }) => {
    const family: Family = f.sourceIP.includes(':') ? 'ipv6' : 'ipv4';
    const { rs, env } = targetFor(dir, family);
    const r = tracePacket(rs, env, { protocol: f.protocol.toLowerCase() as PacketProtocol, sourceIP: f.sourceIP, destIP: f.destIP, destPort: f.destPort });
    const got = tracerView(r.outcomes, family);
    const want = { output: expectedOutput(f.output), masq: f.masq };
    const differs = KERNEL_DIFFERS[id];
    if (differs) {
      // kpsim follows the kernel here, not kube-proxy's tracer.
      const kernel = { output: expectedOutput(differs.kernel.output), masq: [differs.kernel.masq] };
      expect({ output: got.output.filter((t) => t !== 'ACCEPT'), masq: got.masq }, `the kernel's answer (${differs.why})`).toEqual(kernel);
      expect({ output: got.output, masq: got.masq }).not.toEqual({ output: want.output, masq: [want.masq] });
    } else expect({ output: got.output, masq: got.masq }).toEqual({ output: want.output, masq: [want.masq] });
  });
});
