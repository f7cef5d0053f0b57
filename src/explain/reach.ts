// Chains no packet reaches, whatever the mode: those nothing refers to (no jump, goto or verdict-map
// element), and those only such chains refer to (a stale service chain's endpoint chains). The
// references are counted once over the whole table and the few unreferenced chains followed from
// there (a walk from the built-in chains costs several times more at 100k chains).

/**
 * `refs`: how many references each name has (consumed); `candidates`: the chains that count (per
 * service, or not a base chain); `targets`: the names a chain refers to.
 */
export function unreachedChains(names: Iterable<string>, refs: Map<string, number>, candidate: (name: string) => boolean, targets: (name: string) => Iterable<string>): Set<string> {
  const stale = new Set<string>();
  const todo: string[] = [];
  for (const name of names) if (candidate(name) && !refs.has(name)) todo.push(name);
  while (todo.length) {
    const name = todo.pop()!;
    stale.add(name);
    for (const t of targets(name)) {
      if (stale.has(t)) continue;
      const left = refs.get(t)! - 1;
      refs.set(t, left);
      if (left === 0 && candidate(t)) todo.push(t);
    }
  }
  return stale;
}
