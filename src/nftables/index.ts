// The nftables reader and renderers: any nft text (knftables' transaction lines, `nft list
// ruleset` output, `nft -f` input) into the typed IR (ir.ts), and back, byte for byte.
export { parseNft, type ParseOptions, type ParseResult } from './parse.js';
export { renderNft } from './render.js';
export { isNftText } from './detect.js';
export { nftStats, formatNftStats, type NftStats } from './stats.js';
export type { NftCode } from './codes.js';
export type * from './ir.js';
import type { NftFile } from './ir.js';

/** The IR as JSON (IPv6 addresses, 128-bit numbers, as decimal strings). */
export function nftJson(file: NftFile): string {
  return JSON.stringify(file, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
}
export { applyNft, emptyNftState, tableKey, type NftState, type NftStateTable, type NftStateChain, type NftStateSet } from './state.js';
