// Shared CLI plumbing: reading inputs, atomic writes, printing diagnostics, exit codes.
// Only the CLI touches the file system and the process; the library returns values and
// diagnostics.
import { mkdirSync, readFileSync, writeFileSync, renameSync, statSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { Diagnostic } from '../diag/diagnostic.js';
import { formatDiagnostic } from '../diag/format.js';
import { SourceText } from '../diag/source.js';

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
}

const INPUT_EXTENSIONS = /\.(ya?ml|json)$/i;

/** Reads `-` (stdin), files and directories (every *.yaml, *.yml, *.json in them, sorted). */
export function readInputs(paths: readonly string[], opts: { extensions?: RegExp } = {}): InputFile[] {
  const ext = opts.extensions ?? INPUT_EXTENSIONS;
  const out: InputFile[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push({ name: '<stdin>', text: readFileSync(0, 'utf8') });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const names = readdirSync(p).filter((n) => ext.test(n)).sort();
      if (names.length === 0) throw new UsageError(`${p}: directory holds no ${ext.source} files`);
      for (const n of names) out.push({ name: join(p, n), text: readFileSync(join(p, n), 'utf8') });
    } else {
      out.push({ name: p, text: readFileSync(p, 'utf8') });
    }
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
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (kind === 'file') {
    if (st?.isDirectory()) throw new UsageError(`${flag} ${path}: is a directory; give a file name`);
    const dir = dirname(path);
    let d: ReturnType<typeof statSync> | undefined;
    try {
      d = statSync(dir);
    } catch {
      throw new UsageError(`${flag} ${path}: the folder ${dir} does not exist`);
    }
    if (!d.isDirectory()) throw new UsageError(`${flag} ${path}: ${dir} is not a folder`);
  } else if (st && !st.isDirectory()) throw new UsageError(`${flag} ${path}: is a file; give a folder for the artefacts`);
}

/** Writes a file so that readers see either the old or the new content, never half of it. */
export function writeAtomic(path: string, content: string): void {
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

/** Prints diagnostics to stderr; returns true when any is an error. */
export function printDiagnostics(diags: readonly Diagnostic[], inputs: readonly InputFile[]): boolean {
  const sources = new Map(inputs.map((f) => [f.name, new SourceText(f.name, f.text)]));
  const color = useColor(process.stderr);
  for (const d of diags) process.stderr.write(formatDiagnostic(d, sources, color) + '\n');
  return diags.some((d) => d.severity === 'error');
}

/** Writes to `-o FILE` atomically, or to stdout. */
export function emit(output: string | undefined, content: string): void {
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
