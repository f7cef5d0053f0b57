// Whether a unit's source text is what the renderer writes for its IR, and if not, what to keep:
// the spacing between tokens (`layout`) when the tokens are the same, or the exact text (`raw`)
// when they are not. A rendered token may stand for several source tokens (an opaque statement's
// text), so tokens are matched by text, not one to one.
import type { Layout } from './ir.js';
import type { Tok } from './lexer.js';
import type { TokOut } from './render-expr.js';

/** Source tokens toks[from..to) against the rendered tokens: {} when canonical. */
export function layoutOf(text: string, toks: readonly Tok[], from: number, to: number, out: TokOut): Layout {
  const { texts, seps } = out;
  /** For each rendered token, the index after the last source token it stands for. */
  const ends: number[] = [];
  let canonical = true;
  let k = from;
  for (let i = 0; i < texts.length; i++) {
    if (k >= to) return raw(text, toks, from, to);
    const start = toks[k].offset;
    const want = texts[i];
    // Consume source tokens until their text (spacing included) is the rendered token's.
    let end = k;
    let slice = toks[k].text;
    while (slice.length < want.length && end + 1 < to) {
      end++;
      slice = text.slice(start, toks[end].offset + toks[end].text.length);
    }
    if (slice !== want) return raw(text, toks, from, to);
    if (i > 0 && canonical) {
      // Compared in place: a canonical unit (nearly all) allocates no gap strings.
      const prevEnd = toks[k - 1].offset + toks[k - 1].text.length;
      const sep = seps[i];
      if (start - prevEnd !== sep.length || !text.startsWith(sep, prevEnd)) canonical = false;
    }
    k = end + 1;
    ends.push(k);
  }
  if (k !== to) return raw(text, toks, from, to);
  if (canonical) return {};
  // The gaps before rendered tokens 1..n-1, as the source has them.
  const gaps: string[] = [];
  for (let i = 1; i < ends.length; i++) {
    const prev = toks[ends[i - 1] - 1];
    gaps.push(text.slice(prev.offset + prev.text.length, toks[ends[i - 1]].offset));
  }
  return { layout: gaps };
}

function raw(text: string, toks: readonly Tok[], from: number, to: number): Layout {
  if (from >= to) return {};
  const last = toks[to - 1];
  return { raw: text.slice(toks[from].offset, last.offset + last.text.length) };
}
