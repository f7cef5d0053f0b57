// An IPVS compile as the simulator traces it, through the mode table's IPVS row (src/modes.ts):
// the node value with kube-ipvs0, the IPVS hook extension; optionally other interfaces.
import type { IpvsCompiled } from '../../src/compiler/ipvs/index.js';
import type { Family } from '../../src/iptables/ir.js';
import { ipvsNode, modeNamed, type ModeRow } from '../../src/modes.js';
import type { NodeInterface } from '../../src/node/node.js';
import { prepareNode, type SimNode } from '../../src/packetsim/prepare.js';

const IPVS = modeNamed('ipvs') as ModeRow;

export function compiledTarget(c: IpvsCompiled, family: Family, o: { rotate: boolean; interfaces?: readonly NodeInterface[] | null }): SimNode {
  let node = ipvsNode(c);
  if (o.interfaces) node = IPVS.completeDumpNode({ ...node, interfaces: o.interfaces });
  return prepareNode(node, family, { extensions: IPVS.extensions(node, family, { rotate: o.rotate }) }).sim;
}
