// The IPVS table: the IR, the `ipvsadm-save -n` renderer and its reader.
export * from './ir.js';
export type { IpvsCode } from './codes.js';
export { renderIpvsadmSave } from './render.js';
export { parseIpvsadmSave, type IpvsParseOptions, type IpvsParseResult } from './parse.js';
