// Whether this machine lets kpsim's kernel tests run: root, the netfilter user-space tools, and the
// right to create a network namespace. Synchronous so that test files can decide at collection
// time (`describe.runIf(kernel.ok)`), and cached: the probe namespace is made once per process.
import { execFileSync } from 'node:child_process';

export interface KernelAvailability {
  readonly ok: boolean;
  /** Why not, in words a person can act on; or what was found. */
  readonly reason: string;
}

/** The programs the kernel tests call. iptables-nft and iptables-legacy both qualify. */
export const REQUIRED_TOOLS = [
  'ip',
  'iptables',
  'iptables-restore',
  'iptables-save',
  'ip6tables-restore',
  'ip6tables-save',
  'iptables-legacy-restore',
  'iptables-legacy-save',
  'ipset',
  'nfacct',
  'nfct',
  'conntrack',
] as const;

let cached: KernelAvailability | undefined;

export function kernelAvailable(): KernelAvailability {
  cached ??= probe();
  return cached;
}

function probe(): KernelAvailability {
  if (process.platform !== 'linux') return no(`kernel tests need Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) return no('kernel tests need root (network namespaces and iptables); run as root or in CI via .ci/run');
  const missing = REQUIRED_TOOLS.filter((tool) => !installed(tool));
  if (missing.length > 0) {
    return no(`missing programs: ${missing.join(', ')} (apt-get install -y iptables ipset nftables conntrack iproute2 nfacct nfct)`);
  }
  const name = `kpsim-${process.pid}-0`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe', timeout: 10_000 });
  } catch (e) {
    return no(`cannot create a network namespace: ${stderrOf(e)}`);
  }
  try {
    // nf_tables or legacy, the tables must be usable inside the namespace.
    execFileSync('ip', ['netns', 'exec', name, 'iptables-save'], { stdio: 'pipe', timeout: 10_000 });
    execFileSync('ip', ['netns', 'exec', name, 'iptables', '-t', 'nat', '-N', 'KPSIM-PROBE'], { stdio: 'pipe', timeout: 10_000 });
  } catch (e) {
    return no(`iptables does not work inside a network namespace: ${stderrOf(e)}`);
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe', timeout: 10_000 });
    } catch {
      // Deleted already or never fully made.
    }
  }
  return { ok: true, reason: `root, ${iptablesVersion()}` };
}

function installed(tool: string): boolean {
  try {
    execFileSync(tool, ['-V'], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch (e) {
    // Found but unhappy with the flag (ipset, nfacct want `version`) still counts as present.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** `iptables v1.8.9 (nf_tables)`, or what went wrong asking. */
export function iptablesVersion(): string {
  try {
    return execFileSync('iptables', ['-V'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (e) {
    return `iptables -V failed: ${stderrOf(e)}`;
  }
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: Buffer | string; message?: string };
  const text = err.stderr ? String(err.stderr).trim() : '';
  return text || err.message || String(e);
}

function no(reason: string): KernelAvailability {
  return { ok: false, reason };
}
