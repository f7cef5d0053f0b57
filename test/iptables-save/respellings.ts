// The corpus respelled as iptables-restore still reads it: line endings, blanks, quotes and
// option order that kube-proxy and iptables-save never write, so the reader's paths for text
// written otherwise (layouts kept, words split on offsets) meet every shape of the corpus.
export const RESPELLINGS: readonly (readonly [string, (text: string) => string])[] = [
  ['as written', (t) => t],
  ['CRLF', (t) => t.replace(/\n/g, '\r\n')],
  ['doubled blanks', (t) => t.replace(/ /g, '  ')],
  ['tabs', (t) => t.replace(/ -/g, '\t-')],
  ['no quotes', (t) => t.replace(/"/g, '')],
  ['options after the target', (t) => t.replace(/-j /g, '-j  X --foo 1 -j ')],
  ['blanks around lines', (t) => ' ' + t.replace(/\n/g, ' \n ')],
];
