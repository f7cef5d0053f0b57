// Packets per second through kube-proxy-shaped rulesets: 10k services x 10 endpoints, and 100
// services x 10 endpoints. The rulesets are generated directly as rule IR in kube-proxy's shape
// (KUBE-SERVICES -> KUBE-SVC -> statistic -> KUBE-SEP -> DNAT, KUBE-NODEPORTS, KUBE-MARK-MASQ,
// KUBE-POSTROUTING, filter KUBE-FORWARD), so the benchmark does not depend on the compiler.
import type { Arg, ChainDecl, OptionArg, Rule, Ruleset, Table, Target, Value } from '../src/iptables/ir.js';
import { loadedState } from '../src/iptables/state.js';
import { isProblem, readValue } from '../src/iptables-save/read-value.js';
import type { ValueKind } from '../src/iptables-save/spec.js';
import { linkRuleset } from '../src/packetsim/link.js';
import { simpleInterfaces } from '../src/node/node.js';
import { buildEnv } from '../src/packetsim/env.js';
import { tracePacket, type PacketSpec } from '../src/packetsim/trace.js';
import type { CompiledRuleset } from '../src/packetsim/types.js';

/** A value typed as the iptables-save reader types it. */
const v = (kind: ValueKind, text: string): Value => {
  const r = readValue(kind, text, 'ipv4');
  if (isProblem(r)) throw new Error(r.message);
  return r;
};
const w = (text: string): Value => v('word', text);
const addr = (text: string): Value => v('address', text);
const o = (module: string | null, name: string, spelling: string, values: Value[], neg = false): OptionArg => ({
  kind: 'option', module, name, spelling, negation: neg ? 'prefix' : 'none', values, span: null,
});
const m = (name: string): Arg => ({ kind: 'module', name, spelling: '-m', span: null });
const comment = (text: string): Arg[] => [m('comment'), o('comment', 'comment', '--comment', [{ type: 'string', text: `"${text}"`, value: text }])];
const tcpDport = (port: number): Arg[] => [m('tcp'), o(null, 'protocol', '-p', [v('protocol', 'tcp')]), o('tcp', 'dport', '--dport', [{ type: 'ports', text: String(port), ranges: [[port, port]] }])];
const jump = (chain: string): Target => ({ kind: 'chain', name: chain, goto: false, spelling: '-j', span: null });
const verdict = (name: 'ACCEPT' | 'DROP' | 'RETURN'): Target => ({ kind: 'verdict', name, spelling: '-j', span: null });
const ext = (name: string, options: OptionArg[]): Target => ({ kind: 'extension', name, spelling: '-j', options, span: null });
const r = (chain: string, args: Arg[], target: Target | null): Rule => ({ kind: 'rule', op: 'A', chain, position: null, counters: null, args, target, span: null });

export function serviceIP(i: number): string {
  return `172.16.${i >> 8}.${i & 255}`;
}

export function endpointIP(i: number, k: number): string {
  return `10.${64 + (i >> 8)}.${i & 255}.${k + 1}`;
}

export const NODE_IP = '192.168.0.2';

/** kube-proxy's iptables ruleset for `services` ClusterIP+NodePort services with `endpoints` each. */
export function kubeRuleset(services: number, endpoints: number): Ruleset {
  const decl = (names: string[]): ChainDecl[] => names.map((name) => ({ name, policy: ['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING'].includes(name) ? 'ACCEPT' : '-', counters: null, span: null }));
  const markNew = [m('conntrack'), o('conntrack', 'ctstate', '--ctstate', [v('list', 'NEW')])];
  const filterRules: Rule[] = [
    r('INPUT', [], jump('KUBE-NODEPORTS')),
    r('INPUT', markNew, jump('KUBE-EXTERNAL-SERVICES')),
    r('FORWARD', [], jump('KUBE-FORWARD')),
    r('FORWARD', markNew, jump('KUBE-SERVICES')),
    r('FORWARD', markNew, jump('KUBE-EXTERNAL-SERVICES')),
    r('OUTPUT', markNew, jump('KUBE-SERVICES')),
    r('KUBE-FORWARD', [m('conntrack'), o('conntrack', 'ctstate', '--ctstate', [v('list', 'INVALID')])], verdict('DROP')),
    r('KUBE-FORWARD', [...comment('kubernetes forwarding rules'), m('mark'), o('mark', 'mark', '--mark', [v('mark', '0x4000/0x4000')])], verdict('ACCEPT')),
    r('KUBE-FORWARD', [m('conntrack'), o('conntrack', 'ctstate', '--ctstate', [v('list', 'RELATED,ESTABLISHED')])], verdict('ACCEPT')),
  ];
  const natChains = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING'];
  const natRules: Rule[] = [
    r('PREROUTING', comment('kubernetes service portals'), jump('KUBE-SERVICES')),
    r('OUTPUT', comment('kubernetes service portals'), jump('KUBE-SERVICES')),
    r('POSTROUTING', comment('kubernetes postrouting rules'), jump('KUBE-POSTROUTING')),
    r('KUBE-POSTROUTING', [m('mark'), o('mark', 'mark', '--mark', [v('mark', '0x4000/0x4000')], true)], verdict('RETURN')),
    r('KUBE-POSTROUTING', [], ext('MARK', [o('MARK', 'xor-mark', '--xor-mark', [v('mark', '0x4000')])])),
    r('KUBE-POSTROUTING', comment('kubernetes service traffic requiring SNAT'), ext('MASQUERADE', [])),
    r('KUBE-MARK-MASQ', [], ext('MARK', [o('MARK', 'or-mark', '--or-mark', [v('mark', '0x4000')])])),
  ];
  const svcRules: Rule[] = [];
  for (let i = 0; i < services; i++) {
    const ip = serviceIP(i);
    const svc = `KUBE-SVC-${i}`;
    const extc = `KUBE-EXT-${i}`;
    const spn = `ns${i}/svc${i}:p80`;
    natChains.push(svc, extc);
    natRules.push(r('KUBE-SERVICES', [...comment(`${spn} cluster IP`), ...tcpDport(80).slice(0, 2), o(null, 'destination', '-d', [addr(ip)]), tcpDport(80)[2]], jump(svc)));
    natRules.push(r('KUBE-NODEPORTS', [...comment(spn), ...tcpDport(30000 + (i % 2768))], jump(extc)));
    svcRules.push(r(extc, comment(`masquerade traffic for ${spn} external destinations`), jump('KUBE-MARK-MASQ')));
    svcRules.push(r(extc, [], jump(svc)));
    svcRules.push(r(svc, [...comment(`${spn} cluster IP`), ...tcpDport(80).slice(0, 2), o(null, 'destination', '-d', [addr(ip)]), tcpDport(80)[2], o(null, 'source', '-s', [addr('10.0.0.0/8')], true)], jump('KUBE-MARK-MASQ')));
    for (let k = 0; k < endpoints; k++) {
      const ep = endpointIP(i, k);
      const sep = `KUBE-SEP-${i}-${k}`;
      natChains.push(sep);
      const left = endpoints - k;
      const stat: Arg[] = left > 1 ? [m('statistic'), o('statistic', 'mode', '--mode', [w('random')]), o('statistic', 'probability', '--probability', [{ type: 'probability', text: (1 / left).toFixed(10), value: 1 / left }])] : [];
      svcRules.push(r(svc, [...comment(`${spn} -> ${ep}:8080`), ...stat], jump(sep)));
      svcRules.push(r(sep, [...comment(spn), o(null, 'source', '-s', [addr(ep)])], jump('KUBE-MARK-MASQ')));
      svcRules.push(r(sep, [...comment(spn), m('tcp'), o(null, 'protocol', '-p', [v('protocol', 'tcp')])], ext('DNAT', [o('DNAT', 'to-destination', '--to-destination', [v('natRange', `${ep}:8080`)])])));
    }
  }
  natRules.push(r('KUBE-SERVICES', [...comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain'), m('addrtype'), o('addrtype', 'dst-type', '--dst-type', [v('list', 'LOCAL')])], jump('KUBE-NODEPORTS')));
  const table = (name: string, chains: string[], commands: Rule[]): Table => {
    const decls = decl(chains);
    return { name, chains: decls, commands, lines: [...decls.map((d) => ({ kind: 'chain' as const, decl: d })), ...commands.map((command) => ({ kind: 'command' as const, command }))], committed: true, span: null };
  };
  return {
    family: 'ipv4',
    tables: [
      table('filter', ['INPUT', 'FORWARD', 'OUTPUT', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-FORWARD'], filterRules),
      table('nat', natChains, [...natRules, ...svcRules]),
    ],
    outer: [],
  };
}

/** Deterministic packets: pods and outside clients to service IPs and node ports. */
export function packets(services: number, n: number, seed = 7): PacketSpec[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const out: PacketSpec[] = [];
  for (let k = 0; k < n; k++) {
    const i = rnd() % services;
    const x = rnd();
    const sourceIP = x % 4 === 0 ? `203.0.113.${x % 250}` : `10.${x % 60}.${(x >> 8) & 255}.${(x >>> 16) % 250}`;
    const nodePort = x % 16 === 5;
    out.push({ protocol: 'tcp', sourceIP, sourcePort: 1024 + (x % 60000), destIP: nodePort ? NODE_IP : serviceIP(i), destPort: nodePort ? 30000 + (i % 2768) : 80 });
  }
  return out;
}

interface Measured {
  /** Packets per second of each timed round, best first. */
  readonly rounds: readonly number[];
  readonly compileMs: number;
  readonly rules: number;
  readonly outcomes: number;
}

// The machine is shared and noisy: each size is timed in several rounds over the same packets,
// and both the best round and the median are reported.
/**
 * The compiled ruleset, built in a frame of its own so that nothing of the rule IR outlives it (as
 * in `kpsim trace`, which compiles in its own function too).
 */
function compiled(services: number, endpoints: number): { rs: CompiledRuleset; compileMs: number } {
  const t0 = performance.now();
  const rs = linkRuleset(loadedState(kubeRuleset(services, endpoints), []));
  return { rs, compileMs: performance.now() - t0 };
}

function measure(services: number, endpoints: number, n: number, rounds: number): Measured {
  const { rs, compileMs } = compiled(services, endpoints);
  // As `kpsim trace` does before a bulk trace (src/cli/trace.ts), when node runs with --expose-gc.
  (globalThis as { gc?: () => void }).gc?.();
  const env = buildEnv({ interfaces: simpleInterfaces([NODE_IP]), routes: [] }, 'ipv4');
  const ps = packets(services, n);
  // Warm up the JIT on a slice first.
  for (let k = 0; k < Math.min(2000, n); k++) tracePacket(rs, env, ps[k]);
  let outcomes = 0;
  const pps: number[] = [];
  for (let r = 0; r < rounds; r++) {
    outcomes = 0;
    const t1 = performance.now();
    for (const p of ps) outcomes += tracePacket(rs, env, p).outcomes.length;
    pps.push(Math.round(n / ((performance.now() - t1) / 1000)));
  }
  return { rounds: pps.sort((a, b) => b - a), compileMs: Math.round(compileMs), rules: rs.ruleCount, outcomes };
}

const median = (xs: readonly number[]) => xs[Math.floor(xs.length / 2)];

export async function benchTrace(): Promise<Record<string, number | string>> {
  const n = Number(process.env.KPSIM_BENCH_PACKETS ?? 100_000);
  const rounds = Number(process.env.KPSIM_BENCH_ROUNDS ?? 5);
  // The small ruleset first: what the large one leaves in the old generation would slow the
  // small one's young-generation collections (not the other way round).
  const small = measure(100, 10, n, rounds);
  const big = measure(10_000, 10, n, rounds);
  return {
    // npm run bench runs node as the kpsim CLI does (bin/kpsim.ts: a 64 MB young generation, --expose-gc).
    'trace node flags': process.execArgv.join(' ') || '(none)',
    'trace packets': n,
    'trace rounds': rounds,
    'trace 10k svc x 10 ep rules': big.rules,
    'trace 10k svc compile ms': big.compileMs,
    'trace 10k svc packets/s': big.rounds[0],
    'trace 10k svc packets/s typical': median(big.rounds),
    'trace 100 svc packets/s': small.rounds[0],
    'trace 100 svc packets/s typical': median(small.rounds),
    'trace cost ratio 10k/100': Number((small.rounds[0] / big.rounds[0]).toFixed(2)),
    'trace cost ratio 10k/100 typical': Number((median(small.rounds) / median(big.rounds)).toFixed(2)),
    'trace outcomes per packet': Number((big.outcomes / n).toFixed(2)),
  };
}
