// The dump corpus's judged flows: each `test/fixtures/dumps/<name>.judge.yaml` names a dump of the
// corpus (and its .ipsets), the node's own addresses, the interface its containers or pods sit
// behind, outside servers they reach, and flows, each with the kernel's answer as the kernel judge
// recorded it (`kernel`: the outcomes seen, ` | `-joined; a split lists every outcome). The
// judge topology is the service node's (test/host/service-node.ts): the node's addresses on eth0,
// DNAT targets, pods that send (`inInterface`) and `podAddrs` on the pods side, every other
// address on the client side.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Family } from '../../src/iptables/ir.js';
import { defaultTopology } from '../host/judge-node.js';
import type { JudgeFlow, JudgeRules } from '../host/judgement.js';
import type { ServiceNodeSpec } from '../host/service-node.js';

export const DUMPS = join(import.meta.dirname, '../fixtures/dumps');

export interface DumpFlow extends JudgeFlow {
  /** The kernel's answer as recorded: observation keys, sorted, ` | `-joined. */
  readonly kernel?: string;
  /** Why kpsim may answer UNKNOWN here: the flow depends on something no input describes. */
  readonly unknownBecause?: string;
}

interface JudgeFile {
  readonly dump: string;
  readonly family?: Family;
  readonly nodeAddrs: readonly string[];
  readonly podsIfname?: string;
  readonly remoteServers?: readonly string[];
  /** Addresses on the pods side beyond DNAT targets and flows' sources (pods that only answer). */
  readonly podAddrs?: readonly string[];
  readonly flows: readonly DumpFlow[];
}

export interface DumpJudgement {
  readonly name: string;
  readonly rules: JudgeRules;
  readonly topology: ServiceNodeSpec;
  readonly flows: readonly DumpFlow[];
}

export function dumpJudgements(): DumpJudgement[] {
  return readdirSync(DUMPS)
    .filter((f) => f.endsWith('.judge.yaml'))
    .sort()
    .map((f) => {
      const spec = parseYaml(readFileSync(join(DUMPS, f), 'utf8')) as JudgeFile;
      const family = spec.family ?? (spec.dump.endsWith('.ip6tables') ? 'ipv6' : 'ipv4');
      const sets = join(DUMPS, spec.dump.replace(/\.[^.]+$/, '.ipsets'));
      const rules: JudgeRules = {
        family,
        texts: [{ label: spec.dump, text: readFileSync(join(DUMPS, spec.dump), 'utf8') }],
        nodeAddrs: spec.nodeAddrs,
        ipsets: existsSync(sets) ? readFileSync(sets, 'utf8') : null,
      };
      const base = defaultTopology(rules, spec.flows);
      const remote = spec.remoteServers ?? [];
      const topology: ServiceNodeSpec = {
        ...base,
        ...(spec.podsIfname ? { podsIfname: spec.podsIfname } : {}),
        clientAddrs: [...new Set([...base.clientAddrs, ...remote])].filter((a) => !(spec.podAddrs ?? []).includes(a)),
        endpointAddrs: [...new Set([...base.endpointAddrs, ...(spec.podAddrs ?? [])])],
        remoteServers: remote,
      };
      return { name: f.replace(/\.judge\.yaml$/, ''), rules, topology, flows: spec.flows };
    });
}
