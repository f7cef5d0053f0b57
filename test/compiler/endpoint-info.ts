// A ready, serving endpoint without topology hints, as the planner records one, for unit tests.
import type { EndpointInfo } from '../../src/compiler/plan.js';

export function endpointInfo(ip: string, port: number, isLocal: boolean, nodeName: string): EndpointInfo {
  return { ip, port, key: `${ip}:${port}`, isLocal, ready: true, serving: true, terminating: false, zoneHints: [], nodeHints: [], nodeName };
}
