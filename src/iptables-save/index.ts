// The iptables-save reader and renderers: parse any iptables-save / iptables-restore text into the
// rule IR (src/iptables/ir.ts), render it back in its own spelling (byte for byte) or in the
// spelling iptables-save prints after the kernel loaded it.
export { parseIptablesSave, type ParseOptions, type ParseResult } from './parse.js';
export { readOwnText } from './own-text.js';
export { renderRestore } from './render-restore.js';
export type { IptCode } from './codes.js';
export { renderSave, renderSaveAfterBytes, renderKernelRuleset, type ChainedRestoreTable } from './render-save.js';
export { formatStats } from './stats.js';
