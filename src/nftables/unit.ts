// A unit: the tokens of one command, property or rule (whitespace and comments left out), and its
// shape for the grammar, where a `{ ... }` set literal is one %SET and the text after a command's
// chain name is one %STMTS. Set literals are split into elements here, at their top-level commas.
import { shapeOf, type Tok } from './lexer.js';

export interface Unit {
  /** Every token of the unit, set literal contents included. */
  readonly toks: readonly Tok[];
  /** The shape words, and for each the first and last token it stands for. */
  readonly shape: string[];
  readonly first: number[];
  readonly last: number[];
}

/**
 * The shape of toks[from..to): plain tokens as themselves, each brace group as %SET. Unbalanced
 * braces never reach here (the structure reader reports them), so every `{` has its `}`.
 */
export function unitOf(toks: readonly Tok[], from = 0, to = toks.length): Unit {
  const shape: string[] = [];
  const first: number[] = [];
  const last: number[] = [];
  for (let i = from; i < to; i++) {
    const t = toks[i];
    if (t.type === 'lbrace') {
      const close = matchingBrace(toks, i, to);
      shape.push('%SET');
      first.push(i);
      last.push(close);
      i = close;
      continue;
    }
    shape.push(shapeOf(t));
    first.push(i);
    last.push(i);
  }
  return { toks, shape, first, last };
}

/** The index of the `}` that closes the `{` at `open` (or `to - 1` when none does). */
export function matchingBrace(toks: readonly Tok[], open: number, to: number): number {
  let depth = 0;
  for (let i = open; i < to; i++) {
    const type = toks[i].type;
    if (type === 'lbrace') depth++;
    else if (type === 'rbrace' && --depth === 0) return i;
  }
  return to - 1;
}

/** The token ranges of a set literal's elements: between `{` and `}`, split at top-level commas. */
export function elementRanges(toks: readonly Tok[], open: number, close: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < close; i++) {
    const type = toks[i].type;
    if (type === 'lbrace' || type === 'lparen') depth++;
    else if (type === 'rbrace' || type === 'rparen') depth--;
    else if (type === 'comma' && depth === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  if (start < close || out.length > 0) out.push([start, close]);
  return out;
}
