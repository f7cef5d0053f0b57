// Mutations of an iptables text for the fuzz tests (the shared mutator of test/fuzz/mutate.ts with
// iptables' own words to insert). `r` is a seeded generator, so a failure names a reproducible input.
import { mutate as mutateText } from '../fuzz/mutate.js';

export const IPTABLES_INSERTS = ['!', '"', '-m', '-j', '--', '[0:0]', '*nat', ':X', 'COMMIT', '-p'] as const;

export function mutate(text: string, r: () => number): string {
  return mutateText(text, r, IPTABLES_INSERTS);
}
