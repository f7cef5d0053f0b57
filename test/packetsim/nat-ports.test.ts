// Which port a NAT binding gives (issue 14, bug 2), as nf_nat_core.c's get_unique_tuple and
// nf_nat_l4proto_unique_tuple decide it in kernel 6.x: a port already in the range is kept unless
// --random; otherwise `min + get_random_u16() % size`, with those exact odds.
import { describe, expect, it } from 'vitest';
import { loadedState } from '../../src/iptables/state.js';
import { formatHostPort, formatIp } from '../../src/net/index.js';
import { simpleInterfaces } from '../../src/node/node.js';
import { linkRuleset } from '../../src/packetsim/link.js';
import { buildEnv } from '../../src/packetsim/env.js';
import { fractionText } from '../../src/packetsim/fraction.js';
import { drawWeight, natPortBinding } from '../../src/packetsim/targets/nat.js';
import { tracePacket } from '../../src/packetsim/trace.js';
import { ruleset } from './ir-builder.js';

const ENV = buildEnv({ interfaces: simpleInterfaces(['192.168.0.2']), routes: [] }, 'ipv4');
const RS = linkRuleset(
  loadedState(
    ruleset(`*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 4000:4100 -j DNAT --to-destination 192.168.0.5:4000-4100
-A PREROUTING -p tcp -m tcp --dport 5000 -j DNAT --to-destination 192.168.0.5:6000-6002
-A PREROUTING -p tcp -m tcp --dport 5001 -j DNAT --to-destination 192.168.0.5:6000-6003 --random
-A PREROUTING -p udp -m udp --dport 53 -j DNAT --to-destination 192.168.0.5:5353
-A POSTROUTING -s 10.9.0.1/32 -j SNAT --to-source 192.168.0.2:1000-2000
-A POSTROUTING -s 10.9.0.2/32 -j SNAT --to-source 10.9.0.0-10.9.0.9
-A POSTROUTING -o eth0 -j MASQUERADE --random-fully
COMMIT
`),
    [],
  ),
);

function ends(src: string, sport: number, dport: number, protocol: 'tcp' | 'udp' = 'tcp'): string[] {
  return tracePacket(RS, ENV, { protocol, sourceIP: src, sourcePort: sport, destIP: '192.168.0.2', destPort: dport }).outcomes.map(
    (o) => `${formatIp(o.packet.src, 'ipv4')}:${o.packet.sport} -> ${formatHostPort(o.packet.dst, o.packet.dport, 'ipv4')} ${fractionText(o.prob)}${o.snat ? ' snat' : ''}${o.portDraw ? ` draw ${o.portDraw.side} ${o.portDraw.from}-${o.portDraw.to}` : ''}`,
  );
}

describe('NAT port bindings', () => {
  it('DNAT to a port range keeps a destination port already in it', () => {
    expect(ends('10.9.0.1', 1500, 4050)).toEqual(['192.168.0.2:1500 -> 192.168.0.5:4050 1/1 snat']);
  });

  it('moves a destination port outside the range to the range start (off = 0 without --random)', () => {
    expect(ends('10.9.0.1', 1500, 5000)).toEqual(['192.168.0.2:1500 -> 192.168.0.5:6000 1/1 snat']);
  });

  it('--random draws even a port in the range, with the odds of get_random_u16() % size', () => {
    expect(ends('10.9.0.1', 1500, 5001).map((e) => e.split(' ')[2] + ' ' + e.split(' ')[3])).toEqual(['192.168.0.5:6000 1/4', '192.168.0.5:6001 1/4', '192.168.0.5:6002 1/4', '192.168.0.5:6003 1/4']);
    // 65536 = 3 x 21845 + 1: offset 0 has one value more.
    expect([0, 1, 2].map((k) => fractionText({ num: BigInt(drawWeight(3, k)), exp: 16, den: 1n }))).toEqual(['10923/32768', '21845/65536', '21845/65536']);
  });

  it('SNAT: a source port in the range is kept, one outside it drawn (too many to follow: said so)', () => {
    expect(ends('10.9.0.1', 1500, 4050)).toEqual(['192.168.0.2:1500 -> 192.168.0.5:4050 1/1 snat']);
    expect(ends('10.9.0.1', 40000, 4050)).toEqual(['192.168.0.2:40000 -> 192.168.0.5:4050 1/1 snat draw source 1000-2000']);
  });

  it('SNAT to a range that already holds the source address binds nothing', () => {
    expect(ends('10.9.0.2', 40000, 4050)).toEqual(['10.9.0.2:40000 -> 192.168.0.5:4050 1/1']);
  });

  it('MASQUERADE --random-fully draws the source port from 1024-65535', () => {
    expect(ends('10.9.0.3', 40000, 4050)).toEqual(['192.168.0.2:40000 -> 192.168.0.5:4050 1/1 snat draw source 1024-65535']);
  });

  it('natPortBinding: a destination is never moved without a range; sources by their class', () => {
    const spec = { fromAddr: null, toAddr: null, fromPort: null, toPort: null, random: true };
    expect(natPortBinding('dst', true, 80, spec)).toEqual({ kind: 'keep' });
    expect(natPortBinding('src', true, 80, spec)).toEqual({ kind: 'draw', from: 1, to: 511 });
    expect(natPortBinding('src', true, 700, spec)).toEqual({ kind: 'draw', from: 600, to: 1023 });
    expect(natPortBinding('src', false, 700, spec)).toEqual({ kind: 'keep' });
    expect([0, 1, 2].map((k) => drawWeight(3, k)).reduce((a, b) => a + b)).toBe(65536);
  });
});
