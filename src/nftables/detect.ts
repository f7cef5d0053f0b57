// Which reader a rules file is for, by its content: iptables-save text starts its lines with
// `*table`, `:CHAIN`, `-A`, `[packets:bytes]` or `COMMIT`; nft text with a command or block word
// (`table`, `add`, `flush`, ...). Comments and blank lines say nothing; the first other line decides.

const NFT_FIRST_WORDS: ReadonlySet<string> = new Set([
  'table', 'chain', 'set', 'map', 'element', 'rule', 'flowtable', 'add', 'create', 'insert', 'replace', 'delete', 'destroy',
  'flush', 'reset', 'list', 'define', 'include', 'redefine', 'undefine',
]);

/** True when the text reads as nft input or `nft list ruleset` output rather than iptables-save. */
export function isNftText(text: string): boolean {
  let at = 0;
  // Bounded: only the first thousand lines are looked at.
  for (let n = 0; n < 1000 && at < text.length; n++) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const line = text.slice(at, nl).trim();
    at = nl + 1;
    if (line === '' || line.startsWith('#')) continue;
    const word = /^[A-Za-z]+/.exec(line)?.[0] ?? '';
    return NFT_FIRST_WORDS.has(word);
  }
  return false;
}
