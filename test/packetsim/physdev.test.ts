// -m physdev as xt_physdev's physdev_mt decides, on the bridge facts of a packet: without
// nf_bridge only negated options hold; --physdev-in/--physdev-out pass while the kernel knows no
// such port (INPUT has no out port); a port nobody named is UNKNOWN, with the reason.
import { describe, expect, it } from 'vitest';
import type { OptionArg } from '../../src/iptables/ir.js';
import { compilePhysdev } from '../../src/packetsim/matches/physdev.js';
import type { Packet } from '../../src/packetsim/packet.js';
import type { Walk } from '../../src/packetsim/types.js';
import { rule } from './ir-builder.js';

type Bridge = Pick<Packet, 'viaBridge' | 'physIn' | 'bridged' | 'physOut'> & { inIface?: string; outIface?: string };
const NONE: Bridge = { viaBridge: false, physIn: null, bridged: false, physOut: null };
const ROUTED: Bridge = { viaBridge: true, physIn: 'veth1', bridged: false, physOut: null, inIface: 'br0' };
const BRIDGED: Bridge = { viaBridge: true, physIn: 'veth1', bridged: true, physOut: 'veth2', inIface: 'br0', outIface: 'br0' };
const UNKNOWN_OUT: Bridge = { ...BRIDGED, physOut: null };

function test(args: string, b: Bridge): boolean | string {
  const opts = rule(`-A X -m physdev ${args} -j ACCEPT`).args.filter((a): a is OptionArg => a.kind === 'option' && a.module === 'physdev');
  const [m] = compilePhysdev(opts);
  if (m.kind !== 'maybe') throw new Error('physdev compiles to one maybe-test');
  return m.test({ pkt: { inIface: null, outIface: null, ...b } } as unknown as Walk);
}

describe('physdev', () => {
  it.each([
    ['--physdev-is-bridged', NONE, false],
    ['! --physdev-is-bridged', NONE, true],
    ['! --physdev-in veth1', NONE, true],
    ['--physdev-is-in', ROUTED, true],
    ['--physdev-is-bridged', ROUTED, false],
    ['! --physdev-is-out', ROUTED, true],
    ['--physdev-in veth1', ROUTED, true],
    ['--physdev-in veth+', ROUTED, true],
    ['! --physdev-in veth1', ROUTED, false],
    ['--physdev-out veth9', ROUTED, true],
    ['--physdev-is-bridged', BRIDGED, true],
    ['--physdev-out veth2', BRIDGED, true],
    ['--physdev-out veth9', BRIDGED, false],
    ['! --physdev-out veth9', BRIDGED, true],
    ['--physdev-in veth1 --physdev-out veth2', BRIDGED, true],
    ['--physdev-is-out', UNKNOWN_OUT, true],
  ] as const)('%s on %o', (args, b, want) => {
    expect(test(args, b)).toBe(want);
  });

  it('a bridged packet whose out port nobody named: unknown, saying so', () => {
    expect(test('--physdev-out veth2', UNKNOWN_OUT)).toMatch(/which port of br0 leads to the destination is not known/);
  });
});
