// Throwaway Linux network namespaces for kernel tests and benchmarks.
//
// Safety rules (see also topology.ts):
// - Every namespace this module creates is named `kpsim-<pid>-<counter>`, and it only ever
//   deletes names of that shape it created itself (plus, at exit, names with its own pid prefix).
// - Commands run *inside* one of those namespaces (`ip netns exec NAME ...`, `ip -n NAME ...`);
//   nothing here changes the root namespace's addresses, routes or rules.
// - `ip` arguments that could reach another namespace (`netns`, `-n`, `-all`) are refused; links
//   between namespaces are made by topology.ts, which only accepts namespaces from this module.
// - Sysctls are limited to the per-namespace `net.*` tree.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { run, runChecked, CommandError, type RunOptions, type RunResult } from './run.js';

const PREFIX = `kpsim-${process.pid}-`;
const OWN_NAME = /^kpsim-\d+-\d+$/;
let counter = 0;
const live = new Set<string>();

/** A network namespace created by this module; valid until deleted. */
export class Namespace {
  private readonly children = new Set<ChildProcess>();
  private deleted = false;

  constructor(readonly name: string) {}

  /** Runs a program inside the namespace; resolves with its status (never rejects). */
  async run(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    this.assertUsable();
    if (cmd === 'ip') assertLocalIpArgs(args);
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  /** Like run, but rejects unless the program exits 0; resolves with stdout. */
  async exec(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<string> {
    const result = await this.run(cmd, args, opts);
    if (result.code !== 0) throw new CommandError([cmd, ...args], result);
    return result.stdout;
  }

  /** `ip ARGS` applied to this namespace (by `ip -n`, no mount namespace needed). */
  async ip(args: readonly string[], opts: RunOptions = {}): Promise<string> {
    this.assertUsable();
    assertLocalIpArgs(args);
    return runChecked('ip', ['-n', this.name, ...args], opts);
  }

  /** Sets a per-namespace sysctl such as `net.ipv4.ip_forward`. */
  async sysctl(key: string, value: string | number): Promise<void> {
    if (!/^net\.[A-Za-z0-9_.\/-]+$/.test(key) || key.includes('..')) {
      throw new Error(`sysctl ${key}: only per-namespace net.* keys may be set`);
    }
    await this.exec('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /**
   * Starts a long-running program inside the namespace (a server, a packet source). It is killed
   * when the namespace is deleted, if it has not exited before.
   */
  spawn(cmd: string, args: readonly string[] = []): ChildProcess {
    this.assertUsable();
    if (cmd === 'ip') assertLocalIpArgs(args);
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills what spawn started and deletes the namespace; safe to call twice. */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await Promise.all([...this.children].map(killAndWait));
    await run('ip', ['netns', 'del', this.name], { timeoutMs: 10_000 });
    live.delete(this.name);
  }

  private assertUsable(): void {
    if (this.deleted) throw new Error(`namespace ${this.name} was already deleted`);
  }
}

/** Creates a fresh namespace with its loopback interface up. */
export async function createNamespace(): Promise<Namespace> {
  installExitSweep();
  const name = `${PREFIX}${++counter}`;
  live.add(name);
  const ns = new Namespace(name);
  try {
    await runChecked('ip', ['netns', 'add', name], { timeoutMs: 10_000 });
    await ns.ip(['link', 'set', 'lo', 'up']);
  } catch (e) {
    await ns.delete();
    throw e;
  }
  return ns;
}

/** Runs fn with one fresh namespace and deletes it afterwards, whatever happens. */
export async function withNamespace<T>(fn: (ns: Namespace) => Promise<T>): Promise<T> {
  return withNamespaces(1, ([ns]) => fn(ns!));
}

/** Runs fn with `count` fresh namespaces and deletes them all afterwards, whatever happens. */
export async function withNamespaces<T>(count: number, fn: (nss: Namespace[]) => Promise<T>): Promise<T> {
  const nss: Namespace[] = [];
  try {
    for (let i = 0; i < count; i++) nss.push(await createNamespace());
    return await fn(nss);
  } finally {
    await Promise.all(nss.map((ns) => ns.delete()));
  }
}

/** True for the namespace names this module gives out (any process). */
export function isKpsimNamespaceName(name: string): boolean {
  return OWN_NAME.test(name);
}

// `ip` options that address a namespace other than the one given by `-n`: `netns PID|NAME` (in
// `link add ... netns`, `link set ... netns`), `-n`/`-netns` and `-all` (for every namespace).
function assertLocalIpArgs(args: readonly string[]): void {
  for (const a of args) {
    if (a === 'netns' || a === '-n' || a === '-netns' || a === '--netns' || a === '-all' || a === '-a') {
      throw new Error(`ip ${args.join(' ')}: arguments that reach another namespace are not allowed here`);
    }
  }
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

// At process exit (also on SIGINT/SIGTERM/SIGHUP), delete every namespace with this process's
// prefix, including any whose creation was interrupted. Synchronous because 'exit' handlers are.
let sweepInstalled = false;
function installExitSweep(): void {
  if (sweepInstalled) return;
  sweepInstalled = true;
  process.once('exit', sweepOwnNamespaces);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      sweepOwnNamespaces();
      // Re-raise for the default action, unless someone else handles the signal.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** Deletes this process's namespaces now (synchronously). Exported for the exit sweep's test. */
export function sweepOwnNamespaces(): string[] {
  const names = new Set(live);
  try {
    const listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
    for (const line of listed.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      if (name.startsWith(PREFIX) && isKpsimNamespaceName(name)) names.add(name);
    }
  } catch {
    // No `ip`, or not permitted: nothing of ours can exist either.
  }
  for (const name of names) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // Already gone.
    }
    live.delete(name);
  }
  return [...names];
}
