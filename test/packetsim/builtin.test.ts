import { describe, expect, it } from 'vitest';
import type { OptionArg } from '../../src/iptables/ir.js';
import { parseIPv4 } from '../../src/net/index.js';
import { compileBuiltin, matchIPv4 } from '../../src/packetsim/matches/builtin.js';
import type { Packet } from '../../src/packetsim/packet.js';
import type { Walk } from '../../src/packetsim/types.js';
import { rule } from './ir-builder.js';

// The IPv4Builtin numbers the walker tests inline against the general closure, on every
// combination of these built-ins and packets (addresses on both sides of 2^31, in and out of
// each network).
const SHAPES = [
  '-s 10.0.0.0/8', '! -s 10.0.0.0/8', '-s 10.64.1.2/32', '-d 172.16.0.1/32', '! -d 172.16.0.0/12',
  '-d 192.168.0.2/32', '-s 0.0.0.0/0', '-p tcp', '! -p tcp', '-p udp',
  '-p tcp -d 172.16.3.4/32', '-p tcp -d 172.16.3.4/32 ! -s 10.0.0.0/8', '-s 203.0.113.0/24 -d 10.1.0.0/16 -p udp',
  '-s 255.255.255.255/32', '-d 128.0.0.0/1', '! -s 128.0.0.0/1 -p tcp', '-p 255', '! -p sctp -d 10.0.0.0/31', '-p 132 -s 172.16.0.0/16',
];
const ADDRS = ['10.0.0.2', '10.64.1.2', '172.16.0.1', '172.16.3.4', '172.31.255.255', '192.168.0.2', '203.0.113.9', '255.255.255.255', '0.0.0.0', '128.0.0.0', '127.255.255.255', '10.1.2.3'];

function packet(src: string, dst: string, proto: number): Packet {
  return { family: 'ipv4', protocol: proto === 6 ? 'tcp' : proto === 132 ? 'sctp' : 'udp', proto, src: parseIPv4(src)!, dst: parseIPv4(dst)!, sport: 1, dport: 2, inIface: null, outIface: null, mark: 0, tcpFlags: 0, viaBridge: false, physIn: null, l2Forward: false, bridged: false, physOut: null, ipvs: null, ttl: 64, tos: 0, length: null };
}

describe('the IPv4 built-in check as numbers', () => {
  it.each(SHAPES.map((shape) => ({ shape })))('agrees with the general closure: $shape', ({ shape }) => {
    const opts = rule(`-A X ${shape} -j ACCEPT`).args.filter((a): a is OptionArg => a.kind === 'option' && a.module === null);
    const fast = compileBuiltin(opts, 'ipv4');
    const general = compileBuiltin(opts, 'ipv4', false);
    expect(fast.ipv4).not.toBeNull();
    expect(fast.test).toBeNull();
    expect(fast.dstKeys).toEqual(general.dstKeys);
    expect(fast.proto).toBe(general.proto);
    expect(fast.reads).toBe(general.reads);
    for (const src of ADDRS) {
      for (const dst of ADDRS) {
        for (const proto of [6, 17, 132, 255]) {
          const p = packet(src, dst, proto);
          expect(matchIPv4(fast.ipv4!, p), `${src} -> ${dst} proto ${proto}`).toBe(general.test!({ pkt: p } as Walk));
        }
      }
    }
  });
});
