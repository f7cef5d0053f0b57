// The grammar's lexer and the words it reads. The grammar (grammar.ne, planned once per shape in
// plan.ts) does not see a line's text but its shape: every word replaced by what it is (an option
// spelling, `!`, a module or target name, or a value class), so the ~330k lines of a kube-proxy
// dump collapse into a few dozen shapes. line-scanner.ts cuts lines into words and finds their
// shapes; here are the shape words for value classes and shapeLexer, the moo lexer over shapes.
// unquote reads a quoted word's value (values.ts).
import moo from 'moo';

const QUOTE = 34;
const BACKSLASH = 92;

/**
 * The value iptables reads from a word: quotes removed, escapes inside quotes resolved. Built from
 * slices of the word (not character by character), so the value is one string, not a chain of them.
 */
export function unquote(text: string): string {
  if (text.indexOf('"') < 0) return text;
  let out = '';
  let inQuote = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      out += text.slice(from, i);
      from = i + 1;
      inQuote = !inQuote;
    } else if (inQuote && c === BACKSLASH && i + 1 < text.length) {
      // the escaped character is kept: it starts the next slice
      out += text.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  // A quote left open runs to the end of the line, and iptables-restore (add_param_to_argv) keeps
  // the line break it reads inside it: the word ends with it.
  return out + text.slice(from) + (inQuote ? '\n' : '');
}

// Shape words. Value classes are sigils that no option, module or keyword can be spelled as.
export const SHAPE_VALUE = '%V';
export const SHAPE_QUOTED = '%Q';
export const SHAPE_COUNTERS = '%C';
/** A protocol after `-p`: kept in the shape, since `-p tcp --dport 80` loads the tcp match. */
export const SHAPE_PROTOCOL = '%P';
/** The rest of the word after `*` or `:` (`*filter`, `:KUBE-SERVICES`). */
export const SHAPE_PART = '%N';

const KEYWORDS = {
  append: ['-A', '--append'],
  insert: ['-I', '--insert'],
  deleteRule: ['-D', '--delete'],
  replace: ['-R', '--replace'],
  newChain: ['-N', '--new-chain'],
  deleteChain: ['-X', '--delete-chain'],
  flush: ['-F', '--flush'],
  zero: ['-Z', '--zero'],
  policy: ['-P', '--policy'],
  match: ['-m', '--match'],
  jump: ['-j', '--jump'],
  goto: ['-g', '--goto'],
};

const shapeTokens = moo.compile({
  ws: / +/,
  counters: SHAPE_COUNTERS,
  quoted: SHAPE_QUOTED,
  value: SHAPE_VALUE,
  part: SHAPE_PART,
  protocol: /%P[^ \n]*/,
  name: /@[^ \n]+/,
  bang: '!',
  star: '*',
  colon: ':',
  commit: 'COMMIT',
  option: { match: /-[^ \n]+/, type: moo.keywords(KEYWORDS) },
  other: /[^ \n]+/,
});

/** The grammar's lexer, over shape strings; blanks between shape words are dropped. */
export const shapeLexer = {
  reset(chunk: string, state?: moo.LexerState) {
    shapeTokens.reset(chunk, state);
    return shapeLexer;
  },
  next(): moo.Token | undefined {
    let t = shapeTokens.next();
    while (t && t.type === 'ws') t = shapeTokens.next();
    return t;
  },
  save: () => shapeTokens.save(),
  formatError: (t: moo.Token, message?: string) => shapeTokens.formatError(t, message),
  has: (type: string) => shapeTokens.has(type),
};
