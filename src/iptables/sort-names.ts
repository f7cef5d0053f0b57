// Sorting a sync's chain names as Array.prototype.sort does (by UTF-16 code units), fast for the
// case that matters: a hundred thousand per-service chain names, KUBE-<kind>-<16 base32 chars>
// (hash.ts). Comparing such strings costs a walk past their shared prefix every time; instead each
// name's leading hash characters become a number, the numbers are radix-sorted, and only names
// whose numbers tie are compared as strings. Other names are sorted as strings and put in place
// by binary search.

/** The per-service chain prefixes, in the order their blocks sort. */
const KINDS = ['KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-', 'KUBE-SVC-', 'KUBE-SVL-'];

/** Where a base32 character sorts among the 32 ('2'..'7' are 0x32..0x37, before 'A'..'Z'), or -1. */
function rank(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41 + 6;
  if (code >= 0x32 && code <= 0x37) return code - 0x32;
  return -1;
}

/** The index in KINDS of a name's prefix when 16 base32 characters follow it, else -1. */
function kindOf(name: string): number {
  for (let k = 0; k < KINDS.length; k++) {
    const prefix = KINDS[k];
    if (name.length !== prefix.length + 16 || !name.startsWith(prefix)) continue;
    for (let i = prefix.length; i < name.length; i++) if (rank(name.charCodeAt(i)) < 0) return -1;
    return k;
  }
  return -1;
}

/** `names` sorted, equal to `[...names].sort()`. */
export function sortNames(names: readonly string[]): string[] {
  const kinds: string[][] = KINDS.map(() => []);
  const others: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    const k = kindOf(n);
    if (k >= 0) kinds[k].push(n);
    else others.push(n);
  }
  const hashed = ([] as string[]).concat(...kinds.map(sortByHash));
  return others.length === 0 ? hashed : mergeSorted(hashed, others.sort());
}

/** The leading hash characters that make a sort key: 6 x 5 bits, sorted 10 bits a pass. */
const KEY_CHARS = 6;
const PASS_BITS = 10;

/** Names of one kind (one prefix, then 16 base32 characters), sorted. */
function sortByHash(names: readonly string[]): string[] {
  const n = names.length;
  if (n < 2) return names.slice();
  const from = names[0].length - 16;
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let c = 0; c < KEY_CHARS; c++) v = (v << 5) | rank(names[i].charCodeAt(from + c));
    keys[i] = v;
  }
  const order = radixOrder(keys);
  const out = new Array<string>(n);
  for (let i = 0; i < n; ) {
    // Names whose leading characters tie: sort that run as strings.
    let j = i + 1;
    while (j < n && keys[order[j]] === keys[order[i]]) j++;
    if (j - i === 1) out[i] = names[order[i]];
    else {
      const run: string[] = [];
      for (let k = i; k < j; k++) run.push(names[order[k]]);
      run.sort();
      for (let k = i; k < j; k++) out[k] = run[k - i];
    }
    i = j;
  }
  return out;
}

/** The indices of `keys` (30-bit values) in ascending key order: an LSD radix sort, stable. */
function radixOrder(keys: Uint32Array): Uint32Array {
  const n = keys.length;
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const count = new Uint32Array(1 << PASS_BITS);
  const mask = (1 << PASS_BITS) - 1;
  for (let shift = 0; shift < KEY_CHARS * 5; shift += PASS_BITS) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(keys[i] >>> shift) & mask]++;
    let sum = 0;
    for (let b = 0; b <= mask; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = order[i];
      next[count[(keys[at] >>> shift) & mask]++] = at;
    }
    [order, next] = [next, order];
  }
  return order;
}

/** Merges a few sorted names into many sorted names, each placed by binary search. */
function mergeSorted(many: readonly string[], few: readonly string[]): string[] {
  const parts: (readonly string[])[] = [];
  let from = 0;
  for (const name of few) {
    let lo = from;
    let hi = many.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // Equal names: the earlier list's first, as a stable merge would (they are the same string).
      if (many[mid] <= name) lo = mid + 1;
      else hi = mid;
    }
    parts.push(many.slice(from, lo), [name]);
    from = lo;
  }
  parts.push(many.slice(from));
  return ([] as string[]).concat(...parts);
}
