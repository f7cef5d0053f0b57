import { describe, expect, it } from 'vitest';
import { endpointChainName, serviceChainName } from '../../src/compiler/hash.js';
import { sortNames } from '../../src/iptables/sort-names.js';
import { mulberry32 } from '../../src/util/rng.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

describe('sortNames', () => {
  it('sorts a sync of chain names as the string sort does', () => {
    const names: string[] = ['KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'KUBE-FWD', 'KUBE-SEP-short', 'KUBE-SVC-', 'KUBE-EXT-ABCDEFGHIJKLMNOP-x', 'KUBE-A'];
    for (let i = 0; i < 3000; i++) {
      names.push(serviceChainName((['SVC', 'SVL', 'EXT', 'FW'] as const)[i % 4], `ns/s${i}:p`, 'tcp'));
      names.push(endpointChainName(`ns/s${i}:p`, 'tcp', `10.0.0.${i % 250}:80`));
    }
    expect(sortNames(names)).toEqual([...names].sort());
  });

  it('breaks ties of the leading hash characters by the whole name, duplicates included', () => {
    const rand = mulberry32(7);
    const tail = () => Array.from({ length: 9 }, () => B32[Math.floor(rand() * 32)]).join('');
    // Few distinct leading characters: most names tie on them.
    const names = Array.from({ length: 2000 }, () => `KUBE-SEP-${['AAAAAAA', 'AAAAAA2', '7777777'][Math.floor(rand() * 3)]}${tail()}`);
    names.push(names[5], names[17], 'KUBE-SEP-AAAAAAA', 'KUBE-SEP-');
    expect(sortNames(names)).toEqual([...names].sort());
  });

  it('handles no names, one name, and no hash names', () => {
    expect(sortNames([])).toEqual([]);
    expect(sortNames(['KUBE-SVC-ABCDEFGHIJKLMNOP'])).toEqual(['KUBE-SVC-ABCDEFGHIJKLMNOP']);
    expect(sortNames(['b', 'a', 'KUBE-X'])).toEqual(['KUBE-X', 'a', 'b']);
  });
});
