// The kernel's own check as the benchmark's baseline: `iptables-restore --test` (and `nft -c -f`)
// of kpsim's output, run in a throwaway network namespace in the same benchmark run.
//
// Safety: every namespace is named `kpsim-bench-<pid>-<n>`, created here and deleted here (in a
// finally, and on SIGINT/SIGTERM); programs run only inside one (`ip netns exec NAME ...`), so the
// root namespace's rules, addresses and routes are never touched.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { measure, type Io, type Measured } from './measure.js';

const PREFIX = `kpsim-bench-${process.pid}-`;
const live = new Set<string>();
let counter = 0;
let hooked = false;

export type Availability = { readonly ok: true; readonly what: string } | { readonly ok: false; readonly reason: string };

function installed(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'pipe' });
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Whether the baseline can run here: root, the tool, and a namespace of our own. */
export function kernelAvailable(tool: 'iptables-restore' | 'nft'): Availability {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (a throwaway network namespace); run npm run bench as root' };
  if (!installed('ip')) return { ok: false, reason: 'needs iproute2 (apt-get install iproute2)' };
  if (!installed(tool)) return { ok: false, reason: `${tool} is not installed (apt-get install ${tool === 'nft' ? 'nftables' : 'iptables'})` };
  try {
    return withNamespace((ns) => {
      execFileSync('ip', ['netns', 'exec', ns, ...(tool === 'nft' ? ['nft', 'list', 'ruleset'] : ['iptables-save'])], { stdio: 'pipe', timeout: 10_000 });
      const version = execFileSync(tool === 'nft' ? 'nft' : 'iptables', ['--version'], { encoding: 'utf8' }).trim();
      return { ok: true, what: version };
    });
  } catch (e) {
    return { ok: false, reason: `cannot use a network namespace: ${String((e as { stderr?: unknown }).stderr ?? e).trim()}` };
  }
}

/** Runs fn with a fresh namespace, deleted afterwards whatever happens. */
export function withNamespace<T>(fn: (ns: string) => T): T {
  hookSignals();
  const ns = `${PREFIX}${counter++}`;
  execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe', timeout: 10_000 });
  live.add(ns);
  try {
    return fn(ns);
  } finally {
    remove(ns);
  }
}

function remove(ns: string): void {
  if (!live.delete(ns)) return;
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe', timeout: 10_000 });
  } catch {
    // Already gone.
  }
}

function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const ns of [...live]) remove(ns);
      process.exit(130);
    });
  }
}

/**
 * `iptables-restore -w --test` of a rules file in a fresh namespace, once; the nfacct objects that
 * `-m nfacct` rules name are made first, as kube-proxy makes them at start-up.
 */
export function iptablesRestoreTest(rules: string, io: Io): Measured {
  const names = [...new Set(Array.from(readFileSync(rules, 'utf8').matchAll(/--nfacct-name +(\S+)/g), (m) => m[1]))];
  return withNamespace((ns) => {
    for (const name of names) execFileSync('ip', ['netns', 'exec', ns, 'nfacct', 'add', name], { stdio: 'pipe', timeout: 10_000 });
    return measure('ip', ['netns', 'exec', ns, 'iptables-restore', '-w', '--test'], { ...io, stdin: rules });
  });
}

/** `nft -c -f FILE` (check only) in a fresh namespace, once. */
export function nftCheck(file: string, io: Io): Measured {
  return withNamespace((ns) => measure('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', file], io));
}
