export * from './ir.js';
export type { IprouteCode } from './codes.js';
export { parseIpAddr, type IpAddrResult } from './parse-addr.js';
export { parseIpRoute, type IpRouteResult } from './parse-route.js';
export { parseBridgeLink, type BridgeLinkResult } from './parse-bridge.js';
