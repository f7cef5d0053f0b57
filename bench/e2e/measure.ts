// One program run, measured as the kernel accounts it: wall time, CPU time (user + system) and
// peak resident set size of exactly that process (and anything it waited for), from wait4(2)'s
// rusage. Node cannot wait4 a child of its own, so a few lines of python3 (which .ci/run installs
// for the kernel tests anyway) spawn the program, wait4 it and print the figures; the wall clock
// starts and stops inside python, so python's own start-up is not counted. Without python3 only
// wall time is measured, from here, and the table says so.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Measured {
  readonly wallS: number;
  /** user + system CPU seconds; null when not measurable here. */
  readonly cpuS: number | null;
  /** Peak RSS in MiB (ru_maxrss); null when not measurable here. */
  readonly peakMB: number | null;
  readonly exitCode: number;
  /** Killed for running longer than the timeout. */
  readonly timedOut: boolean;
  /** The first lines of what the program wrote on stderr. */
  readonly stderr: string;
}

export interface Io {
  /** A file for stdin, default /dev/null. */
  readonly stdin?: string;
  /** A file for stdout, default /dev/null. */
  readonly stdout?: string;
  /** A file for stderr (kept short in Measured.stderr). */
  readonly stderr: string;
  /** The working directory, default this process's. */
  readonly cwd?: string;
}

// argv: timeout stdin stdout stderr program args...; prints one JSON line.
const WAIT4 = `
import json, os, signal, sys, time
timeout = int(sys.argv[1])
i, o, e = sys.argv[2:5]
acts = [(os.POSIX_SPAWN_OPEN, 0, i, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, o, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, e, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
t0 = time.perf_counter()
pid = os.posix_spawnp(sys.argv[5], sys.argv[5:], dict(os.environ), file_actions=acts)
killed = []
def expire(*_):
    killed.append(1)
    os.kill(pid, signal.SIGKILL)
signal.signal(signal.SIGALRM, expire)
signal.alarm(timeout)
_, status, ru = os.wait4(pid, 0)
signal.alarm(0)
wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss, "exit": os.waitstatus_to_exitcode(status), "timed_out": bool(killed)}))
`;

let python: boolean | undefined;

/** How CPU and peak RSS are measured on this machine, for the table's header. */
export function measuringMethod(): string {
  return hasPython()
    ? 'wait4(2) rusage of each process (via python3): CPU = user + sys, peak RSS = ru_maxrss'
    : 'wall time only: CPU and peak RSS need python3 for wait4(2) (apt-get install python3-minimal)';
}

function hasPython(): boolean {
  if (python === undefined) {
    try {
      execFileSync('python3', ['-c', 'import os; os.posix_spawnp; os.wait4; os.waitstatus_to_exitcode'], { stdio: 'pipe' });
      python = true;
    } catch {
      python = false;
    }
  }
  return python;
}

/** Runs `program args...` once and measures it; killed after timeoutS seconds. */
export function measure(program: string, args: readonly string[], io: Io, timeoutS = 3600): Measured {
  const stdin = io.stdin ?? '/dev/null';
  const stdout = io.stdout ?? '/dev/null';
  if (hasPython()) {
    const r = spawnSync('python3', ['-c', WAIT4, String(Math.ceil(timeoutS)), stdin, stdout, io.stderr, program, ...args], { encoding: 'utf8', cwd: io.cwd });
    if (r.status !== 0) throw new Error(`measuring ${program} failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout) as { wall: number; cpu: number; maxrss_kb: number; exit: number; timed_out: boolean };
    return { wallS: m.wall, cpuS: m.cpu, peakMB: m.maxrss_kb / 1024, exitCode: m.exit, timedOut: m.timed_out, stderr: head(io.stderr, io.cwd) };
  }
  const at = (f: string) => resolve(io.cwd ?? '.', f);
  const fds = [openSync(at(stdin), 'r'), openSync(at(stdout), 'w'), openSync(at(io.stderr), 'w')];
  try {
    const t0 = performance.now();
    const r = spawnSync(program, args, { stdio: fds, cwd: io.cwd, timeout: timeoutS * 1000, killSignal: 'SIGKILL' });
    const timedOut = r.signal === 'SIGKILL';
    return { wallS: (performance.now() - t0) / 1000, cpuS: null, peakMB: null, exitCode: r.status ?? 128 + 9, timedOut, stderr: head(io.stderr, io.cwd) };
  } finally {
    fds.forEach(closeSync);
  }
}

function head(file: string, cwd = '.'): string {
  return readFileSync(resolve(cwd, file), 'utf8').split('\n').slice(0, 5).join('\n').slice(0, 800);
}

/**
 * The median of each figure over runs (peak RSS: the highest), failing on the first run that does
 * not exit with `exit` (0, or 1 for `kpsim diff` of different nodes).
 */
export function measureRuns(runs: number, once: () => Measured, exit = 0): Measured | { failed: Measured } {
  const all: Measured[] = [];
  for (let i = 0; i < runs; i++) {
    const m = once();
    if (m.exitCode !== exit || m.timedOut) return { failed: m };
    all.push(m);
  }
  return medianOf(all);
}

/** The median wall and CPU time of successful runs and the highest peak RSS. */
export function medianOf(all: readonly Measured[]): Measured {
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const cpus = all.map((m) => m.cpuS);
  const peaks = all.map((m) => m.peakMB);
  return {
    wallS: med(all.map((m) => m.wallS)),
    cpuS: cpus.every((c) => c !== null) ? med(cpus as number[]) : null,
    peakMB: peaks.every((p) => p !== null) ? Math.max(...(peaks as number[])) : null,
    exitCode: 0,
    timedOut: false,
    stderr: all[0].stderr,
  };
}
