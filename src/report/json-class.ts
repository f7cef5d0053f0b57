// Bulk `kpsim trace --flows --json`: a packet the flow cache answered (src/packetsim/flow-cache.ts)
// prints what an earlier packet of its class printed, with its own name, source address and source
// port. The cache's answer is the remembered trace with the new source put in its packets and
// connections (rebind): nothing else of it changes, so nothing else of its JSON does. The text is
// spelled once per class and filled in per packet (a 10-endpoint Service's object is about 4 KB:
// building and serialising it was most of a bulk run's time).
//
// Which places of the text are the packet's own is not assumed: a class's template is made from
// the first packet's text, with a hole at every `"name":`, `"sourceIP":` and `"sourcePort":` that
// holds that packet's value, and it is used only once it has spelled a second packet of the class,
// of another name, source address and port, exactly as traceJson does. Each place that shows the
// source then is a hole (else the second text would differ there), and each hole shows the source
// (else the second text would keep the first value there). A class whose texts do not agree so is
// always spelled in full. test/report/json-class.test.ts compares every packet's text with
// traceJson's, and shows that a wrong hole or a missing one is caught.

import { formatIp } from '../net/index.js';
import { hasPorts, type Packet } from '../packetsim/packet.js';

/** What a packet of a class puts in the holes, as JSON texts. */
export interface Fill {
  /** `JSON.stringify(name)`, or null for a packet without a name. */
  readonly name: string | null;
  readonly sourceIP: string;
  /** A number, or `null` for a protocol without ports. */
  readonly sourcePort: string;
}

/** The fill of a packet named `name` (traceJson's `name`) whose traced input is `input`: packetJson's spelling of its source. */
export function fillOf(name: string | undefined, input: Packet): Fill {
  return { name: name === undefined ? null : JSON.stringify(name), sourceIP: JSON.stringify(formatIp(input.src, input.family)), sourcePort: hasPorts(input.protocol) ? String(input.sport) : 'null' };
}

const NAME = 0;
const IP = 1;
const PORT = 2;

/** The text of a class with holes: `lits[i]` then hole `holes[i]`, ..., then the last literal. */
interface Template {
  readonly lits: readonly string[];
  readonly holes: readonly number[];
}

type Slot = { readonly kind: 'first'; readonly text: string; readonly fill: Fill } | { readonly kind: 'template'; readonly t: Template } | { readonly kind: 'never' };

/** The values a template has holes for (all in use; tests leave one out to see it caught). */
export const HOLES = ['name', 'sourceIP', 'sourcePort'] as const;
export type Hole = (typeof HOLES)[number];

/** Templates per class (any object that stands for one: the flow cache's remembered trace). */
export class ClassJson {
  private readonly slots = new Map<object, Slot>();
  /** Packets spelled from a template (for tests and measurements). */
  filled = 0;

  /**
   * `holes` and `verify` are for the tests that show a template is checked: one made without a
   * kind of hole is caught by the second packet's text, and used unchecked it goes wrong.
   */
  constructor(
    private readonly holes: readonly Hole[] = HOLES,
    private readonly verify = true,
  ) {}

  /**
   * The JSON text of a packet of class `cls` with `fill`; `full` spells it as traceJson does (for
   * the first packets of a class, and for every packet of one that has no template). cls null:
   * a packet of no class.
   */
  text(cls: object | null, fill: Fill, full: () => string): string {
    if (cls === null) return full();
    const slot = this.slots.get(cls);
    if (slot === undefined) {
      const text = full();
      this.slots.set(cls, { kind: 'first', text, fill });
      return text;
    }
    switch (slot.kind) {
      case 'template':
        this.filled++;
        return spell(slot.t, fill);
      case 'never':
        return full();
      case 'first': {
        const text = full();
        // The two packets must differ in every value, or a hole could not be told from a constant.
        const a = slot.fill;
        if ((a.name !== null || fill.name !== null) && a.name === fill.name) return text;
        if (a.sourceIP === fill.sourceIP) return text;
        if (a.sourcePort === fill.sourcePort && a.sourcePort !== 'null') return text;
        const t = templateOf(slot.text, a, this.holes);
        this.slots.set(cls, t !== null && (!this.verify || spell(t, fill) === text) ? { kind: 'template', t } : { kind: 'never' });
        return text;
      }
      default: {
        const never: never = slot;
        return never;
      }
    }
  }
}

function spell(t: Template, fill: Fill): string {
  let s = t.lits[0];
  for (let i = 0; i < t.holes.length; i++) {
    const h = t.holes[i];
    s += (h === NAME ? fill.name! : h === IP ? fill.sourceIP : fill.sourcePort) + t.lits[i + 1];
  }
  return s;
}

/**
 * `text` with a hole at each value of `fill` after its key. A key's quotes cannot occur inside a
 * JSON string (JSON.stringify escapes them), so each such key found is an object's key. A port ends
 * at `,` or `}` (1024 is not the start of 10240).
 */
function templateOf(text: string, fill: Fill, kinds: readonly Hole[]): Template | null {
  const anchors: [number, string][] = [];
  if (kinds.includes('sourceIP')) anchors.push([IP, `"sourceIP":${fill.sourceIP}`]);
  if (kinds.includes('sourcePort')) anchors.push([PORT, `"sourcePort":${fill.sourcePort}`]);
  if (fill.name !== null && kinds.includes('name')) anchors.push([NAME, `"name":${fill.name}`]);
  const found: { at: number; hole: number; key: number; len: number }[] = [];
  for (const [hole, anchor] of anchors) {
    const key = anchor.indexOf(':') + 1;
    for (let at = text.indexOf(anchor); at >= 0; at = text.indexOf(anchor, at + 1)) {
      const end = text.charCodeAt(at + anchor.length);
      if (hole === PORT && end !== 44 && end !== 125) continue;
      found.push({ at: at + key, hole, key, len: anchor.length - key });
    }
  }
  if (found.length === 0) return null;
  found.sort((x, y) => x.at - y.at);
  const lits: string[] = [];
  const holes: number[] = [];
  let from = 0;
  for (const f of found) {
    lits.push(text.slice(from, f.at));
    holes.push(f.hole);
    from = f.at + f.len;
  }
  lits.push(text.slice(from));
  return { lits, holes };
}
