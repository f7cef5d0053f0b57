// Traces without paths (kpsim trace --no-paths, bulk checks): the same outcomes, nothing per rule
// kept, and traceFlows handing each packet's result over as soon as it is traced.
import { loadedState } from '../../src/iptables/state.js';
import { describe, expect, it } from 'vitest';
import { kubeRuleset, NODE_IP, packets } from '../../bench/trace.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { traceFlows } from '../../src/packetsim/flows.js';
import { type FlowResult, type Outcome } from '../../src/packetsim/trace.js';

const ENV = buildEnv({ interfaces: simpleInterfaces([NODE_IP]), routes: [] }, 'ipv4');
const FLOWS = packets(40, 300, 5);

const summary = (os: readonly Outcome[]) => os.map((o) => `${fractionText(o.prob)} ${o.verdict} ${o.packet.src}:${o.packet.sport} ${o.packet.dst}:${o.packet.dport} ${o.masquerade} ${o.paths}`);

describe('traces without paths', () => {
  it.each([true, false])('give the outcomes traces with paths give (chain index %s)', (index) => {
    const rs = linkRuleset(loadedState(kubeRuleset(40, 4), []), { index });
    const withPaths = traceFlows(rs, ENV, FLOWS, { index });
    const without = traceFlows(rs, ENV, FLOWS, { index, paths: false });
    expect(without.map((r) => summary(r.outcomes))).toEqual(withPaths.map((r) => summary(r.outcomes)));
    expect(withPaths.some((r) => r.outcomes.some((o) => o.path.length > 0))).toBe(true);
    for (const r of without) for (const o of r.outcomes) expect(o.path).toEqual([]);
  });

  it('record no rule a walk matched (only what a memo remembers, and no memo without indices)', () => {
    const rs = linkRuleset(loadedState(kubeRuleset(40, 4), []), { index: false });
    let walks = 0;
    traceFlows(rs, ENV, FLOWS, { index: false, paths: false }, (r) => {
      for (const t of r.traces) {
        for (const w of t.result.walks) {
          walks++;
          for (let n = w.path; n; n = n.prev) expect(n.kind).toBe('policy');
        }
      }
    });
    expect(walks).toBeGreaterThan(FLOWS.length);
  });

  it('hand each result over in order when asked, keeping none', () => {
    const rs = linkRuleset(loadedState(kubeRuleset(40, 4), []));
    const seen: FlowResult[] = [];
    const kept = traceFlows(rs, ENV, FLOWS, { paths: false }, (r, i) => {
      expect(i).toBe(seen.length);
      seen.push(r);
    });
    expect(kept).toEqual([]);
    expect(seen.map((r) => r.flow)).toEqual(FLOWS);
    expect(seen.map((r) => summary(r.outcomes))).toEqual(traceFlows(rs, ENV, FLOWS).map((r) => summary(r.outcomes)));
  });
});
