import { defineConfig } from 'vitest/config';

// `npm test` runs this after the rest of the suite: the 2-minute soak, alone on the machine.
export default defineConfig({
  test: {
    include: ['test/soak.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
