// A YAML stream cut into its documents, so that each can be read (and, when it has a problem,
// re-read with positions) on its own. The cut is the `yaml` lexer's own (parse/lexer.ts
// parseLineStart): a line that starts with `---` or `...` followed by a space, a tab, a line break
// or the end is a document marker wherever it appears, even inside a quoted or block scalar or an
// unclosed flow collection (YAML 1.2 section 9.1.4: such lines are forbidden in content). Only a
// line feed starts a line (a lone CR does not, for the lexer as here).

export interface DocumentRange {
  /** Offset of the document's first character (its `---` marker, if any). */
  readonly start: number;
  /** Offset after its last character (after its `...` line, if any). */
  readonly end: number;
}

const MARKER = /(?:^|\n)(---|\.\.\.)(?=[ \t\r\n]|$)/g;

/**
 * The documents of `text`: a `---` marker begins one, a `...` line ends one (the line stays with
 * the document it ends, so what the lexer says about it is said about that document).
 */
export function splitDocuments(text: string): DocumentRange[] {
  const out: DocumentRange[] = [];
  let start = 0;
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(text); m; m = MARKER.exec(text)) {
    const at = m.index + (text.charCodeAt(m.index) === 10 ? 1 : 0);
    if (m[1] === '---') {
      if (at > start) out.push({ start, end: at });
      start = at;
    } else {
      const nl = text.indexOf('\n', at);
      const end = nl === -1 ? text.length : nl + 1;
      out.push({ start, end });
      start = end;
    }
  }
  if (start < text.length) out.push({ start, end: text.length });
  return out;
}

/** A `%YAML` or `%TAG` directive anywhere: it changes how the documents after it read, so such a stream is read whole. */
export function hasDirectives(text: string): boolean {
  return text.charCodeAt(0) === 37 || text.includes('\n%');
}
