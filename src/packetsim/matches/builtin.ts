// The built-in matches -s -d -p -i -o -f. The kernel checks all of them in ip_packet_match /
// ip6_packet_match before running any extension match, whatever order they were written in;
// compileBuiltin folds them into one check that runs first: numbers in the rule for kube-proxy's
// common IPv4 shape (IPv4Builtin), one closure for the rest.
import type { Family, OptionArg } from '../../iptables/ir.js';
import { cidrTest, type Ip } from '../../net/index.js';
import type { Packet } from '../packet.js';
import { READS, type IPv4Builtin, type Walk } from '../types.js';
import { cidrsOf, negated, protocolOf, ValueError } from './values.js';

export interface BuiltinResult {
  /** The test as a closure; null when there is nothing to test or `ipv4` holds it. */
  readonly test: ((w: Walk) => boolean) | null;
  /** The common IPv4 shape as numbers, tested inline by the walker (matchIPv4); null otherwise. */
  readonly ipv4: IPv4Builtin | null;
  readonly dstKeys: readonly Ip[] | null;
  /** The protocol number -p requires (null: any). */
  readonly proto: number | null;
  /** READS bits of the test. */
  readonly reads: number;
}

/** Which of an IPv4Builtin's checks are present, and which are negated (`! -s`). */
export const V4 = { SRC: 1, NOT_SRC: 2, DST: 4, NOT_DST: 8, PROTO: 16, NOT_PROTO: 32 } as const;

/** The mask of a prefix length, as a signed 32-bit value. */
function mask32(prefix: number): number {
  return prefix === 0 ? 0 : -1 << (32 - prefix);
}

/** ip_packet_match for an IPv4Builtin (v4 not 0). */
export function matchIPv4(b: IPv4Builtin, p: Packet): boolean {
  const f = b.v4;
  if ((f & V4.SRC) !== 0 && (((p.src as number) & mask32((f >>> 8) & 63)) === b.v4Src) === ((f & V4.NOT_SRC) !== 0)) return false;
  if ((f & V4.DST) !== 0 && (((p.dst as number) & mask32((f >>> 16) & 63)) === b.v4Dst) === ((f & V4.NOT_DST) !== 0)) return false;
  if ((f & V4.PROTO) !== 0 && (p.proto === f >>> 24) === ((f & V4.NOT_PROTO) !== 0)) return false;
  return true;
}

function ifaceTest(opt: OptionArg, get: (w: Walk) => string | null): (w: Walk) => boolean {
  const v = opt.values[0];
  if (v?.type !== 'interface') throw new ValueError(`--${opt.name} needs an interface name`, opt);
  const { name, wildcard } = v;
  const neg = negated(opt);
  if (wildcard) return (w) => (get(w)?.startsWith(name) ?? false) !== neg;
  return (w) => (get(w) === name) !== neg;
}

/** kube-proxy's rules are nearly all of the IPv4Builtin shape; null for anything else. */
function fastIPv4(opts: readonly OptionArg[]): BuiltinResult | null {
  let flags = 0;
  let srcPrefix = 0;
  let srcNet = 0;
  let dstPrefix = 0;
  let dstNet = 0;
  let proto = 0;
  let reads = 0;
  let dstKeys: Ip[] | null = null;
  for (const opt of opts) {
    const name = opt.name;
    const neg = negated(opt);
    if (name === 'source' || name === 'destination') {
      const cidrs = cidrsOf(opt, 'ipv4');
      const isSrc = name === 'source';
      if (cidrs.length !== 1 || flags & (isSrc ? V4.SRC : V4.DST)) return null;
      const { prefix } = cidrs[0];
      const net = (cidrs[0].network as number) | 0;
      if (isSrc) {
        flags |= V4.SRC | (neg ? V4.NOT_SRC : 0);
        srcPrefix = prefix;
        srcNet = net;
      } else {
        flags |= V4.DST | (neg ? V4.NOT_DST : 0);
        dstPrefix = prefix;
        dstNet = net;
        if (!neg && prefix === 32) dstKeys = [cidrs[0].network];
      }
      reads |= isSrc ? READS.SRC : READS.DST;
    } else if (name === 'protocol') {
      if (opt.values[0]?.type !== 'protocol') return null;
      const n = protocolOf(opt);
      if (n === 0 || flags & V4.PROTO) return null;
      flags |= V4.PROTO | (neg ? V4.NOT_PROTO : 0);
      proto = n;
      reads |= READS.PROTO;
    } else return null;
  }
  if (flags === 0) return null;
  const ipv4: IPv4Builtin = { v4: flags | (srcPrefix << 8) | (dstPrefix << 16) | (proto << 24), v4Src: srcNet, v4Dst: dstNet };
  return { test: null, ipv4, dstKeys, proto: flags & V4.NOT_PROTO ? null : flags & V4.PROTO ? proto : null, reads };
}

/** The built-in check of a rule; `fast: false` always builds the general closure (for tests). */
export function compileBuiltin(opts: readonly OptionArg[], family: Family, fast = true): BuiltinResult {
  const v4 = fast && family === 'ipv4' ? fastIPv4(opts) : null;
  if (v4) return v4;
  const tests: ((w: Walk) => boolean)[] = [];
  let dstKeys: Ip[] | null = null;
  let proto: number | null = null;
  let reads = 0;
  for (const opt of opts) {
    const neg = negated(opt);
    switch (opt.name) {
      case 'source':
      case 'destination': {
        const isSrc = opt.name === 'source';
        reads |= isSrc ? READS.SRC : READS.DST;
        const cidrs = cidrsOf(opt, family);
        const ts = cidrs.map(cidrTest);
        if (!isSrc && !neg && cidrs.every((c) => c.prefix === (family === 'ipv4' ? 32 : 128))) {
          dstKeys = cidrs.map((c) => c.network);
        }
        const one = ts.length === 1 ? ts[0] : null;
        if (isSrc) tests.push(one ? (w) => one(w.pkt.src) !== neg : (w) => ts.some((t) => t(w.pkt.src)) !== neg);
        else tests.push(one ? (w) => one(w.pkt.dst) !== neg : (w) => ts.some((t) => t(w.pkt.dst)) !== neg);
        break;
      }
      case 'protocol': {
        reads |= READS.PROTO;
        const n = protocolOf(opt);
        if (n === 0) {
          if (neg) tests.push(() => false);
          break;
        }
        if (!neg) proto = n;
        tests.push((w) => (w.pkt.proto === n) !== neg);
        break;
      }
      case 'in-interface':
        reads |= READS.IIF;
        tests.push(ifaceTest(opt, (w) => w.pkt.inIface));
        break;
      case 'out-interface':
        reads |= READS.OIF;
        tests.push(ifaceTest(opt, (w) => w.pkt.outIface));
        break;
      case 'fragment':
        // Simulated packets are never non-first fragments.
        tests.push(() => neg);
        break;
      default:
        throw new ValueError(`unknown built-in option ${opt.spelling}`, opt);
    }
  }
  let test: ((w: Walk) => boolean) | null = null;
  if (tests.length === 1) test = tests[0];
  else if (tests.length === 2) {
    const [a, b] = tests;
    test = (w) => a(w) && b(w);
  } else if (tests.length > 2) {
    test = (w) => {
      for (let i = 0; i < tests.length; i++) if (!tests[i](w)) return false;
      return true;
    };
  }
  return { test, ipv4: null, dstKeys, proto, reads };
}
