// Running host programs, bounded. test/host is the kernel harness of kpsim's tests and benchmarks
// (it is not part of the CLI or the library): it starts iptables-restore, ip, ipset and friends.
// Programs are started with execFile and an argument vector, never through a shell, so no value
// is ever re-parsed as shell syntax.
import { execFile } from 'node:child_process';

export interface RunOptions {
  /** Text written to the program's stdin (stdin is closed right after). */
  readonly stdin?: string;
  /** Killed after this long; default 60 s. */
  readonly timeoutMs?: number;
  /** Limit for stdout and stderr each; default 256 MiB (a 10k-service ruleset saves to ~40 MB). */
  readonly maxBuffer?: number;
}

export interface RunResult {
  /** Exit status; null when the program was killed by a signal or could not start. */
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BUFFER = 256 * 1024 * 1024;

/** Runs `file args...` and resolves with its status and output; it never rejects. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER,
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C' },
      },
      (error, stdout, stderr) => {
        const ms = performance.now() - started;
        if (!error) {
          resolve({ code: 0, signal: null, stdout, stderr, ms });
          return;
        }
        const e = error as NodeJS.ErrnoException & { code?: number | string; signal?: string | null; killed?: boolean };
        const code = typeof e.code === 'number' ? e.code : null;
        const why = code === null ? `${file}: ${e.signal ? `killed by ${e.signal}` : e.message}\n` : '';
        resolve({ code, signal: e.signal ?? null, stdout: stdout ?? '', stderr: `${stderr ?? ''}${why}`, ms });
      },
    );
    // A program that exits before reading its input makes the write fail with EPIPE; the exit
    // status then tells the story, so the write error itself is not interesting.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.stdin ?? '');
  });
}

/** A program that exited non-zero, with what it printed. */
export class CommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly result: RunResult,
  ) {
    const status = result.code === null ? `did not finish (${result.signal ?? 'no status'})` : `exited ${result.code}`;
    super(`${command.join(' ')} ${status}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Like run, but rejects with a CommandError unless the program exits 0; resolves with stdout. */
export async function runChecked(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await run(file, args, opts);
  if (result.code !== 0) throw new CommandError([file, ...args], result);
  return result.stdout;
}
