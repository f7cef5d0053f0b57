// Reading option values. The reader types each value (`Value` in the IR, with its numbers read by
// src/net); these helpers take that typed meaning and refuse any other, so the simulator never
// reads rule text again. A value the reader could not type was reported by the reader.
import type { Family, OptionArg, Value } from '../../iptables/ir.js';
import type { Cidr, Ip, PortRange } from '../../net/index.js';

export class ValueError extends Error {
  constructor(
    message: string,
    readonly opt: OptionArg,
  ) {
    super(message);
  }
}

export function negated(opt: OptionArg): boolean {
  return opt.negation !== 'none';
}

/** The option's value at `index`, of the type the reader gives the option, or a ValueError. */
function typed<T extends Value['type']>(opt: OptionArg, type: T, what: string, index = 0): Extract<Value, { type: T }> {
  const v = opt.values[index];
  if (v?.type !== type) throw new ValueError(`--${opt.name} needs ${what}${v ? `, not ${v.text}` : ''}`, opt);
  return v as Extract<Value, { type: T }>;
}

/** The networks of `-s`, `-d`, `--ctorigsrc`...: each address Value is a Cidr. */
export function cidrsOf(opt: OptionArg, family: Family): readonly Cidr[] {
  for (let i = 0; i < opt.values.length; i++) {
    const v = typed(opt, 'address', `an ${family} address`, i);
    if (v.family !== family) throw new ValueError(`${v.text} is not an ${family} address`, opt);
  }
  if (opt.values.length === 0) throw new ValueError(`--${opt.name} needs an address`, opt);
  return opt.values as readonly Extract<Value, { type: 'address' }>[];
}

/** `--src-range A-B`. */
export function rangeOf(opt: OptionArg): [Ip, Ip] {
  const v = typed(opt, 'addressRange', 'an address range');
  return [v.from, v.to];
}

/** The port ranges of `--dport`, `--dports`, `--ctorigdstport`, `--to-ports`. */
export function portsOf(opt: OptionArg): readonly PortRange[] {
  if (opt.values.length === 1) return typed(opt, 'ports', 'a port').ranges;
  const out: PortRange[] = [];
  for (let i = 0; i < opt.values.length; i++) out.push(...typed(opt, 'ports', 'a port', i).ranges);
  if (out.length === 0) throw new ValueError(`--${opt.name} needs a port`, opt);
  return out;
}

/** `--mark V[/M]`, `--set-xmark V/M`, `--nfmask M`: the mask all ones when not given. */
export function markOf(opt: OptionArg, index = 0): { value: number; mask: number } {
  const v = opt.values[index];
  if (v?.type === 'integer') return { value: v.value >>> 0, mask: 0xffffffff };
  const m = typed(opt, 'mark', 'a mark VALUE[/MASK]', index);
  return { value: m.value >>> 0, mask: m.mask === null ? 0xffffffff : m.mask >>> 0 };
}

export function intOf(opt: OptionArg): number {
  return typed(opt, 'integer', 'a number').value;
}

/** The items of a comma-separated list value (`--ctstate NEW,ESTABLISHED`). */
export function listOf(opt: OptionArg, index = 0): readonly string[] {
  return typed(opt, 'list', 'a list', index).items;
}

/** A plain word (`--mode random`, `--name KUBE`), unquoted. */
export function wordOf(opt: OptionArg, index = 0): string {
  return typed(opt, 'word', 'a word', index).value;
}

/** `-p`, `--ctproto`: the protocol number, 0 for `all`. */
export function protocolOf(opt: OptionArg): number {
  return typed(opt, 'protocol', 'a protocol').number ?? 0;
}
