// ipset save text: the IR, its renderer and its reader.
export * from './ir.js';
export type { IpsetCode } from './codes.js';
export { renderIpsetSave, normalizeIpsetDump } from './render.js';
export { parseIpsetSave, type IpsetParseOptions, type IpsetParseResult } from './parse.js';
