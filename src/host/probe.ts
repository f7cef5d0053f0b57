// Real packets through a namespace topology: a responder in each pod namespace that tells who
// answered and which source address it saw (so DNAT target and masquerade are both visible), and
// a client that makes a bounded batch of connections from one process. Both are small Node
// scripts run with this same Node binary inside the namespace; their parameters travel as argv.
import type { ChildProcess } from 'node:child_process';
import type { Namespace } from './netns.js';

export type ProbeProtocol = 'tcp' | 'udp';

/**
 * Retries `attempt` until it yields a value, at most `attempts` times and for at most `timeoutMs`
 * in total, waiting `intervalMs` between tries. Every probe loop goes through here (or has its
 * own count and time bound) so none can spin forever.
 */
export async function poll<T>(
  attempt: () => Promise<T | undefined>,
  bounds: { attempts: number; timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + bounds.timeoutMs;
  for (let i = 0; i < bounds.attempts && Date.now() < deadline; i++) {
    const value = await attempt();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, bounds.intervalMs ?? 50));
  }
  throw new Error(`gave up after ${bounds.attempts} attempts or ${bounds.timeoutMs} ms`);
}

// Answers every connection or datagram with one line:
// `<name> <source address> <source port> <local address> <local port>`, so the client learns
// which endpoint address the node's DNAT chose and whether the node masqueraded. TCP listens on
// [::] (which also takes IPv4). UDP binds one socket per address of the namespace instead: a
// socket bound to a wildcard answers from whatever source address the route to the client
// prefers, and a connected client socket drops an answer that does not come from the address it
// sent to (a node sending to its second address saw every answer come from its first and read
// that as DROP). Link-local IPv6 addresses are left out (they need a scope).
const RESPONDER = `
const [proto, port, name] = process.argv.slice(1);
const plain = (a) => a.replace(/^::ffff:/, '');
const ready = () => process.stdout.write('listening\\n');
if (proto === 'tcp') {
  require('node:net').createServer((s) => {
    s.on('error', () => {});
    s.end([name, plain(s.remoteAddress), s.remotePort, plain(s.localAddress), s.localPort].join(' ') + '\\n');
  }).listen({ port: Number(port), host: '::' }, ready);
} else {
  const addrs = Object.values(require('node:os').networkInterfaces()).flat().filter((a) => !a.address.startsWith('fe80:'));
  let waiting = addrs.length;
  for (const a of addrs) {
    const v6 = a.family === 'IPv6' || a.family === 6;
    const sock = require('node:dgram').createSocket(v6 ? { type: 'udp6', ipv6Only: true } : 'udp4');
    sock.on('message', (m, r) => sock.send([name, plain(r.address), r.port, a.address, port].join(' ') + '\\n', r.port, r.address));
    sock.bind(Number(port), a.address, () => { if (--waiting === 0) ready(); });
  }
}
`;

export interface Responder {
  readonly child: ChildProcess;
}

/** Starts a responder named `name` on `port` inside ns; resolves once it listens (within 10 s). */
export function startResponder(ns: Namespace, protocol: ProbeProtocol, port: number, name: string): Promise<Responder> {
  const child = ns.spawn(process.execPath, ['-e', RESPONDER, protocol, String(port), name]);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`responder ${name} did not start within 10 s`)), 10_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening\n')) {
        clearTimeout(timer);
        resolve({ child });
      }
    });
    child.once('exit', (code) => fail(new Error(`responder ${name} exited (${code}) before listening`)));
  });
}

// Makes `count` connections one after another, each bounded by `timeoutMs`, and prints a JSON
// array of {reply} or {error} (ECONNREFUSED for a REJECT, TIMEOUT for a DROP).
const CLIENT = `
const [proto, host, port, count, timeoutMs, sourcePort, sourceAddress] = process.argv.slice(1);
const results = [];
function once() {
  return new Promise((resolve) => {
    const done = (r) => { clearTimeout(timer); resolve(r); };
    const timer = setTimeout(() => { close(); done({ error: 'TIMEOUT' }); }, Number(timeoutMs));
    let close = () => {};
    if (proto === 'tcp') {
      const opts = { host, port: Number(port) };
      if (Number(sourcePort) > 0) opts.localPort = Number(sourcePort);
      if (sourceAddress) opts.localAddress = sourceAddress;
      const s = require('node:net').connect(opts);
      close = () => s.destroy();
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('end', () => { s.destroy(); done({ reply: data.trim() }); });
      s.on('error', (e) => done({ error: e.code || String(e) }));
    } else {
      const sock = require('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
      close = () => sock.close();
      sock.on('message', (m) => { sock.close(); done({ reply: String(m).trim() }); });
      sock.on('error', (e) => { sock.close(); done({ error: e.code || String(e) }); });
      sock.bind({ port: Number(sourcePort) || 0, address: sourceAddress || undefined }, () => sock.send('probe', Number(port), host));
    }
  });
}
(async () => {
  for (let i = 0; i < Number(count); i++) results.push(await once());
  process.stdout.write(JSON.stringify(results));
})();
`;

export interface ProbeTarget {
  readonly protocol: ProbeProtocol;
  readonly host: string;
  readonly port: number;
  /** Fixed client port; default: the kernel picks one per connection. */
  readonly sourcePort?: number;
  /** Client address to send from (one of the namespace's addresses); default: the route's. */
  readonly sourceAddress?: string;
}

export interface ProbeResult {
  /** The responder's line: `<name> <source address> <source port> <local address> <local port>`. */
  readonly reply?: string;
  /** ECONNREFUSED, EHOSTUNREACH, TIMEOUT, ... */
  readonly error?: string;
}

/**
 * Sends `count` probes (at most 10 000) from ns to the target, one at a time, each waiting at most
 * `timeoutMs` (at most 10 s) for the answer.
 */
export async function probe(ns: Namespace, target: ProbeTarget, count: number, timeoutMs = 1_000): Promise<ProbeResult[]> {
  if (!(count >= 1 && count <= 10_000)) throw new Error(`probe: count ${count} is not in 1-10000`);
  if (!(timeoutMs > 0 && timeoutMs <= 10_000)) throw new Error(`probe: timeout ${timeoutMs} ms is not in 1-10000`);
  const args = ['-e', CLIENT, target.protocol, target.host, String(target.port), String(count), String(timeoutMs), String(target.sourcePort ?? 0), target.sourceAddress ?? ''];
  const stdout = await ns.exec(process.execPath, args, { timeoutMs: count * timeoutMs + 10_000 });
  return JSON.parse(stdout) as ProbeResult[];
}

/** The namespace's conntrack table as `conntrack -L` prints it, one entry per line. */
export async function conntrackEntries(ns: Namespace, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<string[]> {
  const stdout = await ns.exec('conntrack', ['-L', '-f', family]);
  return stdout.split('\n').filter((line) => line.trim() !== '');
}
