// The `ipset save` spelling (ipset(8) SAVE/RESTORE): per set, `create NAME TYPE OPTIONS`, then one
// `add NAME ENTRY` per member. The reader (parse.ts) takes exactly this back.
import type { IpSet, IpsetDump, SetOption } from './ir.js';
import { KERNEL_ADDED_OPTIONS } from './ir.js';

function renderOptions(options: readonly SetOption[]): string {
  let s = '';
  for (const o of options) s += o.value === null ? ` ${o.name}` : ` ${o.name} ${o.value}`;
  return s;
}

export function renderCreate(set: IpSet): string {
  return `create ${set.name} ${set.type}${renderOptions(set.options)}`;
}

export function renderIpset(set: IpSet): string {
  let s = renderCreate(set) + '\n';
  for (const e of set.entries) s += `add ${set.name} ${e.text}${renderOptions(e.options)}\n`;
  return s;
}

export function renderIpsetSave(dump: IpsetDump): string {
  return dump.sets.map(renderIpset).join('');
}

/**
 * A dump in a comparable form: the kernel's `bucketsize`/`initval` dropped (ipset 7.x adds them;
 * `initval` is random) and each set's entries sorted (hash sets list members in hash order).
 * Set order stays: `ipset save` lists sets in creation order.
 */
export function normalizeIpsetDump(dump: IpsetDump): IpsetDump {
  return {
    sets: dump.sets.map((s) => ({
      ...s,
      options: s.options.filter((o) => !KERNEL_ADDED_OPTIONS.has(o.name)),
      entries: [...s.entries].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0)),
    })),
  };
}
