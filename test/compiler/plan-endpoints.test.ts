import { describe, expect, it } from 'vitest';
import { onePerKey, type EndpointInfo } from '../../src/compiler/plan.js';
import { mulberry32 } from '../../src/util/rng.js';

/** endpointslicecache.go's way, as a map: the first copy of an ip:port, replaced by each local copy. */
function mapWay(input: readonly EndpointInfo[]): EndpointInfo[] {
  const byKey = new Map<string, EndpointInfo>();
  for (const ep of input) if (!byKey.has(ep.key) || ep.isLocal) byKey.set(ep.key, ep);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const endpoint = (key: string, isLocal: boolean, n: number): EndpointInfo => ({
  ip: key.split(':')[0],
  port: 80,
  key,
  isLocal,
  ready: true,
  serving: true,
  terminating: false,
  zoneHints: [],
  nodeHints: [],
  nodeName: `node-${n}`,
});

describe('one endpoint per ip:port', () => {
  it.each(Array.from({ length: 40 }, (_, seed) => seed))('picks what the map picks (seed %i)', (seed) => {
    const rand = mulberry32(seed + 1);
    const input = Array.from({ length: Math.floor(rand() * 12) }, (_, n) => endpoint(`10.0.0.${Math.floor(rand() * 5)}:80`, rand() < 0.4, n));
    const sorted = [...input].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    expect(onePerKey(sorted)).toEqual(mapWay(input));
  });
});
