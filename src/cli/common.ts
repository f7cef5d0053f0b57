// Shared CLI plumbing: reading inputs, atomic writes, printing diagnostics, exit codes.
// Only the CLI touches the file system and the process; the library returns values and
// diagnostics.
import type { Stats } from 'node:fs';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync, renameSync, statSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { Diagnostic } from '../diag/diagnostic.js';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_MAX_ERRORS, formatDiagnostics } from '../diag/format.js';
import { SourceText } from '../diag/source.js';
import { decodeInput, MAX_INPUT_BYTES, tooLarge } from '../input/decode.js';

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;

/** A problem with how the command was called (exit 2). */
export class UsageError extends Error {}

/** A problem with the user's input that was already reported (exit 1). */
export class InputError extends Error {}

export interface InputFile {
  readonly name: string;
  readonly text: string;
  /** The bytes `text` was decoded from (UTF-8), to write back unchanged without encoding the text again. */
  readonly bytes?: Uint8Array;
}

const INPUT_EXTENSIONS = /\.(ya?ml|json)$/i;

export interface ReadOptions {
  /**
   * Cluster inputs may be directories (every *.yaml, *.yml, *.json in them, sorted); a dump is one
   * file, and a directory given for it is a usage error that says so.
   */
  readonly directories?: boolean;
  /** What the file is, for messages (`the dump`, `the flows file`). */
  readonly what?: string;
  /** Keep each file's bytes beside its text (InputFile.bytes). */
  readonly keepBytes?: boolean;
}

/**
 * Reads `-` (stdin), files and (for cluster inputs) directories. A missing or unreadable input is
 * bad input (exit 1), reported in words.
 */
export function readInputs(paths: readonly string[], opts: ReadOptions = {}): InputFile[] {
  const directories = opts.directories ?? true;
  const out: InputFile[] = [];
  const problems: Diagnostic[] = [];
  const readOne = (name: string, st?: Stats) => {
    let bytes: ReadBytes;
    try {
      bytes = readFile(name, st);
    } catch (e) {
      throw new InputError(`cannot read ${name}: ${osReason(e)}`);
    }
    read(name, bytes);
  };
  const read = (name: string, bytes: ReadBytes) => {
    const decoded = bytes.ok ? decodeInput(name, bytes.bytes) : { ok: false as const, diagnostic: tooLarge(name, bytes.size, true) };
    if (decoded.ok) out.push({ name, text: decoded.text, bytes: bytes.ok && opts.keepBytes ? bytes.bytes : undefined });
    else problems.push(decoded.diagnostic);
  };
  for (const p of paths) {
    if (p === '-') {
      // Standard input redirected from a file is refused by size before reading, as a file is.
      const st = fstatSync(0);
      read('<stdin>', st.isFile() && st.size > MAX_INPUT_BYTES ? { ok: false, size: st.size } : readBounded(0));
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      throw new InputError(`cannot read ${p}: ${osReason(e)}`);
    }
    if (st.isDirectory()) {
      if (!directories) throw new UsageError(`${p} is a directory; give ${opts.what ?? 'a file'}`);
      let names: string[];
      try {
        names = readdirSync(p).filter((n) => INPUT_EXTENSIONS.test(n)).sort();
      } catch (e) {
        throw new InputError(`cannot read ${p}: ${osReason(e)}`);
      }
      if (names.length === 0) throw new InputError(`${p}: the folder holds no .yaml, .yml or .json files`);
      for (const n of names) readOne(join(p, n));
    } else readOne(p, st);
  }
  if (problems.length) {
    printDiagnostics(problems, []);
    throw new InputError(`${problems.length} unreadable input${problems.length === 1 ? '' : 's'}`);
  }
  return out;
}

/** What the operating system said, in words (`ENOENT` -> no such file or directory). */
function osReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    ENOSPC: 'no space left on the device',
    EROFS: 'the file system is read-only',
    EDQUOT: 'disk quota exceeded',
  };
  return (code && words[code]) ?? (e as Error)?.message ?? String(e);
}

/**
 * Checks an output path before any work is done (a usage error, exit 2, when it cannot be one):
 * a file's folder must exist and the file must not be a directory; a directory may not exist yet
 * (it is created) but must not be a file.
 */
export function checkOutputPath(path: string | undefined, kind: 'file' | 'dir', flag = '-o'): void {
  if (path === undefined || path === '-') return;
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (kind === 'file') {
    if (st?.isDirectory()) throw new UsageError(`${flag} ${path}: is a directory; give a file name`);
    // `-o out/`: a folder's name, whose parent exists; the write would fail with ENOTDIR.
    if (/[\\/]$/.test(path)) throw new UsageError(`${flag} ${path}: names a folder (it ends with a slash), and there is none; give a file name`);
    const dir = dirname(path);
    let d: Stats | undefined;
    try {
      d = statSync(dir);
    } catch {
      throw new UsageError(`${flag} ${path}: the folder ${dir} does not exist`);
    }
    if (!d.isDirectory()) throw new UsageError(`${flag} ${path}: ${dir} is not a folder`);
  } else if (st && !st.isDirectory()) throw new UsageError(`${flag} ${path}: is a file; give a folder for the artefacts`);
}

/** One file's text (a golden case's files), refused the way readInputs refuses an input. */
export function readTextFile(path: string): string {
  const bytes = readFile(path);
  const decoded = bytes.ok ? decodeInput(path, bytes.bytes) : { ok: false as const, diagnostic: tooLarge(path, bytes.size, true) };
  if (decoded.ok) return decoded.text;
  printDiagnostics([decoded.diagnostic], []);
  throw new InputError(`${path}: unreadable`);
}

type ReadBytes = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly size: number };

/** A regular file of known size is refused before reading when too large; anything else (a pipe, a device) is read up to the limit. */
function readFile(path: string, st: Stats = statSync(path)): ReadBytes {
  if (!st.isFile()) {
    const fd = openSync(path, 'r');
    try {
      return readBounded(fd);
    } finally {
      closeSync(fd);
    }
  }
  if (st.size > MAX_INPUT_BYTES) return { ok: false, size: st.size };
  return { ok: true, bytes: readFileSync(path) };
}

/** Reads a descriptor to its end, stopping once it holds more than one input may. */
function readBounded(fd: number): ReadBytes {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(8 << 20);
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF') break;
      if (code !== 'EAGAIN') throw e;
      // A non-blocking stdin with nothing yet: wait a little for the writer.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      continue;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_INPUT_BYTES) return { ok: false, size: total };
    chunks.push(buf.subarray(0, n));
  }
  return { ok: true, bytes: Buffer.concat(chunks, total) };
}

/** Writes a file so that readers see either the old or the new content, never half of it. */
export function writeAtomic(path: string, content: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    throw new InputError(`cannot write ${path}: ${osReason(e)}`);
  }
}

/** Text written as it is made (bulk output of hundreds of MB, never held whole). */
export interface OutputStream {
  write(text: string): void;
  /** Everything written: `-o FILE` takes its place now. */
  close(): void;
  /** The run failed: `-o FILE` keeps what it had. */
  abort(): void;
}

/**
 * `-o FILE` (a temporary file beside it, renamed into place by close: readers see the old or the
 * new content, never half) or standard output (on Linux process.stdout writes to files and pipes
 * synchronously: a write returns once the bytes are out, so nothing piles up in memory).
 */
export function openOutput(output: string | undefined): OutputStream {
  if (!output || output === '-') {
    const out = batched((text) => process.stdout.write(text));
    return { write: out.write, close: out.flush, abort: out.flush };
  }
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new InputError(`cannot write ${output}: ${osReason(e)}`);
  }
  const abort = () => {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
  };
  const fail = (e: unknown): never => {
    abort();
    throw new InputError(`cannot write ${output}: ${osReason(e)}`);
  };
  const out = batched((text) => {
    try {
      writeSync(fd, text);
    } catch (e) {
      fail(e);
    }
  });
  return {
    write: out.write,
    close() {
      out.flush();
      try {
        closeSync(fd);
        renameSync(tmp, output);
      } catch (e) {
        fail(e);
      }
    },
    abort,
  };
}

/** Small texts gathered into writes of about a megabyte. */
function batched(sink: (text: string) => void): { write(text: string): void; flush(): void } {
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    if (size > 0) sink(pending.join(''));
    pending = [];
    size = 0;
  };
  return {
    write(text) {
      pending.push(text);
      size += text.length;
      if (size >= 1 << 20) flush();
    },
    flush,
  };
}

/** Creates an output folder (and its parents), with a clear error when it cannot. */
export function makeDirectory(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create ${path}: ${osReason(e)}`);
  }
}

export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/** The --max-errors of the command being run (see `addMaxErrorsOption`). */
let maxErrors = DEFAULT_MAX_ERRORS;

function parseMaxErrors(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('give a number of errors (0 prints all)');
  return n;
}

/** --max-errors, defined once for every command that reports diagnostics. */
export function addMaxErrorsOption(cmd: Command): Command {
  return cmd
    .option('--max-errors <n>', `print at most N errors (and N warnings), then how many more; 0 prints all`, parseMaxErrors, DEFAULT_MAX_ERRORS)
    .hook('preAction', (_self, run) => {
      maxErrors = (run.opts() as { maxErrors?: number }).maxErrors ?? DEFAULT_MAX_ERRORS;
    });
}

/** Prints diagnostics to stderr, at most --max-errors of each severity; returns true when any is an error. */
export function printDiagnostics(diags: readonly Diagnostic[], inputs: readonly InputFile[]): boolean {
  const texts = new Map(inputs.map((f) => [f.name, f.text]));
  const sourceOf = (file: string) => {
    const text = texts.get(file);
    return text === undefined ? undefined : new SourceText(file, text);
  };
  const lines = formatDiagnostics(diags, sourceOf, { color: useColor(process.stderr), maxErrors });
  if (lines.length) process.stderr.write(lines.join('\n') + '\n');
  return diags.some((d) => d.severity === 'error');
}

/** printDiagnostics' settings, for a command that formats diagnostics into its own report. */
export function diagnosticFormat(stream: NodeJS.WriteStream): { color: boolean; maxErrors: number } {
  return { color: useColor(stream), maxErrors };
}

/** Writes to `-o FILE` atomically, or to stdout. */
export function emit(output: string | undefined, content: string | Uint8Array): void {
  if (output && output !== '-') writeAtomic(output, content);
  else process.stdout.write(content);
}

/** Runs a command action, mapping our error classes to exit codes and hiding stack traces. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT_OK;
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`kpsim: ${e.message}\n`);
        process.exitCode = EXIT_USAGE;
      } else if (e instanceof InputError) {
        if (e.message) process.stderr.write(`kpsim: ${e.message}\n`);
        process.exitCode = EXIT_BAD_INPUT;
      } else if (e && typeof e === 'object' && 'code' in e && (e as { code: string }).code === 'EPIPE') {
        process.exitCode = EXIT_OK;
      } else {
        process.stderr.write(`kpsim: internal error: ${(e as Error)?.stack ?? e}\n`);
        process.exitCode = 70;
      }
    }
  };
}
