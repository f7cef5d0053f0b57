import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core CI machine, where
    // the kernel tests spend most of their time waiting for iptables-restore, nft and probes in
    // their namespaces. Three workers keep both cores busy (each kernel test has its own namespace
    // prefix, so files run side by side safely): the suite took 765 s with one worker on CI.
    maxWorkers: 3,
  },
});
