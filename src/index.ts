// kpsim as a library: the same pipeline the CLI runs, as values in and values out (no file
// system, no process). Objects -> a mode's compile -> the node value -> the simulator; a node's
// dumps -> the node value; golden cases verified in memory.
export { DiagnosticSink, type Diagnostic, type Severity, type SourceSpan } from './diag/diagnostic.js';
export { formatDiagnostic } from './diag/format.js';
export { SourceText } from './diag/source.js';
export { loadCluster } from './model/load.js';
export type { Cluster } from './model/types.js';
export type { CompileOptions, ProxierSettings } from './compiler/settings.js';
export { MODES, MODE_NAMES, modeNamed, configuredMode, type ModeRow, type ModeCompiled, type Artefact } from './modes.js';
export { nodeFromArtefacts, nodeFromDumps, type NodeDumps, type IptablesText, type DumpText } from './node/assemble.js';
export type { Node, NodeInterface, NodeRoute } from './node/node.js';
export { parseIptablesSave, renderRestore, renderSave, type ParseOptions, type ParseResult } from './iptables-save/index.js';
export type { Ruleset, Rule, Family } from './iptables/ir.js';
export { parseIpsetSave } from './ipset/parse.js';
export { parseIpvsadmSave } from './ipvs/parse.js';
export { prepareNode, type SimNode, type PrepareOptions } from './packetsim/prepare.js';
export { traceFlows } from './packetsim/flows.js';
export { tracePacket, type PacketSpec, type FlowSpec, type Outcome, type TraceResult } from './packetsim/trace.js';
export { traceJson } from './report/json.js';
export { verifyCase } from './golden/verify.js';
export type { CaseFiles } from './golden/case.js';
export type { CaseResult, CheckResult } from './golden/result.js';
