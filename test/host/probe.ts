// Real packets through a namespace topology: a responder in each pod namespace that tells who
// answered and which source address it saw (so DNAT target and masquerade are both visible), and
// a client that makes a bounded batch of connections from one process. Both are small Node
// scripts beside this file (responder.cjs, probe-client.cjs), run with this same Node binary
// inside the namespace; their parameters travel as argv.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Namespace } from './netns.js';

export type ProbeProtocol = 'tcp' | 'udp';


/** Answers each connection or datagram with who answered and what it saw (see the file). */
const RESPONDER = fileURLToPath(new URL('./responder.cjs', import.meta.url));

export interface Responder {
  readonly child: ChildProcess;
}

/** Starts a responder named `name` on `port` inside ns; resolves once it listens (within 10 s). */
export function startResponder(ns: Namespace, protocol: ProbeProtocol, port: number, name: string): Promise<Responder> {
  const child = ns.spawn(process.execPath, [RESPONDER, protocol, String(port), name]);
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

/** Makes a bounded batch of connections and prints what came of each (see the file). */
const CLIENT = fileURLToPath(new URL('./probe-client.cjs', import.meta.url));

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
  const args = [CLIENT, target.protocol, target.host, String(target.port), String(count), String(timeoutMs), String(target.sourcePort ?? 0), target.sourceAddress ?? ''];
  const stdout = await ns.exec(process.execPath, args, { timeoutMs: count * timeoutMs + 10_000 });
  return JSON.parse(stdout) as ProbeResult[];
}

/** The namespace's conntrack table as `conntrack -L` prints it, one entry per line. */
export async function conntrackEntries(ns: Namespace, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<string[]> {
  const stdout = await ns.exec('conntrack', ['-L', '-f', family]);
  return stdout.split('\n').filter((line) => line.trim() !== '');
}
