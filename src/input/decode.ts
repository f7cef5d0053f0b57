// Input bytes -> text, refusing what is not text instead of guessing: every reader (cluster files,
// flows files, iptables-save, ipset and ipvsadm dumps) gets its text from here, so a binary file, a
// NUL byte or invalid UTF-8 is one diagnostic at its line and column, never a string full of U+FFFD
// or a parser lost in megabytes of bytes. The CLI reads the files; this module only looks at bytes.
import { isUtf8 } from 'node:buffer';
import type { Diagnostic, SourceSpan } from '../diag/diagnostic.js';

export type InputCode =
  | 'INPUT_TOO_LARGE' // more bytes than a JavaScript string can hold
  | 'INPUT_NUL' // a NUL byte: binary data, not text
  | 'INPUT_BAD_UTF8'; // bytes that are not UTF-8

/**
 * The most bytes kpsim reads from one input. V8 strings hold at most 2^29 - 24 UTF-16 code units
 * (`buffer.constants.MAX_STRING_LENGTH` on 64-bit Node 20); UTF-8 never takes fewer bytes than
 * code units, so a file within this many bytes always fits in one string.
 */
export const MAX_INPUT_BYTES = 2 ** 29 - 24;

export type Decoded = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly diagnostic: Diagnostic };

function problem(code: InputCode, message: string, file: string, span: SourceSpan | null): Decoded {
  return { ok: false, diagnostic: { severity: 'error', code, message, file, span } };
}

/** The diagnostic for an input of `size` bytes that kpsim will not read (`atLeast`: reading stopped there). */
export function tooLarge(file: string, size: number, atLeast = false): Diagnostic {
  const mib = (n: number) => `${Math.floor(n / 2 ** 20)} MiB`;
  const message = `${atLeast ? 'more than ' : ''}${mib(size)}: larger than the ${mib(MAX_INPUT_BYTES)} one input may hold (the longest JavaScript string); split it into several files`;
  return { severity: 'error', code: 'INPUT_TOO_LARGE' satisfies InputCode, message, file, span: null };
}

/** Line and column (in UTF-16 code units, as every other span) of byte `at`, whose prefix is valid UTF-8. */
function spanAt(bytes: Uint8Array, at: number): SourceSpan {
  const lineStart = bytes.lastIndexOf(10, at - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(10); i !== -1 && i < at; i = bytes.indexOf(10, i + 1)) line++;
  const col = Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, at - lineStart).toString('utf8').length + 1;
  return { line, col, offset: at, length: 1 };
}

/** The offset of the first byte that does not continue a valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * UTF-8 bytes -> text (a byte-order mark stays, as the readers always saw it). A NUL byte or a byte
 * that is not UTF-8 is reported at its line and column with the byte's value.
 */
export function decodeInput(file: string, bytes: Uint8Array): Decoded {
  if (bytes.length > MAX_INPUT_BYTES) return { ok: false, diagnostic: tooLarge(file, bytes.length) };
  const valid = isUtf8(bytes);
  const bad = valid ? -1 : firstInvalidUtf8(bytes);
  // A NUL before the first bad byte is the better explanation (binary data).
  const nul = bytes.indexOf(0);
  if (nul !== -1 && (bad === -1 || nul < bad)) return problem('INPUT_NUL', 'NUL byte: this is binary data, not a text file', file, spanAt(bytes, nul));
  if (bad !== -1) return problem('INPUT_BAD_UTF8', `byte 0x${bytes[bad].toString(16).padStart(2, '0')} is not UTF-8: kpsim reads UTF-8 text (convert the file, e.g. with iconv)`, file, spanAt(bytes, bad));
  return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8') };
}
