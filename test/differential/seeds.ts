// The fixed seeds `npm test` runs: the first 43 seeds are the shortest prefix whose clusters and
// flows show every feature in features.ts (the feature test fails when a generator change breaks that).
export const FIXED_SEEDS: readonly number[] = Array.from({ length: 43 }, (_, i) => i + 1);
