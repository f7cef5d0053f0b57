import { describe, expect, it } from 'vitest';
import { onePerKey, type EndpointInfo } from '../../src/compiler/plan.js';
import { isCanonicalIPv4 } from '../../src/model/fast-objects.js';
import { parseIP } from '../../src/net/index.js';
import { mulberry32 } from '../../src/util/rng.js';
import { endpointInfo } from './endpoint-info.js';

/** endpointslicecache.go's way, as a map: the first copy of an ip:port, replaced by each local copy. */
function mapWay(input: readonly EndpointInfo[]): EndpointInfo[] {
  const byKey = new Map<string, EndpointInfo>();
  for (const ep of input) if (!byKey.has(ep.key) || ep.isLocal) byKey.set(ep.key, ep);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const endpoint = (key: string, isLocal: boolean, n: number): EndpointInfo => ({ ...endpointInfo(key.split(':')[0], 80, isLocal, `node-${n}`), key });

describe('one endpoint per ip:port', () => {
  it.each(Array.from({ length: 40 }, (_, seed) => seed))('picks what the map picks (seed %i)', (seed) => {
    const rand = mulberry32(seed + 1);
    const input = Array.from({ length: Math.floor(rand() * 12) }, (_, n) => endpoint(`10.0.0.${Math.floor(rand() * 5)}:80`, rand() < 0.4, n));
    const sorted = [...input].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    expect(onePerKey(sorted)).toEqual(mapWay(input));
  });
});

describe('canonical dotted quads', () => {
  const samples = ['10.0.0.1', '0.0.0.0', '255.255.255.255', '256.0.0.1', '10.0.0.01', '010.0.0.1', '10.0.0', '10.0.0.1.2', '10..0.1', '.10.0.0', '10.0.0.1.', '1.2.3.4/8', ' 1.2.3.4', '1.2.3.4 ', 'fe80::1', '::ffff:1.2.3.4', '1.2.3.1000', '0.0.0.00', '9.9.9.9'];
  const rand = mulberry32(3);
  for (let i = 0; i < 2000; i++) samples.push(Array.from({ length: 1 + Math.floor(rand() * 15) }, () => '0123456789..'[Math.floor(rand() * 12)]).join(''));
  it('are what parseIP reads as IPv4 and prints unchanged', () => {
    for (const t of samples) {
      const ip = parseIP(t);
      expect([t, isCanonicalIPv4(t)]).toEqual([t, ip !== null && ip.family === 'ipv4' && ip.text === t]);
    }
  });
});
