// The node an IPVS compile describes, ready to trace: kube-proxy's iptables state (host setup and
// restore input applied), its ipsets for `-m set`, its virtual servers, and the kube-ipvs0
// addresses as local addresses.
import { DUMMY_DEVICE, type IpvsCompiled } from '../compiler/ipvs/index.js';
import { ipvsNodeRuleset } from '../compiler/ipvs/node-save.js';
import type { Family } from '../iptables/ir.js';
import { parseIpsetSave } from '../ipset/parse.js';
import { renderIpsetSave } from '../ipset/render.js';
import { parseAddress } from '../net/index.js';
import { compileRuleset } from '../packetsim/compile.js';
import { buildEnv, type NodeEnv, type NodeSpec } from '../packetsim/env.js';
import type { IpsetDb } from '../packetsim/ipset.js';
import type { CompiledRuleset } from '../packetsim/types.js';
import { nodeSpec } from '../pipeline/node-spec.js';
import { withIpvs } from './hook.js';
import { ipsetDb } from '../packetsim/ipset.js';

export interface IpvsTarget {
  readonly rs: CompiledRuleset;
  readonly env: NodeEnv;
}

export interface IpvsTargetOptions {
  readonly family: Family;
  /** Packets in sequence: rr rotates (hook.ts). */
  readonly rotate: boolean;
  readonly index?: boolean;
  /** The node's interfaces instead of the compile's (kube-ipvs0 is added either way). */
  readonly node?: NodeSpec | null;
  /** Set contents instead of the compile's. */
  readonly ipsets?: IpsetDb | null;
}

/** The node with kube-ipvs0 holding `addresses` (those it does not have already). */
export function withDummy(spec: NodeSpec, addresses: readonly string[], family: Family): NodeSpec {
  const probe = buildEnv(spec, family);
  const extra = [...new Set(addresses)].filter((a) => {
    const ip = parseAddress(a, family, true);
    return ip !== null && !probe.isLocal(ip);
  });
  if (extra.length === 0) return spec;
  const cidrs = extra.map((a) => `${a}/${family === 'ipv4' ? 32 : 128}`);
  const has = spec.interfaces.some((i) => i.name === DUMMY_DEVICE);
  const interfaces = has
    ? spec.interfaces.map((i) => (i.name === DUMMY_DEVICE ? { ...i, addresses: [...i.addresses, ...cidrs] } : i))
    : [...spec.interfaces, { name: DUMMY_DEVICE, addresses: cidrs }];
  return { ...spec, interfaces };
}

/** The compile's sets keep entries as text: read back through the ipset reader for their dimensions. */
export function compiledIpsets(c: IpvsCompiled, family: Family): IpsetDb {
  const { dump, diagnostics } = parseIpsetSave(renderIpsetSave(c.ipsets), { file: 'compiled ipsets' });
  const bad = diagnostics.find((d) => d.severity === 'error');
  if (bad) throw new Error(`kpsim's own ipset save text does not read back: ${bad.message}`);
  return ipsetDb(dump, family);
}

export class NodeSpecError extends Error {}

export function ipvsTarget(c: IpvsCompiled, o: IpvsTargetOptions): IpvsTarget {
  const ipsets = o.ipsets ?? compiledIpsets(c, o.family);
  const rs = withIpvs(compileRuleset(ipvsNodeRuleset(c), { ipsets, index: o.index ?? true }), c.ipvs, { rotate: o.rotate });
  const problems: { message: string }[] = [];
  const env = buildEnv(withDummy(o.node ?? nodeSpec(c.settings), c.dummyAddresses, o.family), o.family, problems);
  if (problems.length) throw new NodeSpecError(problems.map((p) => p.message).join('; '));
  return { rs, env };
}
