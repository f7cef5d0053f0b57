// The one reader of `NAME=ADDR/LEN,... NAME=...` (the Node's kpsim.io/interfaces annotation and
// trace's --interfaces flag).
import { describe, expect, it } from 'vitest';
import { parseInterfaceList } from '../../src/net/index.js';

describe('parseInterfaceList', () => {
  it('reads interfaces of both families, addresses as written and as networks', () => {
    const { interfaces, problems } = parseInterfaceList(' lo=127.0.0.1/8,::1/128   eth0=192.168.0.2/24,2001:db8::1/64 ');
    expect(problems).toEqual([]);
    expect(interfaces.map((i) => i.name)).toEqual(['lo', 'eth0']);
    expect(interfaces[1].texts).toEqual(['192.168.0.2/24', '2001:db8::1/64']);
    expect(interfaces[1].addresses.map((c) => c.text)).toEqual(['192.168.0.0/24', '2001:db8::/64']);
    expect(interfaces[1].ips.map((ip) => ip.text)).toEqual(['192.168.0.2', '2001:db8::1']);
  });

  it('names each malformed item or address and what was expected, and keeps the rest', () => {
    const { interfaces, problems } = parseInterfaceList('eth0 eth1=banana,10.0.0.1/33,10.0.0.1 eth2=10.1.0.1/16');
    expect(problems.map((p) => p.text)).toEqual(['eth0', 'banana', '10.0.0.1/33', '10.0.0.1']);
    expect(problems[0].expected).toMatch(/^NAME=ADDRESS\/LENGTH/);
    expect(problems[1].expected).toMatch(/^an ADDRESS\/LENGTH/);
    expect(interfaces.map((i) => [i.name, i.texts])).toEqual([
      ['eth1', []],
      ['eth2', ['10.1.0.1/16']],
    ]);
  });
});
